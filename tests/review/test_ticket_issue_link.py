"""Tickets and issues linked both ways: the ticket page and list name the issue, ?issue=N filters."""
from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from issues.models import Issue
from tests.factories import TicketFactory, UserFactory, category, department

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked():
    issue = Issue.objects.create(
        category=category("damaged"), scope_type="product", scope_key="MILK-1L", title="纯牛奶变质",
        department=department("warehouse"), status="in_progress",
    )
    inside = TicketFactory(text="牛奶酸了", issue=issue, category=category("damaged"))
    outside = TicketFactory(text="快递慢")
    return issue, inside, outside


@pytest.fixture
def agent_client():
    client = Client()
    client.force_login(UserFactory(username="linker", role=Role.AGENT))
    return client


def test_ticket_page_names_its_issue_with_status_and_department(linked, agent_client):
    issue, inside, outside = linked
    page = agent_client.get(f"/tickets/{inside.pk}/").content.decode()
    assert f'href="/issues/{issue.pk}/"' in page
    assert "所属问题" in page and "处理中" in page and "仓储包装部" in page
    assert f'href="/issues/{issue.pk}/"' not in agent_client.get(f"/tickets/{outside.pk}/").content.decode()


def test_list_filters_by_issue_and_links_it(linked, agent_client):
    issue, inside, _outside = linked
    response = agent_client.get("/tickets/", {"issue": issue.pk})
    assert [t.pk for t in response.context["tickets"]] == [inside.pk]
    assert f'href="/issues/{issue.pk}/"' in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "0", "-3", "99999999999999999999", "1.5"])
def test_list_with_a_bad_issue_shows_an_error_and_ignores_it(linked, agent_client, value):
    response = agent_client.get("/tickets/", {"issue": value})
    assert response.status_code == 200
    assert len(response.context["tickets"]) == 2
    assert response.context["filter_form"].errors["issue"]


def test_api_filters_by_issue(linked):
    issue, inside, _outside = linked
    api = APIClient()
    api.force_authenticate(UserFactory(username="api-linker", role=Role.AGENT))
    rows = api.get("/api/tickets/", {"issue": issue.pk}).json()["results"]
    assert [row["id"] for row in rows] == [inside.pk]
    assert rows[0]["issue"] == issue.pk


@pytest.mark.parametrize("value", ["abc", "0", "99999999999999999999", "1.5"])
def test_api_bad_issue_is_a_400_naming_the_field(linked, value):
    api = APIClient()
    api.force_authenticate(UserFactory(username="api-linker", role=Role.AGENT))
    response = api.get("/api/tickets/", {"issue": value})
    assert response.status_code == 400
    assert list(response.json()) == ["issue"], response.json()
