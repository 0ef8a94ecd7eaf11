"""Measure a change on a scope against its controls: the reads and the verdict behind every impact.

A change has a target (SKUs, product categories, or the whole shop), an
action date and a window of W days on each side (the action day belongs to
neither). Controls are comparable scopes nobody touched in those days:

* a SKU: the other SKUs of its product category ("同类目 9 个商品"); if it
  has none, the shop's other SKUs ("全店其他 57 个商品");
* a product category: the shop's other categories' SKUs ("其他品类 52 个商品");
* the whole shop: none (a before/after comparison, said in the verdict).

SKUs and categories with a fix of their own (a resolved issue whose action
date falls in the windows) are left out of the controls. All series come from
the materialised ``DailyMetric`` rows: the controls are their universe's row
(category or shop) minus the treated and the excluded scopes' rows, so a
measurement reads a few hundred rows whatever the catalogue's size.

The effect is estimated by ``estimation.did_estimate`` (or
``before_after_estimate`` without controls); the old pooled tests of
``stats`` run beside it, so the verdict can say when they disagree.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Max as models_max
from django.db.models import Min as models_min
from django.db.models import Q

from feedback.models import Product
from issues.models import Issue, IssueDaily, IssueStatus, ScopeType

from . import verdicts
from .estimation import (
    DRIFT_HISTORY_DAYS,
    MIN_CONTROL_EVENTS,
    Estimate,
    before_after_estimate,
    did_estimate,
    drift_estimate,
)
from .festivals import Festival, festivals_between
from .models import DailyMetric, MetricScope
from .stats import Comparison, compare_proportions, compare_rates

Scope = tuple[str, str]
MEASURABLE_STATUSES = (IssueStatus.RESOLVED, IssueStatus.CLOSED, IssueStatus.REGRESSED)

CONTROLS_NONE = "none"
CONTROLS_SAME_CATEGORY = "same_category"
CONTROLS_OTHER_CATEGORIES = "other_categories"
CONTROLS_SHOP = "shop"
# Controls outside the treated scope's category: they share the shop's season, weekdays and festivals but
# not the category's own drift, which is estimated from the history before the windows (``estimation``).
CONTROLS_OTHER_DRIFT = (CONTROLS_OTHER_CATEGORIES, CONTROLS_SHOP)


@dataclass(frozen=True)
class Target:
    """What changed: SKUs and/or product categories, or the whole shop."""

    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    whole_shop: bool = False

    @classmethod
    def from_scopes(cls, scopes: list[Scope]) -> Target:
        if any(scope_type == MetricScope.ALL for scope_type, _ in scopes):
            return cls(whole_shop=True)
        return cls(
            skus=tuple(sorted({key for scope_type, key in scopes if scope_type == MetricScope.SKU})),
            categories=tuple(sorted({key for scope_type, key in scopes if scope_type == MetricScope.PRODUCT_CATEGORY})),
        )

    @property
    def scopes(self) -> list[Scope]:
        if self.whole_shop:
            return [(MetricScope.ALL.value, "")]
        return [(MetricScope.SKU.value, s) for s in self.skus] + [
            (MetricScope.PRODUCT_CATEGORY.value, c) for c in self.categories
        ]


@dataclass(frozen=True)
class Controls:
    kind: str
    count: int
    add: tuple[Scope, ...] = ()  # scopes whose rows are summed ...
    subtract: tuple[Scope, ...] = ()  # ... minus these
    excluded_fixed: int = 0  # SKUs left out because they had a fix of their own

    def label(self, language: str = "zh") -> str:
        return verdicts.controls_text(self.kind, self.count, language=language)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "count": self.count, "excluded_fixed": self.excluded_fixed,
                "label_zh": self.label("zh"), "label_en": self.label("en")}


@dataclass
class MetricResult:
    estimate: Estimate
    plain: Comparison  # the old pooled before/after test, kept for comparison


@dataclass
class Measurement:
    target: Target
    action_date: date
    window_days: int
    before: tuple[date, date]
    after: tuple[date, date]
    controls: Controls
    returns: MetricResult
    complaints: MetricResult
    festivals: list[Festival] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)  # before/after orders, returns, tickets

    @property
    def method(self) -> str:
        methods = {self.returns.estimate.method, self.complaints.estimate.method}
        return "+".join(sorted(methods))

    def verdict(self, language: str = "zh") -> str:
        return verdicts.measurement_verdict(self, language=language)


def _fixed_scopes(*, start: date, end: date, exclude_issue_id: int | None) -> tuple[set[str], set[str]]:
    """SKUs and product categories with a fix of their own (a resolution dated in [start, end])."""
    fixed = Issue.objects.filter(
        status__in=MEASURABLE_STATUSES, action_date__gte=start, action_date__lte=end,
        scope_type__in=[ScopeType.SKU, ScopeType.PRODUCT_CATEGORY],
    )
    if exclude_issue_id is not None:
        fixed = fixed.exclude(pk=exclude_issue_id)
    skus, categories = set(), set()
    for scope_type, key in fixed.values_list("scope_type", "scope_key"):
        (skus if scope_type == ScopeType.SKU else categories).add(key)
    return skus, categories


def controls_choose(*, target: Target, start: date, end: date, exclude_issue_id: int | None = None) -> Controls:
    """The control scopes of a target over [start, end] (see the module doc)."""
    if target.whole_shop:
        return Controls(CONTROLS_NONE, 0)
    fixed_skus, fixed_categories = _fixed_scopes(start=start, end=end, exclude_issue_id=exclude_issue_id)
    treated_skus = set(target.skus)
    sku_categories = dict(Product.objects.filter(sku__in=treated_skus).values_list("sku", "product_category"))
    if not target.categories:
        universe = set(sku_categories.values()) - fixed_categories
        if universe:
            removed = treated_skus | fixed_skus
            products = Product.objects.filter(product_category__in=universe)
            left_out = set(products.filter(sku__in=removed).values_list("sku", flat=True))
            count = products.count() - len(left_out)
            if count > 0:
                return Controls(
                    CONTROLS_SAME_CATEGORY, count,
                    add=tuple((MetricScope.PRODUCT_CATEGORY.value, c) for c in sorted(universe)),
                    subtract=tuple((MetricScope.SKU.value, s) for s in sorted(left_out)),
                    excluded_fixed=len(left_out - treated_skus),
                )
    # The rest of the shop: every product outside the treated and the fixed scopes.
    removed_categories = set(target.categories) | fixed_categories
    removed_skus = (treated_skus | fixed_skus) - set(
        Product.objects.filter(sku__in=treated_skus | fixed_skus, product_category__in=removed_categories)
        .values_list("sku", flat=True)
    )
    removed_skus = set(Product.objects.filter(sku__in=removed_skus).values_list("sku", flat=True))
    count = Product.objects.exclude(product_category__in=removed_categories).exclude(sku__in=removed_skus).count()
    if count <= 0:
        return Controls(CONTROLS_NONE, 0)
    excluded = len(removed_skus - treated_skus) + Product.objects.filter(
        product_category__in=fixed_categories - set(target.categories)).count()
    return Controls(
        CONTROLS_OTHER_CATEGORIES if target.categories else CONTROLS_SHOP, count,
        add=((MetricScope.ALL.value, ""),),
        subtract=tuple((MetricScope.PRODUCT_CATEGORY.value, c) for c in sorted(removed_categories))
        + tuple((MetricScope.SKU.value, s) for s in sorted(removed_skus)),
        excluded_fixed=excluded,
    )


def _scope_filter(scopes) -> Q:
    condition = Q(pk__in=[])
    for scope_type, key in scopes:
        condition |= Q(scope_type=scope_type, scope_key=key)
    return condition


def _rows(scopes: list[Scope], start: date, end: date) -> dict[Scope, dict[date, tuple[int, int, int]]]:
    rows: dict[Scope, dict[date, tuple[int, int, int]]] = defaultdict(dict)
    if not scopes:
        return rows
    # Chunks keep the OR list short when many fixed SKUs are left out of a large category.
    for begin in range(0, len(scopes), 500):
        chunk = scopes[begin : begin + 500]
        for scope_type, key, day, orders, returns, tickets in DailyMetric.objects.filter(
            _scope_filter(chunk), day__gte=start, day__lte=end
        ).values_list("scope_type", "scope_key", "day", "orders", "returns", "tickets"):
            rows[(scope_type, key)][day] = (orders, returns, tickets)
    return rows


def _sum(rows, scopes, days: list[date], sign: int = 1) -> list[list[int]]:
    totals = [[0, 0, 0] for _ in days]
    for scope in scopes:
        series = rows.get(scope, {})
        for i, day in enumerate(days):
            values = series.get(day)
            if values:
                for j in range(3):
                    totals[i][j] += sign * values[j]
    return totals


@dataclass
class Series:
    """Daily counts of a target and its controls over the two windows (the action day excluded)."""

    days: list[date]
    is_after: list[bool]
    treated: list[list[int]]  # per day: orders, returns, tickets
    control: list[list[int]]
    controls: Controls
    # The DRIFT_HISTORY_DAYS before the windows, when the controls do not share the target's drift.
    history_treated: list[list[int]] | None = None
    history_control: list[list[int]] | None = None

    def column(self, which: str, index: int) -> list[int]:
        return [values[index] for values in (self.treated if which == "treated" else self.control)]

    @property
    def drift_needed(self) -> bool:
        return self.controls.kind in CONTROLS_OTHER_DRIFT and self.controls.count > 0


def change_series(*, target: Target, action_date: date, window_days: int, issue_id: int | None = None,
                  exclude_issue_id: int | None = None) -> Series:
    """Read the daily counts of a target and of its controls around ``action_date``."""
    if not 1 <= window_days <= 365:
        raise ValueError("window_days must be between 1 and 365")
    before_start = action_date - timedelta(days=window_days)
    after_end = action_date + timedelta(days=window_days)
    days = [before_start + timedelta(days=i) for i in range(window_days)] + [
        action_date + timedelta(days=1 + i) for i in range(window_days)
    ]
    is_after = [False] * window_days + [True] * window_days
    controls = controls_choose(target=target, start=before_start, end=after_end,
                               exclude_issue_id=exclude_issue_id if exclude_issue_id is not None else issue_id)
    return _series(target=target, days=days, is_after=is_after, controls=controls, issue_id=issue_id)


def _series(*, target: Target, days: list[date], is_after: list[bool], controls: Controls,
            issue_id: int | None) -> Series:
    """Treated and control counts on ``days`` (and the history before them when the controls need it)."""
    history_days: list[date] = []
    if controls.kind in CONTROLS_OTHER_DRIFT and controls.count > 0:
        history_days = [days[0] - timedelta(days=DRIFT_HISTORY_DAYS - i) for i in range(DRIFT_HISTORY_DAYS)]
    start, end = (history_days or days)[0], days[-1]
    rows = _rows(target.scopes + list(controls.add) + list(controls.subtract), start, end)
    tickets = None
    if issue_id is not None:
        tickets = dict(IssueDaily.objects.filter(issue_id=issue_id, day__gte=start, day__lte=end)
                       .values_list("day", "count"))

    def counts(span: list[date]) -> tuple[list[list[int]], list[list[int]]]:
        treated = _sum(rows, target.scopes, span)
        if tickets is not None:
            for i, day in enumerate(span):
                treated[i][2] = tickets.get(day, 0)
        control = _sum(rows, controls.add, span)
        for i, values in enumerate(_sum(rows, controls.subtract, span, sign=-1)):
            control[i] = [max(0, control[i][j] + values[j]) for j in range(3)]
        return treated, control

    treated, control = counts(days)
    series = Series(days, is_after, treated, control, controls)
    if history_days:
        series.history_treated, series.history_control = counts(history_days)
    return series


def between_series(*, target: Target, first: tuple[date, date], second: tuple[date, date],
                   issue_id: int | None = None) -> Series:
    """Daily counts of a target and its controls over two windows (``first`` before, ``second`` after).

    The windows need not touch (a regression check compares the after window
    with the latest days); controls are chosen over the whole span, leaving out
    scopes fixed in it other than ``issue_id``'s own.
    """
    days_first = [first[0] + timedelta(days=i) for i in range((first[1] - first[0]).days + 1)]
    days_second = [second[0] + timedelta(days=i) for i in range((second[1] - second[0]).days + 1)]
    controls = controls_choose(target=target, start=first[0], end=second[1], exclude_issue_id=issue_id)
    return _series(target=target, days=days_first + days_second,
                   is_after=[False] * len(days_first) + [True] * len(days_second), controls=controls, issue_id=issue_id)


def metric_estimate(series: Series, *, column: int, events: list[float] | None = None) -> MetricResult:
    """Judge one metric (1 = returns, 2 = tickets) of a series: controlled estimate and the old plain test.

    ``events`` replaces the treated events (the backtest injects effects this way).
    """
    is_after = series.is_after
    orders = series.column("treated", 0)
    events = events if events is not None else series.column("treated", column)
    control_orders = series.column("control", 0)
    control_events = series.column("control", column)
    usable = series.controls.count > 0 and all(
        sum(e for e, a in zip(control_events, is_after) if a == side) >= MIN_CONTROL_EVENTS for side in (False, True)
    )
    if usable:
        drift = None
        if series.drift_needed and series.history_treated is not None:
            drift = drift_estimate(
                treated_events=[v[column] for v in series.history_treated],
                treated_exposure=[v[0] for v in series.history_treated],
                control_events=[v[column] for v in series.history_control],
                control_exposure=[v[0] for v in series.history_control],
            )
        estimate = did_estimate(treated_events=events, treated_exposure=orders, control_events=control_events,
                                control_exposure=control_orders, after=is_after, drift=drift,
                                drift_needed=series.drift_needed)
    else:
        estimate = before_after_estimate(events=events, exposure=orders, after=is_after,
                                         weekdays=[day.weekday() for day in series.days])
    events_before, events_after = (round(sum(v for v, a in zip(events, is_after) if a == side)) for side in (False, True))
    orders_before, orders_after = (sum(v for v, a in zip(orders, is_after) if a == side) for side in (False, True))
    plain = (compare_proportions(events_before, orders_before, events_after, orders_after) if column == 1
             else compare_rates(events_before, orders_before, events_after, orders_after, per=1000))
    return MetricResult(estimate, plain)


def change_measure(*, target: Target, action_date: date, window_days: int, issue_id: int | None = None,
                   exclude_issue_id: int | None = None) -> Measurement:
    """Measure the change of a target's return and complaint rates at ``action_date`` against controls.

    Complaint rate: the issue's own tickets (``issue_id``) per 1,000 orders of
    the target, else the tickets naming the target's products. Raises
    ValueError for a window outside 1..365 days.
    """
    series = change_series(target=target, action_date=action_date, window_days=window_days, issue_id=issue_id,
                           exclude_issue_id=exclude_issue_id)
    totals = {
        side: {key: sum(t[j] for t, a in zip(series.treated, series.is_after) if a == flag)
               for j, key in enumerate(("orders", "returns", "tickets"))}
        for side, flag in (("before", False), ("after", True))
    }
    before = (series.days[0], series.days[window_days - 1])
    after = (series.days[window_days], series.days[-1])
    return Measurement(
        target=target, action_date=action_date, window_days=window_days, before=before, after=after,
        controls=series.controls, returns=metric_estimate(series, column=1),
        complaints=metric_estimate(series, column=2),
        festivals=festivals_between(start=before[0], end=after[1]), totals=totals,
    )


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, digits)


def _p(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.4g}")


def measurement_row(measurement: Measurement, *, sku: str | None = None, language: str = "zh") -> dict:
    """The JSON object of one measurement (``measure_fix`` and the dashboard form)."""
    row: dict = {
        "sku": sku if sku is not None else ",".join(measurement.target.skus),
        "category": ",".join(measurement.target.categories),
        "action_date": measurement.action_date.isoformat(),
        "window_days": measurement.window_days,
        "method": measurement.method,
        "controls": measurement.controls.as_dict(),
        "festivals": [f.name(language) for f in measurement.festivals],
    }
    for metric, result, scale in (("return_rate", measurement.returns, 1), ("complaint_rate", measurement.complaints, 1000)):
        estimate = result.estimate
        row.update({
            f"{metric}_before": _round(None if estimate.before_rate is None else estimate.before_rate * scale),
            f"{metric}_after": _round(None if estimate.after_rate is None else estimate.after_rate * scale),
            f"{metric}_change": _round(estimate.relative_change),
            f"{metric}_ci": None if estimate.ci_low is None else [_round(estimate.ci_low), _round(estimate.ci_high)],
            f"{metric}_p_value": _p(estimate.p_value),
            f"{metric}_significant": bool(estimate.significant),
            f"{metric}_mde": _round(estimate.mde),
            f"{metric}_plain_change": _round(result.plain.relative_change),
            f"{metric}_plain_p_value": _p(result.plain.p_value),
            f"{metric}_plain_significant": bool(result.plain.significant),
        })
    row["verdict"] = measurement.verdict(language)
    return row


class MeasureInputError(ValueError):
    """A change to measure that names no known product or category, or a bad date or window."""


def change_row(*, action_date: date, window_days: int, sku: str | None = None, category: str | None = None,
               language: str = "zh") -> dict:
    """Measure one change of a SKU or a product category and return its JSON object (``measurement_row``).

    Windows not covered by the imported order data get no estimate, only a
    verdict saying which days are missing (as issue impacts do). Raises
    MeasureInputError naming the field that is wrong.
    """
    from .models import DailySales

    if bool(sku) == bool(category):
        raise MeasureInputError("give either sku or category")
    if not 1 <= window_days <= 365:
        raise MeasureInputError(f"window_days: {window_days} is not between 1 and 365")
    if sku and not Product.objects.filter(sku=sku).exists():
        raise MeasureInputError(f"sku: no product with SKU {sku!r}")
    if category and not Product.objects.filter(product_category=category).exists():
        raise MeasureInputError(f"category: no product in category {category!r}")
    target = Target(skus=(sku,)) if sku else Target(categories=(category,))
    measurement = change_measure(target=target, action_date=action_date, window_days=window_days)
    row = measurement_row(measurement, sku=sku or "", language=language)
    bounds = DailySales.objects.aggregate(first=models_min("day"), last=models_max("day"))
    first, last = bounds["first"], bounds["last"]
    if first is None or last is None or first > measurement.before[0] or last < measurement.after[1]:
        for metric in ("return_rate", "complaint_rate"):
            row.update({f"{metric}_change": None, f"{metric}_ci": None, f"{metric}_p_value": None,
                        f"{metric}_significant": False, f"{metric}_mde": None})
        row["verdict"] = verdicts.incomplete_verdict(
            needed_until=measurement.after[1].isoformat(), data_until=last.isoformat() if last else None,
            needed_from=measurement.before[0].isoformat(), data_from=first.isoformat() if first else None,
            language=language,
        )
    return row
