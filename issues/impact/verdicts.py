"""Plain-language verdicts for a before/after comparison, in Chinese and English. No Django.

Rates print as a percentage for returns and as tickets per 1,000 orders (‰) for
complaints; the change is relative (9.1 % -> 8.4 % is "down 7.7 %"). A
comparison without enough data says so instead of naming a direction.
"""
from __future__ import annotations

from .stats import SIGNIFICANCE, Comparison

RETURN_RATE = "return_rate"
COMPLAINT_RATE = "complaint_rate"

_NAMES = {
    RETURN_RATE: ("退货率", "return rate"),
    COMPLAINT_RATE: ("投诉率", "complaint rate"),
}


def p_value_text(p_value: float) -> str:
    """Format a p-value as people read it: p<0.001, p=0.004, p=0.03, p=0.41."""
    if p_value < 0.001:
        return "p<0.001"
    if p_value < 0.01:
        return f"p={p_value:.3f}"
    # Near the threshold two decimals would round 0.047 up to "0.05" and contradict "显著".
    if abs(p_value - SIGNIFICANCE) < 0.006:
        return f"p={p_value:.3f}"
    return f"p={p_value:.2f}"


def rate_text(metric: str, rate: float | None) -> str:
    if rate is None:
        return "—"
    if metric == RETURN_RATE:
        return f"{rate * 100:.1f}%"
    return f"{rate:.2f}‰"


def metric_verdict(metric: str, comparison: Comparison, *, language: str = "zh") -> str:
    """One metric's verdict: "退货率 9.1% → 8.4%，下降 7.7%，显著 (p=0.03)" or "...，数据不足"."""
    zh = not language.startswith("en")
    name = _NAMES[metric][0 if zh else 1]
    before, after = rate_text(metric, comparison.before_rate), rate_text(metric, comparison.after_rate)
    rates = f"{name} {before} → {after}"
    if not comparison.enough_data or comparison.p_value is None:
        return f"{rates}，数据不足" if zh else f"{rates}, not enough data"
    change = comparison.relative_change
    if change is None or abs(change) < 0.0005:
        direction = "持平" if zh else "unchanged"
    elif change < 0:
        direction = f"下降 {abs(change) * 100:.1f}%" if zh else f"down {abs(change) * 100:.1f}%"
    else:
        direction = f"上升 {change * 100:.1f}%" if zh else f"up {change * 100:.1f}%"
    if zh:
        significance = "显著" if comparison.significant else "不显著"
        return f"{rates}，{direction}，{significance} ({p_value_text(comparison.p_value)})"
    significance = "significant" if comparison.significant else "not significant"
    return f"{rates}, {direction}, {significance} ({p_value_text(comparison.p_value)})"


def impact_verdict(complaint: Comparison, returns: Comparison, *, language: str = "zh") -> str:
    """Both metrics' verdicts; "数据不足" alone when neither has enough data."""
    zh = not language.startswith("en")
    if not complaint.enough_data and not returns.enough_data:
        return "数据不足" if zh else "not enough data"
    separator = "；" if zh else "; "
    return separator.join(
        [metric_verdict(COMPLAINT_RATE, complaint, language=language), metric_verdict(RETURN_RATE, returns, language=language)]
    )


def measuring_verdict(days_left: int, *, language: str = "zh") -> str:
    if language.startswith("en"):
        return f"measuring, {days_left} day{'s' if days_left != 1 else ''} left"
    return f"测量中，还剩 {days_left} 天"


def incomplete_verdict(needed_until: str, data_until: str | None, *, language: str = "zh", needed_from: str | None = None,
                       data_from: str | None = None) -> str:
    """Say which part of the windows the data does not cover; never a direction."""
    zh = not language.startswith("en")
    if data_until is None:
        return "数据不完整：还没有订单数据" if zh else "incomplete: no order data yet"
    if needed_from is not None and data_from is not None and data_from > needed_from:
        return (f"数据不完整：措施前窗口从 {needed_from} 开始，订单数据从 {data_from} 才有" if zh
                else f"incomplete: the before window starts {needed_from}, order data only from {data_from}")
    return (f"数据不完整：措施后窗口到 {needed_until}，订单数据只到 {data_until}" if zh
            else f"incomplete: the after window ends {needed_until}, order data only until {data_until}")
