"""The new estimate against examples worked out by hand (arithmetic in the comments)."""
import math

import numpy as np
import pytest

from issues.impact.estimation import (
    METHOD_BEFORE_AFTER,
    METHOD_DID,
    Drift,
    before_after_estimate,
    did_estimate,
    drift_estimate,
    drift_weights,
)

# Four days before, four after. Treated: 1,000 orders a day; controls: 4,000 a day, 400 returns every day.
TREATED = [100, 120, 80, 100, 70, 90, 50, 70]
AFTER = [False] * 4 + [True] * 4
T_975_DF6 = 2.446912  # Student's t, 97.5 % quantile, 6 degrees of freedom (tables)


def test_did_matches_hand_computation():
    estimate = did_estimate(treated_events=TREATED, treated_exposure=[1000] * 8, control_events=[400] * 8,
                            control_exposure=[4000] * 8, after=AFTER)
    # Exposure ratio is constant, so the fit reproduces each window's split of the day's returns:
    # beta = log(280 / 1600) - log(400 / 1600) = log(0.7) -> relative change exp(beta) - 1 = -0.30.
    assert estimate.method == METHOD_DID
    assert estimate.relative_change == pytest.approx(-0.30, abs=1e-9)
    assert estimate.before_rate == pytest.approx(0.10) and estimate.after_rate == pytest.approx(0.07)
    assert estimate.control_change == pytest.approx(0.0)
    # Binomial variance of beta: 1/400 + 1/1600 + 1/280 + 1/1600 = 0.00732143.
    # Pearson residuals, before (p = 400/2000 = 0.2; m = 500, 520, 480, 500):
    #   (120 - 104)^2 / (520 * 0.2 * 0.8) = 256 / 83.2 = 3.076923; (80 - 96)^2 / 76.8 = 3.333333; others 0.
    # After (p = 280/1880 = 0.148936; m = 470, 490, 450, 470):
    #   (90 - 72.978723)^2 / (490 * 0.148936 * 0.851064) = 289.72386 / 62.109553 = 4.664707;
    #   (50 - 67.021277)^2 / 57.039385 = 5.079358.
    # Dispersion = (3.076923 + 3.333333 + 4.664707 + 5.079358) / (8 - 2) = 16.154321 / 6 = 2.692387 (reported).
    assert estimate.dispersion == pytest.approx(2.692387, rel=1e-5)
    # Standard error: HC3 sandwich of the equivalent weighted least squares. Each day's raw residual
    # e = y - m p over (1 - leverage), leverage h = m p (1 - p) / W_window = m / (window's total m):
    #   before (W = 2000 * 0.16 = 320): 16 / (1 - 520/2000) and -16 / (1 - 480/2000), others 0:
    #     (256 / 0.74^2 + 256 / 0.76^2) / 320^2 = (467.4945 + 443.2133) / 102400 = 0.0088936;
    #   after (W = 1880 * 0.148936 * 0.851064 = 238.2979): 17.021277 / (1 - 490/1880), -17.021277 / (1 - 450/1880):
    #     (289.7238 / 0.739362^2 + 289.7238 / 0.760638^2) / 238.2979^2 = (529.9963 + 500.7588) / 56785.9 = 0.0181516.
    # Var = 0.0270452, se = 0.164454 (above the binomial 0.085565, so it stands).
    se = math.sqrt(0.0270452)
    # 95 % interval: exp(log 0.7 -/+ 2.446912 * 0.164454) - 1 = [-0.531903, +0.046792].
    assert estimate.ci_low == pytest.approx(math.exp(math.log(0.7) - T_975_DF6 * se) - 1, rel=1e-4)
    assert estimate.ci_high == pytest.approx(math.exp(math.log(0.7) + T_975_DF6 * se) - 1, rel=1e-3)
    assert estimate.ci_low == pytest.approx(-0.531903, rel=1e-4)
    assert estimate.ci_high == pytest.approx(0.046792, rel=1e-3)
    # t = 0.356675 / 0.164454 = 2.16882; two-sided p with 6 df = 0.07318: two noisy days on each side are not
    # enough to call a 30 % fall (the quasi-binomial of the first version said p = 0.044).
    assert estimate.p_value == pytest.approx(0.07318, abs=2e-5)
    assert not estimate.significant
    # Minimal detectable decrease at 80 % power: 1 - exp(-(2.446912 + 0.841621) * 0.164454) = 0.417725.
    assert estimate.mde == pytest.approx(0.417725, rel=1e-4)


def test_did_without_extra_variation_keeps_the_binomial_variance():
    # Every day exactly the window's share: every residual is 0, so the HC3 standard error is 0 and the
    # floor applies: the binomial one, sqrt(1/400 + 1/1600 + 1/280 + 1/1600) = 0.085565.
    treated = [100] * 4 + [70] * 4
    estimate = did_estimate(treated_events=treated, treated_exposure=[1000] * 8, control_events=[400] * 8,
                            control_exposure=[4000] * 8, after=AFTER)
    assert estimate.dispersion == 1.0
    # t = 0.356675 / 0.085565 = 4.16847, p (6 df) = 0.00589.
    assert estimate.p_value == pytest.approx(0.00589, abs=3e-5)


def test_did_nets_out_a_change_the_controls_share():
    # The whole category's returns fall 30 % (a festival's return wave ending): the treated product's
    # fall is the controls' fall, so the net change is 0 and nothing is significant.
    controls = [400] * 4 + [280] * 4
    estimate = did_estimate(treated_events=TREATED, treated_exposure=[1000] * 8, control_events=controls,
                            control_exposure=[4000] * 8, after=AFTER)
    # beta = log(280/1120) - log(400/1600) = log(0.25) - log(0.25) = 0.
    assert estimate.relative_change == pytest.approx(0.0, abs=1e-9)
    assert estimate.plain_change == pytest.approx(-0.30)
    assert estimate.control_change == pytest.approx(-0.30)
    assert not estimate.significant
    assert estimate.p_value == pytest.approx(1.0, abs=1e-6)


def test_before_after_quasi_poisson_matches_hand_computation():
    estimate = before_after_estimate(events=TREATED, exposure=[1000] * 8, after=AFTER)
    assert estimate.method == METHOD_BEFORE_AFTER
    assert estimate.relative_change == pytest.approx(-0.30, abs=1e-9)
    # Pearson: before mean 100, (20^2 + 20^2) / 100 = 8; after mean 70, (20^2 + 20^2) / 70 = 11.428571.
    # Dispersion = 19.428571 / (8 - 2) = 3.238095; se = sqrt((1/400 + 1/280) * 3.238095) = 0.140214.
    assert estimate.dispersion == pytest.approx(3.238095, rel=1e-5)
    se = math.sqrt((1 / 400 + 1 / 280) * 3.238095)
    assert estimate.ci_low == pytest.approx(math.exp(math.log(0.7) - T_975_DF6 * se) - 1, rel=1e-4)


@pytest.mark.parametrize("change, enough", [
    # MIN_EVENTS_BEFORE = 5: four treated returns before the fix are too few to be a baseline...
    ({"treated": [1, 1, 1, 1, 3, 3, 3, 3]}, False),
    # ... five are enough (10 in all, 100+ orders in each window).
    ({"treated": [2, 1, 1, 1, 2, 1, 1, 1]}, True),
    # Controls without returns in a window cannot serve as controls.
    ({"treated": [20] * 8, "controls": [3] * 4 + [0] * 4}, False),
])
def test_did_says_not_enough_data_at_the_thresholds(change, enough):
    treated = change["treated"]
    controls = change.get("controls", [50] * 8)
    estimate = did_estimate(treated_events=treated, treated_exposure=[100] * 8, control_events=controls,
                            control_exposure=[1000] * 8, after=AFTER)
    assert estimate.enough_data is enough
    if not enough:
        assert estimate.p_value is None and not estimate.significant


def test_did_with_a_rate_that_fell_to_zero_stays_finite():
    estimate = did_estimate(treated_events=[10, 10, 10, 10, 0, 0, 0, 0], treated_exposure=[1000] * 8,
                            control_events=[100] * 8, control_exposure=[10000] * 8, after=AFTER)
    assert estimate.enough_data and estimate.significant
    assert -1 < estimate.relative_change < -0.9


def test_drift_weights_by_hand():
    # 14-day windows around an action day: a level step on day j (j = 1..28 after the first before day)
    # enters beta = mean(after) - mean(before) with weight j/14 up to the action day and (29 - j)/14 after it,
    # so sum c_j^2 = 2 * (1^2 + ... + 14^2) / 14^2 = 2 * 1015 / 196 = 10.357143.
    assert drift_weights(14) == pytest.approx(10.357143, rel=1e-6)
    # One-day windows: steps on the action day and the day after, each with weight 1: 2.
    assert drift_weights(1) == pytest.approx(2.0)


def test_did_with_drift_widens_the_interval_by_hand():
    # The worked example above (beta = log 0.7, se^2 = 0.0270452 on 6 df, p = 0.07318) against controls from
    # other categories whose drift has a level variance of 0.002 per day (se 0.001).
    drift = Drift(variance=0.002, variance_se=0.001, days=120)
    estimate = did_estimate(treated_events=TREATED, treated_exposure=[1000] * 8, control_events=[400] * 8,
                            control_exposure=[4000] * 8, after=AFTER, drift=drift, drift_needed=True)
    # Four-day windows: sum c^2 = 2 * (1 + 4 + 9 + 16) / 16 = 3.75; drift variance 0.002 * 3.75 = 0.0075.
    # Total variance 0.0270452 + 0.0075 = 0.0345452 -> se 0.185863.
    assert estimate.drift_sd == pytest.approx(math.sqrt(0.0075), rel=1e-6)
    # Welch-Satterthwaite: 0.0345452^2 / (0.0270452^2 / 6 + (3.75 * 0.001)^2 / 2)
    #   = 1.193371e-3 / (1.219074e-4 + 7.03125e-6) = 9.2554 degrees of freedom; t(9.26) 97.5 % = 2.252679.
    # t = 0.356675 / 0.185863 = 1.91902 -> p = 0.08630; interval exp(log 0.7 - 2.252679 * 0.185863) - 1 = -0.539465.
    assert estimate.p_value == pytest.approx(0.08630, abs=2e-4)
    assert estimate.ci_low == pytest.approx(-0.539465, abs=2e-4)
    assert estimate.relative_change == pytest.approx(-0.30, abs=1e-9)
    # Wider than without the drift: [-0.539, +0.064] against [-0.532, +0.047].
    assert estimate.ci_high == pytest.approx(0.063979, abs=2e-4)


def test_did_needing_drift_without_history_says_so():
    estimate = did_estimate(treated_events=TREATED, treated_exposure=[1000] * 8, control_events=[400] * 8,
                            control_exposure=[4000] * 8, after=AFTER, drift=None, drift_needed=True)
    assert estimate.drift_unknown and estimate.drift_sd is None


def test_drift_estimate_recovers_a_random_walk_and_needs_history():
    rng = np.random.default_rng(3)
    days = 400
    # Treated rate wanders as a random walk of sd 0.03 a day on the log scale; controls stay put.
    level = np.cumsum(rng.normal(0, 0.03, days))
    orders = np.full(days, 20000.0)
    treated = rng.poisson(orders * 0.1 * np.exp(level))
    controls = rng.poisson(orders * 4 * 0.1)
    drift = drift_estimate(treated_events=treated, treated_exposure=orders, control_events=controls,
                           control_exposure=orders * 4)
    # Level variance 0.0009 (the Poisson noise, about 1/2000 + 1/8000, is the irregular part).
    assert drift.variance == pytest.approx(0.0009, rel=0.35)
    assert drift.variance_se > 0
    short = drift_estimate(treated_events=treated[:41], treated_exposure=orders[:41], control_events=controls[:41],
                           control_exposure=orders[:41] * 4)
    assert short is None  # fewer than MIN_DRIFT_DAYS usable days
