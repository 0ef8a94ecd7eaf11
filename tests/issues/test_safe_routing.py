"""Safe routing and transfer: previews name the issues that move, confirmations, notifications, new-only rules."""
from datetime import timedelta

import pytest
from django.utils import timezone

from issues.models import Issue, IssueStatus, Notification, RoutingRule
from issues.services import issue_assign, issue_route, issue_department_set, issue_transition, issues_open_reroute
from issues.services.routing import RoutingConfirmationNeeded, routing_rule_moves, routing_rule_preview, routing_rule_save
from issues.services.workflow import IssueActionError
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def working_issue(shampoo, warehouse_lead) -> Issue:
    """An issue the warehouse lead is working: in progress and assigned to him."""
    for _ in range(3):
        make_ticket(product=shampoo)
    issue = Issue.objects.get()
    issue_transition(issue=issue, to_status=IssueStatus.IN_PROGRESS, actor=warehouse_lead)
    return issue_assign(issue=issue, assignee=warehouse_lead, actor=warehouse_lead)


def test_the_preview_lists_the_in_progress_issue_a_rule_would_move(working_issue, logistics_lead):
    rule = RoutingRule(name="洗发水归物流", order=1, product_category="洗发水", department=department("logistics"))
    moves = routing_rule_preview(rule=rule)["moves"]
    assert [(m["issue"].pk, m["taken"], m["target_has_lead"]) for m in moves] == [(working_issue.pk, True, True)]


def test_saving_a_rule_that_moves_a_worked_issue_needs_confirmation(working_issue, logistics_lead, admin_user):
    rule = RoutingRule(name="洗发水归物流", order=1, product_category="洗发水", department=department("logistics"))
    with pytest.raises(RoutingConfirmationNeeded, match=f"#{working_issue.pk}"):
        routing_rule_save(rule=rule, actor=admin_user, reroute=False)
    assert not RoutingRule.objects.exists()
    routing_rule_save(rule=rule, actor=admin_user, reroute=False, confirm_moves=True)
    assert RoutingRule.objects.count() == 1


def test_a_rule_that_moves_nothing_saves_without_confirmation(working_issue, admin_user):
    rule = RoutingRule(name="服饰归物流", order=1, product_category="服饰", department=department("logistics"))
    assert routing_rule_moves(rule=rule) == []
    routing_rule_save(rule=rule, actor=admin_user, reroute=False)
    assert RoutingRule.objects.count() == 1


def test_a_rule_into_a_department_without_a_lead_needs_confirmation(shampoo, admin_user):
    for _ in range(3):
        make_ticket(product=shampoo)
    rule = RoutingRule(name="洗发水归运营", order=1, product_category="洗发水", department=department("operations"))
    [move] = routing_rule_moves(rule=rule)
    assert (move["taken"], move["target_has_lead"]) == (False, False)
    with pytest.raises(RoutingConfirmationNeeded, match="没有负责人"):
        routing_rule_save(rule=rule, actor=admin_user, reroute=False)


def test_a_new_issues_only_rule_moves_no_existing_issue(working_issue, logistics_lead, admin_user, tshirt):
    rule = RoutingRule(name="洗发水归物流", order=1, product_category="洗发水", department=department("logistics"),
                       new_issues_only=True)
    assert routing_rule_moves(rule=rule) == []
    routing_rule_save(rule=rule, actor=admin_user, reroute=False)  # no confirmation: nothing moves
    issues_open_reroute()
    working_issue.refresh_from_db()
    assert working_issue.department.code == "warehouse"
    # An issue created after the rule is routed by it.
    from tests.factories import ProductFactory

    conditioner = ProductFactory(sku="SH-3002", name="护发素", product_category="洗发水")
    make_ticket(product=conditioner)
    new = Issue.objects.get(scope_key="SH-3002")
    assert issue_route(issue_id=new.pk) is True
    new.refresh_from_db()
    assert new.department.code == "logistics"


def test_the_rule_applies_only_to_issues_created_after_it():
    rule = RoutingRule(new_issues_only=True, created_at=timezone.now())
    assert rule.applies_to(Issue(created_at=rule.created_at)) is True
    assert rule.applies_to(Issue(created_at=rule.created_at - timedelta(microseconds=1))) is False
    assert RoutingRule(new_issues_only=True).applies_to(Issue(created_at=timezone.now())) is False  # unsaved
    assert RoutingRule(new_issues_only=False).applies_to(Issue(created_at=timezone.now())) is True


@pytest.mark.parametrize("actor_name, confirm, allowed", [
    ("warehouse_lead", False, False),
    ("warehouse_lead", True, False),  # only an admin may confirm
    ("admin_user", False, False),
    ("admin_user", True, True),
])
def test_a_transfer_to_a_department_without_a_lead(request, working_issue, actor_name, confirm, allowed):
    actor = request.getfixturevalue(actor_name)
    if allowed:
        issue = issue_department_set(issue=working_issue, department=department("operations"), actor=actor,
                                     confirm_no_lead=confirm)
        assert issue.department.code == "operations"
    else:
        with pytest.raises(IssueActionError) as error:
            issue_department_set(issue=working_issue, department=department("operations"), actor=actor,
                                 confirm_no_lead=confirm)
        assert "department" in error.value.errors
        working_issue.refresh_from_db()
        assert working_issue.department.code == "warehouse"


def test_a_transfer_tells_the_old_and_new_department_and_the_assignee(working_issue, warehouse_lead, logistics_lead):
    Notification.objects.all().delete()
    issue_department_set(issue=working_issue, department=department("logistics"), actor=warehouse_lead, note="路线问题")
    told = {(n.department.code if n.department else None, n.recipient.username if n.recipient else None)
            for n in Notification.objects.filter(issue=working_issue, kind="routed")}
    assert told == {("logistics", None), ("warehouse", None), (None, "lead_warehouse")}


def test_a_rule_move_tells_the_old_and_new_department_and_the_assignee(working_issue, logistics_lead, admin_user):
    Notification.objects.all().delete()
    routing_rule_save(rule=RoutingRule(name="洗发水归物流", order=1, product_category="洗发水",
                                       department=department("logistics")),
                      actor=admin_user, reroute=False, confirm_moves=True)
    assert issues_open_reroute() == (1, None)
    told = {(n.department.code if n.department else None, n.recipient.username if n.recipient else None)
            for n in Notification.objects.filter(issue=working_issue, kind="routed")}
    assert told == {("logistics", None), ("warehouse", None), (None, "lead_warehouse")}
