"""The review stream in real headless Chromium: an agent confirms 20 tickets with the keyboard
alone, without a page load between tickets; keystrokes and seconds per ticket are printed."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F
from django.urls import reverse

from feedback.models import CategoryLabel, Ticket, TriageStatus
from tests.browser.helpers import PASSWORD, expect, log_in
from tests.factories import ProductFactory, TicketFactory, UserFactory, category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOPS = [
    [["damaged", 0.46], ["quality_defect", 0.41], ["logistics_delay", 0.08]],
    [["logistics_delay", 0.52], ["damaged", 0.30], ["other", 0.10]],
    [["wrong_or_missing", 0.40], ["description_mismatch", 0.38], ["damaged", 0.12]],
]


def make_queue(count: int) -> list[Ticket]:
    milk = ProductFactory(sku="MILK-1L", name="纯牛奶 1L", product_category="乳品")
    tickets = []
    for n in range(count):
        top = TOPS[n % len(TOPS)]
        tickets.append(TicketFactory(
            text=f"第{n}单：牛奶收到就酸了，盒子也压坏了 <i>{n}</i>，电话 13812345678",
            product=milk, triage_status=TriageStatus.NEEDS_REVIEW,
            predicted_category=category(top[0][0]), prediction_confidence=top[0][1], prediction_top=top,
            prediction_terms=[["酸了", 1.3], ["压坏", 0.9]], received_at=START + timedelta(minutes=n),
        ))
    return tickets


def shown_id(page) -> str:
    return page.locator("[data-ticket-link]").inner_text()


def test_agent_reviews_20_tickets_with_the_keyboard_alone_without_a_page_load(page, screenshot):
    agent = UserFactory(username="xiaowang", first_name="小王", role="agent", password=PASSWORD)
    make_queue(23)
    log_in(page, "xiaowang")
    page.goto(reverse("review-stream"))
    expect()(page.locator("[data-ticket-link]")).to_have_text(re.compile(r"#\d+"))
    # Highlighted terms, escaped HTML and a masked phone number.
    expect()(page.locator("[data-ticket-text] mark").first).to_have_text("酸了")
    expect()(page.locator("[data-ticket-text]")).to_contain_text("<i>")
    expect()(page.locator("[data-ticket-text]")).to_contain_text("138****5678")
    expect()(page.locator(".review__suggestion")).to_have_count(3)
    screenshot("review-01-start")

    page.evaluate("window.__reviewMarker = 'same page'")
    loads = []
    page.on("load", lambda: loads.append(page.url))

    keys = 0

    def press(key: str) -> None:
        nonlocal keys
        keys += 1
        page.keyboard.press(key)

    def wait_for_next(previous: str) -> None:
        expect()(page.locator("[data-ticket-link]")).not_to_have_text(previous)

    started = time.perf_counter()
    reviewed = 0
    for n in range(20):
        before = shown_id(page)
        if n == 3:
            # Look at the next ticket and come back before deciding.
            press("j"); wait_for_next(before)
            press("k"); expect()(page.locator("[data-ticket-link]")).to_have_text(before)
        if n % 6 == 5:
            press("c")
            expect()(page.locator("[data-all-categories]")).to_be_visible()
            press("ArrowDown")
            press("Enter")
        elif n % 4 == 1:
            press("2")
        else:
            press("Enter")
        wait_for_next(before)
        reviewed += 1
        if n == 9:
            # Undo the last one at once: it comes back on screen, and is confirmed again with Enter.
            undone_id = before
            current = shown_id(page)
            press("u")
            expect()(page.locator("[data-ticket-link]")).to_have_text(undone_id)
            press("Enter")
            wait_for_next(undone_id)
            assert shown_id(page) == current
    # Wait until the server has every confirmation (the page confirms in the background).
    expect()(page.locator("[data-remaining]")).to_have_text("3")
    elapsed = time.perf_counter() - started

    assert page.evaluate("window.__reviewMarker") == "same page"
    assert loads == []
    assert Ticket.objects.filter(triage_status=TriageStatus.CONFIRMED, confirmed_by=agent).count() == 20
    assert CategoryLabel.objects.filter(labelled_by=agent).count() == 20
    # Enter adopted the model's choice; "2" (n = 1, 13; n = 9 was undone and redone with Enter) the
    # second suggestion, and c, ↓, Enter (n = 5, 11, 17) the list's second category, 描述不符.
    differs = Ticket.objects.filter(triage_status=TriageStatus.CONFIRMED).exclude(category=F("predicted_category"))
    assert differs.count() == 5
    assert differs.filter(category__code="description_mismatch").count() >= 3
    screenshot("review-02-after-20")
    print(f"\nreview stream: {reviewed} tickets, {keys} keystrokes ({keys / reviewed:.2f} per ticket), "
          f"{elapsed:.2f} s ({elapsed / reviewed:.3f} s per ticket, UI and server time, no reading time)")


def test_bulk_confirm_after_a_preview(page):
    UserFactory(username="xiaoli", role="agent", password=PASSWORD)
    make_queue(6)  # damaged 0.46 at n = 0, 3
    log_in(page, "xiaoli")
    page.goto(reverse("review-stream"))
    bulk = page.locator("[data-bulk]")
    bulk.locator("select[name=category]").select_option("damaged")
    bulk.locator("input[name=min_confidence]").fill("0.45")
    expect()(bulk.locator("[data-bulk-confirm]")).to_be_disabled()
    bulk.locator("[data-bulk-preview]").click()
    expect()(bulk.locator("[data-bulk-result]")).to_contain_text("2")
    bulk.locator("[data-bulk-confirm]").click()
    expect()(bulk.locator("[data-bulk-result]")).to_contain_text("已批量确认 2")
    expect()(page.locator("[data-remaining]")).to_have_text("4")
    assert Ticket.objects.filter(triage_status=TriageStatus.CONFIRMED, category__code="damaged").count() == 2


@pytest.mark.parametrize(("language", "heading"), [("zh-hans", "确认队列"), ("en", "Review stream")])
def test_review_stream_screens_in_both_languages_and_widths(browser, live_server, language, heading):
    """Screenshots at 1440 and 390 px (var/screenshots/review-*.png); the page reads in the language chosen."""
    from tests.browser.conftest import SCREENSHOT_DIR

    UserFactory(username="xiaozhao", role="agent", password=PASSWORD)
    make_queue(4)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, base_url=live_server.url)
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page = context.new_page()
        log_in(page, "xiaozhao")
        page.goto(reverse("review-stream"))
        expect()(page.get_by_role("heading", name=heading)).to_be_visible()
        expect()(page.locator(".review__suggestion")).to_have_count(3)
        page.keyboard.press("c")
        expect()(page.locator("[data-all-categories]")).to_be_visible()
        page.screenshot(path=str(SCREENSHOT_DIR / f"review-{language}-{width}.png"), full_page=True)
        context.close()
