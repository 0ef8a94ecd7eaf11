"""A team's day in headless Chromium: the lead lands on the queue with the spike on top, hands the spike to a
member of the team; the member finds it under 分配给我, works and resolves it, and the impact card says 测量中.

Screenshots (1440 and 390 px, Chinese and English) go to var/screenshots/team_*.png (SCREENSHOT_DIR in conftest).
"""
from __future__ import annotations

import os
import re

import pytest
from django.urls import reverse

from accounts.models import Role
from issues.models import Issue, IssueStatus
from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.test_lead_day import lead_queue  # noqa: F401 (fixture)
from tests.browser.test_lead_flow import PASSWORD, expect, log_in
from tests.factories import UserFactory, department

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_issue_tasks")]

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def shoot(page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOT_DIR / f"team_{name}_{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def english_page(browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    return context, page


def test_the_lead_lands_on_the_queue_with_the_spike_on_top_and_hands_it_to_a_team_member(
        browser, live_server, page, lead_queue):
    UserFactory(username="lead_logistics", first_name="陈立", role=Role.LEAD, department=department("logistics"),
                password=PASSWORD)
    member = UserFactory(username="wuliu_agent", first_name="何静", role=Role.AGENT,
                         department=department("logistics"), password=PASSWORD)
    outsider = UserFactory(username="cangchu_agent", role=Role.AGENT, department=department("warehouse"),
                           password=PASSWORD)
    oranges = lead_queue["水果"]

    # Logging in is enough: the lead lands on their own queue, the spike on top with its reason.
    log_in(page, "lead_logistics")
    assert page.url.endswith(reverse("department-queue"))
    top = page.locator("#queue-table tbody tr").first
    expect()(top).to_contain_text("水果")
    expect()(top.locator("[data-priority-reason]")).to_contain_text("激增 ×")
    expect()(page.locator("[data-team]")).to_contain_text("何静")
    expect()(page.locator("[data-queue-view=mine]")).to_contain_text("分配给我")
    shoot(page, "lead_queue_zh")

    # The spike goes to 何静: only the department's team is offered.
    top.locator("a.issue-title").click()
    page.wait_for_url(f"**{reverse('issue-detail', args=[oranges.pk])}")
    choices = page.locator("#assign-form select[name=assignee] option")
    expect()(choices.filter(has_text="何静 (wuliu_agent)")).to_have_count(1)
    expect()(choices.filter(has_text="cangchu_agent")).to_have_count(0)
    page.locator("#assign-form select[name=assignee]").select_option(str(member.pk))
    page.locator("#assign-form button[type=submit]").click()
    expect()(page.locator(".messages")).to_contain_text("已指派给 wuliu_agent")
    oranges.refresh_from_db()
    assert oranges.assignee == member and outsider.pk != member.pk
    shoot(page, "issue_assigned_zh")

    # The member: 分配给我 lists the spike; they start it and resolve it with the fix.
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", base_url=live_server.url)
    try:
        agent = context.new_page()
        agent.set_default_timeout(10_000)
        log_in(agent, "wuliu_agent")
        agent.goto(reverse("department-queue"))
        agent.locator("[data-queue-view=mine]").click()
        rows = agent.locator("#queue-table tbody tr")
        expect()(rows).to_have_count(1)
        expect()(rows.first).to_contain_text("水果")
        shoot(agent, "member_assigned_to_me_zh")
        rows.first.locator("a.issue-title").click()
        agent.locator('[data-transition="in_progress"]').click()
        expect()(agent.locator(".messages")).to_contain_text("处理中")
        agent.locator("#resolve-form [name=action_taken]").fill("改走顺丰次日达")
        agent.locator("#resolve-form button[type=submit]").click()
        expect()(agent.locator(".messages")).to_contain_text("已解决")
        expect()(agent.locator("[data-impact-pending]")).to_contain_text("测量中")
        shoot(agent, "resolved_measuring_zh")
    finally:
        context.close()
    oranges.refresh_from_db()
    assert (oranges.status, oranges.resolved_by) == (IssueStatus.RESOLVED, member)

    # The same pages in English.
    context, en = english_page(browser, live_server, "lead_logistics")
    try:
        assert en.url.endswith(reverse("department-queue"))
        expect()(en.locator("[data-queue-view=mine]")).to_contain_text("Assigned to me")
        expect()(en.locator("[data-queue-count]")).to_contain_text(re.compile(r"\d+ in this view"))
        shoot(en, "lead_queue_en")
        other = Issue.objects.get(category__code="logistics_delay", scope_key="服饰")
        en.goto(reverse("issue-detail", args=[other.pk]))
        en.locator("#assign-form select[name=assignee]").select_option(str(member.pk))
        en.locator("#assign-form button[type=submit]").click()
        expect()(en.locator(".messages")).to_contain_text("wuliu_agent")
        shoot(en, "issue_assigned_en")
        en.goto(reverse("issue-detail", args=[oranges.pk]))
        expect()(en.locator("[data-impact-pending]")).to_contain_text("Measuring")
        shoot(en, "resolved_measuring_en")
    finally:
        context.close()
