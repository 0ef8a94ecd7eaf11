"""Celery tasks of the issue library: thin, named, time-limited, safe to repeat.

Each loads rows by id and calls one service. The periodic ones are the
"issues-*" entries of CELERY_BEAT_SCHEDULE in config/settings.py.
"""
from __future__ import annotations

import logging
from datetime import date

from celery import shared_task

logger = logging.getLogger(__name__)

RETRYING = {"autoretry_for": (Exception,), "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 8}


@shared_task(name="issues.route_issue", acks_late=True, soft_time_limit=30, time_limit=60, **RETRYING)
def route_issue(issue_id: int) -> bool:
    """Route one issue by the active rules."""
    from .services import issue_route

    return issue_route(issue_id=issue_id)


@shared_task(name="issues.reroute_open", bind=True, acks_late=True, soft_time_limit=120, time_limit=180, **RETRYING)
def reroute_open_issues(self, after_id: int = 0, generation: int | None = None) -> int:
    """Re-route open issues after rule changes, one chunk per run, re-enqueued with a cursor.

    Coalesced (issues.services.routing): the first chunk starts a pass only if one is pending, and
    a later chunk stops if a newer pass has started. Belongs on the ``bulk`` queue.
    """
    from .services.routing import issues_open_reroute, reroute_pass_current, reroute_pass_start

    if generation is None:
        generation = reroute_pass_start()
        if generation is None:
            return 0
    elif not reroute_pass_current(generation=generation):
        return 0
    changed, cursor = issues_open_reroute(after_id=after_id)
    if cursor is not None:
        reroute_open_issues.delay(cursor, generation)
    return changed


@shared_task(name="issues.refresh_counts", acks_late=True, soft_time_limit=240, time_limit=300)
def refresh_counts() -> int:
    """Recompute 24h/7d/30d counts, then flag spikes and regressions on the fresh numbers."""
    from .services import issues_regressions_check, issues_counts_refresh, issues_spikes_detect, issues_prioritize

    changed = issues_counts_refresh()
    issues_spikes_detect()
    issues_regressions_check()
    # Every open issue: dormancy and age move with the clock even when no count changed.
    issues_prioritize()
    return changed


@shared_task(name="issues.flag_overdue", acks_late=True, soft_time_limit=120, time_limit=180)
def flag_overdue() -> int:
    """Flag issues past their SLA and notify their leads."""
    from .services import issues_overdue_flag

    flagged, _ = issues_overdue_flag()
    return len(flagged)


@shared_task(name="issues.refresh_keywords", acks_late=True, soft_time_limit=540, time_limit=600)
def refresh_keywords(limit: int = 500) -> int:
    """Recompute keywords and representative tickets of changed issues; continue while work is left."""
    from .services import issues_keywords_refresh

    done = issues_keywords_refresh(limit=limit)
    if done == limit:
        refresh_keywords.delay(limit)
    return done


@shared_task(name="issues.refresh_subthemes", acks_late=True, soft_time_limit=1700, time_limit=1800)
def refresh_subthemes() -> int:
    """Re-cluster every category into sub-themes and the other/low-confidence pool into candidates."""
    from .services import candidates_refresh, subthemes_refresh

    written = sum(subthemes_refresh().values())
    return written + candidates_refresh()


@shared_task(name="issues.reconcile", acks_late=True, soft_time_limit=1700, time_limit=1800)
def reconcile() -> int:
    """Nightly safety net: repair totals and the recent daily series from the tickets."""
    from .services import issues_reconcile

    return issues_reconcile()


@shared_task(
    name="issues.deliver_notification",
    bind=True,
    acks_late=True,
    soft_time_limit=30,
    time_limit=60,
    max_retries=6,
)
def deliver_notification(self, delivery_id: int) -> bool:
    """Send one email or webhook delivery, retrying with exponential backoff."""
    from .services import DeliveryError, delivery_send

    final = self.request.retries >= self.max_retries
    try:
        return delivery_send(delivery_id=delivery_id, final_attempt=final)
    except DeliveryError as error:
        if final:
            logger.warning("delivery %s failed for good: %s", delivery_id, error)
            return False
        raise self.retry(exc=error, countdown=min(600, 5 * 2 ** self.request.retries))


@shared_task(name="issues.sweep_deliveries", acks_late=True, soft_time_limit=60, time_limit=120)
def sweep_deliveries() -> int:
    """Re-enqueue notification deliveries left pending (e.g. created while the broker was down)."""
    from .services import deliveries_sweep

    return deliveries_sweep()


@shared_task(name="issues.send_daily_report", acks_late=True, soft_time_limit=300, time_limit=360)
def send_daily_report(day: str | None = None) -> int:
    """Email yesterday's high-frequency issue report (with the XLSX attached)."""
    from .reports import daily_report_send

    return daily_report_send(day=date.fromisoformat(day) if day else None)
