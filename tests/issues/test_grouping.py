from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from feedback.models import Ticket
from issues.models import ActivityVerb, Issue, IssueDaily, IssueStatus, ScopeType
from issues.services import (
    issue_recount,
    issues_counts_refresh,
    issues_reconcile,
    ticket_attach,
    tickets_attach,
)
from issues.services.grouping import local_day
from tests.issues.conftest import category, make_ticket

pytestmark = pytest.mark.django_db


def daily(issue: Issue) -> dict:
    return dict(IssueDaily.objects.filter(issue=issue).values_list("day", "count"))


def test_first_ticket_creates_an_issue_scoped_by_sku(shampoo, sent_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(product=shampoo)
    issue = Issue.objects.get()
    assert (issue.category.code, issue.scope_type, issue.scope_key) == ("damaged", ScopeType.SKU, "SH-3001")
    assert issue.product == shampoo and issue.product_category == "洗发水"
    assert issue.department.code == "warehouse"
    assert issue.ticket_count == issue.count_24h == issue.count_7d == issue.count_30d == 1
    assert issue.first_seen_at == issue.last_seen_at == ticket.received_at
    assert daily(issue) == {local_day(ticket.received_at): 1}
    # Its history starts with its creation, as a new issue.
    assert list(issue.activities.values_list("verb", "to_value")) == [(ActivityVerb.CREATED, IssueStatus.NEW)]
    # Routing by the rules happens in a Celery task enqueued after commit.
    assert sent_tasks == [("route_issue", [issue.pk])]


def test_attaching_the_same_ticket_twice_counts_it_once(shampoo):
    ticket = make_ticket(product=shampoo)
    for _ in range(3):
        ticket_attach(ticket=ticket)
        tickets_attach(ticket_ids=[ticket.pk])
    issue = Issue.objects.get()
    assert issue.ticket_count == 1
    assert sum(daily(issue).values()) == 1


def test_tickets_of_the_same_sku_and_category_share_one_issue(shampoo, tshirt):
    for days_ago in (0, 1, 2, 10, 40):
        make_ticket(product=shampoo, days_ago=days_ago)
    make_ticket(product=tshirt)
    make_ticket(product=shampoo, code="counterfeit")
    issue = Issue.objects.get(scope_key="SH-3001", category__code="damaged")
    assert Issue.objects.count() == 3
    assert (issue.ticket_count, issue.count_24h, issue.count_7d, issue.count_30d, issue.count_prev_7d) == (5, 1, 3, 4, 1)
    assert issue.growth_7d == 2
    assert len(daily(issue)) == 5


def test_unknown_sku_groups_by_the_raw_sku_and_no_sku_by_whole_category(db):
    make_ticket(sku_raw="NOPE-1")
    make_ticket(sku_raw="NOPE-1")
    make_ticket()
    keys = set(Issue.objects.values_list("scope_type", "scope_key", "ticket_count"))
    assert keys == {(ScopeType.SKU, "NOPE-1", 2), (ScopeType.CATEGORY, "", 1)}


def test_logistics_delay_groups_by_product_category_across_skus(db):
    from tests.factories import ProductFactory

    apples = [ProductFactory(sku=f"FR-100{i}", product_category="水果") for i in range(3)]
    for product in apples:
        make_ticket(product=product, code="logistics_delay")
    issue = Issue.objects.get()
    assert (issue.scope_type, issue.scope_key, issue.ticket_count) == (ScopeType.PRODUCT_CATEGORY, "水果", 3)


@pytest.mark.parametrize(
    "rules, expected",
    [
        (["sku", "product_category"], (ScopeType.SKU, "SH-3001")),
        (["product_category"], (ScopeType.PRODUCT_CATEGORY, "洗发水")),
        (["channel", "sku"], (ScopeType.CUSTOM, "channel:phone")),
        ({"*": ["sku"], "damaged": ["product_category"]}, (ScopeType.PRODUCT_CATEGORY, "洗发水")),
    ],
)
def test_scope_rules_are_configurable(settings, shampoo, rules, expected):
    settings.ISSUE_SCOPE_RULES = rules
    make_ticket(product=shampoo, channel="phone")
    assert Issue.objects.values_list("scope_type", "scope_key").get() == expected


def custom_scope(row):
    return ("custom", f"carrier:{row['channel']}") if row["channel"] == "app" else None


def test_a_dotted_path_adds_a_custom_scope(settings, shampoo):
    settings.ISSUE_SCOPE_RULES = ["tests.issues.test_grouping.custom_scope", "sku"]
    make_ticket(product=shampoo, channel="app")
    make_ticket(product=shampoo, channel="chat")
    assert set(Issue.objects.values_list("scope_key", flat=True)) == {"carrier:app", "SH-3001"}


def test_correcting_a_category_moves_the_ticket_and_both_counts(shampoo):
    tickets = [make_ticket(product=shampoo, days_ago=d) for d in (0, 3)]
    damaged = Issue.objects.get()
    moved = tickets[1]
    Ticket.objects.filter(pk=moved.pk).update(category=category("quality_defect"))
    ticket_attach(ticket=moved)
    ticket_attach(ticket=moved)  # a redelivery changes nothing
    damaged.refresh_from_db()
    quality = Issue.objects.get(category__code="quality_defect")
    assert (damaged.ticket_count, damaged.count_7d) == (1, 1)
    assert (quality.ticket_count, quality.count_7d) == (1, 1)
    assert sum(daily(damaged).values()) == 1 and sum(daily(quality).values()) == 1
    assert damaged.first_seen_at == damaged.last_seen_at == tickets[0].received_at
    assert moved.issue_id == quality.pk


def test_a_ticket_whose_category_is_removed_leaves_its_issue(shampoo):
    ticket = make_ticket(product=shampoo)
    Ticket.objects.filter(pk=ticket.pk).update(category=None)
    assert ticket_attach(ticket=ticket) is None
    issue = Issue.objects.get()
    assert issue.ticket_count == 0 and daily(issue) == {}


def test_a_batch_attaches_many_tickets_with_exact_counts(shampoo, tshirt):
    tickets = [make_ticket(product=p, days_ago=i % 9, attach=False) for i, p in enumerate([shampoo, tshirt] * 30)]
    result = tickets_attach(ticket_ids=[t.pk for t in tickets])
    again = tickets_attach(ticket_ids=[t.pk for t in tickets])
    assert (result.attached, len(result.created_issue_ids)) == (60, 2)
    assert (again.attached, again.unchanged) == (0, 60)
    for issue in Issue.objects.all():
        assert issue.ticket_count == 30 == sum(daily(issue).values()) == issue.tickets.count()


def test_tickets_of_a_merged_issue_attach_to_the_issue_it_was_merged_into(shampoo, tshirt):
    from issues.services import issue_merge

    make_ticket(product=shampoo)
    make_ticket(product=tshirt)
    a = Issue.objects.get(scope_key="SH-3001")
    b = Issue.objects.get(scope_key="CL-2001")
    issue_merge(issue=a, into=b)
    make_ticket(product=shampoo)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == IssueStatus.MERGED and a.ticket_count == 0
    assert b.ticket_count == 3 == sum(daily(b).values())


@time_machine.travel(datetime(2027, 3, 1, 0, 5, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_counts_refresh_recomputes_the_windows(shampoo):
    now = timezone.now()  # pinned: just after local midnight, a ticket half a day old is on the previous day
    make_ticket(product=shampoo, days_ago=0.5)
    make_ticket(product=shampoo, days_ago=8)
    issue = Issue.objects.get()
    # A day later the first ticket is no longer in the last 24 hours.
    issues_counts_refresh(now=now + timedelta(days=1))
    issue.refresh_from_db()
    assert (issue.count_24h, issue.count_7d, issue.count_30d, issue.count_prev_7d) == (0, 1, 2, 1)
    issues_counts_refresh(now=now + timedelta(days=60))
    issue.refresh_from_db()
    assert (issue.count_24h, issue.count_7d, issue.count_30d, issue.count_prev_7d, issue.ticket_count) == (0, 0, 0, 0, 2)


def test_reconcile_and_recount_repair_drifted_counts(shampoo):
    make_ticket(product=shampoo)
    make_ticket(product=shampoo, days_ago=2)
    issue = Issue.objects.get()
    Issue.objects.filter(pk=issue.pk).update(ticket_count=7)
    IssueDaily.objects.filter(issue=issue).update(count=5)
    assert issues_reconcile() == 1
    issue.refresh_from_db()
    assert issue.ticket_count == 2 and sum(daily(issue).values()) == 2
    IssueDaily.objects.all().delete()
    issue_recount(issue_id=issue.pk)
    assert sum(daily(issue).values()) == 2


@pytest.mark.parametrize("moment", [
    datetime(2026, 3, 1, 0, 10, tzinfo=ZoneInfo("Asia/Shanghai")),  # just after midnight: the window's edge day
    datetime(2028, 2, 29, 23, 50, tzinfo=ZoneInfo("Asia/Shanghai")),  # a leap day, just before midnight
])
def test_reconcile_repairs_only_what_drifted_inside_its_window(shampoo, tshirt, moment):
    """The nightly safety net, case by case (mutation run of session 5: its branches were untested)."""
    with time_machine.travel(moment, tick=False):
        _reconcile_case_by_case(shampoo, tshirt)


def _reconcile_case_by_case(shampoo, tshirt):
    right = make_ticket(product=tshirt).issue  # counts already right: not "repaired"
    recent = make_ticket(product=shampoo)
    make_ticket(product=shampoo, days_ago=3)
    old = make_ticket(product=shampoo, days_ago=50)
    issue = recent.issue
    emptied = make_ticket(product=shampoo, code="counterfeit").issue
    make_ticket(code=None, attach=False)  # a ticket in no issue counts for none
    today, three_days_ago, fifty_days_ago = (local_day(t.received_at) for t in (recent, Ticket.objects.order_by("received_at")[1], old))
    # Drift, as a manual database edit would leave it:
    Ticket.objects.filter(issue=emptied).delete()  # every ticket of an issue gone: its total and series must go to 0
    IssueDaily.objects.filter(issue=issue, day=three_days_ago).delete()  # a day with tickets but no row
    ghost_day = today - timedelta(days=5)
    IssueDaily.objects.create(issue=issue, day=ghost_day, count=2)  # a row with no ticket behind it
    IssueDaily.objects.filter(issue=issue, day=fifty_days_ago).update(count=9)  # outside the 35-day window
    stale_zero = IssueDaily.objects.create(issue=issue, day=today - timedelta(days=60), count=0)

    assert issues_reconcile() == 2  # the shampoo issue and the emptied one; the T-shirt issue was right

    issue.refresh_from_db()
    emptied.refresh_from_db()
    right.refresh_from_db()
    assert (issue.ticket_count, emptied.ticket_count, right.ticket_count) == (3, 0, 1)
    assert daily(emptied) == {}
    assert daily(issue) == {today: 1, three_days_ago: 1, fifty_days_ago: 9, stale_zero.day: 0}
    assert not IssueDaily.objects.filter(issue__isnull=True).exists()
    assert issues_reconcile() == 0  # nothing left to repair


def test_an_issue_is_titled_by_its_scope_and_category(shampoo):
    """Titles by scope (mutation run of session 5: untested branches of the title)."""
    from tests.factories import ProductFactory

    make_ticket(product=shampoo)
    make_ticket(sku_raw="NOPE-1")
    make_ticket()
    make_ticket(product=ProductFactory(sku="FR-1001", name="赣南脐橙", product_category="水果"), code="logistics_delay")
    make_ticket(sku_raw="X" * 64)
    make_ticket(product=ProductFactory(sku="LONG-1", name="长" * 200, product_category="其他"))
    titles = set(Issue.objects.values_list("title", flat=True))
    assert titles == {"去屑洗发水（SH-3001） · 破损变质", "NOPE-1 · 破损变质", "全部商品 · 破损变质", "水果 · 物流时效",
                      "X" * 64 + " · 破损变质", "长" * 200}  # a title is cut at the field's 200 characters


@pytest.mark.parametrize("merged", [False, True])
def test_an_issue_another_worker_created_a_moment_ago_is_joined_not_doubled(shampoo, tshirt, monkeypatch, merged):
    """Between looking an issue up and inserting it, another worker may create it: the insert skips it
    (ON CONFLICT DO NOTHING) and the ticket joins that issue, or the issue it was merged into."""
    import copy

    from issues.services import grouping

    real_insert = grouping._insert_issues
    raced = {}

    def insert_after_another_worker(issues):
        if not raced:
            theirs = copy.copy(issues[0])
            theirs.pk = None
            theirs.title = "created by another worker"
            theirs.save()
            raced["issue"] = theirs
            if merged:
                target = make_ticket(product=tshirt, code="counterfeit").issue
                Issue.objects.filter(pk=theirs.pk).update(status=IssueStatus.MERGED, merged_into=target)
                raced["target"] = target
        return real_insert(issues)

    monkeypatch.setattr(grouping, "_insert_issues", insert_after_another_worker)
    ticket = make_ticket(product=shampoo)
    ticket.refresh_from_db()

    expected = raced["target"] if merged else raced["issue"]
    assert ticket.issue_id == expected.pk
    assert Issue.objects.filter(scope_key="SH-3001").count() == 1  # no second issue for the key
    expected.refresh_from_db()
    assert expected.ticket_count == (2 if merged else 1)
