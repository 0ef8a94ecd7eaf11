"""A lead manages their team in headless Chromium: adds an agent, is refused removing one who holds an open
issue, removes the newcomer; the member finds 分配给我 in the (folded) navigation on a phone.

Screenshots (1440 and 390 px, Chinese and English) go to var/screenshots/team_page_*.png.
"""
from __future__ import annotations

import os

import pytest
from django.urls import reverse

from accounts.models import Role
from issues.models import IssueStatus
from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.helpers import PASSWORD, expect, log_in
from tests.factories import UserFactory, department
from tests.issues.conftest import make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_issue_tasks")]

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture
def team(db):
    logistics = department("logistics")
    lead = UserFactory(username="lead_logistics", first_name="陈立", role=Role.LEAD, department=logistics,
                       password=PASSWORD)
    member = UserFactory(username="wuliu_agent", first_name="何静", role=Role.AGENT, department=logistics,
                         password=PASSWORD)
    UserFactory(username="new_agent", first_name="周敏", role=Role.AGENT, password=PASSWORD)
    issue = make_ticket(code="logistics_delay").issue
    issue.department, issue.assignee, issue.status = logistics, member, IssueStatus.IN_PROGRESS
    issue.save()
    return {"lead": lead, "member": member, "issue": issue}


def shoot(page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} at {width} px"
        page.screenshot(path=str(SCREENSHOT_DIR / f"team_page_{name}_{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_lead_adds_and_removes_agents_and_the_member_finds_their_issues(browser, live_server, page, team):
    log_in(page, "lead_logistics")
    page.locator("[data-manage-team]").click()
    page.wait_for_url(f"**{reverse('department-team', args=['logistics'])}")
    expect()(page.locator("[data-member=wuliu_agent]")).to_contain_text("1")

    page.locator("#team-add-user").select_option(label="周敏 (new_agent)")
    page.locator("#team-add-form button[type=submit]").click()
    expect()(page.locator(".messages")).to_contain_text("已将 周敏 加入团队。")
    expect()(page.locator("[data-member=new_agent]")).to_be_visible()

    page.locator("[data-remove=wuliu_agent]").click()
    expect()(page.locator(".messages")).to_contain_text(f"#{team['issue'].pk}")
    expect()(page.locator("[data-member=wuliu_agent]")).to_be_visible()
    shoot(page, "refused_zh")

    page.locator("[data-remove=new_agent]").click()
    expect()(page.locator(".messages")).to_contain_text("已将 周敏 移出团队。")
    expect()(page.locator("[data-member=new_agent]")).to_have_count(0)

    # In English, on a phone.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", base_url=live_server.url)
    try:
        english = context.new_page()
        log_in(english, "lead_logistics")
        english.goto(reverse("department-team", args=["logistics"]))
        expect()(english.locator("h1")).to_contain_text("Logistics · Team")
        expect()(english.locator("#team-add")).to_contain_text("Add an agent")
        shoot(english, "en")
    finally:
        context.close()

    # The member, on a phone: 分配给我 is in the menu and lists the issue.
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", base_url=live_server.url)
    try:
        phone = context.new_page()
        log_in(phone, "wuliu_agent")
        phone.locator("[data-menu-toggle]").click()
        phone.locator("[data-nav-mine]").click()
        phone.wait_for_url("**/queue/?view=mine")
        expect()(phone.locator("#queue-table")).to_contain_text(team["issue"].title.split(" · ")[0])
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(SCREENSHOT_DIR / "team_page_member_mine_zh_390.png"), full_page=True)
    finally:
        context.close()
