"""Demo orders and returns that tell the same story as the demo tickets, and the story's fixes.

Called by ``load_demo`` after the demo tickets are triaged (so their issues exist):

    load_demo_sales(rng=random.Random(seed), story=feedback.demo.story)
    resolve_demo_issues(story=feedback.demo.story)

``story`` is the ``feedback.demo.story`` module: each SKU sells
``BASELINE_DAILY_ORDERS`` a day and returns ``StoryIssue.expected_return_rate``
of them, so the T-shirt's return rate falls after its size chart while the
shampoo's does not move after the sturdier packaging. The milk cartons
swelling in the last days also come back as returns, which the return-spike
check flags.

On top, what real shop data looks like (and what fools a plain before/after
comparison):

* day-to-day variation: each SKU's daily return rate spreads about 12 %
  (``RATE_SPREAD``) and its orders about 12 % around their level;
* category drift: each product category's return rate wanders slowly;
* 双11: orders surge in the ten days up to the day before the packaging fix
  (``FESTIVAL_DAYS_AGO``: 11 November when the demo is loaded in early
  December, as the story's dates were written), then the festival's orders
  come back as a wave of returns (x1.8 fading over 20 days) for every product.

So the shampoo's return rate rises after its fix along with every other
shampoo's: a plain before/after test calls that a significant rise, the
comparison with the other shampoos finds no change. The T-shirt's real fall
is found against the other clothes although the wave hides part of it.
"""
from __future__ import annotations

import logging
import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from types import ModuleType

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from feedback.models import Product
from issues.models import Issue, IssueStatus, ScopeType

from .models import IssueImpact
from .reasons import reasons_to_categories
from .services import impact_measure, metrics_recompute, return_spikes_detect, sales_upsert
from .services.sales import SalesItem

logger = logging.getLogger(__name__)

DEMO_SOURCE = "demo"
DAYS = 90
# Orders per weekday relative to the week (Monday first), as in the ticket demo.
WEEKDAY_FACTOR = (1.18, 1.08, 1.00, 0.98, 0.95, 0.88, 0.93)
# What customers write when they send things back, per product category (reason -> share).
REASON_MIX: dict[str, dict[str, float]] = {
    "衣服": {"尺码不合适": 0.30, "七天无理由": 0.35, "质量问题": 0.20, "色差": 0.10, "发错货": 0.05},
    "水果": {"坏果": 0.45, "变质": 0.20, "七天无理由": 0.20, "压坏": 0.15},
    "牛奶": {"包装破损": 0.40, "临期": 0.20, "七天无理由": 0.40},
}
DEFAULT_REASONS = {"七天无理由": 0.55, "质量问题": 0.30, "破损": 0.15}
# The story's own reasons: the share of its extra returns over the baseline.
STORY_REASONS: dict[str, dict[str, float]] = {
    "description_mismatch": {"尺码偏小": 0.65, "色差": 0.35},
    "damaged": {"漏液": 0.7, "胀包": 0.3},
}
# Swollen milk cartons (the open spike of the ticket story) come back as returns in the last days.
MILK_RETURN_SPIKE = {"sku": "MK-7001", "days_ago": (3, 2, 1), "return_rate": 0.08, "reason": "胀包"}
# Lognormal sigmas of a SKU's daily return rate and orders, and the daily step of a category's drift.
RATE_SPREAD = 0.12
ORDERS_SPREAD = 0.12
DRIFT_STEP = 0.008
# The festival day, counted back from today: the day before the sturdier packaging went out.
FESTIVAL_DAYS_AGO = 26
FESTIVAL_ORDER_SURGE = 2.5  # orders on the festival day x this, ramping up over the ten days before
FESTIVAL_RETURN_WAVE = 1.8  # return rate x this the day after, fading over 20 days


def festival_orders(days_ago: int) -> float:
    """Orders multiplier of the 双11 surge on a day (1.0 outside it)."""
    before = days_ago - FESTIVAL_DAYS_AGO  # days before the festival day
    if 0 <= before <= 10:
        return 1 + (FESTIVAL_ORDER_SURGE - 1) * ((10 - before) / 10) ** 2
    return 1.0


def festival_returns(days_ago: int) -> float:
    """Return-rate multiplier of the wave of returns after 双11 (1.0 outside it)."""
    after = FESTIVAL_DAYS_AGO - days_ago  # days after the festival day
    if 1 <= after <= 20:
        return 1 + (FESTIVAL_RETURN_WAVE - 1) * (1 - (after - 1) / 20)
    return 1.0


def _lognormal(rng: random.Random, sigma: float) -> float:
    """A multiplicative noise with mean 1."""
    return math.exp(rng.gauss(-sigma * sigma / 2, sigma))


def _drifts(rng: random.Random, categories: list[str], days: int) -> dict[str, list[float]]:
    """Each category's return-rate multiplier by days_ago: a random walk ending at 1 today."""
    drifts = {}
    for category in categories:
        level, walk = 0.0, []
        for _ in range(days):
            walk.append(math.exp(level))
            level += rng.gauss(0, DRIFT_STEP)
        drifts[category] = walk  # walk[days_ago]
    return drifts


def _stories(story: ModuleType):
    return tuple(getattr(story, "STORIES", ()))


def _rate(story: ModuleType, sku: str, days_ago: int) -> tuple[float, str | None]:
    """The share of ``sku``'s orders returned that day, and the story category that raised it (if any)."""
    baseline = story.BASELINE_RETURN_RATE[sku]
    for item in _stories(story):
        if sku in item.skus and item.return_rate_before is not None:
            return item.expected_return_rate(sku, days_ago), item.category
    if sku == MILK_RETURN_SPIKE["sku"] and days_ago in MILK_RETURN_SPIKE["days_ago"]:
        return MILK_RETURN_SPIKE["return_rate"], "damaged"
    return baseline, None


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """A binomial draw (normal approximation, exact enough at these volumes)."""
    if n <= 0 or p <= 0:
        return 0
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    return max(0, min(n, round(rng.gauss(mean, sd))))


def _split(rng: random.Random, total: int, mix: dict[str, float]) -> Counter[str]:
    counts: Counter[str] = Counter()
    if total <= 0:
        return counts
    reasons, weights = list(mix), list(mix.values())
    for reason in rng.choices(reasons, weights, k=total):
        counts[reason] += 1
    return counts


def _reason_cell(counts: Counter[str]) -> str:
    return "；".join(f"{reason}×{n}" for reason, n in counts.most_common() if n)


def _elapsed_share_of_today() -> float:
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return max(0.02, (now - midnight).total_seconds() / 86400)


def load_demo_sales(*, rng: random.Random, story: ModuleType, today: date | None = None, days: int = DAYS) -> int:
    """Upsert ``days`` days of orders and returns per demo SKU, the same days as the demo tickets
    (today included, scaled to the part of the day gone by); return rows written.

    Safe to run again: rows are keyed by (day, SKU) and replaced. Recomputes the
    metrics and checks for return spikes afterwards.
    """
    if today is None:
        today, today_share = timezone.localdate(), _elapsed_share_of_today()
    else:
        today_share = 1.0
    products = {p.sku: p for p in Product.objects.filter(sku__in=list(story.BASELINE_DAILY_ORDERS))}
    drifts = _drifts(rng, sorted({p.product_category for p in products.values()}), days)
    items: list[SalesItem] = []
    for sku, base_orders in story.BASELINE_DAILY_ORDERS.items():
        product = products.get(sku)
        if product is None:
            continue
        mix = REASON_MIX.get(product.product_category, DEFAULT_REASONS)
        for days_ago in range(days - 1, -1, -1):
            day = today - timedelta(days=days_ago)
            share = today_share if days_ago == 0 else 1.0
            orders = max(0, round(base_orders * share * WEEKDAY_FACTOR[day.weekday()] * festival_orders(days_ago)
                                  * _lognormal(rng, ORDERS_SPREAD)))
            rate, story_category = _rate(story, sku, days_ago)
            # The day's conditions (traffic mix, the category's drift, the festival's returns) move the
            # story's rate and the baseline alike; only the story's own excess carries its reasons.
            conditions = drifts[product.product_category][days_ago] * festival_returns(days_ago) * _lognormal(rng, RATE_SPREAD)
            returns = _binomial(rng, orders, min(1.0, rate * conditions))
            baseline_returns = min(returns, _binomial(rng, orders, min(1.0, story.BASELINE_RETURN_RATE[sku] * conditions)))
            counts = _split(rng, baseline_returns, mix)
            if story_category and returns > baseline_returns:
                counts += _split(rng, returns - baseline_returns, STORY_REASONS.get(story_category, mix))
            if sku == MILK_RETURN_SPIKE["sku"] and days_ago in MILK_RETURN_SPIKE["days_ago"]:
                counts = Counter({MILK_RETURN_SPIKE["reason"]: returns - baseline_returns}) + _split(rng, baseline_returns, mix)
            cell = _reason_cell(counts)
            items.append(SalesItem(
                day=day, product=product, orders=orders, returns=returns, return_reason=cell,
                reason_counts=reasons_to_categories(cell, returns),
            ))
    written = 0
    for start in range(0, len(items), 2000):
        created, updated = sales_upsert(items=items[start : start + 2000], source=DEMO_SOURCE)
        written += created + updated
    metrics_recompute()
    return_spikes_detect()
    return written


# Fruit delivery complaints run at 5 tickets a day: over 14-day windows the smallest change they can show
# is about 50 % (the verdict says so), and the story's 40 % fall sits at the edge. Its lead measures it over
# three weeks, as a lead with low volumes should (a per-issue window override, kept on re-measurement).
DEMO_WINDOW_DAYS = {"same_day_delivery": 21}


@dataclass
class DemoResolution:
    story_key: str
    issue_id: int | None
    merged_ids: list[int]
    impact: IssueImpact | None
    note: str = ""


def _story_issues(item) -> list[Issue]:
    """The live issues a story's tickets landed in: its category on its SKUs (or their product category)."""
    keys = list(item.skus) + [item.product_category]
    return list(
        Issue.objects.filter(category__code=item.category, scope_key__in=keys,
                             scope_type__in=[ScopeType.SKU, ScopeType.PRODUCT_CATEGORY])
        .exclude(status=IssueStatus.MERGED)
        .order_by("-ticket_count", "id")
    )


def resolve_demo_issues(*, story: ModuleType, today: date | None = None) -> list[DemoResolution]:
    """Resolve each story issue that has a fix, as its lead, with its action and date; measure the impact.

    A story spread over several SKUs (fruit delivery) first has its per-SKU issues
    merged into the largest one, as a lead would, so the fix is measured once on
    all of its SKUs. Safe to run again: an issue already resolved with the
    story's action date is only re-measured.
    """
    from issues.services.workflow import IssueActionError, issue_merge, issue_transition

    today = today or timezone.localdate()
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[s.resolved_by for s in _stories(story) if s.resolved_by])}
    results: list[DemoResolution] = []
    for item in _stories(story):
        if not item.action or item.action_days_ago is None:
            continue
        issues = _story_issues(item)
        if not issues:
            results.append(DemoResolution(item.key, None, [], None, "no issue yet (tickets not triaged?)"))
            continue
        lead = users.get(item.resolved_by)
        primary, merged = issues[0], []
        for other in issues[1:]:
            actor = lead if lead is not None and other.department_id == lead.department_id == primary.department_id else None
            try:
                primary = issue_merge(issue=other, into=primary, actor=actor, note=f"同一措施「{item.action}」")
            except PermissionDenied:
                primary = issue_merge(issue=other, into=primary, actor=None, note=f"同一措施「{item.action}」")
            merged.append(other.pk)
        action_date = item.action_date(today)
        primary.refresh_from_db()
        if not (primary.status in (IssueStatus.RESOLVED, IssueStatus.CLOSED) and primary.action_date == action_date):
            actor = lead if lead is not None and lead.department_id == primary.department_id else None
            try:
                issue_transition(issue=primary, to_status=IssueStatus.RESOLVED, actor=actor,
                                 action_taken=item.action, action_date=action_date, note="演示数据 (demo)")
            except (IssueActionError, PermissionDenied) as error:
                results.append(DemoResolution(item.key, primary.pk, merged, None, f"not resolved: {error}"))
                continue
        results.append(DemoResolution(item.key, primary.pk, merged, None))
    metrics_recompute()  # merges changed the issues' scopes
    for result in results:
        if result.issue_id is not None and not result.note:
            result.impact = impact_measure(issue_id=result.issue_id, today=today,
                                           window_days=DEMO_WINDOW_DAYS.get(result.story_key))
    return results
