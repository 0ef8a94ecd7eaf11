"""Saved views in headless Chromium: save the list's filters, find them in the sidebar, open, delete."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import SavedView
from tests.browser.helpers import PASSWORD, expect, log_in
from tests.factories import TicketFactory, UserFactory, category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_agent_saves_opens_and_deletes_a_view(browser, live_server, language):
    from tests.browser.conftest import SCREENSHOT_DIR

    agent = UserFactory(username="xiaochen", role="agent", password=PASSWORD)
    UserFactory(username="xiaoqian", role="agent", password=PASSWORD)
    SavedView.objects.create(owner=agent, name="电话 · 待确认", filters={"channel": "phone", "triage_status": "needs_review"})
    TicketFactory(text="杯子碎了，包装压扁", category=category("damaged"))
    TicketFactory(text="快递太慢", channel="phone")
    today = timezone.localdate().isoformat()
    filters = f"?channel=chat&category=damaged&received_from={today}&received_to={today}"
    name = "在线客服 · 今天 · 破损变质" if language == "zh-hans" else "Online chat · Today · Damaged or spoiled"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, base_url=live_server.url)
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page, "xiaochen")
        page.goto(reverse("ticket-list") + filters)
        expect()(page.locator("#saved-view-name")).to_have_attribute("placeholder", name)
        page.locator(".saved-views__save button").click()  # no name typed: named after its filters
        current = page.locator(".saved-views__item.is-current a")
        expect()(current).to_have_text(name)
        expect()(page.locator("table.tickets tbody tr")).to_have_count(1)
        shot = SCREENSHOT_DIR / f"saved-views-{language}-{width}.png"
        page.screenshot(path=str(shot), full_page=width == 390)
        # Another view from the sidebar, then back to the saved one.
        page.locator(".saved-views__item a", has_text="电话").click()
        expect()(page.locator("#id_channel")).to_have_value("phone")
        page.locator(".saved-views__item a", has_text=name).click()
        expect()(page.locator("#id_category")).to_have_value("damaged")
        # Deleting leaves the other view.
        page.locator(".saved-views__item", has_text=name).locator("button").click()
        expect()(page.locator(".saved-views__item")).to_have_count(1)
        context.close()
    # The other agent's sidebar stays empty.
    assert not SavedView.objects.filter(owner__username="xiaoqian").exists()
    assert list(SavedView.objects.filter(owner=agent).values_list("name", flat=True)) == ["电话 · 待确认"]
