"""The issue-library pages: who may see and do what, the lead's workflow, escaping, downloads, query counts."""
from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from feedback.models import Category, Ticket
from issues.models import (
    ActivityVerb,
    Issue,
    IssueActivity,
    IssueDaily,
    IssueStatus,
    Notification,
    RoutingRule,
    SubTheme,
    SubThemeStatus,
)
from tests.factories import ProductFactory, UserFactory
from tests.issues.conftest import category, department, make_ticket

pytestmark = pytest.mark.django_db


# --- helpers ---


@pytest.fixture
def logistics_issue(db) -> Issue:
    """An issue of the logistics department (late deliveries of fruit), with tickets over three days."""
    fruit = ProductFactory(sku="FR-1001", name="赣南脐橙 5斤装", product_category="水果")
    for days_ago in (0, 1, 2):
        make_ticket(code="logistics_delay", product=fruit, days_ago=days_ago, text="橙子三天了还没到，物流太慢")
    return Issue.objects.get(category__code="logistics_delay")


@pytest.fixture
def warehouse_issue(shampoo) -> Issue:
    make_ticket(product=shampoo, text="洗发水漏液了")
    return Issue.objects.get(category__code="damaged")


def user_client(client, user):
    client.force_login(user)
    return client


_scope_numbers = itertools.count()


def make_issues(count: int, *, department_code: str = "logistics", assignee=None) -> list[Issue]:
    """Many issues with a few days of series, cheaply (query-count tests need volume, not realism)."""
    now = timezone.now()
    numbers = [next(_scope_numbers) for _ in range(count)]
    today = timezone.localdate()
    issues = Issue.objects.bulk_create([
        Issue(
            category=category("logistics_delay"), scope_type="product_category", scope_key=f"品类{n:04d}",
            product_category=f"品类{n:04d}", title=f"品类{n:04d} · 物流时效", department=department(department_code),
            status=IssueStatus.NEW, count_24h=n % 3, count_7d=n, count_30d=2 * n, count_prev_7d=n % 5,
            ticket_count=2 * n, first_seen_at=now - timedelta(days=20), last_seen_at=now, is_spiking=n % 7 == 0,
            is_overdue=n % 5 == 0, assignee=assignee, acknowledge_due_at=now + timedelta(hours=n),
        )
        for n in numbers
    ])
    IssueDaily.objects.bulk_create(
        [IssueDaily(issue=issue, day=today - timedelta(days=d), count=d + 1) for issue in issues for d in range(5)]
    )
    return issues


def query_count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# --- who may see what ---

ROLES = ["agent", "lead", "manager", "admin_user"]


@pytest.mark.parametrize("role", ROLES)
def test_library_queue_detail_report_and_notifications_render_for_every_logged_in_role(
    request, client, role, logistics_issue
):
    user_client(client, request.getfixturevalue(role))
    for url in (
        reverse("issue-library"),
        reverse("department-queue"),
        reverse("department-queue", args=["logistics"]),
        reverse("issue-detail", args=[logistics_issue.pk]),
        reverse("daily-report"),
        reverse("notifications"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("role, allowed", [("agent", False), ("lead", False), ("manager", False), ("admin_user", True)])
def test_routing_rules_are_for_admins_only(db, request, client, role, allowed):
    user_client(client, request.getfixturevalue(role))
    for url in (reverse("routing-rules"), reverse("routing-rule-create")):
        assert client.get(url).status_code == (200 if allowed else 403)
    assert client.post(reverse("routing-reroute")).status_code == (302 if allowed else 403)


@pytest.mark.parametrize("role, allowed", [("agent", False), ("lead", True), ("manager", False), ("admin_user", True)])
def test_subtheme_candidates_are_for_leads_and_admins(db, request, client, role, allowed):
    user_client(client, request.getfixturevalue(role))
    assert client.get(reverse("subtheme-candidates")).status_code == (200 if allowed else 403)


def test_anonymous_visitors_are_sent_to_the_login_page(client, logistics_issue):
    login = reverse("login")
    for url in (
        reverse("issue-library"), reverse("issue-detail", args=[logistics_issue.pk]), reverse("department-queue"),
        reverse("daily-report"), reverse("daily-report-download", args=["csv"]), reverse("routing-rules"),
        reverse("subtheme-candidates"), reverse("notifications"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    response = client.post(reverse("issue-action", args=[logistics_issue.pk, "status"]), {"to_status": "acknowledged"})
    assert response.status_code == 302 and response["Location"].startswith(login)
    logistics_issue.refresh_from_db()
    assert logistics_issue.status == IssueStatus.NEW


# --- the queue ---


def test_a_lead_lands_on_their_own_queue_with_spiking_issues_first(client, lead, logistics_issue):
    quiet, busy = make_issues(2)[0:2]
    # Both at the 高频 threshold (3 tickets), so both are in the default queue.
    Issue.objects.filter(pk=quiet.pk).update(is_spiking=True, count_7d=1, ticket_count=3)
    Issue.objects.filter(pk=busy.pk).update(is_spiking=False, is_overdue=False, count_7d=500, ticket_count=500)
    make_issues(1, department_code="warehouse")

    response = user_client(client, lead).get(reverse("department-queue"))

    assert response.context["department"].code == "logistics"
    issues = list(response.context["issues"])
    assert issues[0].pk == quiet.pk  # spiking beats a far bigger volume
    assert {i.department.code for i in issues} == {"logistics"}
    assert response.context["can_act"] is True
    assert "激增" in response.content.decode()


def test_someone_without_a_department_picks_a_queue(client, manager):
    response = user_client(client, manager).get(reverse("department-queue"))
    assert response.status_code == 200 and response.context["department"] is None
    assert reverse("department-queue", args=["logistics"]) in response.content.decode()


def test_other_departments_queues_are_read_only(client, lead, warehouse_issue):
    response = user_client(client, lead).get(reverse("department-queue", args=["warehouse"]))
    assert response.status_code == 200
    assert response.context["can_act"] is False
    assert 'name="issue_ids"' not in response.content.decode()


def test_a_lead_acknowledges_and_takes_several_issues_at_once(client, lead):
    first, second, third = make_issues(3)
    user_client(client, lead)
    url = reverse("department-queue-bulk", args=["logistics"])

    response = client.post(url, {"action": "acknowledge", "issue_ids": [first.pk, second.pk]}, follow=True)
    assert "2 个问题已更新" in response.content.decode()
    client.post(url, {"action": "assign_me", "issue_ids": [first.pk, second.pk]})

    statuses = dict(Issue.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == IssueStatus.ACKNOWLEDGED
    assert statuses[third.pk] == IssueStatus.NEW
    assert set(Issue.objects.filter(assignee=lead).values_list("pk", flat=True)) == {first.pk, second.pk}
    assert IssueActivity.objects.filter(issue=first, verb=ActivityVerb.STATUS, actor=lead).exists()


def test_a_bulk_action_says_which_issues_it_could_not_change(client, lead):
    issue, resolved = make_issues(2)
    Issue.objects.filter(pk=resolved.pk).update(status=IssueStatus.CLOSED)
    response = user_client(client, lead).post(
        reverse("department-queue-bulk", args=["logistics"]),
        {"action": "acknowledge", "issue_ids": [issue.pk, resolved.pk]}, follow=True,
    )
    assert response.status_code == 200
    assert f"问题 #{resolved.pk} 未更新" in response.content.decode()
    assert Issue.objects.get(pk=resolved.pk).status == IssueStatus.CLOSED


@pytest.mark.parametrize("role", ["agent", "manager", "other_lead"])
def test_only_the_departments_lead_or_an_admin_may_use_bulk_actions(client, role, agent, manager):
    other_lead = UserFactory(username="lead_wh", role=Role.LEAD, department=department("warehouse"))
    user = {"agent": agent, "manager": manager, "other_lead": other_lead}[role]
    (issue,) = make_issues(1)
    response = user_client(client, user).post(
        reverse("department-queue-bulk", args=["logistics"]), {"action": "ignore", "issue_ids": [issue.pk]}
    )
    assert response.status_code == 403
    assert Issue.objects.get(pk=issue.pk).status == IssueStatus.NEW


def test_a_lead_cannot_smuggle_another_departments_issue_into_their_bulk_action(client, lead, warehouse_issue):
    user_client(client, lead).post(
        reverse("department-queue-bulk", args=["logistics"]), {"action": "ignore", "issue_ids": [warehouse_issue.pk]}
    )
    assert Issue.objects.get(pk=warehouse_issue.pk).status == IssueStatus.NEW


# --- the issue page and its workflow ---


def test_a_lead_cannot_change_another_departments_issue(client, lead, warehouse_issue):
    user_client(client, lead)
    priority_before = warehouse_issue.priority
    detail = client.get(reverse("issue-detail", args=[warehouse_issue.pk]))
    assert detail.context["can_change"] is False
    assert 'id="resolve-form"' not in detail.content.decode()
    for action, data in [
        ("status", {"to_status": "acknowledged"}),
        ("assign", {"assignee": lead.pk}),
        ("comment", {"note": "我来看看"}),
        ("priority", {"priority": "P1"}),
    ]:
        response = client.post(reverse("issue-action", args=[warehouse_issue.pk, action]), data)
        assert response.status_code == 403, action
    warehouse_issue.refresh_from_db()
    assert (warehouse_issue.status, warehouse_issue.assignee, warehouse_issue.priority) == (IssueStatus.NEW, None, priority_before)
    assert not IssueActivity.objects.filter(issue=warehouse_issue, actor=lead).exists()


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_agents_and_managers_read_issues_but_cannot_act(db, request, client, role, logistics_issue):
    user_client(client, request.getfixturevalue(role))
    assert client.get(reverse("issue-detail", args=[logistics_issue.pk])).context["can_change"] is False
    response = client.post(reverse("issue-action", args=[logistics_issue.pk, "status"]), {"to_status": "ignored"})
    assert response.status_code == 403
    assert Issue.objects.get(pk=logistics_issue.pk).status == IssueStatus.NEW


def test_a_lead_acknowledges_then_resolves_with_the_action_taken(client, lead, logistics_issue):
    user_client(client, lead)
    url = reverse("issue-action", args=[logistics_issue.pk, "status"])

    response = client.post(url, {"to_status": "acknowledged"}, follow=True)
    assert "问题已更新为“已确认”" in response.content.decode()
    day = timezone.localdate() - timedelta(days=1)
    response = client.post(url, {"to_status": "resolved", "action_taken": "开通同城半日达",
                                 "action_date": day.isoformat(), "note": "与顺丰签约"}, follow=True)

    logistics_issue.refresh_from_db()
    assert logistics_issue.status == IssueStatus.RESOLVED
    assert (logistics_issue.action_taken, logistics_issue.action_date, logistics_issue.resolved_by) == (
        "开通同城半日达", day, lead)
    page = response.content.decode()
    assert 'id="action-taken"' in page and "开通同城半日达" in page
    assert response.context["chart_data"]["action_date"] == day.isoformat()
    assert list(logistics_issue.activities.filter(actor=lead).values_list("to_value", flat=True)) == [
        "resolved", "acknowledged"]


def test_resolving_without_an_action_note_shows_the_error_and_changes_nothing(client, lead, logistics_issue):
    activities = IssueActivity.objects.filter(issue=logistics_issue).count()
    response = user_client(client, lead).post(
        reverse("issue-action", args=[logistics_issue.pk, "status"]),
        {"to_status": "resolved", "action_taken": "  ", "action_date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "解决问题时必须填写采取的措施" in page
    assert response.context["resolve_form"].errors["action_taken"]
    logistics_issue.refresh_from_db()
    assert logistics_issue.status == IssueStatus.NEW and logistics_issue.action_taken == ""
    assert IssueActivity.objects.filter(issue=logistics_issue).count() == activities


def test_an_action_date_in_the_future_is_refused_next_to_its_field(client, lead, logistics_issue):
    response = user_client(client, lead).post(
        reverse("issue-action", args=[logistics_issue.pk, "status"]),
        {"to_status": "resolved", "action_taken": "加固包装",
         "action_date": (timezone.localdate() + timedelta(days=3)).isoformat()},
    )
    assert response.context["resolve_form"].errors["action_date"]
    assert Issue.objects.get(pk=logistics_issue.pk).status == IssueStatus.NEW


def test_an_issue_resolved_by_the_system_and_merged_issues_render(client, agent, logistics_issue, warehouse_issue):
    from issues.services import issue_merge, issue_transition

    issue_transition(issue=warehouse_issue, to_status="resolved", action_taken="加固包装",
                     action_date=timezone.localdate())
    issue_merge(issue=logistics_issue, into=make_issues(1)[0])
    user_client(client, agent)
    resolved = client.get(reverse("issue-detail", args=[warehouse_issue.pk]))
    assert resolved.status_code == 200 and "加固包装" in resolved.content.decode()
    merged = client.get(reverse("issue-detail", args=[logistics_issue.pk]))
    assert merged.status_code == 200 and "已合并到" in merged.content.decode()


def test_a_transition_the_workflow_forbids_is_a_message_not_a_server_error(client, lead, logistics_issue):
    response = user_client(client, lead).post(
        reverse("issue-action", args=[logistics_issue.pk, "status"]), {"to_status": "closed"}
    )
    assert response.status_code == 200
    assert "不能从“新问题”变为“已关闭”" in response.content.decode()
    assert Issue.objects.get(pk=logistics_issue.pk).status == IssueStatus.NEW


def test_a_lead_assigns_comments_reprioritises_and_merges(client, lead, logistics_issue):
    colleague = UserFactory(username="logistics_agent", role=Role.AGENT, department=department("logistics"))
    (other,) = make_issues(1)
    user_client(client, lead)

    def act(action, data):
        return client.post(reverse("issue-action", args=[logistics_issue.pk, action]), data)

    assert act("assign", {"assignee": colleague.pk}).status_code == 302
    assert act("comment", {"note": "已联系顺丰"}).status_code == 302
    assert act("priority", {"priority": "P1"}).status_code == 302
    assert act("comment", {"note": ""}).status_code == 200  # refused, shown on the page
    response = act("merge", {"into": other.pk})
    assert response.status_code == 302 and response["Location"] == reverse("issue-detail", args=[other.pk])

    logistics_issue.refresh_from_db()
    assert (logistics_issue.assignee, logistics_issue.priority) == (colleague, "P1")
    assert logistics_issue.status == IssueStatus.MERGED and logistics_issue.merged_into_id == other.pk
    assert Ticket.objects.filter(issue=other).count() == 3
    assert IssueActivity.objects.filter(issue=logistics_issue, verb=ActivityVerb.COMMENT, note="已联系顺丰").exists()


def test_merging_into_another_departments_issue_is_refused_on_the_page(client, lead, logistics_issue, warehouse_issue):
    response = user_client(client, lead).post(
        reverse("issue-action", args=[logistics_issue.pk, "merge"]), {"into": warehouse_issue.pk}
    )
    assert response.status_code == 200
    assert response.context["merge_form"].non_field_errors()
    assert Issue.objects.get(pk=logistics_issue.pk).status == IssueStatus.NEW


def test_ticket_text_on_the_issue_page_is_escaped_and_phone_numbers_masked(client, agent, shampoo):
    attack = make_ticket(product=shampoo, text="<script>alert(1)</script> 洗发水漏液")
    phone = make_ticket(product=shampoo, text="漏液了，回电 13812345678")
    issue = Issue.objects.get()
    Issue.objects.filter(pk=issue.pk).update(
        representative_ticket_ids=[attack.pk, phone.pk], keywords=["<b>漏液</b>"], action_taken="<img src=x onerror=alert(2)>"
    )

    page = user_client(client, agent).get(reverse("issue-detail", args=[issue.pk])).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>漏液</b>" not in page and "<img src=x" not in page
    assert "13812345678" not in page and "138****5678" in page
    # The chart data travels as JSON in a script element that cannot be closed early.
    assert '<script id="issue-chart-data" type="application/json">' in page
    assert "\\u003Cimg src=x" in page


# --- library ---


def test_the_library_filters_by_category_department_status_spiking_and_product(client, agent, logistics_issue,
                                                                                  warehouse_issue, tshirt):
    make_ticket(product=tshirt, code="description_mismatch")
    Issue.objects.filter(pk=warehouse_issue.pk).update(is_spiking=True)
    user_client(client, agent)
    library = reverse("issue-library")

    def ids(**params):
        return {issue.pk for issue in client.get(library, params).context["issues"]}

    assert len(ids()) == 3
    assert ids(category="damaged") == {warehouse_issue.pk}
    assert ids(department="logistics") == {logistics_issue.pk}
    assert ids(spiking="on") == {warehouse_issue.pk}
    assert ids(q="SH-3001") == {warehouse_issue.pk}
    assert ids(q="去屑洗发水") == {warehouse_issue.pk}  # the product's name is in the issue's title
    assert ids(q="水果") == {logistics_issue.pk}  # late deliveries group by product category
    assert ids(status="resolved") == set()
    assert ids(status="open") == ids()


@pytest.mark.parametrize("page_size", [10, 50])
def test_the_library_runs_the_same_queries_whatever_the_page_size(client, agent, page_size,
                                                                   django_assert_max_num_queries):
    make_issues(60, assignee=agent)
    user_client(client, agent)
    baseline = query_count(client, reverse("issue-library") + "?per_page=10")
    with django_assert_max_num_queries(baseline):
        response = client.get(reverse("issue-library"), {"per_page": page_size})
    assert len(response.context["issues"]) == page_size
    assert query_count(client, f"{reverse('issue-library')}?per_page={page_size}") == baseline


def test_the_queue_runs_the_same_queries_for_a_short_and_a_full_page(client, lead, django_assert_max_num_queries):
    user_client(client, lead)
    make_issues(5, assignee=lead)
    short = query_count(client, reverse("department-queue"))
    make_issues(45, assignee=lead)  # now a full page of 50
    with django_assert_max_num_queries(short):
        response = client.get(reverse("department-queue"))
    assert len(response.context["issues"]) == 50


def test_sparklines_are_inline_svg_drawn_from_the_daily_series(client, agent, logistics_issue):
    response = user_client(client, agent).get(reverse("issue-library"))
    assert response.context["sparklines"][logistics_issue.pk][-3:] == [1, 1, 1]
    assert '<svg class="sparkline"' in response.content.decode()


# --- the daily report ---


@pytest.fixture
def formula_issue(db) -> Issue:
    product = ProductFactory(sku="X-1", name="=cmd|' /C calc'!A0", product_category="=HYPERLINK(\"x\")")
    for _ in range(3):
        make_ticket(product=product, days_ago=0)
    issue = Issue.objects.get(product=product)
    assert issue.title.startswith("=cmd")
    return issue


def test_the_report_page_shows_the_chosen_day(client, manager, formula_issue):
    today = timezone.localdate()
    response = user_client(client, manager).get(reverse("daily-report"), {"day": today.isoformat()})
    assert response.status_code == 200
    assert response.context["report"].day == today
    assert [row.issue.pk for row in response.context["report"].top_by_volume] == [formula_issue.pk]
    default = client.get(reverse("daily-report"))
    assert default.context["report"].day == today - timedelta(days=1)
    assert client.get(reverse("daily-report"), {"day": "2999-01-01"}).context["report"].day == today - timedelta(days=1)


def test_the_csv_download_neutralises_formulas(client, manager, formula_issue):
    response = user_client(client, manager).get(
        reverse("daily-report-download", args=["csv"]), {"day": timezone.localdate().isoformat()}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert any(cell.startswith("'=cmd") for cell in cells)
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_the_xlsx_download_neutralises_formulas(client, manager, formula_issue):
    from openpyxl import load_workbook

    response = user_client(client, manager).get(
        reverse("daily-report-download", args=["xlsx"]), {"day": timezone.localdate().isoformat()}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert any(value.startswith("'=cmd") for value in values)
    assert not any(value.startswith("=") for value in values)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_an_unknown_download_format_is_not_found(client, manager):
    assert user_client(client, manager).get(reverse("daily-report-download", args=["pdf"])).status_code == 404


# --- routing rules ---


def test_an_admin_previews_a_rule_without_saving_it(client, admin_user, logistics_issue):
    response = user_client(client, admin_user).post(reverse("routing-rule-create"), {
        "category": category("logistics_delay").pk, "keywords": "太慢", "order": 10, "preview": "1",
    })
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["count"] == 3 and preview["issues"] == 1
    assert RoutingRule.objects.count() == 0


def test_an_admin_creates_edits_and_deletes_a_rule(client, admin_user, logistics_issue, sent_tasks):
    user_client(client, admin_user)
    response = client.post(reverse("routing-rule-create"), {
        "name": "水果走仓储", "order": 10, "category": category("logistics_delay").pk, "product_category": "水果",
        "department": department("warehouse").pk, "is_active": "on", "confirm_moves": "on",
    }, follow=True)
    rule = RoutingRule.objects.get()
    assert (rule.department.code, rule.updated_by) == ("warehouse", admin_user)
    assert "水果走仓储" in response.content.decode()

    client.post(reverse("routing-rule-edit", args=[rule.pk]), {
        "name": "水果走仓储", "order": 5, "department": department("warehouse").pk, "keywords": "慢",
    })
    rule.refresh_from_db()
    assert (rule.order, rule.is_active, rule.keywords) == (5, False, "慢")

    assert client.get(reverse("routing-rule-delete", args=[rule.pk])).status_code == 200
    client.post(reverse("routing-rule-delete", args=[rule.pk]))
    assert not RoutingRule.objects.exists()


def test_a_rule_without_a_department_is_refused_on_the_form(client, admin_user):
    response = user_client(client, admin_user).post(reverse("routing-rule-create"), {"name": "x", "order": 1})
    assert response.status_code == 200 and response.context["form"].errors["department"]
    assert not RoutingRule.objects.exists()


def test_rerouting_runs_in_the_web_process_when_the_broker_is_down(client, admin_user, logistics_issue, monkeypatch):
    from issues import tasks

    RoutingRule.objects.create(name="水果走仓储", order=1, product_category="水果", department=department("warehouse"))

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.reroute_open_issues, "apply_async", broker_down)
    response = user_client(client, admin_user).post(reverse("routing-reroute"), follow=True)

    assert "消息队列不可用" in response.content.decode()
    assert Issue.objects.get(pk=logistics_issue.pk).department.code == "warehouse"


def test_rerouting_is_enqueued_when_the_broker_is_up(client, admin_user, sent_tasks):
    response = user_client(client, admin_user).post(reverse("routing-reroute"), follow=True)
    assert "已提交后台任务" in response.content.decode()
    assert ("reroute_open_issues", []) in sent_tasks


# --- sub-theme candidates ---


@pytest.fixture
def candidate(db) -> SubTheme:
    tickets = [make_ticket(code="other", text=f"App 闪退，打不开 {n}") for n in range(3)]
    return SubTheme.objects.create(
        label="闪退 / 打不开", keywords=["闪退", "打不开"], size=3, is_candidate=True, status=SubThemeStatus.CANDIDATE,
        example_ticket_ids=[t.pk for t in tickets], ticket_ids=[t.pk for t in tickets],
    )


def test_a_lead_promotes_a_candidate_to_a_new_category(client, lead, candidate):
    response = user_client(client, lead).get(reverse("subtheme-candidates"))
    assert "闪退 / 打不开" in response.content.decode()
    prefix = f"promote-{candidate.pk}"
    response = client.post(reverse("subtheme-candidate-decide", args=[candidate.pk, "promote"]), {
        f"{prefix}-name_zh": "App 故障", f"{prefix}-name_en": "App crash", f"{prefix}-department": department("operations").pk,
    }, follow=True)
    assert response.status_code == 200
    new = Category.objects.get(code="app_crash")
    assert (new.name_zh, new.default_department.code) == ("App 故障", "operations")
    assert set(Ticket.objects.filter(pk__in=candidate.ticket_ids).values_list("category__code", flat=True)) == {"app_crash"}
    candidate.refresh_from_db()
    assert candidate.status == SubThemeStatus.PROMOTED


def test_promoting_with_an_existing_code_is_refused_on_the_page(client, admin_user, candidate):
    prefix = f"promote-{candidate.pk}"
    response = user_client(client, admin_user).post(
        reverse("subtheme-candidate-decide", args=[candidate.pk, "promote"]),
        {f"{prefix}-name_zh": "物流", f"{prefix}-code": "logistics_delay"},
    )
    assert response.status_code == 200
    assert "已存在" in response.content.decode()
    assert SubTheme.objects.get(pk=candidate.pk).status == SubThemeStatus.CANDIDATE


def test_a_lead_merges_a_candidate_into_an_existing_category(client, lead, candidate):
    user_client(client, lead).post(
        reverse("subtheme-candidate-decide", args=[candidate.pk, "merge"]),
        {f"merge-{candidate.pk}-category": category("quality_defect").pk},
    )
    assert set(Ticket.objects.filter(pk__in=candidate.ticket_ids).values_list("category__code", flat=True)) == {
        "quality_defect"}
    assert SubTheme.objects.get(pk=candidate.pk).status == SubThemeStatus.MERGED


def test_agents_cannot_decide_candidates(client, agent, candidate):
    response = user_client(client, agent).post(reverse("subtheme-candidate-decide", args=[candidate.pk, "dismiss"]))
    assert response.status_code == 403
    assert SubTheme.objects.get(pk=candidate.pk).status == SubThemeStatus.CANDIDATE


# --- notifications ---


def test_a_lead_sees_their_departments_notifications_and_the_unread_count(client, lead, logistics_issue):
    Notification.objects.create(kind="spike", title="问题激增：水果", department=department("logistics"),
                                issue=logistics_issue)
    Notification.objects.create(kind="spike", title="问题激增：洗发水", department=department("warehouse"))
    user_client(client, lead)

    page = client.get(reverse("notifications")).content.decode()
    assert "问题激增：水果" in page and "问题激增：洗发水" not in page
    assert 'data-unread-count>1<' in client.get(reverse("issue-library")).content.decode()

    client.post(reverse("notifications-read"))
    assert not Notification.objects.filter(department__code="logistics", read_at__isnull=True).exists()
    # The badge stays in the page, hidden, so the navigation's polling can show it again (issue 14).
    assert "data-unread-count hidden>0<" in client.get(reverse("issue-library")).content.decode()
