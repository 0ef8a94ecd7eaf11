"""impact_backtest: placebo fixes on the stored history, injected effects, the stored calibration."""
from datetime import date, timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from issues.impact.models import DailySales, ImpactCalibration
from issues.impact.services import calibration, metrics_recompute
from issues.impact.simulation import ShopConfig, simulate_shop
from issues.models import ScopeType

from .helpers import issue_for, product, resolve

pytestmark = pytest.mark.django_db
START = date(2026, 1, 5)


def _history(days: int = 120):
    """A simulated shop (2 categories x 6 SKUs, 22 % daily spread) stored as daily sales."""
    shop = simulate_shop(rng=np.random.default_rng(5), config=ShopConfig(
        start=START, days=days, categories=2, products_per_category=6, orders_low=300, orders_high=1500))
    names = ("衣服", "洗发水")
    products = [product(f"S{n:03d}", names[shop.category[n]]) for n in range(shop.products)]
    DailySales.objects.bulk_create([
        DailySales(day=day, product=products[p], orders=int(shop.orders[p, d]), returns=int(shop.returns[p, d]))
        for p in range(shop.products) for d, day in enumerate(shop.days)
    ])
    metrics_recompute()
    return products


def test_backtest_reports_and_stores_false_positives_and_power(capsys, monkeypatch):
    products = _history()
    # 衣服 had a real fix on 1 March: no placebo of a clothing SKU may have windows around it.
    fix_day = date(2026, 3, 1)
    resolve(issue_for(products[0], scope_type=ScopeType.PRODUCT_CATEGORY, scope_key="衣服"), fix_day)
    drawn = []
    real_series = calibration.change_series

    def recording(**kwargs):
        drawn.append((kwargs["target"].skus[0], kwargs["action_date"]))
        return real_series(**kwargs)

    monkeypatch.setattr(calibration, "change_series", recording)
    call_command("impact_backtest", "--runs", "60", "--seed", "3")
    out = capsys.readouterr().out
    stored = ImpactCalibration.objects.get()
    assert stored.runs == 60 and len(drawn) >= 60
    assert stored.false_positive_rate == pytest.approx(stored.false_positives / 60)
    assert stored.false_positive_ci_low <= stored.false_positive_rate <= stored.false_positive_ci_high
    clothing = {p.sku for p in products if p.product_category == "衣服"}
    for sku, action in drawn:
        if sku in clothing:
            assert not (action - timedelta(days=14) <= fix_day <= action + timedelta(days=14)), (sku, action)
    # Injected -30 % effects are found far more often than placebo ones.
    assert stored.power["-0.3"]["rate"] > 0.5 > stored.false_positive_rate
    assert stored.power["-0.3"]["rate"] >= stored.power["-0.1"]["rate"]
    assert f"false positives: {stored.false_positives} of 60 placebo fixes" in out
    assert "power at -30% returns" in out


def test_backtest_on_too_short_a_history_is_a_clear_error():
    _history(days=20)
    with pytest.raises(CommandError, match="must span more than 28 days"):
        call_command("impact_backtest", "--runs", "5")
    assert not ImpactCalibration.objects.exists()
