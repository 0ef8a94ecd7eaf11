"""The demo story: the fixes show the right verdicts for the right reason (time pinned to 7 December 2026).

The demo's dates count back from today; pinned to 7 December, its festival day (the day before the
sturdier packaging) is 11 November, so the festival calendar names 双11 too.
"""
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from feedback.demo import story
from issues.impact.demo import load_demo_sales, resolve_demo_issues
from issues.impact.models import DailySales, ImpactStatus, Outcome, ReturnSpike

from .helpers import build_demo_world


# The story's sales and verdicts are generated back from "now": pin it, so the figures do not
# move with the calendar (the story is checked at other moments by tests/feedback/test_demo.py).
DEMO_NOW = datetime(2026, 5, 20, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(DEMO_NOW, tick=True):
        yield

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def demo_world():
    with time_machine.travel(NOW, tick=False):
        build_demo_world()
        yield


def test_demo_fixes_show_the_right_verdicts(demo_world):
    written = load_demo_sales(rng=random.Random(20260), story=story)
    assert written == len(story.BASELINE_DAILY_ORDERS) * 90
    results = {r.story_key: r for r in resolve_demo_issues(story=story)}

    size_chart = results["size_chart"].impact
    assert size_chart.status == ImpactStatus.COMPLETED
    assert size_chart.controls["kind"] == "same_category" and size_chart.controls["count"] == 6
    assert size_chart.return_outcome == Outcome.IMPROVED, size_chart.verdict_zh
    assert size_chart.return_rate_p_value < 0.05 and size_chart.return_rate_ci_high < 0
    assert "对照调整后下降" in size_chart.verdict_zh and "对照：同类目 6 个商品" in size_chart.verdict_zh

    delivery = results["same_day_delivery"]
    # Logistics issues are scoped on the product category (issue library), so the fix covers every fruit SKU.
    assert delivery.impact.scope_label == "product_category:水果"
    assert delivery.impact.controls["kind"] == "other_categories"
    assert delivery.impact.complaint_outcome == Outcome.IMPROVED, delivery.impact.verdict_zh
    assert -0.55 < delivery.impact.complaint_rate_change < -0.25

    # The sturdier packaging went out the day after 双11: the festival's wave of returns follows it.
    packaging = results["sturdier_packaging"].impact
    assert packaging.status == ImpactStatus.COMPLETED
    returns = packaging.details["return_rate"]
    # A plain before/after test blames the fix for the wave, significantly ...
    assert returns["plain_significant"] is True and returns["plain_change"] > 0.2, returns
    # ... the other shampoos had the same wave: against them, no significant change.
    assert packaging.return_outcome == Outcome.NO_EFFECT, packaging.verdict_zh
    assert packaging.outcome == Outcome.NO_EFFECT, packaging.verdict_zh
    assert packaging.return_rate_ci_low < 0 < packaging.return_rate_ci_high
    assert returns["control_change"] > 0.2
    assert "无显著变化" in packaging.verdict_zh and "对照：同类目 3 个商品" in packaging.verdict_zh
    assert "窗口跨越双11" in packaging.verdict_zh
    assert returns["explanation_zh"].startswith("简单前后比较会说退货率上升")
    assert "同类目 3 个商品同期也上升" in returns["explanation_zh"]
    assert "A plain before/after comparison says the return rate went up" in returns["explanation_en"]

    # The swollen milk cartons come back as returns: the spike check flags the damaged-milk issue.
    spike = ReturnSpike.objects.get(product__sku="MK-7001")
    assert spike.category_code == "damaged"
    assert spike.issue.scope_key == "MK-7001"
    assert ReturnSpike.objects.count() == 1  # the festival's wave is not a spike of any one SKU

    # Running it again changes nothing.
    assert load_demo_sales(rng=random.Random(20260), story=story) == written
    assert DailySales.objects.count() == written
    again = {r.story_key: r for r in resolve_demo_issues(story=story)}
    assert again["size_chart"].impact.pk == size_chart.pk
