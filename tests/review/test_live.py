"""Live updates: the JSON the ticket page and the navigation badges poll."""
from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from feedback.models import TriageStatus
from tests.factories import TicketFactory, UserFactory, category

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_():
    client = Client()
    client.force_login(UserFactory(username="watcher", role=Role.MANAGER))
    return client


def test_ticket_live_reports_pending_then_the_category(client_):
    ticket = TicketFactory(text="牛奶酸了")
    assert client_.get(f"/tickets/{ticket.pk}/live/").json()["triage_status"] == "pending"
    ticket.triage_status = TriageStatus.CLASSIFIED
    ticket.category = ticket.predicted_category = category("damaged")
    ticket.save()
    data = client_.get(f"/tickets/{ticket.pk}/live/").json()
    assert data["triage_status"] == "classified"
    assert data["category"] == {"code": "damaged", "name": "破损变质"}


def test_ticket_live_for_a_missing_ticket_is_a_json_404(client_):
    response = client_.get("/tickets/987654/live/")
    assert response.status_code == 404 and "error" in response.json()


def test_only_a_pending_ticket_page_polls(client_):
    pending = TicketFactory(text="a")
    done = TicketFactory(text="b", triage_status=TriageStatus.CLASSIFIED, category=category("damaged"))
    assert b"data-ticket-live" in client_.get(f"/tickets/{pending.pk}/").content
    assert b"data-ticket-live" not in client_.get(f"/tickets/{done.pk}/").content


def test_live_counts(client_):
    TicketFactory.create_batch(3, triage_status=TriageStatus.NEEDS_REVIEW)
    assert client_.get("/live/counts/").json() == {"needs_review": 3, "unread_notifications": 0}


def test_live_endpoints_need_a_login():
    assert Client().get("/live/counts/").status_code == 302
