"""Tunable settings of the issue library, with defaults that work out of the box.

Each can be overridden in Django settings under the same name (settings.py reads
them from the environment). ``issue_setting(name)`` is the one place that knows
the defaults, so tests can override a single value with pytest-django's
``settings`` fixture.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Ordered scope resolvers: the first that yields a key scopes the issue. Built-ins are
    # "sku" (product SKU, else the raw SKU on the ticket), "product_category", "channel";
    # a dotted path names a callable ticket_row -> (scope_type, key) | None for custom scopes
    # such as carrier or warehouse. No key at all: the issue is the whole category.
    # A list applies to every category; a dict maps category codes to lists ("*": the rest).
    # Late deliveries are about the route and carrier, not one SKU: they group by product category.
    "ISSUE_SCOPE_RULES": {"*": ["sku", "product_category"], "logistics_delay": ["product_category", "sku"]},
    "ISSUE_DEFAULT_PRIORITY": "P3",
    # An issue is "高频" (in the queue, its SLA running) only from this many tickets; smaller ones
    # are listed as "观察中" (watching) until they reach it.
    "ISSUE_HIGH_FREQUENCY_MIN_TICKETS": 3,
    # An issue with no ticket for this many days is dormant: out of the default queue, back (and
    # re-prioritised) as soon as a ticket arrives.
    "ISSUE_DORMANT_DAYS": 30,
    # Computed priority (issues.services.priority): each signal at or above its threshold adds a point;
    # a spike adds two, so a spike alone makes an issue at least P2. >=4 points P1, 2-3 P2, 1 P3, 0 P4.
    "ISSUE_PRIORITY_THRESHOLDS": {"count_24h": 5, "count_7d": 20, "growth_pct": 100, "growth_min": 5, "orders_30d": 10,
                                  "age_days": 14},
    # Hours to acknowledge and to resolve, per priority.
    "ISSUE_SLA_HOURS": {
        "P1": {"acknowledge": 4, "resolve": 72},
        "P2": {"acknowledge": 8, "resolve": 120},
        "P3": {"acknowledge": 24, "resolve": 240},
        "P4": {"acknowledge": 72, "resolve": 720},
    },
    # A day is a spike when its count is at least RATIO x the trailing 7-day mean and at least MIN_TICKETS.
    "ISSUE_SPIKE_RATIO": 3.0,
    "ISSUE_SPIKE_MIN_TICKETS": 5,
    # A resolved issue regresses when its tickets over the 7 days since resolution reach
    # RATIO x its 7-day count before resolution, and at least MIN_TICKETS.
    "ISSUE_REGRESSION_RATIO": 0.5,
    "ISSUE_REGRESSION_MIN_TICKETS": 5,
    # Tickets sampled per issue when routing by rules with ticket-level conditions.
    "ISSUE_ROUTING_SAMPLE": 50,
    "ISSUE_WEBHOOK_TIMEOUT": 5.0,
    # Extra addresses that receive the daily report (leads and managers with an email always do).
    "ISSUE_REPORT_RECIPIENTS": [],
    # Base URL used in notification links (e.g. https://triage.example.com).
    "ISSUE_SITE_URL": "http://127.0.0.1:8000",
    # Sub-theme clustering.
    "ISSUE_CLUSTER_WINDOW_DAYS": 90,
    "ISSUE_CLUSTER_MAX_TICKETS": 6000,
    "ISSUE_CLUSTER_MIN_SIZE": 3,
    "ISSUE_SUBTHEME_MIN_ISSUE_TICKETS": 30,
    # A spiking issue is split into sub-themes from this many tickets in 30 days (others need the above).
    "ISSUE_SUBTHEME_MIN_SPIKING_TICKETS": 12,
    "ISSUE_KEYWORDS_PER_ISSUE": 8,
    "ISSUE_REPRESENTATIVE_TICKETS": 5,
}


def issue_setting(name: str) -> Any:
    """Return the configured value of one issue-library setting, or its default."""
    return getattr(settings, name, DEFAULTS[name])
