"""Presence in headless Chromium: an agent reviewing a ticket in the stream, a second agent opens it
and is told; when the first moves on to the next ticket, the second is told that too."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from feedback.models import TriageStatus
from tests.browser.helpers import PASSWORD, expect, log_in
from tests.factories import TicketFactory, UserFactory, category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOP = [["damaged", 0.46], ["quality_defect", 0.41], ["logistics_delay", 0.08]]


@pytest.mark.parametrize(("language", "width", "told"), [("zh-hans", 1440, "小王 也打开了这张工单"),
                                                         ("en", 390, "小王 also has this ticket open")])
def test_a_second_agent_sees_who_is_reviewing_the_ticket(browser, live_server, language, width, told):
    from tests.browser.conftest import SCREENSHOT_DIR

    UserFactory(username="xiaowang", first_name="小王", role="agent", password=PASSWORD)
    UserFactory(username="xiaoli", role="agent", password=PASSWORD)
    for n in range(2):
        TicketFactory(text=f"第{n}单：牛奶收到就酸了", triage_status=TriageStatus.NEEDS_REVIEW,
                      predicted_category=category("damaged"), prediction_confidence=0.46, prediction_top=TOP)
    contexts = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": width, "height": 800}, base_url=live_server.url)
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        contexts.append(context)
    reviewer, second = (context.new_page() for context in contexts)
    log_in(reviewer, "xiaowang")
    reviewer.goto(reverse("review-stream"))
    expect()(reviewer.locator("[data-ticket-link]")).to_have_text(re.compile(r"#\d+"))
    on_screen = int(reviewer.locator("[data-ticket-link]").inner_text().lstrip("#"))
    expect()(reviewer.locator("[data-presence]")).to_be_hidden()  # nobody else yet

    log_in(second, "xiaoli")
    second.goto(reverse("ticket-detail", args=[on_screen]))
    expect()(second.locator("[data-presence]")).to_contain_text(told)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    second.screenshot(path=str(SCREENSHOT_DIR / f"presence-{language}-{width}.png"), full_page=False)

    reviewer.keyboard.press("j")  # the reviewer moves on: their next report is for the next ticket
    expect()(reviewer.locator("[data-ticket-link]")).not_to_have_text(f"#{on_screen}")
    second.reload()
    expect()(second.locator("[data-presence]")).to_be_hidden(timeout=5000)
    for context in contexts:
        context.close()
