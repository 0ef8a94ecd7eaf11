import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues.exports import report_csv, report_xlsx
from issues.models import Issue, IssueStatus
from issues.selectors import daily_report, department_queue, issue_detail, issue_list, issue_sparklines
from issues.services import issue_transition, issues_spikes_detect
from tests.factories import ProductFactory
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


def many_issues(count: int, code: str = "damaged") -> list[Issue]:
    for i in range(count):
        product = ProductFactory(sku=f"P-{code}-{i:03d}", product_category="洗发水")
        for day in range(i % 4 + 1):
            make_ticket(product=product, code=code, days_ago=day)
    return list(Issue.objects.filter(category__code=code).order_by("pk"))


def test_the_queue_puts_spiking_then_overdue_then_priority_then_volume(settings, shampoo):
    settings.ISSUE_HIGH_FREQUENCY_MIN_TICKETS = 1  # the order only: issues of 1-4 tickets all in the queue
    issues = many_issues(4)
    quiet, busy, overdue, urgent = issues[0], issues[3], issues[1], issues[2]
    Issue.objects.filter(pk=overdue.pk).update(is_overdue=True)
    Issue.objects.filter(pk=urgent.pk).update(priority="P1")
    for _ in range(6):
        make_ticket(product=shampoo)
    spiking = Issue.objects.get(scope_key="SH-3001")
    issues_spikes_detect()
    order = list(department_queue(department=department("warehouse")).values_list("pk", flat=True))
    assert order == [spiking.pk, overdue.pk, urgent.pk, busy.pk, quiet.pk]


def test_resolved_issues_leave_the_queue_but_stay_in_the_library(warehouse_lead, shampoo):
    make_ticket(product=shampoo)
    issue = Issue.objects.get()
    issue_transition(issue=issue, to_status=IssueStatus.RESOLVED, actor=warehouse_lead, action_taken="加固包装",
                     action_date=timezone.localdate())
    assert not department_queue(department=department("warehouse")).exists()
    assert list(issue_list(filters={"status": "resolved"})) == [issue]
    assert list(issue_list(filters={"status": "open"})) == []


@pytest.mark.parametrize("filters, expected", [
    ({"category": "damaged"}, 3),
    ({"category": "counterfeit"}, 2),
    ({"department": "quality"}, 2),
    ({"department": "warehouse", "product": "P-damaged-001"}, 1),
    ({"spiking": "true"}, 0),
    ({"q": "P-counterfeit"}, 2),
])
def test_the_library_filters(db, filters, expected):
    many_issues(3)
    many_issues(2, "counterfeit")
    assert issue_list(filters=filters).count() == expected


def test_list_and_queue_queries_do_not_grow_with_page_size(db):
    many_issues(12)

    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as context:
            page = list(issue_list(filters={"category": "damaged"})[:size])
            issue_sparklines(issue_ids=[i.pk for i in page])
            [(i.category.code, i.department and i.department.code, i.assignee) for i in page]
            queue = list(department_queue(department=department("warehouse"))[:size])
            [(i.category.code, i.department.code) for i in queue]
        return len(context.captured_queries)

    assert queries(3) == queries(12)


def test_sparklines_are_30_days_oldest_first(shampoo):
    make_ticket(product=shampoo, days_ago=0)
    make_ticket(product=shampoo, days_ago=0)
    make_ticket(product=shampoo, days_ago=29)
    issue = Issue.objects.get()
    line = issue_sparklines(issue_ids=[issue.pk])[issue.pk]
    assert len(line) == 30 and line[-1] == 2 and line[0] == 1 and sum(line) == 3


def test_issue_detail_has_series_tickets_and_activity(shampoo, warehouse_lead):
    for day in range(3):
        make_ticket(product=shampoo, days_ago=day)
    issue = Issue.objects.get()
    issue_transition(issue=issue, to_status="acknowledged", actor=warehouse_lead)
    detail = issue_detail(issue_id=issue.pk)
    assert len(detail.series) == 90 and sum(p["count"] for p in detail.series) == 3
    assert len(detail.recent_tickets) == 3
    assert [a.verb for a in detail.activities][:2] == ["status", "created"]
    assert "in_progress" in detail.allowed_transitions


def test_daily_report_lists_volume_growth_new_spiking_and_resolved(shampoo, tshirt, warehouse_lead):
    today = timezone.localdate()
    for _ in range(7):
        make_ticket(product=shampoo, days_ago=0)
    make_ticket(product=shampoo, days_ago=3)
    make_ticket(product=tshirt, code="description_mismatch", days_ago=0)
    merch = Issue.objects.get(scope_key="CL-2001")
    Issue.objects.filter(pk=merch.pk).update(status="in_progress")
    issue_transition(issue=Issue.objects.get(pk=merch.pk), to_status="resolved", actor=None,
                     action_taken="=HYPERLINK(\"http://evil\")", action_date=today)
    report = daily_report(day=today)
    shampoo_issue = Issue.objects.get(scope_key="SH-3001")
    assert report.tickets == 8
    assert [r.issue for r in report.top_by_volume] == [shampoo_issue, merch]
    assert report.top_by_volume[0].count == 7 and report.top_by_volume[0].baseline == round(1 / 7, 2)
    assert report.top_by_growth[0].issue == shampoo_issue
    assert [r.issue for r in report.new] == [merch]
    assert [r.issue for r in report.spiking] == [shampoo_issue]
    assert report.resolved == [merch]

    text = report_csv(report).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(report_xlsx(report))).active
    values = [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert not any(v.startswith("=") for v in values)


def test_the_morning_email_carries_the_report(shampoo, warehouse_lead):
    from django.core import mail

    from issues.reports import daily_report_send

    make_ticket(product=shampoo, days_ago=1)
    assert daily_report_send() == 1
    message = mail.outbox[0]
    assert "每日高频问题报告" in message.subject and "去屑洗发水" in message.body
    assert message.attachments[0][0].endswith(".xlsx")
