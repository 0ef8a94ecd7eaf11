"""Service-level agreements: when an issue must be acknowledged and resolved."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..conf import issue_setting


def sla_hours(priority: str) -> dict[str, float]:
    """Return {"acknowledge": hours, "resolve": hours} for a priority (missing keys: no deadline)."""
    return dict(issue_setting("ISSUE_SLA_HOURS").get(priority, {}))


def sla_due_times(*, priority: str, start: datetime) -> tuple[datetime | None, datetime | None]:
    """Return (acknowledge_due_at, resolve_due_at) for an issue of ``priority`` opened at ``start``."""
    hours = sla_hours(priority)
    acknowledge = start + timedelta(hours=hours["acknowledge"]) if hours.get("acknowledge") else None
    resolve = start + timedelta(hours=hours["resolve"]) if hours.get("resolve") else None
    return acknowledge, resolve
