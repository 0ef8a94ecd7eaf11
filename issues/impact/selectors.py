"""Reads for the dashboard, the report command and the CSV downloads."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from issues.models import OPEN_STATUSES, Department, Issue, IssueDaily

from .models import (
    DailyMetric,
    ImpactCalibration,
    ImpactStatus,
    IssueImpact,
    MetricScope,
    Outcome,
    ReturnSpike,
    rate_or_none,
)
from .scopes import issue_scopes
from .services.impact import MEASURABLE_STATUSES

ROLLING_DAYS = 7

REPORT_KEYS = (
    "issue_id", "category", "scope", "action", "action_date", "window_days",
    "complaint_rate_before", "complaint_rate_after", "complaint_rate_change", "complaint_rate_p_value",
    "return_rate_before", "return_rate_after", "return_rate_change", "return_rate_p_value", "verdict",
    # Added by the controlled measurement: the old keys keep their meaning and order; the changes,
    # p-values and verdict are now net of the controls, and the old pooled test's are kept as *_plain_*.
    "method", "controls", "complaint_rate_ci", "complaint_rate_significant", "complaint_rate_mde",
    "complaint_rate_plain_change", "complaint_rate_plain_p_value", "complaint_rate_plain_significant",
    "return_rate_ci", "return_rate_significant", "return_rate_mde",
    "return_rate_plain_change", "return_rate_plain_p_value", "return_rate_plain_significant", "festivals",
)


@dataclass(frozen=True)
class DashboardScope:
    department: Department | None

    @property
    def metric_scope(self) -> tuple[str, str]:
        if self.department is None:
            return MetricScope.ALL, ""
        return MetricScope.DEPARTMENT, self.department.code

    def issues(self) -> QuerySet[Issue]:
        issues = Issue.objects.all()
        return issues.filter(department=self.department) if self.department else issues


def dashboard_scope(*, user, department_code: str | None) -> DashboardScope:
    """The department the dashboard shows: the one asked for, a lead's own by default, else the company."""
    if department_code == "all":
        return DashboardScope(None)
    if department_code:
        return DashboardScope(Department.objects.filter(code=department_code).first())
    if getattr(user, "is_lead", False) and user.department_id:
        return DashboardScope(user.department)
    return DashboardScope(None)


def trend_series(*, scope: DashboardScope, start: date, end: date) -> list[dict[str, Any]]:
    """Daily orders, returns, tickets and rates in [start, end], with trailing 7-day rates.

    Days without a metric row are zero rows, so the chart's x axis has no gaps.
    The 7-day rates use the 6 days before ``start`` too, so the first point is not short.
    """
    scope_type, scope_key = scope.metric_scope
    rows = {
        row["day"]: row
        for row in DailyMetric.objects.filter(
            scope_type=scope_type, scope_key=scope_key, day__gte=start - timedelta(days=ROLLING_DAYS - 1), day__lte=end
        ).values("day", "orders", "returns", "tickets")
    }
    series: list[dict[str, Any]] = []
    window: deque[tuple[int, int, int]] = deque()
    day = start - timedelta(days=ROLLING_DAYS - 1)
    while day <= end:
        row = rows.get(day, {"orders": 0, "returns": 0, "tickets": 0})
        window.append((row["orders"], row["returns"], row["tickets"]))
        if len(window) > ROLLING_DAYS:
            window.popleft()
        if day >= start:
            orders_7d = sum(o for o, _, _ in window)
            returns_7d = sum(r for _, r, _ in window)
            tickets_7d = sum(t for _, _, t in window)
            series.append({
                "day": day,
                "orders": row["orders"],
                "returns": row["returns"],
                "tickets": row["tickets"],
                "return_rate": rate_or_none(row["returns"], row["orders"]),
                "complaint_rate": rate_or_none(row["tickets"], row["orders"], per=1000),
                "return_rate_7d": rate_or_none(returns_7d, orders_7d),
                "complaint_rate_7d": rate_or_none(tickets_7d, orders_7d, per=1000),
            })
        day += timedelta(days=1)
    return series


def impacts_for(scope: DashboardScope) -> QuerySet[IssueImpact]:
    """Impacts of the issues' current resolutions in the scope."""
    impacts = IssueImpact.objects.select_related("issue", "issue__category", "issue__department").filter(
        issue__status__in=MEASURABLE_STATUSES, issue__action_date=F("action_date")
    )
    if scope.department is not None:
        impacts = impacts.filter(issue__department=scope.department)
    return impacts


def fix_markers(*, scope: DashboardScope, start: date, end: date) -> list[dict[str, Any]]:
    """Fixes applied in [start, end]: where the charts draw a vertical line."""
    return [
        {
            "day": impact.action_date,
            "issue_id": impact.issue_id,
            "title": impact.issue.title,
            "action": impact.action,
            "outcome": impact.outcome,
            "status": impact.status,
        }
        for impact in impacts_for(scope).filter(action_date__gte=start, action_date__lte=end).order_by("action_date")
    ]


def fixes_ranked(*, scope: DashboardScope, limit: int = 50) -> list[IssueImpact]:
    """Fixes by measured effect: biggest significant improvement first, then no effect, then worse,
    then those still measuring, incomplete or without enough data."""
    impacts = list(impacts_for(scope)[:1000])
    rank = {Outcome.IMPROVED: 0, Outcome.MIXED: 1, Outcome.NO_EFFECT: 2, Outcome.WORSENED: 3}

    def key(impact: IssueImpact):
        if impact.status != ImpactStatus.COMPLETED or impact.outcome not in rank:
            return (4, 0.0, -impact.action_date.toordinal())
        return (rank[impact.outcome], impact.effect or 0.0, -impact.action_date.toordinal())

    return sorted(impacts, key=key)[:limit]


def issues_ranked(*, scope: DashboardScope, days: int = 30, limit: int = 20, today: date | None = None) -> list[dict[str, Any]]:
    """Open issues by their share of the complaint rate over the last ``days``.

    impact = the issue's tickets per 1,000 orders of the whole shop (what fixing
    it would take off the company's complaint rate); the complaint and return
    rates of the issue's own scope are shown beside it.
    """
    today = today or timezone.localdate()
    start, end = today - timedelta(days=days - 1), today
    company_orders = DailyMetric.objects.filter(
        scope_type=MetricScope.ALL, day__gte=start, day__lte=end
    ).aggregate(n=Sum("orders"))["n"] or 0
    top = list(
        IssueDaily.objects.filter(day__gte=start, day__lte=end, issue__in=scope.issues().filter(status__in=OPEN_STATUSES))
        .values("issue_id")
        .annotate(tickets=Sum("count"))
        .filter(tickets__gt=0)
        .order_by("-tickets", "issue_id")[:limit]
    )
    issues = {i.pk: i for i in Issue.objects.filter(pk__in=[row["issue_id"] for row in top]).select_related("category", "department")}
    scopes = issue_scopes(issues.values())
    wanted = {s for issue_scopes_ in scopes.values() for s in issue_scopes_}
    totals: dict[tuple[str, str], dict[str, int]] = {}
    if wanted:
        condition = Q(pk__in=[])
        for scope_type, scope_key in wanted:
            condition |= Q(scope_type=scope_type, scope_key=scope_key)
        for row in (
            DailyMetric.objects.filter(condition, day__gte=start, day__lte=end)
            .values("scope_type", "scope_key")
            .annotate(orders=Sum("orders"), returns=Sum("returns"))
        ):
            totals[(row["scope_type"], row["scope_key"])] = row
    ranked = []
    for row in top:
        issue = issues[row["issue_id"]]
        orders = sum(totals.get(s, {}).get("orders", 0) for s in scopes[issue.pk])
        returns = sum(totals.get(s, {}).get("returns", 0) for s in scopes[issue.pk])
        ranked.append({
            "issue": issue,
            "tickets": row["tickets"],
            "orders": orders,
            "returns": returns,
            "impact": rate_or_none(row["tickets"], company_orders, per=1000),
            "complaint_rate": rate_or_none(row["tickets"], orders, per=1000),
            "return_rate": rate_or_none(returns, orders),
        })
    return ranked


def recent_return_spikes(*, scope: DashboardScope, days: int = 14, today: date | None = None) -> list:
    """Return-rate spikes whose window ended in the last ``days``, newest first (with their issues)."""
    today = today or timezone.localdate()
    spikes = ReturnSpike.objects.filter(window_end__gte=today - timedelta(days=days)).select_related(
        "product", "issue", "issue__department"
    )
    if scope.department is not None:
        spikes = spikes.filter(issue__department=scope.department)
    return list(spikes.order_by("-window_end", "-return_rate")[:20])


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _p(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.4g}")


def impact_report_rows(*, issue_id: int | None = None, language: str = "zh-hans") -> list[dict[str, Any]]:
    """One dict per resolved issue (its current resolution) with exactly REPORT_KEYS, oldest action first.

    Rates: complaint rate in tickets per 1,000 orders, return rate as a share
    of orders (0.091 = 9.1 %); changes are relative (-0.077 = down 7.7 %).
    """
    impacts = IssueImpact.objects.select_related("issue__category").filter(
        issue__status__in=MEASURABLE_STATUSES, issue__action_date=F("action_date")
    )
    if issue_id is not None:
        impacts = impacts.filter(issue_id=issue_id)
    rows = []
    for impact in impacts.order_by("action_date", "issue_id"):
        rows.append({
            "issue_id": impact.issue_id,
            "category": impact.issue.category.code,
            "scope": impact.scope_label,
            "action": impact.action,
            "action_date": impact.action_date.isoformat(),
            "window_days": impact.window_days,
            "complaint_rate_before": _round(impact.complaint_rate_before),
            "complaint_rate_after": _round(impact.complaint_rate_after),
            "complaint_rate_change": _round(impact.complaint_rate_change),
            "complaint_rate_p_value": _p(impact.complaint_rate_p_value),
            "return_rate_before": _round(impact.return_rate_before),
            "return_rate_after": _round(impact.return_rate_after),
            "return_rate_change": _round(impact.return_rate_change),
            "return_rate_p_value": _p(impact.return_rate_p_value),
            "verdict": impact.verdict(language),
            **_controlled_keys(impact, language),
        })
    return rows


def _controlled_keys(impact: IssueImpact, language: str) -> dict[str, Any]:
    details = impact.details or {}
    english = language.startswith("en")
    keys: dict[str, Any] = {"method": impact.method or None, "controls": impact.controls or None}
    for metric, outcome in (("complaint_rate", impact.complaint_outcome), ("return_rate", impact.return_outcome)):
        low, high = getattr(impact, f"{metric}_ci_low"), getattr(impact, f"{metric}_ci_high")
        metric_details = details.get(metric, {})
        keys.update({
            f"{metric}_ci": None if low is None else [_round(low), _round(high)],
            f"{metric}_significant": outcome in (Outcome.IMPROVED, Outcome.WORSENED),
            f"{metric}_mde": _round(metric_details.get("mde")),
            f"{metric}_plain_change": _round(metric_details.get("plain_change")),
            f"{metric}_plain_p_value": _p(metric_details.get("plain_p_value")),
            f"{metric}_plain_significant": bool(metric_details.get("plain_significant", False)),
        })
    keys["festivals"] = [f["name_en" if english else "name_zh"] for f in details.get("festivals", [])]
    return keys



def calibration_latest() -> ImpactCalibration | None:
    """The latest ``impact_backtest`` result with at least one judged placebo fix."""
    return ImpactCalibration.objects.filter(runs__gt=0).order_by("-created_at", "-id").first()


def product_categories() -> list[str]:
    """Product categories of the catalogue, for the "测量一次改动" form."""
    from feedback.models import Product

    return list(Product.objects.order_by("product_category").values_list("product_category", flat=True).distinct())
