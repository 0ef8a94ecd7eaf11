"""A simulator of a shop's daily sales, to measure how often a method's verdicts are wrong. No Django.

What makes real shop data hard, each a knob of ``ShopConfig``:

* overdispersion: a product's daily return rate varies ``rate_spread`` (lognormal
  sigma, 0.22 = about 22 %) from day to day around its level (traffic mix,
  promotions, weather), on top of Poisson noise of the counts;
* weekday pattern: orders and return rates follow the day of the week;
* category drift: each category's return rate wanders (a random walk on the
  log scale, ``drift_step`` per day) – a season, a new competitor;
* 双11: orders surge in the days up to 11 November, then the festival's
  orders come back as a wave of returns in the following two to three weeks
  (``festival_return_wave``), for every product alike.

``simulate_shop`` draws one shop; ``trial_draw`` picks a product and an
action date and returns the daily counts of the treated product and its
category's other products over the two windows, optionally with a real
effect (returns x (1 + effect) from the day after the action date). Placebo
trials (effect 0) measure false positives, real ones the detection rate.
``trial_draw(..., scope="category")`` fixes a whole category instead: its
controls are the other categories' products, which do not share its drift, and
the trial carries the history before the windows that the method needs to
estimate that drift.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

# Orders and return rates per weekday (Monday first): weekends sell more, and impulse buys return more.
WEEKDAY_ORDERS = np.array([1.00, 0.96, 0.95, 0.97, 1.05, 1.15, 1.12])
WEEKDAY_RETURNS = np.array([1.10, 1.04, 1.00, 0.97, 0.95, 0.96, 1.00])


@dataclass(frozen=True)
class ShopConfig:
    start: date = date(2025, 1, 1)
    days: int = 365
    categories: int = 6
    products_per_category: int = 10
    orders_low: float = 150.0  # a product's typical daily orders, log-uniform in [low, high]
    orders_high: float = 2500.0
    # Categories' base return rates (cycled): clothing high, groceries low.
    category_return_rates: tuple[float, ...] = (0.12, 0.08, 0.05, 0.10, 0.06, 0.15)
    rate_spread: float = 0.22  # lognormal sigma of a product's daily return rate
    orders_spread: float = 0.15  # lognormal sigma of a product's daily orders
    drift_step: float = 0.02  # daily sd of the category's log return-rate random walk
    festival: date | None = None  # 11 November of the simulated year unless given
    festival_order_surge: float = 3.0  # orders on the festival day x this (ramping up over 10 days)
    festival_return_wave: float = 1.6  # return rate x this just after the festival, fading over 20 days


@dataclass
class Shop:
    config: ShopConfig
    days: list[date]
    category: np.ndarray  # category index per product
    orders: np.ndarray  # [product, day]
    expected_returns: np.ndarray  # [product, day]: orders x the day's return rate (before Poisson noise)
    returns: np.ndarray  # [product, day]
    base_orders: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def products(self) -> int:
        return len(self.category)


def _festival_profiles(config: ShopConfig, days: list[date]) -> tuple[np.ndarray, np.ndarray]:
    festival = config.festival or date(config.start.year, 11, 11)
    offsets = np.array([(day - festival).days for day in days])
    orders = np.ones(len(days))
    ramp = (offsets >= -10) & (offsets <= 0)
    orders[ramp] = 1 + (config.festival_order_surge - 1) * ((offsets[ramp] + 10) / 10) ** 2
    returns = np.ones(len(days))
    wave = (offsets >= 1) & (offsets <= 20)
    returns[wave] = 1 + (config.festival_return_wave - 1) * (1 - (offsets[wave] - 1) / 20)
    return orders, returns


def simulate_shop(*, rng: np.random.Generator, config: ShopConfig | None = None) -> Shop:
    """Draw one shop's daily orders and returns per product (see the module doc)."""
    config = config or ShopConfig()
    days = [config.start + timedelta(days=i) for i in range(config.days)]
    weekdays = np.array([d.weekday() for d in days])
    festival_orders, festival_returns = _festival_profiles(config, days)
    products = config.categories * config.products_per_category
    category = np.repeat(np.arange(config.categories), config.products_per_category)
    base_orders = np.exp(rng.uniform(np.log(config.orders_low), np.log(config.orders_high), products))
    base_rate = np.array(config.category_return_rates)[category % len(config.category_return_rates)]
    base_rate = base_rate * np.exp(rng.normal(0, 0.15, products))  # products differ within a category
    drift = np.cumsum(rng.normal(0, config.drift_step, (config.categories, config.days)), axis=1)
    mean_orders = base_orders[:, None] * WEEKDAY_ORDERS[weekdays][None, :] * festival_orders[None, :]
    orders_noise = np.exp(rng.normal(-config.orders_spread**2 / 2, config.orders_spread, (products, config.days)))
    orders = rng.poisson(mean_orders * orders_noise)
    rate = (
        base_rate[:, None] * np.exp(drift[category]) * WEEKDAY_RETURNS[weekdays][None, :]
        * festival_returns[None, :]
        * np.exp(rng.normal(-config.rate_spread**2 / 2, config.rate_spread, (products, config.days)))
    )
    expected = orders * np.minimum(rate, 1.0)
    return Shop(config, days, category, orders, expected, rng.poisson(expected), base_orders)


@dataclass(frozen=True)
class Trial:
    product: int
    action_index: int  # index of the action day in shop.days
    after: np.ndarray  # bool per window day
    treated_orders: np.ndarray
    treated_returns: np.ndarray
    control_orders: np.ndarray
    control_returns: np.ndarray
    controls: int
    weekdays: np.ndarray
    scope: str = "sku"
    # Category trials: the DRIFT_HISTORY_DAYS before the windows (orders and returns, treated and controls).
    history: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None


def trial_draw(shop: Shop, *, rng: np.random.Generator, window_days: int = 14, effect: float = 0.0,
               product: int | None = None, scope: str = "sku") -> Trial:
    """One fix (placebo when effect is 0) on a random product and date, with its windows' daily counts.

    The action day itself belongs to neither window, as in the app. A real
    effect redraws the treated product's returns after the action date from
    its expected returns x (1 + effect), keeping the day's variation.
    """
    if scope == "category":
        return _category_trial(shop, rng=rng, window_days=window_days, effect=effect)
    if product is None:
        product = int(rng.integers(shop.products))
    action = int(rng.integers(window_days, len(shop.days) - window_days))
    before = np.arange(action - window_days, action)
    after_days = np.arange(action + 1, action + window_days + 1)
    index = np.concatenate([before, after_days])
    after = np.concatenate([np.zeros(window_days, bool), np.ones(window_days, bool)])
    treated_returns = shop.returns[product, index].astype(float)
    if effect:
        treated_returns[after] = rng.poisson(shop.expected_returns[product, after_days] * (1 + effect))
    peers = np.flatnonzero((shop.category == shop.category[product]) & (np.arange(shop.products) != product))
    weekdays = np.array([shop.days[i].weekday() for i in index])
    return Trial(
        product=product, action_index=action, after=after,
        treated_orders=shop.orders[product, index].astype(float), treated_returns=treated_returns,
        control_orders=shop.orders[peers][:, index].sum(axis=0).astype(float),
        control_returns=shop.returns[peers][:, index].sum(axis=0).astype(float),
        controls=len(peers), weekdays=weekdays,
    )


def _category_trial(shop: Shop, *, rng: np.random.Generator, window_days: int, effect: float) -> Trial:
    """A fix of a whole category, on a date with DRIFT_HISTORY_DAYS of history before its windows."""
    from .estimation import DRIFT_HISTORY_DAYS

    category = int(rng.integers(shop.config.categories))
    action = int(rng.integers(window_days + DRIFT_HISTORY_DAYS, len(shop.days) - window_days))
    before = np.arange(action - window_days, action)
    after_days = np.arange(action + 1, action + window_days + 1)
    index = np.concatenate([before, after_days])
    after = np.concatenate([np.zeros(window_days, bool), np.ones(window_days, bool)])
    inside = shop.category == category
    returns = shop.returns.astype(float)
    if effect:
        returns = returns.copy()
        cells = np.ix_(inside, after_days)
        returns[cells] = rng.poisson(shop.expected_returns[cells] * (1 + effect))
    history = np.arange(action - window_days - DRIFT_HISTORY_DAYS, action - window_days)
    return Trial(
        product=-1, action_index=action, after=after,
        treated_orders=shop.orders[inside][:, index].sum(axis=0).astype(float),
        treated_returns=returns[inside][:, index].sum(axis=0),
        control_orders=shop.orders[~inside][:, index].sum(axis=0).astype(float),
        control_returns=returns[~inside][:, index].sum(axis=0),
        controls=int((~inside).sum()), weekdays=np.array([shop.days[i].weekday() for i in index]), scope="category",
        history=(shop.orders[inside][:, history].sum(axis=0).astype(float), returns[inside][:, history].sum(axis=0),
                 shop.orders[~inside][:, history].sum(axis=0).astype(float), returns[~inside][:, history].sum(axis=0)),
    )


@dataclass(frozen=True)
class TrialOutcome:
    base_orders: float  # the treated product's typical daily orders
    effect: float
    # Significant (and, for a real effect, in its direction) by the old pooled before/after test (z-test) ...
    plain_significant: bool
    plain_change: float | None
    new_significant: bool  # ... and by difference-in-differences against the category's other products
    new_change: float | None
    new_p_value: float | None
    festival: bool  # the windows straddle the festival's surge or return wave
    scope: str = "sku"


def _found(significant: bool, change: float | None, effect: float) -> bool:
    """A placebo counts any significant verdict; a real effect only one in its direction."""
    if not significant or change is None:
        return False
    return effect == 0 or (change < 0) == (effect < 0)


def trials_run(*, seed: int, shops: int, trials_per_shop: int, effect: float, window_days: int = 14,
               config: ShopConfig | None = None, scope: str = "sku") -> list[TrialOutcome]:
    """Run placebo (effect 0) or real fixes on simulated shops and judge each with both methods.

    ``scope="category"`` fixes whole categories, judged against the other
    categories with the drift estimated from the history (as the app does).
    """
    from .estimation import did_estimate, drift_estimate
    from .stats import compare_proportions

    rng = np.random.default_rng(seed)
    outcomes: list[TrialOutcome] = []
    for _ in range(shops):
        shop = simulate_shop(rng=rng, config=config)
        festival = shop.config.festival or date(shop.config.start.year, 11, 11)
        for _ in range(trials_per_shop):
            trial = trial_draw(shop, rng=rng, window_days=window_days, effect=effect, scope=scope)
            after = trial.after
            plain = compare_proportions(
                int(trial.treated_returns[~after].sum()), int(trial.treated_orders[~after].sum()),
                int(trial.treated_returns[after].sum()), int(trial.treated_orders[after].sum()),
            )
            drift = None
            if trial.history is not None:
                orders, returns, control_orders, control_returns = trial.history
                drift = drift_estimate(treated_events=returns, treated_exposure=orders,
                                       control_events=control_returns, control_exposure=control_orders)
            estimate = did_estimate(
                treated_events=trial.treated_returns, treated_exposure=trial.treated_orders,
                control_events=trial.control_returns, control_exposure=trial.control_orders, after=after,
                drift=drift, drift_needed=trial.history is not None,
            )
            first = shop.days[trial.action_index - window_days]
            last = shop.days[trial.action_index + window_days]
            # A category's "typical orders" is its mean over the windows (it is not banded by size).
            typical = shop.base_orders[trial.product] if trial.product >= 0 else trial.treated_orders.mean()
            outcomes.append(TrialOutcome(
                base_orders=float(typical), effect=effect, scope=trial.scope,
                plain_significant=_found(plain.significant, plain.relative_change, effect),
                plain_change=plain.relative_change,
                new_significant=_found(estimate.significant, estimate.relative_change, effect),
                new_change=estimate.relative_change,
                new_p_value=estimate.p_value,
                festival=first <= festival + timedelta(days=20) and last >= festival - timedelta(days=10),
            ))
    return outcomes


def rate_with_interval(hits: int, total: int) -> tuple[float, float, float]:
    """Share of hits and its exact (Clopper-Pearson) 95 % binomial interval."""
    from statsmodels.stats.proportion import proportion_confint

    if total == 0:
        return float("nan"), float("nan"), float("nan")
    low, high = proportion_confint(hits, total, alpha=0.05, method="beta")
    return hits / total, float(low), float(high)
