"""The story the demo data tells, as data the issue library and impact code can use.

Days are counted back from today in the shop's time zone: ``days_ago=0`` is
today, ``days_ago=30`` the same calendar day a month ago. Volumes are the
expected tickets per day at the default demo size (``DEFAULT_TICKETS``); the
generator scales them with ``--tickets`` and applies the weekday pattern.

The four threads:

* ``SIZE_CHART`` – description mismatch (尺码偏小, 色差) on one T-shirt SKU,
  growing, spiking 3-4x around day -40, then falling once merchandising added a
  size-comparison chart 30 days ago. Its return rate falls measurably too.
* ``SAME_DAY_DELIVERY`` – logistics delay across the fruit SKUs until logistics
  opened same-city half-day delivery 28 days ago; about 40% fewer afterwards.
* ``STURDIER_PACKAGING`` – a shampoo SKU leaking in transit; the warehouse's
  sturdier packaging 25 days ago made no significant difference.
* ``MILK_SPIKE`` – swollen milk cartons spiking over the last two days, still
  open, so the library shows a spiking issue today.

Issue-4 code resolves the first three with ``action`` dated ``action_date()``
as the ``resolved_by`` lead; issue-5 code derives orders and returns from
``BASELINE_DAILY_ORDERS``, ``BASELINE_RETURN_RATE`` and
``StoryIssue.expected_return_rate``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from .catalog import PRODUCTS, PRODUCTS_BY_SKU

DEFAULT_TICKETS = 3000
WINDOW_DAYS = 90  # tickets span days_ago 89 .. 0

# Orders per day and share returned for every demo SKU, before any story effect.
BASELINE_DAILY_ORDERS: dict[str, int] = {p.sku: p.daily_orders for p in PRODUCTS}
BASELINE_RETURN_RATE: dict[str, float] = {p.sku: p.return_rate for p in PRODUCTS}


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


@dataclass(frozen=True)
class StoryIssue:
    """One recurring problem the demo plants, and the fix (if any) applied to it."""

    key: str
    title: str
    category: str  # complaint category code
    skus: tuple[str, ...]
    department: str  # issues.Department code that owns the fix
    # Expected tickets per day at DEFAULT_TICKETS, by days_ago (before weekday factors).
    daily_tickets: Callable[[int], float]
    # How the story's tickets are split over ``skus`` (defaults to equal shares).
    sku_weights: tuple[float, ...] | None = None
    # Sub-themes to write the texts from (theme -> share); None lets the text generator choose.
    themes: dict[str, float] | None = None
    action: str | None = None  # the note a lead writes when resolving: 详情页增加尺寸对比图
    action_days_ago: int | None = None
    resolved_by: str | None = None  # demo username of the lead who resolves it
    # Intended relative change in daily tickets after the fix (-0.4 is 40% fewer),
    # and whether a before/after test should call it significant.
    expected_complaint_change: float | None = None
    expected_significant: bool | None = None
    # Return rate of the story SKUs before and after the fix (None: unchanged from baseline).
    return_rate_before: float | None = None
    return_rate_after: float | None = None
    spike_days_ago: tuple[int, ...] = field(default=())

    @property
    def product_category(self) -> str:
        return PRODUCTS_BY_SKU[self.skus[0]].product_category

    def action_date(self, today: date) -> date | None:
        """The calendar date the fix was applied, counted back from ``today``."""
        if self.action_days_ago is None:
            return None
        return today - timedelta(days=self.action_days_ago)

    def expected_return_rate(self, sku: str, days_ago: int) -> float:
        """The share of ``sku``'s orders returned on that day (baseline unless the story changes it)."""
        if sku not in self.skus or self.return_rate_before is None or self.action_days_ago is None:
            return BASELINE_RETURN_RATE[sku]
        after = self.return_rate_after if self.return_rate_after is not None else self.return_rate_before
        # Returns lag orders by about a week, so the fall is gradual rather than a step.
        progress = _clamp((self.action_days_ago - days_ago) / 7)
        return self.return_rate_before + (after - self.return_rate_before) * progress


def _size_chart_tickets(days_ago: int) -> float:
    fix = SIZE_CHART_FIX_DAYS_AGO
    if days_ago > fix:
        # Steady growth as the T-shirt sells more, from 1.0 to 2.6 a day.
        level = 1.0 + 1.6 * (WINDOW_DAYS - 1 - days_ago) / (WINDOW_DAYS - 2 - fix)
        return level * SIZE_CHART_SPIKE.get(days_ago, 1.0)
    # Customers who bought before the chart went up still complain for a few days.
    return 2.6 * (0.25 + 0.75 * _clamp((days_ago - (fix - 5)) / 5))


def _same_day_delivery_tickets(days_ago: int) -> float:
    fix = SAME_DAY_DELIVERY_FIX_DAYS_AGO
    before, after = 5.0, 3.0
    # Parcels already on the road when the fix started still arrive late for two days.
    return after + (before - after) * _clamp((days_ago - (fix - 2)) / 2)


def _packaging_tickets(days_ago: int) -> float:
    return 2.0 if days_ago > PACKAGING_FIX_DAYS_AGO else 1.95


def _milk_tickets(days_ago: int) -> float:
    return MILK_SPIKE_DAILY.get(days_ago, 0.3)


SIZE_CHART_FIX_DAYS_AGO = 30
# Multipliers on the growing baseline: a bad batch of size labels around day -40.
SIZE_CHART_SPIKE: dict[int, float] = {42: 1.8, 41: 3.2, 40: 4.0, 39: 3.5, 38: 2.4, 37: 1.4}
SAME_DAY_DELIVERY_FIX_DAYS_AGO = 28
PACKAGING_FIX_DAYS_AGO = 25
MILK_SPIKE_DAILY: dict[int, float] = {1: 10.0, 0: 8.0}

SIZE_CHART = StoryIssue(
    key="size_chart",
    title="纯棉T恤尺码偏小、色差",
    category="description_mismatch",
    skus=("CL-2001",),
    department="merchandising",
    daily_tickets=_size_chart_tickets,
    themes={"尺码偏小": 0.65, "色差": 0.35},
    action="详情页增加尺寸对比图",
    action_days_ago=SIZE_CHART_FIX_DAYS_AGO,
    resolved_by="lead_merch",
    expected_complaint_change=-0.75,
    expected_significant=True,
    return_rate_before=0.120,
    return_rate_after=0.085,
    spike_days_ago=(41, 40, 39),
)

SAME_DAY_DELIVERY = StoryIssue(
    key="same_day_delivery",
    title="水果物流慢",
    category="logistics_delay",
    skus=("FR-1001", "FR-1002", "FR-1003", "FR-1004", "FR-1005", "FR-1006"),
    sku_weights=(0.35, 0.25, 0.12, 0.10, 0.10, 0.08),
    department="logistics",
    daily_tickets=_same_day_delivery_tickets,
    # Mostly slow delivery of fresh fruit, which is what same-city half-day delivery fixes.
    themes={"生鲜时效": 0.45, "配送慢": 0.35, "发货慢": 0.10, "快递员": 0.10},
    action="开通同城半日达",
    action_days_ago=SAME_DAY_DELIVERY_FIX_DAYS_AGO,
    resolved_by="lead_logistics",
    expected_complaint_change=-0.40,
    expected_significant=True,
)

STURDIER_PACKAGING = StoryIssue(
    key="sturdier_packaging",
    title="洗发水运输漏液",
    category="damaged",
    skus=("SH-3001",),
    department="warehouse",
    daily_tickets=_packaging_tickets,
    themes={"漏液": 1.0},
    action="加固包装",
    action_days_ago=PACKAGING_FIX_DAYS_AGO,
    resolved_by="lead_warehouse",
    expected_complaint_change=-0.025,
    expected_significant=False,
    return_rate_before=0.020,
    return_rate_after=0.020,
)

MILK_SPIKE = StoryIssue(
    key="milk_spike",
    title="纯牛奶胀包",
    category="damaged",
    skus=("MK-7001",),
    department="warehouse",
    daily_tickets=_milk_tickets,
    themes={"胀包": 1.0},
    spike_days_ago=(1, 0),
)

STORIES: tuple[StoryIssue, ...] = (SIZE_CHART, SAME_DAY_DELIVERY, STURDIER_PACKAGING, MILK_SPIKE)
STORIES_BY_KEY: dict[str, StoryIssue] = {s.key: s for s in STORIES}
# (sku, category) pairs whose tickets only the story writes, so background noise cannot blur its shape.
STORY_PAIRS: frozenset[tuple[str, str]] = frozenset((sku, s.category) for s in STORIES for sku in s.skus)
