"""The dashboard in real headless Chromium, on the demo story: charts drawn, fix markers, ranked tables."""
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from feedback.demo import story
from issues.impact.demo import load_demo_sales, resolve_demo_issues
from tests.browser.conftest import browser, page, screenshot  # noqa: F401 - shared Playwright fixtures

from .helpers import build_demo_world


# The story's sales and verdicts are generated back from "now": pin it, so the figures do not
# move with the calendar (the story is checked at other moments by tests/feedback/test_demo.py).
DEMO_NOW = datetime(2026, 5, 20, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(DEMO_NOW, tick=True):
        yield

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sees_the_three_fixes_on_the_dashboard(page, screenshot):  # noqa: F811
    build_demo_world()
    load_demo_sales(rng=random.Random(20260), story=story)
    resolve_demo_issues(story=story)

    page.goto(reverse("login"))
    page.fill("#id_username", "manager")
    page.fill("#id_password", "demo-manager-2026")
    page.click("button[type=submit]")
    page.goto(reverse("impact-dashboard"))
    # Chart.js has drawn both canvases (a blank canvas has width but no chart instance).
    page.wait_for_function("() => window.Chart && Chart.getChart('complaint-chart') && Chart.getChart('returns-chart')")
    markers = page.evaluate(
        "() => Object.keys(Chart.getChart('returns-chart').options.plugins.annotation.annotations).length"
    )
    assert markers == 3
    fixes = page.locator("#fixes-title").locator("xpath=ancestor::section").locator("tbody tr")
    assert fixes.count() == 3
    text = fixes.all_inner_texts()
    assert "详情页增加尺寸对比图" in text[0] or "开通同城半日达" in text[0]
    assert any("加固包装" in row and "无显著变化" in row for row in text)
    screenshot("impact_dashboard")

    page.select_option("#impact-department", "merchandising")
    page.wait_for_function("() => window.Chart && Chart.getChart('returns-chart')")
    assert page.locator("#fixes-title").locator("xpath=ancestor::section").locator("tbody tr").count() == 1
    screenshot("impact_dashboard_merchandising")
