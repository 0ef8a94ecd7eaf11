"""Item 9 of the hardening issue: the API applies the page's assignee rules (a lead could assign an
issue to anyone through the API, while the page only offers the issue's department and themselves)."""
from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from issues.models import Issue
from tests.factories import UserFactory
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(shampoo) -> Issue:
    make_ticket(product=shampoo)  # damaged → the warehouse department
    return Issue.objects.get()


def _assign(actor, issue, assignee):
    api = APIClient()
    api.force_authenticate(actor)
    return api.post(f"/api/issues/{issue.pk}/assign/", {"assignee": assignee}, format="json")


@pytest.mark.parametrize(("who", "allowed"), [
    ("colleague", True),  # same department as the issue
    ("self", True),
    ("outsider", False),  # an agent of no department
    ("other_lead", False),  # a lead of another department
    ("inactive_colleague", False),
])
def test_the_api_offers_exactly_what_the_page_offers(issue, warehouse_lead, logistics_lead, who, allowed):
    people = {
        "colleague": UserFactory(username="wh-agent", role=Role.AGENT, department=department("warehouse")),
        "self": warehouse_lead,
        "outsider": UserFactory(username="someone", role=Role.AGENT),
        "other_lead": logistics_lead,
        "inactive_colleague": UserFactory(username="wh-gone", role=Role.AGENT, department=department("warehouse"),
                                          is_active=False),
    }
    target = people[who]

    response = _assign(warehouse_lead, issue, target.username)
    page = APIClient()
    page.force_login(warehouse_lead)
    offered = page.get(reverse("issue-detail", args=[issue.pk])).context["assign_form"].fields["assignee"].queryset

    assert (response.status_code == 200) is allowed, response.json()
    assert (target in offered) is allowed
    issue.refresh_from_db()
    assert (issue.assignee_id == target.pk) is allowed
    if not allowed:
        assert "assignee" in response.json()


def test_an_admin_is_held_to_the_same_rule(issue):
    admin = UserFactory(username="boss9", role=Role.ADMIN, is_superuser=True)
    outsider = UserFactory(username="nobody9", role=Role.AGENT)

    assert _assign(admin, issue, outsider.username).status_code == 400
    assert _assign(admin, issue, admin.username).status_code == 200


def test_unassigning_is_always_allowed(issue, warehouse_lead):
    _assign(warehouse_lead, issue, warehouse_lead.username)

    assert _assign(warehouse_lead, issue, None).status_code == 200
    issue.refresh_from_db()
    assert issue.assignee_id is None
