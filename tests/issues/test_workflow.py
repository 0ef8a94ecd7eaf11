from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Role
from issues.models import ActivityVerb, Issue, IssueStatus, Notification, NotificationKind
from issues.services import (
    IssueActionError,
    issue_assign,
    issue_merge,
    issue_priority_set,
    issue_transition,
    issues_bulk_transition,
    issues_overdue_flag,
)
from tests.factories import UserFactory
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(shampoo) -> Issue:
    for days_ago in range(7):
        make_ticket(product=shampoo, days_ago=days_ago + 0.1)
    return Issue.objects.get()


def test_a_lead_works_an_issue_from_new_to_closed_and_every_step_is_logged(issue, warehouse_lead):
    today = timezone.localdate()
    issue_transition(issue=issue, to_status=IssueStatus.ACKNOWLEDGED, actor=warehouse_lead)
    issue_transition(issue=issue, to_status=IssueStatus.IN_PROGRESS, actor=warehouse_lead, note="联系供应商")
    issue = issue_transition(issue=issue, to_status=IssueStatus.RESOLVED, actor=warehouse_lead,
                             action_taken="加固包装", action_date=today)
    assert (issue.action_taken, issue.action_date, issue.resolved_by) == ("加固包装", today, warehouse_lead)
    assert issue.rate_before_resolution == 7 and issue.acknowledged_at is not None
    issue_transition(issue=issue, to_status=IssueStatus.CLOSED, actor=warehouse_lead)
    log = list(issue.activities.filter(verb=ActivityVerb.STATUS).order_by("id").values_list("actor__username", "from_value", "to_value"))
    assert log == [
        ("lead_warehouse", "new", "acknowledged"),
        ("lead_warehouse", "acknowledged", "in_progress"),
        ("lead_warehouse", "in_progress", "resolved"),
        ("lead_warehouse", "resolved", "closed"),
    ]


@pytest.mark.parametrize(
    "action_taken, days_from_today, field",
    [("", 0, "action_taken"), ("加固包装", None, "action_date"), ("加固包装", 2, "action_date")],
)
def test_resolving_requires_the_action_and_its_date(issue, warehouse_lead, action_taken, days_from_today, field):
    action_date = None if days_from_today is None else timezone.localdate() + timedelta(days=days_from_today)
    with pytest.raises(IssueActionError) as error:
        issue_transition(issue=issue, to_status=IssueStatus.RESOLVED, actor=warehouse_lead,
                         action_taken=action_taken, action_date=action_date)
    assert field in error.value.errors
    issue.refresh_from_db()
    assert issue.status == IssueStatus.NEW


def test_a_transition_outside_the_workflow_is_refused(issue, warehouse_lead):
    with pytest.raises(IssueActionError):
        issue_transition(issue=issue, to_status=IssueStatus.CLOSED, actor=warehouse_lead)


@pytest.mark.parametrize("role, same_department, allowed", [
    (Role.LEAD, True, True),
    (Role.LEAD, False, False),
    (Role.AGENT, True, False),
    (Role.MANAGER, True, False),
    (Role.ADMIN, False, True),
])
def test_only_the_departments_lead_or_an_admin_may_change_an_issue(issue, role, same_department, allowed):
    user = UserFactory(role=role, department=department("warehouse" if same_department else "logistics"))
    if allowed:
        issue_transition(issue=issue, to_status=IssueStatus.ACKNOWLEDGED, actor=user)
    else:
        with pytest.raises(PermissionDenied):
            issue_transition(issue=issue, to_status=IssueStatus.ACKNOWLEDGED, actor=user)


def test_assigning_logs_and_notifies_the_assignee(issue, warehouse_lead):
    colleague = UserFactory(username="wh2", role=Role.LEAD, department=department("warehouse"), email="wh2@example.com")
    issue_assign(issue=issue, assignee=colleague, actor=warehouse_lead)
    assert issue.activities.filter(verb=ActivityVerb.ASSIGNED, to_value="wh2").exists()
    notification = Notification.objects.get(recipient=colleague)
    assert notification.kind == NotificationKind.ASSIGNED
    assert notification.deliveries.get().target == "wh2@example.com"


def resolve(issue, lead, days_ago=0):
    issue_transition(issue=issue, to_status=IssueStatus.RESOLVED, actor=lead, action_taken="加固包装",
                     action_date=timezone.localdate())


@pytest.mark.parametrize("new_tickets, regresses", [(1, False), (3, False), (5, True)])
def test_a_resolved_issue_regresses_only_when_tickets_return_at_its_former_rate(
    issue, shampoo, warehouse_lead, new_tickets, regresses
):
    # 7 tickets the week before resolution: the threshold is max(5, 0.5 x 7) = 5.
    resolve(issue, warehouse_lead)
    for _ in range(new_tickets):
        make_ticket(product=shampoo)
    issue.refresh_from_db()
    assert (issue.status == IssueStatus.REGRESSED) is regresses
    if regresses:
        assert issue.regression_count == 1
        assert issue.activities.filter(verb=ActivityVerb.REGRESSED).count() == 1
        assert Notification.objects.filter(kind=NotificationKind.REGRESSED, department=issue.department).count() == 1


def test_a_regression_threshold_is_tunable(settings, issue, shampoo, warehouse_lead):
    settings.ISSUE_REGRESSION_MIN_TICKETS = 2
    settings.ISSUE_REGRESSION_RATIO = 0.2
    resolve(issue, warehouse_lead)
    make_ticket(product=shampoo)
    make_ticket(product=shampoo)
    issue.refresh_from_db()
    assert issue.status == IssueStatus.REGRESSED


def test_merging_moves_tickets_and_counts(shampoo, tshirt, warehouse_lead):
    for _ in range(3):
        make_ticket(product=shampoo)
    make_ticket(product=tshirt)
    source = Issue.objects.get(scope_key="SH-3001")
    target = Issue.objects.get(scope_key="CL-2001")
    issue_merge(issue=source, into=target, actor=warehouse_lead)
    source.refresh_from_db()
    target.refresh_from_db()
    assert (source.status, source.merged_into, source.ticket_count) == (IssueStatus.MERGED, target, 0)
    assert target.ticket_count == 4 == target.tickets.count()
    with pytest.raises(IssueActionError):
        issue_transition(issue=source, to_status=IssueStatus.ACKNOWLEDGED, actor=warehouse_lead)


def test_sla_overdue_is_flagged_once_and_the_lead_notified_once(settings, issue, warehouse_lead):
    settings.ISSUE_SLA_HOURS = {"P3": {"acknowledge": 4, "resolve": 48}}
    issue_priority_set(issue=issue, priority="P3", actor=warehouse_lead)  # unchanged priority: no-op
    later = timezone.now() + timedelta(hours=30)
    flagged, _ = issues_overdue_flag(now=later)
    assert flagged == [issue.pk]
    issue.refresh_from_db()
    assert issue.is_overdue
    flagged_again, _ = issues_overdue_flag(now=later + timedelta(minutes=15))
    assert flagged_again == []
    notifications = Notification.objects.filter(kind=NotificationKind.OVERDUE)
    assert notifications.count() == 1
    assert notifications.get().deliveries.get().target == "lead.warehouse@example.com"
    issue_transition(issue=issue, to_status=IssueStatus.ACKNOWLEDGED, actor=warehouse_lead)
    issues_overdue_flag(now=later)
    issue.refresh_from_db()
    assert not issue.is_overdue  # acknowledged, and the 48 h resolve deadline not reached


def test_priority_change_recomputes_sla_deadlines(settings, issue, warehouse_lead):
    settings.ISSUE_SLA_HOURS = {"P1": {"acknowledge": 4, "resolve": 72}, "P3": {"acknowledge": 24, "resolve": 240}}
    issue = issue_priority_set(issue=issue, priority="P1", actor=warehouse_lead)
    # From when the SLA started (the issue reached the 高频 threshold), not from its first ticket.
    assert issue.sla_started_at is not None
    assert issue.acknowledge_due_at == issue.sla_started_at + timedelta(hours=4)
    assert issue.resolve_due_at == issue.sla_started_at + timedelta(hours=72)
    assert issue.priority_manual is True


def test_bulk_transition_reports_refusals(issue, tshirt, warehouse_lead):
    make_ticket(product=tshirt, code="description_mismatch")  # merchandising, not the warehouse lead's
    other = Issue.objects.exclude(pk=issue.pk).get()
    changed, refused = issues_bulk_transition(issue_ids=[issue.pk, other.pk], to_status="acknowledged", actor=warehouse_lead)
    assert changed == [issue.pk] and list(refused) == [other.pk]
