"""A department lead works the queue end to end in real headless Chromium.

The spiking issue is made the way production makes it: tickets grouped by the
backend's services, then spike detection. The lead sees it on top of the queue,
acknowledges it with a bulk action, resolves it with the action taken, and sees
it resolved with the action on the issue page and in the library.
"""
from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from feedback.models import TriageStatus
from issues.models import Issue, IssueStatus
from tests.factories import ProductFactory, TicketFactory, UserFactory, category, department

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_issue_tasks")]

# Playwright's sync API runs an event loop on this thread; Django's ORM must still be usable from the test.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PASSWORD = "pass-1234"


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def file_tickets(*, product, code: str, per_day: dict[int, int], text: str) -> None:
    """Save classified tickets (``per_day`` maps days ago to a count) and group them with the backend services."""
    from issues.services import routing_inline, tickets_attach

    now = timezone.now()
    ids = []
    for days_ago, count in per_day.items():
        for n in range(count):
            ticket = TicketFactory(
                text=f"{text}（{days_ago}-{n}）", product=product, sku_raw=product.sku, category=category(code),
                triage_status=TriageStatus.CLASSIFIED, prediction_confidence=0.93,
                received_at=now - timedelta(days=days_ago, minutes=n),
            )
            ids.append(ticket.pk)
    with routing_inline():
        tickets_attach(ticket_ids=ids)


@pytest.fixture
def spiking_logistics_issue(db) -> Issue:
    from issues.services import issues_spikes_detect

    oranges = ProductFactory(sku="FR-1001", name="赣南脐橙 5斤装", product_category="水果")
    shirts = ProductFactory(sku="CL-2001", name="纯棉T恤", product_category="服饰")
    # A big, steady issue: more tickets this week than the spike, but no jump.
    file_tickets(product=shirts, code="logistics_delay", per_day={d: 3 for d in range(0, 8)}, text="T恤发货太慢")
    # One ticket a day, then nine today: a spike.
    file_tickets(product=oranges, code="logistics_delay", per_day={0: 9, **{d: 1 for d in range(1, 8)}},
                 text="橙子五天还没到，物流太慢了，联系 13812345678")
    started, _ = issues_spikes_detect()
    issue = Issue.objects.get(category__code="logistics_delay", scope_key="水果")
    assert started == [issue.pk] and issue.department.code == "logistics"
    return issue


def log_in(page, username: str) -> None:
    page.goto(reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/$"))


def test_a_lead_sees_the_spiking_issue_first_acknowledges_and_resolves_it(page, screenshot, spiking_logistics_issue):
    UserFactory(username="lead_logistics", first_name="物流王", role=Role.LEAD, department=department("logistics"),
                password=PASSWORD)
    issue = spiking_logistics_issue
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The queue: the spiking issue is on top, flagged, with its counts and sparkline.
    log_in(page, "lead_logistics")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的队列").click()
    page.wait_for_url(f"**{reverse('department-queue')}")
    rows = page.locator("#queue-table tbody tr")
    expect()(rows).to_have_count(2)
    top = rows.first
    expect()(top).to_contain_text("水果")
    expect()(top.locator(".flag--spiking")).to_be_visible()
    expect()(top.locator("svg.sparkline")).to_be_visible()
    screenshot("issues_flow_01_queue")

    # Acknowledge it with a bulk action: the buttons come alive once an issue is ticked.
    acknowledge = page.get_by_role("button", name="确认", exact=True)
    expect()(acknowledge).to_be_disabled()
    top.locator('input[name="issue_ids"]').check()
    expect()(page.locator("[data-bulk-count]")).to_have_text("已选 1 个")
    acknowledge.click()
    expect()(page.locator(".message--success")).to_contain_text("1 个问题已更新")
    expect()(rows.first.locator(".status")).to_have_text("已确认")
    issue.refresh_from_db()
    assert issue.status == IssueStatus.ACKNOWLEDGED

    # The issue page: the daily chart is drawn by Chart.js, the phone number is masked.
    rows.first.locator("a.issue-title").click()
    page.wait_for_url(f"**{reverse('issue-detail', args=[issue.pk])}")
    expect()(page.locator("#issue-status")).to_have_text("已确认")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('issue-chart'))")
    expect()(page.locator("#recent-tickets")).to_contain_text("138****5678")
    expect()(page.locator("#recent-tickets")).not_to_contain_text("13812345678")

    # Resolving without saying what was done is refused, next to the field.
    resolve = page.locator("#resolve-form")
    resolve.get_by_role("button", name="解决").click()
    expect()(resolve.locator(".field__error")).to_contain_text("解决问题时必须填写采取的措施")
    expect()(page.locator("#issue-status")).to_have_text("已确认")

    # Resolve with the action taken and its date.
    action_day = timezone.localdate() - timedelta(days=1)
    page.locator("#resolve-form textarea[name=action_taken]").fill("开通同城半日达")
    page.locator("#resolve-form input[name=action_date]").fill(action_day.isoformat())
    page.locator("#resolve-form textarea[name=note]").fill("与顺丰签约，水果订单当日发出")
    page.locator("#resolve-form").get_by_role("button", name="解决").click()

    expect()(page.locator(".message--success")).to_contain_text("已解决")
    expect()(page.locator("#issue-status")).to_have_text("已解决")
    expect()(page.locator("#action-taken")).to_contain_text("开通同城半日达")
    expect()(page.locator("#action-taken")).to_contain_text(action_day.isoformat())
    expect()(page.locator("#activity")).to_contain_text("物流王")
    expect()(page.locator("#activity")).to_contain_text("措施：开通同城半日达")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('issue-chart'))")
    screenshot("issues_flow_02_detail_resolved")
    issue.refresh_from_db()
    assert (issue.status, issue.action_taken, issue.action_date) == (IssueStatus.RESOLVED, "开通同城半日达", action_day)

    # The queue no longer holds it; the library lists it as resolved.
    page.goto(reverse("department-queue"))
    expect()(page.locator("#queue-table tbody tr")).to_have_count(1)
    expect()(page.locator("#queue-table")).not_to_contain_text("水果")
    page.goto(reverse("issue-library") + "?status=resolved")
    resolved = page.locator("#library-table tbody tr")
    expect()(resolved).to_have_count(1)
    expect()(resolved.first).to_contain_text("水果")
    expect()(resolved.first.locator(".status")).to_have_text("已解决")
    screenshot("issues_flow_03_library_resolved")

    assert errors == []
