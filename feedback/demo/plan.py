"""Plan the demo tickets: when, about what, through which channel, and their text.

Plain Python (no Django), deterministic for a given seed and ``now``: the
command turns the plan into rows, and tests check the story's shape on the
plan itself.

Volume: background complaints follow the shop's daily rhythm (more on Mondays,
fewer at weekends, a slow growth over the quarter, busy late mornings and
evenings) and are spread over products in proportion to their orders and each
product category's complaint propensity. The story threads (``story.py``) are
added on top with exactly their intended shape; background tickets never fall
on a story's (SKU, category) pair, so nothing blurs it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate

from .catalog import IMPORT_FILER, MANUAL_FILER, PRODUCT_CATEGORIES, PRODUCTS, PRODUCTS_BY_SKU
from .story import DEFAULT_TICKETS, STORIES, STORY_PAIRS, WINDOW_DAYS, StoryIssue
from .text import generate_ticket_text

DEFAULT_SEED = 20260

# Monday .. Sunday: complaints pile up after the weekend; fewer people write on Saturdays.
WEEKDAY_FACTOR = (1.18, 1.08, 1.00, 0.98, 0.95, 0.88, 0.93)
GROWTH_OVER_WINDOW = 0.15  # the newest day has 15% more background volume than the oldest
HOUR_WEIGHTS = (
    0.30, 0.15, 0.08, 0.05, 0.05, 0.10, 0.30, 0.60, 1.00, 1.50, 1.80, 1.70,
    1.30, 1.40, 1.60, 1.60, 1.50, 1.30, 1.10, 1.30, 1.70, 1.90, 1.60, 0.90,
)

# Channel values of feedback.models.Channel, weighted like a shop's real intake.
CHANNEL_WEIGHTS = {"chat": 36, "platform": 26, "app": 12, "phone": 11, "review": 9, "email": 6}
# Channels whose tickets arrive through an import or the API, carrying the source's own id.
IMPORTED_CHANNELS = frozenset({"platform", "review", "app"})
PLATFORM_WEIGHTS = {"tmall": 45, "jd": 30, "douyin": 15, "pdd": 10}
ORDER_NUMBER_SHARE = 0.88
NO_PRODUCT_SHARE = 0.06

# Complaints per order, relative: fresh food and installed appliances draw more than books.
COMPLAINT_PROPENSITY = {
    "水果": 1.6, "衣服": 1.0, "洗发水": 0.7, "平板": 1.5, "手机": 1.4,
    "书籍": 0.5, "牛奶": 0.6, "热水器": 2.5, "计算机": 1.8,
}
_CATEGORY_ORDER = (
    "logistics_delay", "description_mismatch", "damaged", "wrong_or_missing", "quality_defect",
    "counterfeit", "service", "after_sales", "price", "other",
)
# What customers of each product category complain about (weights in _CATEGORY_ORDER).
CATEGORY_MIX: dict[str, tuple[int, ...]] = {
    "水果": (22, 12, 30, 6, 0, 3, 6, 9, 5, 7),
    "衣服": (10, 24, 3, 9, 20, 3, 6, 14, 5, 6),
    "洗发水": (10, 8, 20, 8, 6, 14, 6, 7, 7, 12),
    "平板": (9, 10, 8, 10, 25, 8, 6, 14, 8, 2),
    "手机": (8, 9, 7, 9, 24, 12, 6, 14, 9, 2),
    "书籍": (14, 10, 24, 12, 12, 12, 4, 4, 3, 5),
    "牛奶": (16, 6, 34, 8, 0, 5, 5, 8, 8, 8),
    "热水器": (14, 6, 8, 6, 22, 2, 6, 30, 4, 2),
    "计算机": (8, 12, 8, 10, 26, 8, 5, 15, 6, 2),
}
# Tickets that name no product are about the service, prices or nothing in particular.
NO_PRODUCT_MIX = {"service": 35, "other": 25, "price": 20, "logistics_delay": 15, "after_sales": 5}


@dataclass(frozen=True)
class PlannedTicket:
    received_at: datetime
    text: str
    channel: str
    sku: str  # "" when the ticket names no product
    category: str  # the category the text was written for (ground truth, not stored)
    theme: str | None
    story: str | None  # story key, None for background
    order_number: str
    external_source: str
    external_id: str | None
    filed_by: str  # demo username


_HOURS = range(24)
_HOUR_CUMULATIVE = list(accumulate(HOUR_WEIGHTS))


def _weekday_factor(day: date) -> float:
    return WEEKDAY_FACTOR[day.weekday()]


def _smooth_counts(rng: random.Random, expected: list[float]) -> list[int]:
    """Whole daily counts that follow ``expected`` closely (error diffusion with a little jitter).

    The running total never strays more than one ticket from the expected
    total, so a story keeps its shape at any seed instead of drowning in
    Poisson noise at small volumes.
    """
    carry = rng.uniform(-0.5, 0.5)
    counts = []
    for value in expected:
        wanted = value + carry
        count = max(0, round(wanted + rng.uniform(-0.35, 0.35)))
        carry = wanted - count
        counts.append(count)
    return counts


def _elapsed_share_of_today(now: datetime) -> float:
    full = sum(HOUR_WEIGHTS)
    done = sum(HOUR_WEIGHTS[: now.hour]) + HOUR_WEIGHTS[now.hour] * now.minute / 60
    return done / full


def _received_at(rng: random.Random, day: date, now: datetime) -> datetime:
    start = datetime.combine(day, time.min, tzinfo=now.tzinfo)
    for _ in range(20):
        hour = rng.choices(_HOURS, cum_weights=_HOUR_CUMULATIVE)[0]
        moment = start + timedelta(hours=hour, seconds=rng.randrange(3600))
        if moment <= now:
            return moment
    # Early in the morning few hours have passed: anywhere between midnight and now.
    return start + (now - start) * rng.random()


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choices("0123456789", k=count))


def _order_number(rng: random.Random, platform: str, ordered: datetime) -> str:
    if platform == "tmall":
        return rng.choice("123") + _digits(rng, 18)
    if platform == "jd":
        return rng.choice("23") + _digits(rng, 11)
    if platform == "douyin":
        return "69" + _digits(rng, 17)
    return ordered.strftime("%y%m%d") + "-" + _digits(rng, 15)  # pdd


def _external_id(rng: random.Random, channel: str, platform: str, received: datetime) -> tuple[str, str]:
    stamp = received.strftime("%Y%m%d")
    if channel == "app":
        return "app", f"FB{stamp}{_digits(rng, 6)}"
    kind = "RV" if channel == "review" else "AS"
    prefix = {"tmall": "TM", "jd": "JD", "douyin": "DY", "pdd": "PDD"}[platform]
    return platform, f"{prefix}{kind}{stamp}{_digits(rng, 8)}"


def _pick_theme(rng: random.Random, story: StoryIssue) -> str | None:
    if not story.themes:
        return None
    names = list(story.themes)
    return rng.choices(names, [story.themes[n] for n in names])[0]


def ticket_plan(*, now: datetime, total: int = DEFAULT_TICKETS, seed: int = DEFAULT_SEED) -> list[PlannedTicket]:
    """Plan ``total`` demo tickets over the 90 days up to ``now`` (an aware local datetime), oldest first."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if total < 0:
        raise ValueError("total must not be negative")
    rng = random.Random(seed)
    today = now.date()
    days_ago_range = range(WINDOW_DAYS - 1, -1, -1)
    day_of = {d: today - timedelta(days=d) for d in days_ago_range}
    scale = total / DEFAULT_TICKETS

    # (days_ago, sku, category, theme, story key)
    slots: list[tuple[int, str, str, str | None, str | None]] = []
    for story in STORIES:
        expected = [story.daily_tickets(d) * scale * _weekday_factor(day_of[d]) for d in days_ago_range]
        weights = story.sku_weights or tuple(1.0 for _ in story.skus)
        for d, count in zip(days_ago_range, _smooth_counts(rng, expected), strict=True):
            for _ in range(count):
                sku = rng.choices(story.skus, weights)[0]
                slots.append((d, sku, story.category, _pick_theme(rng, story), story.key))
    slots = slots[:total]

    background = total - len(slots)
    day_weights = []
    for d in days_ago_range:
        weight = (1 + GROWTH_OVER_WINDOW * (WINDOW_DAYS - 1 - d) / (WINDOW_DAYS - 1)) * _weekday_factor(day_of[d])
        if d == 0:
            weight *= _elapsed_share_of_today(now)
        day_weights.append(weight)
    # Cumulative weights computed once: random.choices would redo them on every call.
    product_cumulative = list(accumulate(p.daily_orders * COMPLAINT_PROPENSITY[p.product_category] for p in PRODUCTS))
    category_cumulative = {
        p.sku: list(accumulate(
            0 if (p.sku, code) in STORY_PAIRS else weight
            for code, weight in zip(_CATEGORY_ORDER, CATEGORY_MIX[p.product_category], strict=True)
        ))
        for p in PRODUCTS
    }
    no_product_categories = list(NO_PRODUCT_MIX)
    no_product_cumulative = list(accumulate(NO_PRODUCT_MIX.values()))
    for d in rng.choices(list(days_ago_range), day_weights, k=background):
        if rng.random() < NO_PRODUCT_SHARE:
            category = rng.choices(no_product_categories, cum_weights=no_product_cumulative)[0]
            slots.append((d, "", category, None, None))
            continue
        product = rng.choices(PRODUCTS, cum_weights=product_cumulative)[0]
        category = rng.choices(_CATEGORY_ORDER, cum_weights=category_cumulative[product.sku])[0]
        slots.append((d, product.sku, category, None, None))

    channels, channel_cumulative = list(CHANNEL_WEIGHTS), list(accumulate(CHANNEL_WEIGHTS.values()))
    platforms, platform_cumulative = list(PLATFORM_WEIGHTS), list(accumulate(PLATFORM_WEIGHTS.values()))
    used_external_ids: set[tuple[str, str]] = set()
    tickets: list[PlannedTicket] = []
    for d, sku, category, theme, story_key in slots:
        received = _received_at(rng, day_of[d], now)
        if sku:
            product = PRODUCTS_BY_SKU[sku]
            text = generate_ticket_text(rng, category, product.product_category, item=product.noun, theme=theme)
        else:
            text = generate_ticket_text(rng, category, rng.choice(PRODUCT_CATEGORIES))
        channel = rng.choices(channels, cum_weights=channel_cumulative)[0]
        platform = rng.choices(platforms, cum_weights=platform_cumulative)[0]
        has_order = rng.random() < (ORDER_NUMBER_SHARE if sku else 0.45)
        ordered = received - timedelta(days=rng.randint(1, 10))
        order_number = _order_number(rng, platform, ordered) if has_order else ""
        external_source, external_id = "", None
        if channel in IMPORTED_CHANNELS:
            external_source, external_id = _external_id(rng, channel, platform, received)
            while (external_source, external_id) in used_external_ids:
                external_source, external_id = _external_id(rng, channel, platform, received)
            used_external_ids.add((external_source, external_id))
        tickets.append(
            PlannedTicket(
                received_at=received,
                text=text,
                channel=channel,
                sku=sku,
                category=category,
                theme=theme,
                story=story_key,
                order_number=order_number,
                external_source=external_source,
                external_id=external_id,
                filed_by=IMPORT_FILER if channel in IMPORTED_CHANNELS else MANUAL_FILER,
            )
        )
    tickets.sort(key=lambda t: t.received_at)
    return tickets
