"""The issue library's counting windows and the attach conflict, at their boundaries.

A ticket exactly 24 hours, 7, 14 or 30 days old sits on one side of each window,
the same for the incremental counts written on attach and for the nightly
recount, so the two never disagree about a ticket on the edge.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from feedback.models import Ticket
from issues.models import Issue
from issues.services import AttachConflict, issues_counts_refresh, tickets_attach
from issues.services.grouping import _move_tickets
from tests.factories import TicketFactory

from .conftest import category

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SECOND = timedelta(seconds=1)

# age of the ticket -> which windows count it: (24h, 7d, previous 7d, 30d)
EDGES = [
    (timedelta(0), (1, 1, 0, 1)),
    (timedelta(hours=24) - SECOND, (1, 1, 0, 1)),
    (timedelta(hours=24), (0, 1, 0, 1)),
    (timedelta(days=7) - SECOND, (0, 1, 0, 1)),
    (timedelta(days=7), (0, 0, 1, 1)),
    (timedelta(days=14) - SECOND, (0, 0, 1, 1)),
    (timedelta(days=14), (0, 0, 0, 1)),
    (timedelta(days=30) - SECOND, (0, 0, 0, 1)),
    (timedelta(days=30), (0, 0, 0, 0)),
]


def windows(issue: Issue) -> tuple[int, int, int, int]:
    return issue.count_24h, issue.count_7d, issue.count_prev_7d, issue.count_30d


@pytest.mark.parametrize(("age", "expected"), EDGES, ids=[str(age) for age, _ in EDGES])
def test_a_ticket_on_a_window_edge_is_counted_the_same_on_attach_and_on_recount(shampoo, age, expected):
    ticket = TicketFactory(
        text="瓶子漏液", product=shampoo, sku_raw=shampoo.sku, category=category("damaged"), received_at=NOW - age
    )
    tickets_attach(ticket_ids=[ticket.pk], now=NOW)
    issue = Issue.objects.get()
    assert windows(issue) == expected
    assert issue.ticket_count == 1

    assert issues_counts_refresh(now=NOW) == 0  # the recount agrees with what attach wrote
    issue.refresh_from_db()
    assert windows(issue) == expected and issue.growth_7d == expected[1] - expected[2]


def test_the_recount_moves_a_ticket_across_the_edge_as_time_passes(shampoo):
    ticket = TicketFactory(
        text="瓶子漏液", product=shampoo, sku_raw=shampoo.sku, category=category("damaged"),
        received_at=NOW - timedelta(days=7) + SECOND,
    )
    tickets_attach(ticket_ids=[ticket.pk], now=NOW)
    assert windows(Issue.objects.get()) == (0, 1, 0, 1)

    assert issues_counts_refresh(now=NOW + SECOND) == 1
    assert windows(Issue.objects.get()) == (0, 0, 1, 1)


def test_a_ticket_that_changed_issue_under_us_raises_a_conflict_and_moves_nothing(shampoo):
    first = TicketFactory(text="瓶子漏液", product=shampoo, sku_raw=shampoo.sku, category=category("damaged"))
    second = TicketFactory(text="瓶子也漏", product=shampoo, sku_raw=shampoo.sku, category=category("damaged"))
    tickets_attach(ticket_ids=[first.pk, second.pk], now=NOW)
    issue = Issue.objects.get()

    # The caller read issue_id = None for the second ticket, but another worker has attached it since.
    with pytest.raises(AttachConflict, match="1 of 2"), transaction.atomic():
        _move_tickets({(issue.pk, None): [first.pk], (None, issue.pk): [second.pk]})
    # tickets_attach runs inside one transaction, so the conflict rolls the whole batch back.
    assert set(Ticket.objects.values_list("issue_id", flat=True)) == {issue.pk}


def test_a_move_whose_old_issue_still_matches_goes_through(shampoo):
    ticket = TicketFactory(text="瓶子漏液", product=shampoo, sku_raw=shampoo.sku, category=category("damaged"))
    tickets_attach(ticket_ids=[ticket.pk], now=NOW)
    issue = Issue.objects.get()

    _move_tickets({(issue.pk, None): [ticket.pk]})
    assert Ticket.objects.get(pk=ticket.pk).issue_id is None
