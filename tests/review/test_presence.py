"""Presence: a second agent opening a ticket sees who else has it on screen, until they leave."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import Role
from feedback.models import TicketPresence
from feedback.presence import PRESENCE_SECONDS
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def client_for(username: str, role: str = Role.AGENT) -> Client:
    client = Client()
    client.force_login(UserFactory(username=username, role=role))
    return client


def others(client, ticket) -> list[str]:
    response = client.post(f"/tickets/{ticket.pk}/presence/")
    assert response.status_code == 200
    return response.json()["others"]


def test_the_second_agent_sees_the_first_until_the_first_is_gone():
    ticket = TicketFactory(text="牛奶胀包")
    wang, li = client_for("xiaowang"), client_for("xiaoli")
    with time_machine.travel(NOON, tick=False) as clock:
        first = others(wang, ticket)
        second = others(li, ticket)
        clock.shift(timedelta(seconds=15))
        back_to_first = others(wang, ticket)
        clock.shift(timedelta(seconds=PRESENCE_SECONDS + 1))  # xiaoli's last report is now too old
        after_leaving = others(wang, ticket)

    assert (first, second, back_to_first, after_leaving) == ([], ["xiaowang"], ["xiaoli"], [])


def test_at_the_boundary_an_agent_still_counts_as_present():
    ticket = TicketFactory()
    wang, li = client_for("xiaowang"), client_for("xiaoli")
    with time_machine.travel(NOON, tick=False) as clock:
        others(wang, ticket)
        clock.shift(timedelta(seconds=PRESENCE_SECONDS))

        assert others(li, ticket) == ["xiaowang"]


def test_another_ticket_is_not_shared_and_stale_rows_are_dropped():
    ticket, other_ticket = TicketFactory(), TicketFactory()
    wang, li = client_for("xiaowang"), client_for("xiaoli")
    with time_machine.travel(NOON, tick=False) as clock:
        others(wang, other_ticket)
        assert others(li, ticket) == []
        clock.shift(timedelta(minutes=5))
        others(wang, ticket)

    assert list(TicketPresence.objects.filter(user__username="xiaowang").values_list("ticket_id", flat=True)) == [ticket.pk]


def test_presence_needs_a_login_a_post_and_a_ticket():
    ticket = TicketFactory()
    manager = client_for("boss", Role.MANAGER)

    assert Client().post(f"/tickets/{ticket.pk}/presence/").status_code == 302
    assert manager.get(f"/tickets/{ticket.pk}/presence/").status_code == 405
    assert manager.post("/tickets/999999/presence/").status_code == 404
    assert manager.post(f"/tickets/{ticket.pk}/presence/").json()["others"] == []


def test_the_ticket_page_and_the_review_stream_report_presence():
    ticket = TicketFactory()
    agent = client_for("xiaowang")

    detail = agent.get(f"/tickets/{ticket.pk}/").content.decode()
    stream = agent.get("/review/").content.decode()

    assert f'data-ticket-id="{ticket.pk}"' in detail and "js/presence.js" in detail
    assert "data-presence" in stream and "js/presence.js" in stream


def test_moving_on_clears_the_agent_at_once():
    ticket = TicketFactory()
    wang, li = client_for("xiaowang"), client_for("xiaoli")
    others(wang, ticket)

    left = wang.delete(f"/tickets/{ticket.pk}/presence/")

    assert left.status_code == 200 and others(li, ticket) == []
