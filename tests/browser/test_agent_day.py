"""The rest of an agent's day in headless Chromium: search `牛奶 酸`, follow a ticket to its issue,
and watch a new ticket's category and the 待确认 badge arrive without reloading."""
from __future__ import annotations

import pytest
from django.urls import reverse

from feedback.models import Ticket, TriageStatus
from issues.models import Issue
from tests.browser.helpers import PASSWORD, expect, log_in
from tests.factories import ProductFactory, TicketFactory, UserFactory, category, department

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

def test_search_finds_sour_milk_and_the_ticket_links_to_its_issue(page, screenshot):
    UserFactory(username="xiaowang", role="agent", password=PASSWORD)
    milk = ProductFactory(sku="MILK-1L", name="纯牛奶 1L", product_category="乳品")
    issue = Issue.objects.create(
        category=category("damaged"), scope_type="product", scope_key="MILK-1L", title="纯牛奶变质",
        department=department("warehouse"), status="in_progress",
    )
    sour = [
        TicketFactory(text="牛奶收到就酸了，根本不能喝", product=milk, issue=issue, category=category("damaged"),
                      triage_status=TriageStatus.CLASSIFIED),
        TicketFactory(text="这箱牛奶有股酸味 <b>退货</b>", product=milk, issue=issue, category=category("damaged"),
                      triage_status=TriageStatus.CLASSIFIED),
    ]
    TicketFactory(text="牛奶一周还没到", product=milk)
    TicketFactory(text="酸奶的盖子破了")

    log_in(page, "xiaowang")
    page.goto(reverse("ticket-list"))
    page.fill("input[name=q]", "牛奶 酸")
    page.keyboard.press("Enter")
    rows = page.locator("table.tickets tbody tr")
    expect()(rows).to_have_count(2)
    expect()(rows.locator("mark.search-hit").first).to_have_text("牛奶")
    expect()(page.locator("table.tickets")).to_contain_text("<b>退货</b>")  # escaped, not rendered
    expect()(rows.first.locator(".col-issue")).to_contain_text(f"#{issue.pk}")
    screenshot("search-milk-sour")

    # The ticket names its issue, the issue lists the ticket, and ?issue=N filters the list.
    page.goto(reverse("ticket-detail", args=[sour[0].pk]))
    header = page.locator(".ticket-issue")
    expect()(header).to_contain_text(f"#{issue.pk}")
    expect()(header).to_contain_text("处理中")
    expect()(header).to_contain_text("仓储包装部")
    screenshot("ticket-issue-link")
    header.get_by_role("link", name=f"#{issue.pk}").click()
    page.wait_for_url(f"**{reverse('issue-detail', args=[issue.pk])}")
    page.goto(f"{reverse('ticket-list')}?issue={issue.pk}")
    expect()(page.locator("table.tickets tbody tr")).to_have_count(2)

    # A bare ticket number jumps to the ticket.
    page.goto(reverse("ticket-list"))
    page.fill("input[name=q]", str(sour[1].pk))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{reverse('ticket-detail', args=[sour[1].pk])}")


def test_a_new_ticket_shows_its_category_and_the_badge_updates_without_a_reload(page):
    UserFactory(username="xiaoli", role="agent", password=PASSWORD)
    ticket = TicketFactory(text="收到的牛奶胀袋了，闻着发酸")
    log_in(page, "xiaoli")
    page.goto(reverse("ticket-detail", args=[ticket.pk]))
    expect()(page.locator("[data-ticket-status]")).to_have_text("待分类")
    expect()(page.locator("[data-review-count]")).to_be_hidden()
    page.evaluate("window.__liveMarker = 'same page'")

    # What the triage worker writes (the worker itself is not under test here).
    Ticket.objects.filter(pk=ticket.pk).update(
        triage_status=TriageStatus.NEEDS_REVIEW, predicted_category=category("damaged"), prediction_confidence=0.52,
        prediction_top=[["damaged", 0.52], ["quality_defect", 0.3]], prediction_terms=[["发酸", 1.1]],
    )
    expect()(page.locator("[data-ticket-status]")).to_have_text("待人工确认", timeout=15_000)
    expect()(page.locator("#prediction")).to_contain_text("破损变质")
    expect()(page.locator(".suggestion")).to_have_count(2)
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    expect()(page.locator("[data-review-count]")).to_have_text("1")
    assert page.evaluate("window.__liveMarker") == "same page"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_search_and_ticket_issue_screens(browser, live_server, language):
    """Screenshots at 1440 and 390 px of the search results and a ticket with its issue (var/screenshots)."""
    from tests.browser.conftest import SCREENSHOT_DIR

    UserFactory(username="xiaozhou", role="lead", password=PASSWORD)
    milk = ProductFactory(sku="MILK-1L", name="纯牛奶 1L", product_category="乳品")
    issue = Issue.objects.create(
        category=category("damaged"), scope_type="product", scope_key="MILK-1L", title="纯牛奶变质",
        department=department("warehouse"), status="in_progress",
    )
    ticket = TicketFactory(text="牛奶收到就酸了，根本不能喝，电话 13812345678", product=milk, issue=issue,
                           category=category("damaged"), triage_status=TriageStatus.CLASSIFIED,
                           predicted_category=category("damaged"), prediction_confidence=0.83,
                           prediction_top=[["damaged", 0.83], ["quality_defect", 0.1]],
                           prediction_terms=[["酸了", 1.4]])
    TicketFactory(text="这箱牛奶有股酸味", product=milk, issue=issue, category=category("damaged"),
                  triage_status=TriageStatus.CLASSIFIED)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, base_url=live_server.url)
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page = context.new_page()
        log_in(page, "xiaozhou")
        page.goto(reverse("ticket-list") + "?q=牛奶+酸")
        expect()(page.locator("table.tickets tbody tr")).to_have_count(2)
        page.screenshot(path=str(SCREENSHOT_DIR / f"search-{language}-{width}.png"), full_page=True)
        page.goto(reverse("ticket-detail", args=[ticket.pk]))
        expect()(page.locator(".ticket-issue")).to_contain_text(f"#{issue.pk}")
        page.screenshot(path=str(SCREENSHOT_DIR / f"ticket-{language}-{width}.png"), full_page=True)
        context.close()
