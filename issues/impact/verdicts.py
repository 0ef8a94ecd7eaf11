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


# --- Verdicts of the controlled measurement (``measurement``) ---

_CONTROLS = {
    "same_category": ("同类目 {n} 个商品", "{n} product{s} of the same category"),
    "other_categories": ("其他品类 {n} 个商品", "{n} product{s} of other categories"),
    "shop": ("全店其他 {n} 个商品", "the shop's {n} other product{s}"),
}


def controls_text(kind: str, count: int, *, language: str = "zh") -> str:
    """"同类目 9 个商品" / "9 products of the same category"; "无对照" when there are none."""
    zh = not language.startswith("en")
    if kind not in _CONTROLS or count <= 0:
        return "无对照" if zh else "no controls"
    template = _CONTROLS[kind][0 if zh else 1]
    return template.format(n=count, s="" if count == 1 else "s")


def percent_text(change: float, *, signed: bool = True) -> str:
    value = change * 100
    return f"{value:+.1f}%" if signed else f"{abs(value):.1f}%"


def _direction(change: float | None, zh: bool) -> str:
    if change is None or abs(change) < 0.0005:
        return "持平" if zh else "unchanged"
    if change < 0:
        return f"下降 {percent_text(change, signed=False)}" if zh else f"down {percent_text(change, signed=False)}"
    return f"上升 {percent_text(change, signed=False)}" if zh else f"up {percent_text(change, signed=False)}"


def estimate_verdict(metric: str, estimate, *, controlled: bool, language: str = "zh") -> str:
    """"退货率 12.0% → 8.5%，对照调整后下降 27.1%，95% 区间 [-35.0%, -18.3%]，显著 (p<0.001)"."""
    zh = not language.startswith("en")
    name = _NAMES[metric][0 if zh else 1]
    rates = f"{name} {rate_text(metric, estimate.before_rate if metric == RETURN_RATE else _per_mille(estimate.before_rate))}" \
            f" → {rate_text(metric, estimate.after_rate if metric == RETURN_RATE else _per_mille(estimate.after_rate))}"
    if not estimate.enough_data or estimate.p_value is None:
        return f"{rates}，数据不足" if zh else f"{rates}, not enough data"
    how = ("对照调整后" if controlled else "前后比较（无对照）") if zh else ("net of controls" if controlled else "before/after, no controls")
    interval = f"[{percent_text(estimate.ci_low)}, {percent_text(estimate.ci_high)}]"
    p = p_value_text(estimate.p_value)
    if zh:
        text = f"{rates}，{how}{_direction(estimate.relative_change, zh)}，95% 区间 {interval}，"
        if estimate.significant:
            return text + f"显著 ({p})"
        text += f"无显著变化 ({p})"
        if estimate.mde is not None:
            text += f"，以当前销量，小于 {min(estimate.mde * 100, 100):.0f}% 的变化无法判断"
        return text
    text = f"{rates}, {_direction(estimate.relative_change, zh)} ({how}), 95% interval {interval}, "
    if estimate.significant:
        return text + f"significant ({p})"
    text += f"no significant change ({p})"
    if estimate.mde is not None:
        text += f"; at current volumes a change smaller than {min(estimate.mde * 100, 100):.0f}% cannot be told"
    return text


def _per_mille(rate: float | None) -> float | None:
    return None if rate is None else rate * 1000


def festival_text(names: list[str], *, controlled: bool, language: str = "zh") -> str:
    if not names:
        return ""
    zh = not language.startswith("en")
    joined = "、".join(names) if zh else ", ".join(names)
    if zh:
        return f"窗口跨越{joined}，" + ("对照同期同样受影响，已抵消" if controlled else "无对照，变化可能来自节日")
    return f"the windows straddle {joined}; " + (
        "the controls went through it too, so it cancels out" if controlled
        else "no controls, so the change may be the festival's")


def disagreement_text(metric: str, result, *, controls_label: str, language: str = "zh") -> str:
    """One sentence when the old pooled test and the controlled estimate disagree about significance."""
    zh = not language.startswith("en")
    plain, estimate = result.plain, result.estimate
    if not plain.significant or estimate.significant or not estimate.enough_data or plain.relative_change is None:
        return ""
    name = _NAMES[metric][0 if zh else 1]
    control_change = estimate.control_change
    if zh:
        text = f"简单前后比较会说{name}{_direction(plain.relative_change, zh)} 且显著（{p_value_text(plain.p_value)}）"
        if control_change is not None:
            return text + f"，但{controls_label}同期也{_direction(control_change, zh)}：扣除这一共同变化后，差异不显著。"
        return text + "，但计入日间波动后不显著。"
    text = (f"A plain before/after comparison says the {name} went {_direction(plain.relative_change, zh)}, "
            f"significant ({p_value_text(plain.p_value)})")
    if control_change is not None:
        return text + (f", but the controls ({controls_label}) went {_direction(control_change, zh)} over the same "
                       "days: net of that shared change, the difference is not significant.")
    return text + ", but not once day-to-day variation is counted."


def regression_text(estimate, controls_label: str, *, controlled: bool) -> str:
    """"对照调整后比措施后窗口上升 41.2%，95% 区间 [+20.1%, +65.9%]，p<0.001，对照：同类目 4 个商品"."""
    interval = f"[{percent_text(estimate.ci_low)}, {percent_text(estimate.ci_high)}]"
    how = "对照调整后" if controlled else "前后比较（无对照）"
    text = (f"{how}比措施后窗口{_direction(estimate.relative_change, True)}，95% 区间 {interval}，"
            f"{p_value_text(estimate.p_value)}")
    return text + (f"，对照：{controls_label}" if controlled else "")


def drift_text(estimates, *, language: str = "zh") -> str:
    """What a verdict against other categories' products says about the drift they do not share."""
    zh = not language.startswith("en")
    judged = [e for e in estimates if e.enough_data and e.p_value is not None]
    unknown = [e for e in judged if e.drift_unknown]
    known = [e.drift_sd for e in judged if e.drift_sd is not None]
    if unknown:
        return ("对照来自其他品类，不随本品类自己的走势变化；历史数据不足以估计两者走势的差异，区间未计入，结论需谨慎" if zh
                else "the controls are other categories' products, which do not follow this category's own drift; "
                     "the history is too short to estimate it, so the interval leaves it out: "
                     "treat the verdict with care")
    if known:
        sd = max(known)
        return (f"对照来自其他品类，不随本品类自己的走势变化：区间已计入历史上两者走势的差异（约 ±{sd * 100:.0f}%）" if zh
                else f"the controls are other categories' products, which do not follow this category's own drift: "
                     f"the interval counts how far the two drifted apart in the past (about ±{sd * 100:.0f}%)")
    return ""


def measurement_verdict(measurement, *, language: str = "zh") -> str:
    """The verdict of a controlled measurement: both metrics, the controls, the festivals."""
    zh = not language.startswith("en")
    controlled = {
        metric: result.estimate.method == "did_quasi_binomial"
        for metric, result in ((COMPLAINT_RATE, measurement.complaints), (RETURN_RATE, measurement.returns))
    }
    complaint = measurement.complaints.estimate
    returns = measurement.returns.estimate
    if not complaint.enough_data and not returns.enough_data:
        return "数据不足" if zh else "not enough data"
    else:
        parts = [
            estimate_verdict(COMPLAINT_RATE, complaint, controlled=controlled[COMPLAINT_RATE], language=language),
            estimate_verdict(RETURN_RATE, returns, controlled=controlled[RETURN_RATE], language=language),
        ]
    text = ("；" if zh else "; ").join(parts)
    if measurement.controls.count > 0:
        label = measurement.controls.label(language)
        text += f"。对照：{label}" if zh else f". Controls: {label}"
        drift = drift_text([complaint, returns], language=language)
        if drift:
            text += f"。{drift}" if zh else f". {drift[0].upper()}{drift[1:]}"
    else:
        text += "。无对照商品，仅前后比较" if zh else ". No controls: before/after only"
    festival = festival_text([f.name(language) for f in measurement.festivals],
                             controlled=any(controlled.values()), language=language)
    if festival:
        text += f"。{festival}" if zh else f". {festival[0].upper()}{festival[1:]}"
    return text + ("。" if zh else ".")
