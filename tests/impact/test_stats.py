"""The statistics against examples worked out by hand (arithmetic in the comments)."""
import math

import pytest

from issues.impact import verdicts
from issues.impact.stats import compare_proportions, compare_rates, poisson_rate_test, two_proportion_z_test


def test_two_proportion_z_test_matches_hand_computation():
    # Before: 120 returns of 1,000 orders (12.0 %); after: 85 of 1,000 (8.5 %).
    # pooled p  = (120 + 85) / (1000 + 1000) = 205 / 2000 = 0.1025
    # variance  = 0.1025 * (1 - 0.1025) * (1/1000 + 1/1000) = 0.1025 * 0.8975 * 0.002 = 0.000183988
    # std error = sqrt(0.000183988) = 0.0135642
    # z         = (0.085 - 0.120) / 0.0135642 = -2.58033
    # p         = 2 * (1 - Phi(2.58033)) = 2 * 0.0049353 = 0.0098706
    variance = 0.1025 * 0.8975 * 0.002
    assert variance == pytest.approx(0.000183988, rel=1e-5)
    z = (0.085 - 0.120) / math.sqrt(variance)
    assert z == pytest.approx(-2.58033, rel=1e-5)
    assert two_proportion_z_test(120, 1000, 85, 1000) == pytest.approx(0.0098706, rel=1e-3)

    comparison = compare_proportions(120, 1000, 85, 1000)
    assert comparison.before_rate == pytest.approx(0.12)
    assert comparison.after_rate == pytest.approx(0.085)
    # relative change = (0.085 - 0.120) / 0.120 = -0.291667 ("下降 29.2%")
    assert comparison.relative_change == pytest.approx(-0.291667, rel=1e-5)
    assert comparison.significant
    assert verdicts.metric_verdict(verdicts.RETURN_RATE, comparison) == "退货率 12.0% → 8.5%，下降 29.2%，显著 (p=0.010)"


def test_small_difference_is_not_significant_by_hand():
    # 91/1000 (9.1 %) -> 84/1000 (8.4 %): pooled = 175/2000 = 0.0875
    # variance = 0.0875 * 0.9125 * 0.002 = 0.000159688; se = 0.0126368
    # z = -0.007 / 0.0126368 = -0.55394; p = 2 * (1 - Phi(0.55394)) = 2 * 0.289813 = 0.57963
    comparison = compare_proportions(91, 1000, 84, 1000)
    assert comparison.p_value == pytest.approx(0.57963, rel=1e-3)
    # relative change = (0.084 - 0.091) / 0.091 = -0.076923 ("下降 7.7%")
    assert verdicts.metric_verdict(verdicts.RETURN_RATE, comparison) == "退货率 9.1% → 8.4%，下降 7.7%，不显著 (p=0.58)"
    assert verdicts.metric_verdict(verdicts.RETURN_RATE, comparison, language="en") == (
        "return rate 9.1% → 8.4%, down 7.7%, not significant (p=0.58)"
    )


def test_poisson_rate_test_matches_hand_computation():
    # Equal exposure, 6 tickets before and 0 after. Given 6 tickets in all, under "no change" each
    # falls in either window with probability 1/2: P(6 of 6) = P(0 of 6) = (1/2)^6 = 1/64.
    # Two-sided p = P(X=6) + P(X=0) = 2/64 = 0.03125.
    assert poisson_rate_test(6, 1000, 0, 1000) == pytest.approx(0.03125)
    # 10 vs 0 tickets per 1,000 orders each: p = 2 * (1/2)^10 = 0.001953125
    comparison = compare_rates(10, 1000, 0, 1000)
    assert comparison.before_rate == pytest.approx(10.0)  # tickets per 1,000 orders
    assert comparison.after_rate == 0
    assert comparison.p_value == pytest.approx(0.001953125)
    assert verdicts.metric_verdict(verdicts.COMPLAINT_RATE, comparison) == (
        "投诉率 10.00‰ → 0.00‰，下降 100.0%，显著 (p=0.002)"
    )


@pytest.mark.parametrize("args", [(0, 0, 0, 0), (5, 0, 3, 0), (0, 10, 0, 0)])
def test_zero_orders_never_divide(args):
    for comparison in (compare_proportions(*args), compare_rates(*args)):
        assert not comparison.enough_data
        assert comparison.p_value is None
        assert verdicts.metric_verdict(verdicts.RETURN_RATE, comparison).endswith("数据不足")


def test_insufficient_volumes_say_so():
    comparison = compare_proportions(2, 50, 1, 50)
    assert not comparison.enough_data
    assert verdicts.impact_verdict(comparison, comparison) == "数据不足"
    assert verdicts.impact_verdict(comparison, comparison, language="en") == "not enough data"


@pytest.mark.parametrize(
    ("p_value", "text"),
    [(0.0004, "p<0.001"), (0.004, "p=0.004"), (0.03, "p=0.03"), (0.047, "p=0.047"), (0.41, "p=0.41")],
)
def test_p_value_formatting(p_value, text):
    assert verdicts.p_value_text(p_value) == text
