"""Statistics for before/after comparisons. Plain Python + SciPy, no Django.

Two questions, two tests:
- return rate (returns out of orders) is a proportion: two-proportion z-test
  with pooled variance;
- complaint rate (tickets per 1,000 orders) is a rate of events per exposure:
  conditional exact test for two Poisson rates (given k1 + k2 events, k1 is
  binomial with p = exposure1 / (exposure1 + exposure2) under the null).
Both return ``None`` for the p-value when the volumes are too small to tell,
and no function divides by zero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# Below these volumes a verdict would be noise: report "数据不足" instead.
MIN_EXPECTED_EVENTS = 5
MIN_EXPOSURE = 100
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Comparison:
    before_rate: float | None
    after_rate: float | None
    relative_change: float | None  # (after - before) / before; -0.077 means down 7.7 %
    p_value: float | None
    enough_data: bool

    @property
    def significant(self) -> bool:
        return self.enough_data and self.p_value is not None and self.p_value < SIGNIFICANCE


def _rate(events: int, exposure: int) -> float | None:
    return events / exposure if exposure > 0 else None


def _relative(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before == 0:
        return None
    return (after - before) / before


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value that x1/n1 and x2/n2 differ; None when it cannot be computed."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None
    z = (x2 / n2 - x1 / n1) / math.sqrt(variance)
    # 2 * P(Z > |z|) for a standard normal Z.
    return math.erfc(abs(z) / math.sqrt(2))


def poisson_rate_test(k1: int, exposure1: int, k2: int, exposure2: int) -> float | None:
    """Two-sided exact p-value that two event rates per exposure differ (conditional binomial test)."""
    if exposure1 <= 0 or exposure2 <= 0 or k1 + k2 == 0:
        return None
    # scipy.stats costs a second and ~60 MB to import: only processes that judge impact pay for it.
    from scipy import stats

    p = exposure1 / (exposure1 + exposure2)
    return float(stats.binomtest(k1, k1 + k2, p, alternative="two-sided").pvalue)


def compare_proportions(x1: int, n1: int, x2: int, n2: int) -> Comparison:
    """Compare returns/orders before (1) and after (2)."""
    before, after = _rate(x1, n1), _rate(x2, n2)
    pooled = (x1 + x2) / (n1 + n2) if n1 + n2 > 0 else 0
    enough = (
        n1 >= MIN_EXPOSURE
        and n2 >= MIN_EXPOSURE
        and min(n1, n2) * pooled >= MIN_EXPECTED_EVENTS
        and min(n1, n2) * (1 - pooled) >= MIN_EXPECTED_EVENTS
    )
    p_value = two_proportion_z_test(x1, n1, x2, n2) if enough else None
    return Comparison(before, after, _relative(before, after), p_value, enough and p_value is not None)


def compare_rates(k1: int, exposure1: int, k2: int, exposure2: int, *, per: int = 1000) -> Comparison:
    """Compare events per ``per`` units of exposure (tickets per 1,000 orders) before and after."""
    before = _rate(k1 * per, exposure1)
    after = _rate(k2 * per, exposure2)
    enough = exposure1 >= MIN_EXPOSURE and exposure2 >= MIN_EXPOSURE and k1 + k2 >= MIN_EXPECTED_EVENTS * 2
    p_value = poisson_rate_test(k1, exposure1, k2, exposure2) if enough else None
    return Comparison(before, after, _relative(before, after), p_value, enough and p_value is not None)
