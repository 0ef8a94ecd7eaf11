"""A lead adds agents to their own department's team and removes them (admins for every department);
an agent who still holds open issues is not removed. Member agents find 分配给我 in the navigation."""
from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Role
from accounts.permissions import team_can_manage
from issues.models import IssueStatus
from tests.factories import UserFactory
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


def people():
    logistics = department("logistics")
    return {
        "lead": UserFactory(username="lead_logistics", role=Role.LEAD, department=logistics),
        "other_lead": UserFactory(username="lead_warehouse", role=Role.LEAD, department=department("warehouse")),
        "lost_lead": UserFactory(username="lead_nowhere", role=Role.LEAD),
        "member": UserFactory(username="member", role=Role.AGENT, department=logistics),
        "newcomer": UserFactory(username="newcomer", role=Role.AGENT),
        "elsewhere": UserFactory(username="elsewhere", role=Role.AGENT, department=department("warehouse")),
        "manager": UserFactory(username="manager", role=Role.MANAGER, department=logistics),
        "admin": UserFactory(username="admin", role=Role.ADMIN),
        "root": UserFactory(username="root", role=Role.AGENT, is_superuser=True),
    }


@pytest.mark.parametrize("who, allowed", [
    ("lead", True), ("other_lead", False), ("lost_lead", False), ("member", False), ("manager", False),
    ("admin", True), ("root", True),
])
def test_only_the_departments_lead_and_admins_manage_its_team(who, allowed):
    assert team_can_manage(people()[who], department("logistics").pk) is allowed


def test_nobody_manages_the_team_of_no_department():
    assert team_can_manage(people()["admin"], None) is False


@pytest.mark.parametrize("who, status", [
    ("lead", 200), ("admin", 200), ("other_lead", 403), ("member", 403), ("manager", 403),
])
def test_the_team_page_opens_for_those_who_manage_it(client, who, status):
    client.force_login(people()[who])
    assert client.get(reverse("department-team", args=["logistics"])).status_code == status


def test_the_team_page_needs_a_login_and_a_real_department(client):
    assert client.get(reverse("department-team", args=["logistics"])).status_code == 302
    client.force_login(people()["admin"])
    assert client.get(reverse("department-team", args=["no-such-department"])).status_code == 404


def post(client, action: str, user) -> list[str]:
    response = client.post(reverse("department-team", args=["logistics"]),
                           {"action": action, "user": getattr(user, "pk", user)})
    assert response.status_code == 302
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_lead_adds_an_agent_in_no_department(client):
    cast = people()
    client.force_login(cast["lead"])
    page = client.get(reverse("department-team", args=["logistics"])).content.decode()
    assert f'<option value="{cast["newcomer"].pk}">' in page
    assert f'<option value="{cast["elsewhere"].pk}">' not in page  # someone else's team member
    assert post(client, "add", cast["newcomer"]) == ["已将 newcomer 加入团队。"]
    cast["newcomer"].refresh_from_db()
    assert cast["newcomer"].department == department("logistics")


@pytest.mark.parametrize("who, message", [
    ("elsewhere", "elsewhere 属于其他部门，需先由该部门移出。"),
    ("member", "member 已经是本部门成员。"),
    ("manager", "manager 已经是本部门成员。"),
    ("lost_lead", "只能添加在职的客服专员。"),
])
def test_a_lead_cannot_add_someone_elses_member_or_a_non_agent(client, who, message):
    cast = people()
    before = cast[who].department_id
    client.force_login(cast["lead"])
    assert post(client, "add", cast[who]) == [message]
    cast[who].refresh_from_db()
    assert cast[who].department_id == before


def test_an_inactive_agent_is_not_added(client):
    cast = people()
    cast["newcomer"].is_active = False
    cast["newcomer"].save()
    client.force_login(cast["lead"])
    assert post(client, "add", cast["newcomer"]) == ["只能添加在职的客服专员。"]
    cast["newcomer"].refresh_from_db()
    assert cast["newcomer"].department_id is None


@pytest.mark.parametrize("action, who", [("add", "newcomer"), ("remove", "elsewhere")])
def test_a_lead_changes_no_other_departments_team(client, action, who):
    cast = people()
    client.force_login(cast["lead"])
    response = client.post(reverse("department-team", args=["warehouse"]), {"action": action, "user": cast[who].pk})
    assert response.status_code == 403
    cast[who].refresh_from_db()
    assert cast[who].department_id == (None if who == "newcomer" else department("warehouse").pk)


def test_an_admin_changes_any_departments_team(client):
    cast = people()
    client.force_login(cast["admin"])
    response = client.post(reverse("department-team", args=["warehouse"]),
                           {"action": "remove", "user": cast["elsewhere"].pk})
    assert response.status_code == 302
    cast["elsewhere"].refresh_from_db()
    assert cast["elsewhere"].department_id is None


@pytest.mark.parametrize("status, removed", [
    (IssueStatus.NEW, False), (IssueStatus.ACKNOWLEDGED, False), (IssueStatus.IN_PROGRESS, False),
    (IssueStatus.REGRESSED, False),
    (IssueStatus.RESOLVED, True), (IssueStatus.CLOSED, True), (IssueStatus.IGNORED, True),
])
def test_an_agent_holding_open_issues_is_not_removed(client, status, removed):
    cast = people()
    issue = make_ticket(code="logistics_delay").issue
    issue.department, issue.assignee, issue.status = department("logistics"), cast["member"], status
    issue.save()
    client.force_login(cast["lead"])
    messages = post(client, "remove", cast["member"])
    cast["member"].refresh_from_db()
    if removed:
        assert messages == ["已将 member 移出团队。"] and cast["member"].department_id is None
    else:
        assert messages == [f"member 还有 1 个未关闭的问题（#{issue.pk}），请先改派给其他成员再移出。"]
        assert cast["member"].department_id == department("logistics").pk
        issue.refresh_from_db()
        assert issue.assignee == cast["member"]  # nothing was unassigned behind the lead's back


def test_the_team_page_says_how_many_open_issues_each_member_holds(client):
    cast = people()
    issue = make_ticket(code="logistics_delay").issue
    issue.department, issue.assignee, issue.status = department("logistics"), cast["member"], IssueStatus.IN_PROGRESS
    issue.save()
    client.force_login(cast["lead"])
    page = client.get(reverse("department-team", args=["logistics"])).content.decode()
    row = page[page.index('data-member="member"'):]
    assert '<td class="col-num" data-label="未关闭的指派问题">1</td>' in row[:row.index("</tr>")]


@pytest.mark.parametrize("who, message", [
    ("lead", "这里只能移出客服专员；负责人由管理员在后台调整。"),
    ("elsewhere", "elsewhere 不是本部门成员。"),
])
def test_leads_and_other_teams_members_are_not_removed_here(client, who, message):
    cast = people()
    before = cast[who].department_id
    client.force_login(cast["admin"])
    assert post(client, "remove", cast[who]) == [message]
    cast[who].refresh_from_db()
    assert cast[who].department_id == before


@pytest.mark.parametrize("data, message", [
    ({"action": "add", "user": "abc"}, "请选择一位成员。"),
    ({"action": "add", "user": "99999999999999"}, "请选择一位成员。"),
    ({"action": "add"}, "请选择一位成员。"),
    ({"action": "promote", "user": "1"}, "未知的操作。"),
])
def test_bad_input_is_a_message_not_an_error(client, data, message):
    client.force_login(people()["lead"])
    response = client.post(reverse("department-team", args=["logistics"]), data)
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [message]


@pytest.mark.parametrize("who, mine, queue", [
    ("member", True, False),      # an agent of a department: 分配给我
    ("newcomer", False, False),   # an agent of no department: nothing to be assigned
    ("lead", False, True),        # the lead: 我的队列 (分配给我 is a tab there)
    ("manager", False, False),    # a manager in a department is not assigned issues
])
def test_member_agents_find_their_assigned_issues_in_the_navigation(client, who, mine, queue):
    client.force_login(people()[who])
    page = client.get(reverse("ticket-list")).content.decode()
    assert (f'<a href="{reverse("department-queue")}?view=mine" class="" data-nav-mine>分配给我</a>' in page) is mine
    assert (">我的队列</a>" in page) is queue


@pytest.mark.parametrize("who, link", [("lead", True), ("admin", True), ("member", False), ("other_lead", False)])
def test_the_queue_links_to_the_team_page_for_those_who_manage_it(client, who, link):
    client.force_login(people()[who])
    page = client.get(reverse("department-queue", args=["logistics"])).content.decode()
    assert (f'href="{reverse("department-team", args=["logistics"])}" data-manage-team' in page) is link
