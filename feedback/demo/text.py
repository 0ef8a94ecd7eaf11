"""Compose realistic, varied complaint texts from the phrase banks.

Plain Python (no Django): ``generate_ticket_text(rng, category, product_category)``
returns one complaint. All randomness comes from the ``random.Random`` passed
in, so a seed reproduces the same texts.
"""
from __future__ import annotations

import random
from functools import lru_cache

from . import phrases
from .phrases import ANY

# How often the rarer styles appear (share of texts).
P_ENGLISH = 0.035
P_TRADITIONAL = 0.04
P_CODE_SWITCH = 0.05
P_EMOJI = 0.12
P_PHONE = 0.08
P_TERSE = 0.10  # review-style: just the complaint and a feeling


class _Values(dict):
    """Placeholder values, drawn from the rng only when a template uses them."""

    def __init__(self, rng: random.Random, item: str, product_category: str):
        super().__init__(item=item, item_en=phrases.ITEM_EN.get(product_category, "the item"))
        self.rng = rng
        self.product_category = product_category

    def __missing__(self, key: str) -> str:
        rng = self.rng
        makers = {
            "days": lambda: str(rng.choice([2, 3, 3, 4, 5, 5, 6, 7, 8, 10, 12])),
            "hours": lambda: str(rng.choice([3, 5, 6, 8, 10, 24])),
            "times": lambda: rng.choice(["两", "三", "好几", "四", "五"]),
            "n": lambda: str(rng.choice([10, 12, 15, 18, 20, 24, 30])),
            "bad": lambda: str(rng.choice([3, 4, 5, 6, 7, 8])),
            "size": lambda: rng.choice(phrases.SIZES),
            "size2": lambda: rng.choice([s for s in phrases.SIZES if s != self["size"]]),
            "color": lambda: rng.choice(phrases.COLORS),
            "color2": lambda: rng.choice([c for c in phrases.COLORS if c != self["color"]]),
            "cm": lambda: str(rng.choice([2, 3, 4, 5, 6])),
            "jin": lambda: rng.choice(["3.8", "4.1", "4.2", "4.3", "3.6", "4.5"]),
            "price": lambda: str(rng.choice(phrases.PRICES.get(self.product_category, phrases.PRICES[ANY]))),
            "drop": lambda: str(rng.choice(phrases.PRICE_DROPS.get(self.product_category, phrases.PRICE_DROPS[ANY]))),
            "city": lambda: rng.choice(phrases.CITIES),
            "page": lambda: str(rng.randint(40, 260)),
            "code": lambda: str(rng.randint(1, 9)),
            "tracking": lambda: _tracking_number(rng),
            "aftersale": lambda: "AS" + "".join(rng.choices("0123456789", k=12)),
            "height": lambda: str(rng.choice([158, 162, 165, 168, 172, 175, 178, 180, 183])),
            "weight": lambda: str(rng.choice([95, 105, 110, 120, 130, 140, 150, 160, 170])),
            "date": lambda: rng.choice(phrases.DATES),
            "phone": lambda: phone_number(rng),
        }
        if key not in makers:
            raise KeyError(key)
        value = makers[key]()
        self[key] = value
        return value


def phone_number(rng: random.Random) -> str:
    """A plausible mainland mobile (sometimes spaced, dashed or with +86) or landline number."""
    prefix = rng.choice(["138", "139", "136", "150", "151", "158", "159", "186", "187", "177", "133", "189", "199"])
    rest = "".join(rng.choices("0123456789", k=8))
    style = rng.random()
    if style < 0.7:
        return prefix + rest
    if style < 0.8:
        return f"{prefix} {rest[:4]} {rest[4:]}"
    if style < 0.9:
        return f"{prefix}-{rest[:4]}-{rest[4:]}"
    if style < 0.95:
        return f"+86 {prefix}{rest}"
    return rng.choice(["021", "010", "0571", "020", "027"]) + "-" + "".join(rng.choices("0123456789", k=8))


def _tracking_number(rng: random.Random) -> str:
    prefix, digits = rng.choice([("SF", 13), ("YT", 13), ("JT", 13), ("75", 13), ("4", 12)])
    return prefix + "".join(rng.choices("0123456789", k=digits))


def themes_for(category: str, product_category: str) -> dict[str, list[str]]:
    """The complaint cores available for a category and product category, by theme."""
    by_product = phrases.CORES[category]
    merged: dict[str, list[str]] = {}
    for key in (ANY, product_category):
        for theme, cores in by_product.get(key, {}).items():
            merged.setdefault(theme, []).extend(cores)
    return merged


def _pick_theme(rng: random.Random, category: str, product_category: str) -> str:
    themes = themes_for(category, product_category)
    specific = set(phrases.CORES[category].get(product_category, {}))
    # Product-specific themes are what customers of that product really say: favour them.
    names = list(themes)
    return rng.choices(names, [3.0 if name in specific else 1.0 for name in names])[0]


def _bank(table: dict[str, list[str]], product_category: str) -> list[str]:
    return table.get(ANY, []) + table.get(product_category, [])


@lru_cache(maxsize=4)
def _converter(config: str):
    from opencc import OpenCC

    return OpenCC(config)


def _join(rng: random.Random, segments: list[str]) -> str:
    text = ""
    for segment in segments:
        if not segment:
            continue
        if text and text[-1] not in "，。！？!?,～ ":
            text += rng.choices(["，", "。", "！", " ", ",", "～"], [55, 20, 10, 7, 5, 3])[0]
        text += segment
    if text and text[-1] not in "。！？!?～":
        text += rng.choices(["。", "！", "！！", "", "!!!"], [36, 21, 8, 30, 5])[0]
    return text


def generate_ticket_text(
    rng: random.Random,
    category: str,
    product_category: str,
    *,
    item: str | None = None,
    theme: str | None = None,
) -> str:
    """Write one customer complaint of ``category`` about a product of ``product_category``.

    ``item`` is what the customer calls the product (defaults to a generic noun
    for the product category); ``theme`` restricts the complaint to one
    sub-theme such as 尺码偏小 or 漏液. Raises KeyError for an unknown category
    and ValueError for a theme with no phrases for that product category.
    """
    if category not in phrases.CORES:
        raise KeyError(f"unknown category {category!r}")
    item = item or rng.choice(phrases.ITEM_NOUNS.get(product_category, ["东西"]))
    values = _Values(rng, item, product_category)

    if theme is None and rng.random() < P_ENGLISH:
        # Story texts (theme given) stay Chinese so their sub-themes remain recognisable.
        english = _bank(phrases.ENGLISH[category], product_category)
        text = rng.choice(english).format_map(values)
        if rng.random() < 0.3:
            text = rng.choice(["Hi, ", "Hello, ", "Hi team, "]) + text[0].lower() + text[1:]
        if rng.random() < 0.4:
            text += rng.choice([" Please refund ASAP.", " Please help.", " Thanks.", " Order no. in my account."])
        return text

    themes = themes_for(category, product_category)
    if theme is None:
        theme = _pick_theme(rng, category, product_category)
    elif theme not in themes:
        raise ValueError(f"no theme {theme!r} for {category}/{product_category}")
    core = rng.choice(themes[theme]).format_map(values)
    if rng.random() < P_TERSE:
        segments = [rng.choice(["差评", "投诉", "避雷", ""]), core, rng.choice(phrases.EMOTIONS)]
    else:
        segments = []
        if rng.random() < 0.5:
            segments.append(rng.choice(phrases.OPENERS))
        if rng.random() < 0.35:
            segments.append(rng.choice(phrases.CONTEXTS).format_map(values))
        segments.append(core)
        if rng.random() < 0.2:
            # A second symptom of the same problem, as customers often pile them up.
            second = rng.choice(themes[theme]).format_map(values)
            if second != core:
                segments.append(rng.choice(["而且", "还有", "另外", ""]) + second)
        details = _bank(phrases.DETAILS[category], product_category)
        if details and rng.random() < 0.5:
            segments.append(rng.choice(details).format_map(values))
        if rng.random() < 0.4:
            segments.append(rng.choice(phrases.EMOTIONS))
        if rng.random() < 0.6:
            closers = phrases.CLOSERS[category] + phrases.GENERIC_CLOSERS
            segments.append(rng.choice(closers))
    if rng.random() < P_PHONE:
        segments.append(rng.choice(phrases.PHONE_LINES).format_map(values))
    text = _join(rng, segments)

    if rng.random() < P_CODE_SWITCH:
        text += " " + rng.choice(phrases.CODE_SWITCH)
    if rng.random() < P_EMOJI:
        emoji = rng.choice(phrases.EMOJI) * rng.choice([1, 1, 2, 3])
        text = emoji + text if rng.random() < 0.2 else text + emoji
    if rng.random() < P_TRADITIONAL:
        text = _converter(rng.choice(["s2t", "s2tw", "s2hk"])).convert(text)
    return text
