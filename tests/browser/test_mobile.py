"""Phones (390 px) in headless Chromium: no page scrolls sideways, lists are cards, the menu folds.

Screenshots at 1440 and 390 px, Chinese and English, go to var/screenshots/ (SCREENSHOT_DIR in conftest).
"""
from __future__ import annotations

import os

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.helpers import PASSWORD, expect, log_in
from tests.browser.test_lead_flow import file_tickets
from feedback.models import TriageStatus
from tests.factories import ProductFactory, TicketFactory, UserFactory, category, department

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_issue_tasks")]

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def logistics_queue(db):
    """A lead of logistics with a spiking issue and a steady one, with long product names."""
    from issues.services import issues_prioritize, issues_spikes_detect

    oranges = ProductFactory(sku="FR-1001", name="赣南脐橙 5斤装 当季现摘 新鲜水果 顺丰包邮", product_category="水果")
    shirts = ProductFactory(sku="CL-2001", name="纯棉T恤 男女同款 宽松短袖 夏季", product_category="服饰")
    file_tickets(product=shirts, code="logistics_delay", per_day={d: 3 for d in range(0, 8)},
                 text="T恤下单一周了还没发货，客服也不回复，物流信息一直没有更新")
    file_tickets(product=oranges, code="logistics_delay", per_day={0: 9, **{d: 1 for d in range(1, 8)}},
                 text="橙子五天还没到，物流太慢了，联系 13812345678")
    issues_spikes_detect()
    issues_prioritize()
    lead = UserFactory(username="lead_logistics", first_name="王磊", role=Role.LEAD,
                       department=department("logistics"), password=PASSWORD)
    for n in range(3):
        TicketFactory(text=f"收到的橙子有一半是烂的，包装盒也压扁了，要求退款，订单号 2026120{n}88123456789",
                      product=oranges, sku_raw=oranges.sku, filed_by=lead, triage_status=TriageStatus.NEEDS_REVIEW,
                      predicted_category=category("damaged"), prediction_confidence=0.41)
    return lead


def shoot(page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


MAIN_PAGES = ["home", "department-queue", "issue-library", "ticket-list", "review-stream", "notifications",
              "impact-dashboard"]


def test_no_main_page_scrolls_sideways_at_390_px(page, logistics_queue):
    page.set_viewport_size(PHONE)
    log_in(page, "lead_logistics")
    for name in MAIN_PAGES:
        page.goto(reverse(name))
        assert scroll_width(page) <= PHONE["width"], f"{name} is {scroll_width(page)} px wide at 390 px"


def test_the_queue_and_the_lists_are_cards_on_a_phone(page, logistics_queue):
    page.set_viewport_size(PHONE)
    log_in(page, "lead_logistics")
    page.goto(reverse("department-queue"))
    row = page.locator("#queue-table tbody tr").first
    assert row.evaluate("row => getComputedStyle(row).display") != "table-row"
    assert row.locator(".cell--main").bounding_box()["width"] > 200
    assert page.locator("#queue-table thead").bounding_box()["height"] <= 1
    # Every number keeps its caption once the header row is gone.
    expect()(row.locator("td[data-label='7天']")).to_be_visible()
    assert "7天" in row.locator("td[data-label='7天']").evaluate(
        "cell => getComputedStyle(cell, '::before').content")

    for url, table in [(reverse("issue-library"), "#library-table"), (reverse("ticket-list"), "table.tickets")]:
        page.goto(url)
        first = page.locator(f"{table} tbody tr").first
        assert first.evaluate("row => getComputedStyle(row).display") != "table-row", url
        assert first.locator(".cell--main").bounding_box()["width"] > 200, url

    # The same rows stay a table on a desktop.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(reverse("department-queue"))
    assert page.locator("#queue-table tbody tr").first.evaluate("row => getComputedStyle(row).display") == "table-row"


def test_the_navigation_folds_into_a_menu_that_reaches_queue_notifications_and_impact(page, logistics_queue):
    page.set_viewport_size(PHONE)
    log_in(page, "lead_logistics")
    toggle = page.locator("[data-menu-toggle]")
    expect()(toggle).to_be_visible()
    expect()(toggle).to_have_attribute("aria-expanded", "false")
    nav = page.locator(".topbar__nav")
    expect()(nav).to_be_hidden()
    shoot(page, "mobile_home_zh_390")

    toggle.click()
    expect()(toggle).to_have_attribute("aria-expanded", "true")
    for label in ("我的队列", "通知", "措施效果"):
        link = nav.get_by_role("link", name=label).first
        expect()(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], label
    assert scroll_width(page) <= PHONE["width"]
    shoot(page, "mobile_menu_zh_390")
    nav.get_by_role("link", name="我的队列").click()
    page.wait_for_url(f"**{reverse('department-queue')}")
    expect()(page.locator("#queue-table")).to_be_visible()
    shoot(page, "mobile_queue_zh_390")

    # On a desktop the button is gone and the links are in the bar.
    page.set_viewport_size({"width": 1440, "height": 900})
    expect()(toggle).to_be_hidden()
    expect()(nav.get_by_role("link", name="措施效果")).to_be_visible()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_screenshots_of_the_main_pages_fit_both_widths(browser, live_server, logistics_queue, locale):
    UserFactory(username="boss", role=Role.ADMIN, password=PASSWORD, is_staff=True, is_superuser=True)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale=locale, base_url=live_server.url)
    language = "zh" if locale.startswith("zh") else "en"
    too_wide: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        for username, pages in [("lead_logistics", ["home", "department-queue", "issue-library", "ticket-list"]),
                                ("boss", ["admin:index"])]:
            context.clear_cookies()
            log_in(page, username)
            for name in pages:
                page.goto(reverse(name))
                for width in (1440, 390):
                    page.set_viewport_size({"width": width, "height": 900})
                    shoot(page, f"{name.replace(':', '_')}_{language}_{width}")
                    if scroll_width(page) > width:
                        too_wide.append(f"{name} ({language}) is {scroll_width(page)} px wide at {width} px")
                page.set_viewport_size({"width": 1440, "height": 900})
    finally:
        context.close()
    assert not too_wide
