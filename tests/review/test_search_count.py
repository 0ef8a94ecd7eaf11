"""A search counts its matches only up to a limit (feedback/pagination.py) and says when it stopped."""
from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from feedback.pagination import CappedCountPaginator
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "limit", 3)
    for n in range(4):
        TicketFactory(text=f"牛奶胀包 {n}")
    TicketFactory(text="快递很慢")
    return UserFactory(username="count-agent", role=Role.AGENT)


@pytest.mark.parametrize(("q", "count", "capped"), [("胀包", 3, True), ("快递", 1, False)])
def test_the_api_says_when_the_count_stopped_at_the_limit(agent, q, count, capped):
    api = APIClient()
    api.force_authenticate(agent)

    body = api.get("/api/tickets/", {"q": q}).json()

    assert (body["count"], body["count_capped"]) == (count, capped)


def test_without_a_search_the_api_counts_everything(agent):
    api = APIClient()
    api.force_authenticate(agent)

    body = api.get("/api/tickets/").json()

    assert body["count"] == 5 and "count_capped" not in body


@pytest.mark.parametrize(("q", "shown"), [("胀包", "超过 3 条，请缩小搜索范围"), ("牛奶胀包 1", "共 1 条")])
def test_the_list_page_says_more_than_the_limit(agent, q, shown):
    client = Client()
    client.force_login(agent)

    page = client.get("/tickets/", {"q": q, "channel": "chat"})

    assert shown in page.content.decode()
    assert len(page.context["tickets"]) == (3 if page.context["paginator"].count_capped else 1)
