"""Each role lands where its day starts: agents on the review stream, leads on their queue, managers on the
impact dashboard, admins home."""
from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from issues.models import Department
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "landing"), [
    (Role.AGENT, "/review/"),
    (Role.LEAD, "/queue/"),
    (Role.MANAGER, "/impact/"),
    (Role.ADMIN, "/"),
])
def test_login_lands_per_role(role, landing):
    department = Department.objects.get(code="logistics") if role == Role.LEAD else None
    UserFactory(username=f"land-{role}", role=role, department=department)
    response = Client().post("/accounts/login/", {"username": f"land-{role}", "password": "pass-1234"})
    assert response.status_code == 302 and response.url == landing


def test_a_lead_without_a_department_lands_home_not_on_an_empty_queue():
    UserFactory(username="land-lost-lead", role=Role.LEAD, department=None)
    response = Client().post("/accounts/login/", {"username": "land-lost-lead", "password": "pass-1234"})
    assert response.url == "/"


@pytest.mark.parametrize("role", [Role.LEAD, Role.MANAGER])
def test_the_landing_page_opens_for_leads_and_managers(client, role):
    department = Department.objects.get(code="logistics") if role == Role.LEAD else None
    user = UserFactory(username=f"land-open-{role}", role=role, department=department)
    client.force_login(user)
    landing = "/queue/" if role == Role.LEAD else "/impact/"
    response = client.get(landing)
    assert response.status_code == 200
    if role == Role.LEAD:
        assert response.context["department"].code == "logistics"


def test_an_explicit_next_still_wins():
    UserFactory(username="land-next", role=Role.AGENT)
    response = Client().post("/accounts/login/?next=/tickets/", {"username": "land-next", "password": "pass-1234"})
    assert response.url == "/tickets/"


def test_the_landing_page_opens_for_the_role(client):
    client.force_login(UserFactory(username="land-open", role=Role.AGENT))
    assert client.get("/review/").status_code == 200
