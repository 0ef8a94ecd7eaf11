"""Presence: "xiaowang is on this ticket too", for two agents who open the same ticket.

The ticket page and the review stream report the ticket on screen every PRESENCE_POLL_SECONDS;
whoever reported it within PRESENCE_SECONDS is on it. Kept in the database rather than the cache
so that every web process sees every agent.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet

from .models import TicketPresence

PRESENCE_POLL_SECONDS = 15
PRESENCE_SECONDS = 40  # two missed polls and a slow network, then the agent counts as gone


def ticket_presence_mark(*, ticket_id: int, user, now: datetime) -> None:
    """Record that ``user`` has ticket ``ticket_id`` on screen at ``now`` (and drop their stale rows)."""
    TicketPresence.objects.filter(user=user, seen_at__lt=now - timedelta(seconds=PRESENCE_SECONDS)).delete()
    TicketPresence.objects.update_or_create(ticket_id=ticket_id, user=user, defaults={"seen_at": now})


def ticket_presence_others(*, ticket_id: int, user, now: datetime) -> QuerySet[TicketPresence]:
    """Return who else has had ticket ``ticket_id`` on screen in the last PRESENCE_SECONDS, by name."""
    return (
        TicketPresence.objects.filter(ticket_id=ticket_id, seen_at__gte=now - timedelta(seconds=PRESENCE_SECONDS))
        .exclude(user=user)
        .select_related("user")
        .order_by("user__username")
    )


def ticket_presence_forget(*, ticket_id: int, user) -> None:
    """Forget that ``user`` has ticket ``ticket_id`` on screen (they moved on or closed the page)."""
    TicketPresence.objects.filter(ticket_id=ticket_id, user=user).delete()
