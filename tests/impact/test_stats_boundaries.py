"""The plain before/after tests (shown beside the new method) at every edge a verdict depends on.

The mutation run of issue 9 found these rules untested at their boundaries: exactly 100
orders, exactly 5 expected events on either side of a proportion, exactly 10 complaints, the
after-rate's scale, and exposures that differ between the windows.
"""
from __future__ import annotations

import pytest

from issues.impact.stats import compare_proportions, compare_rates, poisson_rate_test, two_proportion_z_test


def test_complaint_rates_are_per_thousand_orders_in_each_window():
    result = compare_rates(3, 1000, 12, 2000)
    assert result.before_rate == pytest.approx(3.0)
    assert result.after_rate == pytest.approx(6.0)
    assert result.relative_change == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("k1", "exposure1", "k2", "exposure2", "enough"),
    [
        (5, 100, 5, 100, True),  # exactly 100 orders a window and 10 complaints in all
        (5, 99, 5, 100, False),
        (5, 100, 5, 99, False),
        (5, 100, 4, 100, False),  # 9 complaints
        (0, 100, 10, 100, True),
    ],
)
def test_complaint_rate_needs_100_orders_a_window_and_10_complaints(k1, exposure1, k2, exposure2, enough):
    result = compare_rates(k1, exposure1, k2, exposure2)
    assert (result.p_value is not None) is enough
    assert result.enough_data is enough


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "enough"),
    [
        (5, 100, 5, 100, True),  # pooled 5 %: exactly 5 expected returns in the smaller window
        (5, 100, 4, 100, False),  # 4.5 expected
        (95, 100, 95, 100, True),  # exactly 5 expected kept orders
        (96, 100, 95, 100, False),  # 4.5 expected
        (5, 99, 6, 100, False),  # 99 orders
        (6, 100, 5, 99, False),
    ],
)
def test_return_rate_needs_100_orders_and_5_expected_on_each_side(x1, n1, x2, n2, enough):
    result = compare_proportions(x1, n1, x2, n2)
    assert (result.p_value is not None) is enough
    assert result.enough_data is enough


def test_the_exact_rate_test_weighs_each_window_by_its_orders():
    # The same rate (1 %) over 1,000 and 2,000 orders: no difference at all.
    assert poisson_rate_test(10, 1000, 20, 2000) == pytest.approx(1.0)
    # 20 complaints over 1,000 orders, then 20 over 2,000: the rate halved. Under the null 1/3 of the
    # 40 complaints fall in the first window (binomial test k=20, n=40, p=1/3: p = 0.029); a test
    # that ignored the orders (p = 1/2) would see 20 against 20 and p = 1.
    assert poisson_rate_test(20, 1000, 20, 2000) == pytest.approx(0.02937, abs=1e-4)


def test_a_comparison_without_enough_data_is_never_significant():
    assert not compare_rates(0, 1000, 9, 1000).significant
    assert compare_rates(0, 1000, 20, 1000).significant


# Guards the mutation run of session 5 found untested (bin/mutation 'issues.impact.stats*').


def test_a_window_with_one_order_still_has_a_rate():
    result = compare_proportions(1, 1, 0, 1)
    assert (result.before_rate, result.after_rate) == (1.0, 0.0)
    assert not result.enough_data and result.p_value is None


def test_a_window_with_no_orders_has_no_rate_and_no_change():
    result = compare_rates(0, 0, 5, 100)
    assert result.before_rate is None and result.after_rate == pytest.approx(50.0)
    assert result.relative_change is None and not result.significant


def test_exactly_five_expected_non_events_is_enough():
    # 118 orders a window, 226 returns in all: 118 x (1 - 226/236) is exactly 5.
    assert compare_proportions(113, 118, 113, 118).enough_data
    assert not compare_proportions(114, 118, 113, 118).enough_data


@pytest.mark.parametrize(
    ("k1", "exposure1", "k2", "exposure2", "defined"),
    [
        (1, 0, 1, 10, False),
        (1, 10, 1, 0, False),
        (1, -1, 1, 10, False),
        (0, 10, 0, 10, False),  # no event at all: nothing to compare
        (1, 1, 0, 10, True),  # one order and one event: a real (if weak) comparison
        (0, 10, 1, 1, True),
        (1, 10, 0, 10, True),  # a single event is enough to compute
    ],
)
def test_poisson_rate_test_answers_exactly_where_it_can(k1, exposure1, k2, exposure2, defined):
    p_value = poisson_rate_test(k1, exposure1, k2, exposure2)
    assert (p_value is not None) is defined
    if defined:
        assert 0.0 < p_value <= 1.0


def test_poisson_rate_test_is_two_sided():
    # 10 events against 0 and 0 against 10 are equally far from equal rates.
    assert poisson_rate_test(10, 100, 0, 100) == pytest.approx(poisson_rate_test(0, 100, 10, 100))
    assert poisson_rate_test(10, 100, 0, 100) < 0.01


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "defined"),
    [
        (0, 0, 1, 10, False),
        (1, 10, 0, 0, False),
        (0, -1, 1, 10, False),
        (1, 1, 0, 10, True),  # one order on one side is a sample, however small
        (0, 10, 1, 1, True),
        (0, 10, 0, 10, False),  # no return on either side: zero variance, no test
        (10, 10, 10, 10, False),  # every order returned on both sides
    ],
)
def test_two_proportion_z_test_answers_exactly_where_it_can(x1, n1, x2, n2, defined):
    p_value = two_proportion_z_test(x1, n1, x2, n2)
    assert (p_value is not None) is defined
    if defined:
        assert 0.0 < p_value <= 1.0
