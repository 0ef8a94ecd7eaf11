"""The agent flow in real headless Chromium: log in, file a ticket, find it by a Chinese word, switch language."""
import re

import pytest
from django.urls import reverse

from feedback.models import Ticket, TriageStatus
from tests.factories import ProductFactory, TicketFactory, UserFactory, category

# transaction=True: the live server's thread must see what the test writes (conftest's `taxonomy` reseeds).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-1234"


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def log_in(page, username: str) -> None:
    page.goto(reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/$"))


def test_agent_files_a_ticket_finds_it_by_a_chinese_word_and_switches_to_english(page, screenshot):
    UserFactory(username="xiaowang", first_name="小王", role="agent", password=PASSWORD)
    ProductFactory(sku="SH-500", name="去屑洗发水 500ml", product_category="洗护")
    ProductFactory(sku="SH-750", name="柔顺洗发水 750ml", product_category="洗护")
    TicketFactory(text="物流太慢了，一周还没到", triage_status=TriageStatus.CLASSIFIED, category=category("logistics_delay"),
                  prediction_confidence=0.91)
    TicketFactory(text="收到的苹果有好几个烂了", triage_status=TriageStatus.NEEDS_REVIEW,
                  predicted_category=category("damaged"), prediction_confidence=0.48)

    # Log in (the login page is Chinese by default).
    page.goto(reverse("login"))
    expect()(page.get_by_role("heading", name="客诉分诊台")).to_be_visible()
    screenshot("01-login")
    page.fill("#id_username", "xiaowang")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    # Agents land on their review stream (issue 14); the home page is one click away.
    expect()(page.get_by_role("heading", name="确认队列")).to_be_visible()
    page.get_by_role("link", name="客诉分诊台").click()
    expect()(page.get_by_role("heading", name="你好，小王")).to_be_visible()
    screenshot("02-home")

    # An empty complaint is refused next to its field.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="新建工单").click()
    expect()(page.locator("#id_text")).to_be_focused()
    page.get_by_role("button", name="保存", exact=True).click()
    expect()(page.locator(".field__error").first).to_contain_text("投诉内容不能为空")
    screenshot("03-new-ticket-error")

    # File a ticket; the product comes from the autocomplete.
    page.fill("#id_text", "洗发水漏液了，整个快递盒都湿了。请尽快回电 13812345678")
    page.select_option("#id_channel", "phone")
    page.locator("#id_product").press_sequentially("洗发水", delay=30)
    expect()(page.locator("#product-options option")).to_have_count(2)
    page.fill("#id_product", "SH-500")
    page.fill("#id_order_number", "DD20241111001")
    screenshot("04-new-ticket-filled")
    page.get_by_role("button", name="保存", exact=True).click()

    ticket = Ticket.objects.get(order_number="DD20241111001")
    page.wait_for_url(f"**{reverse('ticket-detail', args=[ticket.pk])}")
    expect()(page.locator(".message--success")).to_contain_text(f"工单 #{ticket.pk} 已保存")
    # The filer sees the whole phone number.
    expect()(page.locator(".ticket-text")).to_contain_text("13812345678")
    expect()(page.locator(".meta")).to_contain_text("去屑洗发水 500ml")
    screenshot("05-ticket-detail")
    assert ticket.product.sku == "SH-500"
    assert ticket.channel == "phone"

    # Find it by searching a Chinese word.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工单", exact=True).click()
    page.fill("input[name=q]", "漏液")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=%E6%BC%8F%E6%B6%B2"))
    rows = page.locator("table.tickets tbody tr")
    expect()(rows).to_have_count(1)
    expect()(rows.first).to_contain_text("洗发水漏液了")
    # The list masks phone numbers, even for the filer.
    expect()(rows.first).to_contain_text("138****5678")
    screenshot("06-search-chinese")

    # Switch to English: the same page comes back in English.
    page.get_by_role("button", name="EN").click()
    navigation = page.get_by_role("navigation", name="Main navigation")
    expect()(navigation.get_by_role("link", name="New ticket")).to_be_visible()
    expect()(navigation.get_by_role("link", name="Tickets", exact=True)).to_be_visible()
    expect()(page.locator("table.tickets thead")).to_contain_text("Received")
    assert page.locator("input[name=q]").input_value() == "漏液"
    screenshot("07-search-english")

    # The full list in English, with categories and confidence.
    navigation.get_by_role("link", name="Tickets", exact=True).click()
    expect()(page.locator("table.tickets tbody tr")).to_have_count(3)
    screenshot("08-list-english")

    # Logging out keeps the language for the login page.
    page.get_by_role("button", name="Log out").click()
    expect()(page.get_by_role("button", name="Log in")).to_be_visible()
    screenshot("09-login-english")


def test_another_agent_sees_the_prediction_and_a_masked_phone_number(page, screenshot):
    filer = UserFactory(username="filer", role="agent", password=PASSWORD)
    UserFactory(username="xiaoli", role="agent", password=PASSWORD)
    ticket = TicketFactory(
        text="<b>收到的苹果</b>有好几个烂了，箱子也压坏了。联系电话 139-1234-5678",
        filed_by=filer,
        product=ProductFactory(sku="FR-APPLE-5", name="烟台红富士苹果 5斤", product_category="水果"),
        triage_status=TriageStatus.NEEDS_REVIEW,
        predicted_category=category("damaged"),
        prediction_confidence=0.48,
        prediction_top=[["damaged", 0.48], ["quality_defect", 0.27], ["logistics_delay", 0.11]],
        prediction_terms=[["烂了", 1.42], ["压坏", 0.97], ["苹果", 0.31], ["箱子", -0.12]],
        model_version="tfidf-lr-2024.11",
    )

    log_in(page, "xiaoli")
    page.goto(reverse("ticket-detail", args=[ticket.pk]))

    text = page.locator(".ticket-text")
    expect()(text).to_contain_text("139****5678")
    expect()(text).not_to_contain_text("1234-5678")
    # HTML in a complaint is shown as text, never rendered.
    expect()(text).to_contain_text("<b>收到的苹果</b>")
    expect()(page.locator(".suggestion")).to_have_count(3)
    expect()(page.locator(".terms")).to_contain_text("烂了")
    screenshot("10-ticket-detail-prediction")
