"""An issue's metrics, read from the materialised scope rows and the issue's daily series.

Issue metrics are not materialised: an issue's orders and returns are those of
its scope, which already has rows (its SKU, its product category, or the whole
shop for issues scoped on a whole category or a custom key), together with the
scopes of the issues merged into it, each counted once; its tickets are the
issue library's exact daily series (``IssueDaily``). A window's totals are two
indexed range sums. Materialising them would copy every SKU row once more
(3.65 million rows for 10,000 SKU issues over a year) and double the nightly
rebuild for numbers that are a join away.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Q, Sum

from issues.models import Issue, IssueDaily, IssueStatus, ScopeType

from .models import DailyMetric, MetricScope

Scope = tuple[str, str]  # (DailyMetric.scope_type, scope_key)


def _metric_scope(scope_type: str, scope_key: str) -> Scope:
    if scope_type in (ScopeType.SKU, ScopeType.PRODUCT_CATEGORY):
        return str(scope_type), scope_key
    return MetricScope.ALL.value, ""


def issue_scopes(issues: Iterable[Issue]) -> dict[int, list[Scope]]:
    """The metric scopes each issue's orders come from: its own plus those merged into it, without repeats."""
    issues = list(issues)
    scopes: dict[int, list[Scope]] = {issue.pk: [_metric_scope(issue.scope_type, issue.scope_key)] for issue in issues}
    children = Issue.objects.filter(merged_into__in=list(scopes), status=IssueStatus.MERGED).values_list(
        "merged_into_id", "scope_type", "scope_key"
    )
    for root, scope_type, scope_key in children:
        scope = _metric_scope(scope_type, scope_key)
        if scope not in scopes[root]:
            scopes[root].append(scope)
    return scopes


def scope_label(scopes: list[Scope]) -> str:
    """"sku:CL-2001", "product_category:水果+sku:FR-1009" or "all"."""
    return "+".join(f"{t}:{k}" if t != MetricScope.ALL else "all" for t, k in scopes)[:200]


def _scope_filter(scopes: Iterable[Scope]) -> Q:
    condition = Q(pk__in=[])
    for scope_type, scope_key in scopes:
        condition |= Q(scope_type=scope_type, scope_key=scope_key)
    return condition


def scope_totals(scopes: list[Scope], *, start: date, end: date) -> dict[str, int]:
    """Orders and returns of a set of scopes over [start, end] (zeros when there are no rows)."""
    totals = DailyMetric.objects.filter(_scope_filter(scopes), day__gte=start, day__lte=end).aggregate(
        orders=Sum("orders"), returns=Sum("returns")
    )
    return {name: value or 0 for name, value in totals.items()}


def issue_tickets(issue_id: int, *, start: date, end: date) -> int:
    return IssueDaily.objects.filter(issue_id=issue_id, day__gte=start, day__lte=end).aggregate(n=Sum("count"))["n"] or 0


def issue_totals(issue: Issue, *, start: date, end: date, scopes: list[Scope] | None = None) -> dict[str, int]:
    """Orders and returns of the issue's scopes and the issue's own tickets over [start, end]."""
    scopes = scopes if scopes is not None else issue_scopes([issue])[issue.pk]
    totals = scope_totals(scopes, start=start, end=end)
    totals["tickets"] = issue_tickets(issue.pk, start=start, end=end)
    return totals
