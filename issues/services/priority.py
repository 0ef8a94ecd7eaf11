"""Computed priority: what makes one issue more urgent than another, and why.

Every signal the issue already carries (spike, 24 h and 7 d volume, week-over-week growth, age,
SLA state, distinct orders) adds points; the points map to P1-P4 and the contributing signals
are stored so the queue can say why ("激增 ×12，24 小时 5 张"). A person's choice of priority
(issue_priority_set) is kept: the signals are still refreshed, the priority is not.

Two states keep small and stale issues out of a lead's way:
- watching (观察中): fewer than ISSUE_HIGH_FREQUENCY_MIN_TICKETS tickets; no SLA runs yet;
- dormant: no ticket for ISSUE_DORMANT_DAYS days.
Both are computed from stored columns (see selectors.department_queue), so an issue leaves and
returns to the queue as its tickets come and go, without a job having to move it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from feedback.models import Ticket

from ..conf import issue_setting
from ..models import OPEN_STATUSES, Issue, IssueStatus, Priority
from .sla import sla_due_times


@dataclass(frozen=True)
class PrioritySignals:
    """What the priority is computed from; all of it is on the issue except the order count."""

    ticket_count: int
    count_24h: int = 0
    count_7d: int = 0
    count_prev_7d: int = 0
    is_spiking: bool = False
    spike_ratio: float | None = None
    is_overdue: bool = False
    orders_30d: int = 0
    days_since_first: int = 0
    days_since_last: int | None = None


def priority_compute(*, signals: PrioritySignals) -> tuple[str, list[list]]:
    """Return (priority, [[signal, value], ...]) for one issue's signals; pure, so tests can table it."""
    limits = issue_setting("ISSUE_PRIORITY_THRESHOLDS")
    minimum = issue_setting("ISSUE_HIGH_FREQUENCY_MIN_TICKETS")
    dormant_days = issue_setting("ISSUE_DORMANT_DAYS")
    if signals.days_since_last is not None and signals.days_since_last >= dormant_days:
        return Priority.P4, [["dormant", signals.days_since_last]]
    if signals.ticket_count < minimum:
        return Priority.P4, [["watching", signals.ticket_count]]

    points = 0
    reasons: list[list] = []
    if signals.is_spiking:
        # Two points: a spike alone lifts an issue to P2 the moment it is detected.
        points += 2
        reasons.append(["spike", _ratio_text(signals.spike_ratio)])
    if signals.count_24h >= limits["count_24h"]:
        points += 1
        reasons.append(["count_24h", signals.count_24h])
    if signals.count_7d >= limits["count_7d"]:
        points += 1
        reasons.append(["count_7d", signals.count_7d])
    grown = signals.count_7d - signals.count_prev_7d
    if grown >= limits["growth_min"]:
        if signals.count_prev_7d == 0:
            points += 1
            reasons.append(["new", signals.count_7d])
        elif grown * 100 >= limits["growth_pct"] * signals.count_prev_7d:
            points += 1
            reasons.append(["growth", round(grown * 100 / signals.count_prev_7d)])
    if signals.orders_30d >= limits["orders_30d"]:
        points += 1
        reasons.append(["orders", signals.orders_30d])
    if signals.days_since_first >= limits["age_days"] and signals.count_7d > 0:
        # Still arriving after weeks: a standing problem, not a blip.
        points += 1
        reasons.append(["age", signals.days_since_first])
    if signals.is_overdue:
        points += 1
        reasons.append(["overdue", ""])
    if not reasons:
        reasons.append(["quiet", signals.count_7d])
    if points >= 4:
        return Priority.P1, reasons
    if points >= 2:
        return Priority.P2, reasons
    return (Priority.P3 if points == 1 else Priority.P4), reasons


def _ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "?"
    return f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.1f}"


def issues_prioritize(*, issue_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Recompute priority and its explanation, and start SLAs that reached the ticket threshold.

    ``issue_ids=None`` takes every open issue (the periodic pass: dormancy depends on the clock).
    Return how many issues changed.
    """
    now = now or timezone.now()
    issues = Issue.objects.filter(status__in=OPEN_STATUSES)
    if issue_ids is not None:
        if not issue_ids:
            return 0
        issues = issues.filter(pk__in=list(issue_ids))
    fields = ("id", "status", "priority", "priority_manual", "priority_signals", "ticket_count", "count_24h",
              "count_7d", "count_prev_7d", "is_spiking", "spike_ratio", "is_overdue", "first_seen_at",
              "last_seen_at", "created_at", "regressed_at", "sla_started_at", "acknowledge_due_at",
              "resolve_due_at")
    minimum = issue_setting("ISSUE_HIGH_FREQUENCY_MIN_TICKETS")
    changed = 0
    with transaction.atomic():
        rows = list(issues.order_by("pk").select_for_update().only(*fields))
        orders = _orders_30d([issue.pk for issue in rows], now)
        for issue in rows:
            signals = PrioritySignals(
                ticket_count=issue.ticket_count, count_24h=issue.count_24h, count_7d=issue.count_7d,
                count_prev_7d=issue.count_prev_7d, is_spiking=issue.is_spiking, spike_ratio=issue.spike_ratio,
                is_overdue=issue.is_overdue, orders_30d=orders.get(issue.pk, 0),
                days_since_first=(now - issue.first_seen_at).days if issue.first_seen_at else 0,
                days_since_last=(now - issue.last_seen_at).days if issue.last_seen_at else None,
            )
            priority, reasons = priority_compute(signals=signals)
            update: list[str] = []
            if issue.priority_manual:
                reasons = [["manual", ""], *reasons]
            elif priority != issue.priority:
                issue.priority = priority
                update.append("priority")
                if issue.sla_started_at:
                    start = issue.regressed_at if issue.status == IssueStatus.REGRESSED and issue.regressed_at \
                        else issue.sla_started_at
                    issue.acknowledge_due_at, issue.resolve_due_at = sla_due_times(priority=priority, start=start)
                    update += ["acknowledge_due_at", "resolve_due_at"]
            if issue.sla_started_at is None and issue.ticket_count >= minimum:
                # The issue just became 高频: its SLA clock starts now, not when its first ticket came.
                issue.sla_started_at = now
                issue.acknowledge_due_at, issue.resolve_due_at = sla_due_times(priority=issue.priority, start=now)
                update += ["sla_started_at", "acknowledge_due_at", "resolve_due_at"]
            if reasons != issue.priority_signals:
                issue.priority_signals = reasons
                update.append("priority_signals")
            if update:
                issue.save(update_fields=sorted(set(update)))
                changed += 1
    return changed


def _orders_30d(issue_ids: list[int], now: datetime) -> dict[int, int]:
    """Distinct order numbers per issue over 30 days (tickets without one do not count)."""
    if not issue_ids:
        return {}
    rows = (
        Ticket.objects.filter(issue_id__in=issue_ids, received_at__gt=now - timedelta(days=30))
        .exclude(order_number="")
        .order_by()
        .values("issue_id")
        .annotate(n=Count("order_number", distinct=True))
    )
    return {row["issue_id"]: row["n"] for row in rows}

