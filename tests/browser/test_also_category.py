"""也涉及 in real headless Chromium: the model proposes a second complaint, an agent confirms it with one
click (ticket page, review stream), and the issue library filters by it without counting it twice.

Screenshots (var/screenshots/also_*.png): the ticket page with the proposal and the library filter,
at 1440 and 390 px, in Chinese and English; neither page scrolls sideways at 390 px.
"""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from feedback.models import Ticket, TriageStatus
from issues.models import Issue
from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.helpers import PASSWORD, expect, log_in
from tests.factories import ProductFactory, TicketFactory, UserFactory, category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_issue_tasks")]

CLOSE = [["counterfeit", 0.48], ["damaged", 0.36], ["quality_defect", 0.08]]


def fake_shoes(count: int, **fields) -> list[Ticket]:
    from issues.services import routing_inline, tickets_attach

    shoes = ProductFactory(sku="SHOE-42", name="轻跑鞋 42码", product_category="鞋靴")
    tickets = [TicketFactory(
        text=f"鞋标歪的像假货，鞋底也裂了 {n}", product=shoes, sku_raw="SHOE-42", category=category("counterfeit"),
        predicted_category=category("counterfeit"), prediction_confidence=0.48, prediction_top=CLOSE,
        triage_status=TriageStatus.CLASSIFIED, **fields,
    ) for n in range(count)]
    with routing_inline():
        tickets_attach(ticket_ids=[t.pk for t in tickets])
    return tickets


def test_an_agent_confirms_the_proposal_and_the_library_filters_without_counting_twice(browser, live_server):
    UserFactory(username="xiaowang", role="agent", password=PASSWORD)
    UserFactory(username="jingli", role="manager", password=PASSWORD)
    tickets = fake_shoes(3)
    waiting = TicketFactory(text="包装破了，东西像是仿的", triage_status=TriageStatus.NEEDS_REVIEW,
                            predicted_category=category("counterfeit"), prediction_confidence=0.48,
                            prediction_top=CLOSE)
    issue = Issue.objects.get(category__code="counterfeit")
    counted = issue.ticket_count

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, "xiaowang")

    # The ticket page proposes the close runner-up; one click records it.
    page.goto(reverse("ticket-detail", args=[tickets[0].pk]))
    suggestion = page.locator("[data-also-suggestion]")
    expect()(suggestion).to_contain_text("也涉及：破损变质？")
    suggestion.get_by_role("button", name="是，也涉及").click()
    expect()(page.locator("[data-also-category]")).to_contain_text("也涉及“破损变质”（xiaowang）")
    expect()(page.locator("[data-also-suggestion]")).to_have_count(0)
    assert Ticket.objects.get(pk=tickets[0].pk).also_category == category("damaged")

    # The review stream's chip records it for the ticket on screen, which stays waiting for its category.
    page.goto(reverse("review-stream"))
    expect()(page.locator("[data-ticket-link]")).to_have_text(f"#{waiting.pk}")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "also_review_zh_1440.png"), full_page=True)
    page.get_by_role("button", name="也涉及：破损变质？").click()
    expect()(page.locator("[data-also] .tag")).to_have_text("也涉及：破损变质")
    expect()(page.locator("[data-status]")).to_contain_text(f"已记录 #{waiting.pk} 也涉及“破损变质”")
    waiting.refresh_from_db()
    assert waiting.also_category == category("damaged") and waiting.triage_status == TriageStatus.NEEDS_REVIEW
    context.close()

    # A manager filters the library: the issue is listed with 1 ticket also about damage, its counts unchanged.
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, "jingli")
    page.goto(reverse("issue-library"))
    page.select_option("#id_also", "damaged")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"also=damaged"))
    expect()(page.locator("[data-also-summary]")).to_contain_text("也涉及破损变质：1 张工单")
    expect()(page.locator("#library-table tbody tr")).to_have_count(1)
    expect()(page.locator("#library-table td.col-also")).to_have_text("1")
    issue.refresh_from_db()
    assert issue.ticket_count == counted == 3
    # The summary's link lists those tickets (the waiting one has no issue yet, but is also about damage).
    page.locator("[data-also-summary] a").click()
    expect()(page.locator("table.tickets tbody tr")).to_have_count(2)
    context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_screenshots_of_the_proposal_and_the_filter_fit_1440_and_390_px(browser, live_server, locale):
    UserFactory(username="xiaowang", role="agent", password=PASSWORD)
    tickets = fake_shoes(2)
    Ticket.objects.filter(pk=tickets[1].pk).update(also_category=category("damaged"))
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    language = locale[:2]
    wide = []
    for width in (1440, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale, base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(30_000)
        log_in(page, "xiaowang")
        for name, url in (("ticket", reverse("ticket-detail", args=[tickets[0].pk])),
                          ("library", reverse("issue-library") + "?also=damaged")):
            page.goto(url)
            marker = "[data-also-suggestion]" if name == "ticket" else "[data-also-summary]"
            expect()(page.locator(marker)).to_be_visible()
            page.screenshot(path=str(SCREENSHOT_DIR / f"also_{name}_{language}_{width}.png"), full_page=True)
            if (scroll := page.evaluate("document.documentElement.scrollWidth")) > width:
                wide.append(f"{url} is {scroll} px wide at {width}")
        context.close()
    assert not wide, wide
