"""The demo story: the three fixes show the right verdicts (tickets classified as the story wrote them)."""
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


@pytest.fixture
def demo_world():
    build_demo_world()


def test_demo_fixes_show_the_right_verdicts(demo_world):
    written = load_demo_sales(rng=random.Random(20260), story=story)
    assert written == len(story.BASELINE_DAILY_ORDERS) * 90
    results = {r.story_key: r for r in resolve_demo_issues(story=story)}

    size_chart = results["size_chart"].impact
    assert size_chart.status == ImpactStatus.COMPLETED
    assert size_chart.return_outcome == Outcome.IMPROVED, size_chart.verdict_zh
    assert size_chart.return_rate_p_value < 0.05
    assert "退货率 12" in size_chart.verdict_zh and "下降" in size_chart.verdict_zh

    delivery = results["same_day_delivery"]
    # Logistics issues are scoped on the product category (issue library), so the fix covers every fruit SKU.
    assert delivery.impact.scope_label == "product_category:水果"
    assert delivery.impact.complaint_outcome == Outcome.IMPROVED, delivery.impact.verdict_zh
    assert -0.55 < delivery.impact.complaint_rate_change < -0.25

    packaging = results["sturdier_packaging"].impact
    assert packaging.status == ImpactStatus.COMPLETED
    assert packaging.outcome == Outcome.NO_EFFECT, packaging.verdict_zh
    assert "不显著" in packaging.verdict_zh

    # The swollen milk cartons come back as returns: the spike check flags the damaged-milk issue.
    spike = ReturnSpike.objects.get(product__sku="MK-7001")
    assert spike.category_code == "damaged"
    assert spike.issue.scope_key == "MK-7001"

    # Running it again changes nothing.
    assert load_demo_sales(rng=random.Random(20260), story=story) == written
    assert DailySales.objects.count() == written
    again = {r.story_key: r for r in resolve_demo_issues(story=story)}
    assert again["size_chart"].impact.pk == size_chart.pk
