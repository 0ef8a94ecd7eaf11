"""Tunable settings of impact measurement, with defaults that work out of the box.

Override any of them in Django settings under the same name; ``impact_setting``
is the one place that knows the defaults, so a test can change one value with
pytest-django's ``settings`` fixture.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Days in each of the before and after windows of a fix (per-issue override on IssueImpact).
    "IMPACT_WINDOW_DAYS": 14,
    # A SKU's return rate spikes when its last SPIKE_WINDOW_DAYS reach RATIO x its rate over the
    # BASELINE_DAYS before them, with at least MIN_RETURNS returns in the window and
    # MIN_BASELINE_ORDERS orders in the baseline (so a new product cannot "spike" from nothing).
    "IMPACT_SPIKE_WINDOW_DAYS": 7,
    "IMPACT_SPIKE_BASELINE_DAYS": 28,
    "IMPACT_SPIKE_RATIO": 2.0,
    "IMPACT_SPIKE_MIN_RETURNS": 10,
    "IMPACT_SPIKE_MIN_BASELINE_ORDERS": 200,
    # Category of the issue a return spike raises when its return reasons name none.
    "IMPACT_SPIKE_FALLBACK_CATEGORY": "after_sales",
    # Upload page: files up to this size import at once; larger ones go to a Celery job.
    "IMPACT_SYNC_IMPORT_BYTES": 512 * 1024,
    # Days recomputed by the frequent refresh (new tickets land on recent days).
    "IMPACT_RECENT_DAYS": 3,
    # Festival calendar of the verdicts (None: festivals.DEFAULT_FESTIVALS); set from the environment.
    "IMPACT_FESTIVALS": None,
    # Placebo fixes per run of impact_backtest (and of the nightly calibration, if scheduled).
    "IMPACT_BACKTEST_RUNS": 300,
}


def impact_setting(name: str) -> Any:
    """Return the configured value of one impact setting, or its default."""
    return getattr(settings, name, DEFAULTS[name])
