"""Each role lands where its day starts: agents on the review stream, the others home."""
from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "landing"), [
    (Role.AGENT, "/review/"),
    (Role.LEAD, "/"),
    (Role.MANAGER, "/"),
    (Role.ADMIN, "/"),
])
def test_login_lands_per_role(role, landing):
    UserFactory(username=f"land-{role}", role=role)
    response = Client().post("/accounts/login/", {"username": f"land-{role}", "password": "pass-1234"})
    assert response.status_code == 302 and response.url == landing


def test_an_explicit_next_still_wins():
    UserFactory(username="land-next", role=Role.AGENT)
    response = Client().post("/accounts/login/?next=/tickets/", {"username": "land-next", "password": "pass-1234"})
    assert response.url == "/tickets/"


def test_the_landing_page_opens_for_the_role(client):
    client.force_login(UserFactory(username="land-open", role=Role.AGENT))
    assert client.get("/review/").status_code == 200
