"""Selecting tickets in the review stream with x and confirming them with one click, in Chromium."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from feedback.models import Ticket, TriageStatus
from tests.browser.helpers import PASSWORD, expect, log_in
from tests.browser.test_review_stream import make_queue
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("language", "width", "done"), [("zh-hans", 1440, "已确认所选的 3 张工单"),
                                                         ("en", 390, "Confirmed the 3 selected tickets")])
def test_an_agent_selects_three_tickets_and_confirms_them_at_once(browser, live_server, language, width, done):
    from tests.browser.conftest import SCREENSHOT_DIR

    UserFactory(username="xiaowang", first_name="小王", role="agent", password=PASSWORD)
    make_queue(5)
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=live_server.url)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    log_in(page, "xiaowang")
    page.goto(reverse("review-stream"))
    link = page.locator("[data-ticket-link]")
    expect()(link).to_have_text(re.compile(r"#\d+"))
    chosen = []
    for step in range(3):
        chosen.append(int(link.inner_text().lstrip("#")))
        page.keyboard.press("x")
        expect()(page.locator("[data-selected-mark]")).to_be_visible()
        page.keyboard.press("j")
        expect()(link).not_to_have_text(f"#{chosen[-1]}")
    page.keyboard.press("k")
    page.keyboard.press("x")  # unselect the third again ...
    expect()(page.locator("[data-selected-mark]")).to_be_hidden()
    page.keyboard.press("x")  # ... and select it back
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"review-selected-{language}-{width}.png"), full_page=width == 390)

    page.locator("[data-selected-confirm]").click()

    expect()(page.locator("[data-selected-result]")).to_contain_text(done)
    expect()(page.locator("[data-remaining]")).to_have_text("2")
    expect()(link).to_be_visible()
    assert int(link.inner_text().lstrip("#")) not in chosen
    statuses = set(Ticket.objects.filter(pk__in=chosen).values_list("triage_status", flat=True))
    assert statuses == {TriageStatus.CONFIRMED}
    context.close()
