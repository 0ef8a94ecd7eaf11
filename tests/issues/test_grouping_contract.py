"""Grouping's counts, seen range and windows as a lead reads them on an issue.

Written against the mutants mutmut left alive in issues/services/grouping.py
(bin/mutation): each test names the number on the issue page it protects.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from feedback.models import Ticket
from issues.models import Issue, IssueDaily
from issues.services import issue_recount, issues_counts_refresh, tickets_attach
from tests.factories import TicketFactory

from .conftest import category
from .test_rule_boundaries import EDGES

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def ticket(shampoo, *, age: timedelta, code: str = "damaged") -> Ticket:
    return TicketFactory(
        text="瓶子漏液", product=shampoo, sku_raw=shampoo.sku, category=category(code), received_at=NOW - age
    )


def windows(issue: Issue) -> tuple[int, int, int, int, int]:
    issue.refresh_from_db()
    return issue.count_24h, issue.count_7d, issue.count_prev_7d, issue.count_30d, issue.growth_7d


def test_the_nightly_recount_empties_the_windows_of_an_issue_whose_only_ticket_aged_out(shampoo):
    only = ticket(shampoo, age=timedelta(hours=1))
    tickets_attach(ticket_ids=[only.pk], now=NOW)
    issue = Issue.objects.get()
    assert windows(issue) == (1, 1, 0, 1, 1)

    later = NOW + timedelta(days=45)
    assert issues_counts_refresh(now=later) == 1
    assert windows(issue) == (0, 0, 0, 0, 0)
    assert issue.ticket_count == 1 and issue.counts_refreshed_at == later
    assert issues_counts_refresh(now=later) == 0  # nothing left to change


@pytest.mark.parametrize(("age", "expected"), EDGES, ids=[str(age) for age, _ in EDGES])
def test_recounting_one_issue_puts_a_ticket_on_a_window_edge_where_attach_did(shampoo, age, expected):
    edge = ticket(shampoo, age=age)
    tickets_attach(ticket_ids=[edge.pk], now=NOW)
    issue = Issue.objects.get()
    Issue.objects.filter(pk=issue.pk).update(count_24h=9, count_7d=9, count_prev_7d=9, count_30d=9, growth_7d=9)

    with time_machine.travel(NOW, tick=False):
        issue_recount(issue_id=issue.pk)

    count_24h, count_7d, count_prev_7d, count_30d = expected
    assert windows(issue) == (count_24h, count_7d, count_prev_7d, count_30d, count_7d - count_prev_7d)
    assert issue.ticket_count == 1 and issue.first_seen_at == issue.last_seen_at == edge.received_at


def test_a_batch_adds_every_ticket_to_each_window_and_keeps_the_earliest_and_latest_seen(shampoo):
    # The batch (in id order) meets the tickets out of time order: neither the first nor the last is an extreme.
    ages = [timedelta(hours=2), timedelta(hours=1), timedelta(days=3), timedelta(days=20), timedelta(days=10),
            timedelta(days=9), timedelta(days=2)]
    tickets = [ticket(shampoo, age=age) for age in ages]

    tickets_attach(ticket_ids=[t.pk for t in tickets], now=NOW)

    issue = Issue.objects.get()
    assert windows(issue) == (2, 4, 2, 7, 2)
    assert issue.ticket_count == 7
    assert issue.first_seen_at == NOW - timedelta(days=20)
    assert issue.last_seen_at == NOW - timedelta(hours=1)


def test_moving_several_tickets_takes_each_one_out_of_every_window(shampoo):
    tickets = [ticket(shampoo, age=age) for age in (timedelta(hours=1), timedelta(hours=2), timedelta(days=8),
                                                    timedelta(days=9))]
    tickets_attach(ticket_ids=[t.pk for t in tickets], now=NOW)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[:3]]).update(category=category("quality_defect"))

    result = tickets_attach(ticket_ids=[t.pk for t in tickets], now=NOW)

    assert (result.attached, result.moved, result.detached, result.unchanged) == (3, 3, 0, 1)
    damaged = Issue.objects.get(category__code="damaged")
    quality = Issue.objects.get(category__code="quality_defect")
    assert windows(damaged) == (0, 0, 1, 1, -1) and damaged.ticket_count == 1
    assert windows(quality) == (2, 2, 1, 3, 1) and quality.ticket_count == 3


def test_moving_one_of_two_tickets_of_a_day_leaves_the_other_in_that_days_count(shampoo):
    same_day = [ticket(shampoo, age=timedelta(hours=1)), ticket(shampoo, age=timedelta(hours=2))]
    tickets_attach(ticket_ids=[t.pk for t in same_day], now=NOW)
    issue = Issue.objects.get()
    Ticket.objects.filter(pk=same_day[0].pk).update(category=None)

    result = tickets_attach(ticket_ids=[same_day[0].pk], now=NOW)

    assert (result.attached, result.moved, result.detached) == (0, 0, 1)
    assert list(IssueDaily.objects.filter(issue=issue).values_list("count", flat=True)) == [1]
    issue.refresh_from_db()
    assert issue.ticket_count == 1 and windows(issue)[:4] == (1, 1, 0, 1)
