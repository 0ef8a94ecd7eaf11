"""The one role policy, walked role by role and action by action, in the policy and on the server."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from accounts.models import Role
from accounts.permissions import Action, department_can_work, issue_can_change, issue_can_work, user_can
from issues.models import Department
from tests.factories import UserFactory

A = Action
# Written out by hand from the README's role table, not derived from POLICY.
ALLOWED = {
    Role.AGENT: {A.FILE_TICKETS, A.IMPORT_TICKETS, A.CORRECT_TICKETS, A.WORK_ASSIGNED_ISSUES},
    Role.LEAD: {A.FILE_TICKETS, A.IMPORT_TICKETS, A.CORRECT_TICKETS, A.CHANGE_ISSUES, A.WORK_ASSIGNED_ISSUES,
                A.DECIDE_SUBTHEMES, A.MANAGE_PRODUCTS, A.MANAGE_TEAM},
    Role.MANAGER: {A.FILE_TICKETS, A.IMPORT_TICKETS, A.IMPORT_SALES, A.MANAGE_PRODUCTS, A.VIEW_MODELS},
    Role.ADMIN: set(Action),
}
CASES = [(role, action) for role in ALLOWED for action in Action]


def make_user(role: str, **extra):
    department = Department.objects.get(code="logistics") if role == Role.LEAD else None
    return UserFactory(username=f"policy-{role}", role=role, department=department, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "action"), CASES, ids=[f"{r}-{a}" for r, a in CASES])
def test_each_role_may_do_exactly_its_actions(role, action):
    assert user_can(make_user(role), action) is (action in ALLOWED[role])


@pytest.mark.parametrize("action", list(Action))
def test_anonymous_may_do_nothing(action):
    assert user_can(AnonymousUser(), action) is False


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(Action))
def test_a_superuser_may_do_everything_whatever_its_role(action):
    assert user_can(UserFactory(username="root", role=Role.AGENT, is_superuser=True), action)


@pytest.mark.django_db
def test_a_lead_changes_only_their_own_departments_issues():
    logistics, warehouse = Department.objects.get(code="logistics"), Department.objects.get(code="warehouse")
    lead = make_user(Role.LEAD)

    class Issue:  # only the department matters to the rule
        def __init__(self, department):
            self.department_id = department.pk

    assert issue_can_change(lead, Issue(logistics)) and department_can_work(lead, logistics.pk)
    assert not issue_can_change(lead, Issue(warehouse)) and not department_can_work(lead, warehouse.pk)
    assert issue_can_change(make_user(Role.ADMIN), Issue(warehouse))
    assert not issue_can_change(make_user(Role.MANAGER), Issue(logistics))
    lead.department = None
    assert not department_can_work(lead, None)


@pytest.mark.django_db
def test_the_assigned_team_member_works_the_issue_but_does_not_change_it():
    logistics = Department.objects.get(code="logistics")
    member = UserFactory(username="policy-member", role=Role.AGENT, department=logistics)
    colleague = UserFactory(username="policy-colleague", role=Role.AGENT, department=logistics)
    manager = UserFactory(username="policy-boss", role=Role.MANAGER, department=logistics)

    class Issue:
        def __init__(self, assignee):
            self.department_id, self.assignee_id = logistics.pk, getattr(assignee, "pk", None)

    assert issue_can_work(member, Issue(member)) and not issue_can_change(member, Issue(member))
    assert not issue_can_work(colleague, Issue(member))
    assert not issue_can_work(member, Issue(None))
    # A manager assigned by mistake still only reads: the role must allow working issues at all.
    assert not issue_can_work(manager, Issue(manager))
    lead = make_user(Role.LEAD)
    assert issue_can_work(lead, Issue(member))  # the lead works every issue of the department


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ALLOWED))
def test_template_properties_follow_the_policy(role):
    user = make_user(role)
    assert user.can_file_tickets is (A.FILE_TICKETS in ALLOWED[role])
    assert user.can_correct_tickets is (A.CORRECT_TICKETS in ALLOWED[role])
    assert user.can_see_unmasked is (A.SEE_UNMASKED in ALLOWED[role])
    assert user.can_change_issues is (A.CHANGE_ISSUES in ALLOWED[role])
    assert user.can_manage_routing is (A.MANAGE_ROUTING in ALLOWED[role])


# One page and one API endpoint per action the server guards by role alone.
PAGES = {
    A.FILE_TICKETS: "ticket-create",
    A.IMPORT_TICKETS: "import-list",
    A.IMPORT_SALES: "impact-sales-import",
    A.MANAGE_ROUTING: "routing-rules",
    A.DECIDE_SUBTHEMES: "subtheme-candidates",
    A.MANAGE_PRODUCTS: "product-import",
}
PAGE_CASES = [(role, action) for role in ALLOWED for action in PAGES]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "action"), PAGE_CASES, ids=[f"{r}-{a}" for r, a in PAGE_CASES])
def test_pages_answer_as_the_policy_says(client, role, action):
    client.force_login(make_user(role))
    response = client.get(reverse(PAGES[action]))
    assert response.status_code == (200 if action in ALLOWED[role] else 403)


API_CASES = [(role, action) for role in ALLOWED for action in (A.MANAGE_ROUTING, A.MANAGE_PRODUCTS, A.IMPORT_SALES)]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "action"), API_CASES, ids=[f"{r}-{a}" for r, a in API_CASES])
def test_api_answers_as_the_policy_says(client, role, action):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(make_user(role))
    if action == A.MANAGE_ROUTING:
        response = api.get("/api/routing-rules/")
        allowed_status = 200
    elif action == A.MANAGE_PRODUCTS:
        response = api.post("/api/products/", {"sku": "POL-1", "name": "策略测试", "product_category": "水果"},
                            format="json")
        allowed_status = 201
    else:
        response = api.post("/api/sales/", [], format="json")
        allowed_status = None  # any answer but 403 (an empty push may be refused as bad input)
    if action in ALLOWED[role]:
        assert response.status_code != 403 if allowed_status is None else response.status_code == allowed_status
    else:
        assert response.status_code == 403
