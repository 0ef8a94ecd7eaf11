"""Teams: a department's members (its lead and agents) are who its issues can be assigned to; the assigned
member works the issue (status, notes) on the page and the API alike, and finds it under 分配给我."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from issues.models import Issue, IssueStatus
from issues.selectors import department_queue, department_queue_sizes, department_team
from tests.factories import ProductFactory, UserFactory
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(db) -> Issue:
    fruit = ProductFactory(sku="FR-1001", name="赣南脐橙 5斤装", product_category="水果")
    for days_ago in (0, 1, 2):
        make_ticket(code="logistics_delay", product=fruit, days_ago=days_ago, text="橙子三天了还没到，物流太慢")
    return Issue.objects.get(category__code="logistics_delay")


@pytest.fixture
def member(db):
    return UserFactory(username="wuliu_agent", first_name="何静", role=Role.AGENT, department=department("logistics"))


@pytest.fixture
def outsider(db):
    return UserFactory(username="cangchu_agent", role=Role.AGENT, department=department("warehouse"))


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_team_is_the_departments_active_members_lead_first(lead, member, outsider):
    UserFactory(username="aaa_gone", role=Role.AGENT, department=department("logistics"), is_active=False)
    assert [u.username for u in department_team(department=department("logistics"))] == ["lead1", "wuliu_agent"]


def test_the_lead_assigns_to_a_team_member_on_the_page_and_the_member_finds_it_under_assigned_to_me(
        client, lead, member, issue):
    client.force_login(lead)
    page = client.get(reverse("issue-detail", args=[issue.pk])).content.decode()
    assert "何静 (wuliu_agent) · 客服专员" in page  # the choice says who is who

    response = client.post(reverse("issue-action", args=[issue.pk, "assign"]), {"assignee": member.pk})

    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.assignee == member
    client.force_login(member)
    queue = client.get(reverse("department-queue"), {"view": "mine"})
    assert queue.context["department"].code == "logistics"
    assert [i.pk for i in queue.context["issues"]] == [issue.pk]
    assert queue.context["view_sizes"]["mine"] == 1
    assert "分配给我" in queue.content.decode()


def test_a_person_outside_the_department_is_refused_on_the_page_and_the_api_alike(client, lead, outsider, issue):
    client.force_login(lead)
    response = client.post(reverse("issue-action", args=[issue.pk, "assign"]), {"assignee": outsider.pk})
    assert response.status_code == 200 and response.context["assign_form"].errors["assignee"]

    answer = api_for(lead).post(f"/api/issues/{issue.pk}/assign/", {"assignee": outsider.username}, format="json")
    assert answer.status_code == 400 and "assignee" in answer.json()

    issue.refresh_from_db()
    assert issue.assignee is None


def test_the_api_assigns_to_a_team_member(lead, member, issue):
    answer = api_for(lead).post(f"/api/issues/{issue.pk}/assign/", {"assignee": member.username}, format="json")
    assert answer.status_code == 200 and answer.json()["assignee"] == "wuliu_agent"


def test_the_assigned_member_works_the_issue_on_the_page(client, lead, member, issue):
    issue.assignee = member
    issue.save(update_fields=["assignee"])
    client.force_login(member)

    page = client.get(reverse("issue-detail", args=[issue.pk]))
    assert page.context["can_work"] is True and page.context["can_change"] is False
    assert 'data-transition="in_progress"' in page.content.decode()
    assert 'id="assign-form"' not in page.content.decode()  # working it is not reassigning it

    assert client.post(reverse("issue-action", args=[issue.pk, "status"]), {"to_status": "in_progress"}).status_code == 302
    response = client.post(reverse("issue-action", args=[issue.pk, "status"]), {
        "to_status": "resolved", "action_taken": "改走顺丰次日达", "action_date": timezone.localdate().isoformat()})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert (issue.status, issue.resolved_by) == (IssueStatus.RESOLVED, member)
    # Reassigning, re-prioritising and transferring stay with the lead.
    for action, data in (("assign", {"assignee": ""}), ("priority", {"priority": "P1"})):
        assert client.post(reverse("issue-action", args=[issue.pk, action]), data).status_code == 403


def test_the_assigned_member_works_the_issue_through_the_api_but_a_colleague_may_not(member, issue):
    colleague = UserFactory(username="wuliu_agent2", role=Role.AGENT, department=department("logistics"))
    issue.assignee = member
    issue.save(update_fields=["assignee"])

    assert api_for(colleague).post(f"/api/issues/{issue.pk}/status/", {"status": "acknowledged"},
                                   format="json").status_code == 403
    detail = api_for(member).post(f"/api/issues/{issue.pk}/status/", {"status": "acknowledged"}, format="json")
    assert detail.status_code == 200
    assert (detail.json()["status"], detail.json()["can_work"], detail.json()["can_change"]) == (
        "acknowledged", True, False)
    assert api_for(member).post(f"/api/issues/{issue.pk}/comment/", {"note": "已联系快递"},
                                format="json").status_code == 201
    assert api_for(member).post(f"/api/issues/{issue.pk}/assign/", {"assignee": None},
                                format="json").status_code == 403
    issue.refresh_from_db()
    assert issue.assignee == member


def test_assigned_to_me_lists_only_the_users_open_issues_of_that_department(lead, member, issue):
    other = Issue.objects.create(category=issue.category, department=issue.department, scope_type="sku",
                                 scope_key="FR-9", title="别人的", ticket_count=5, assignee=lead)
    done = Issue.objects.create(category=issue.category, department=issue.department, scope_type="sku",
                                scope_key="FR-8", title="已解决", ticket_count=1, assignee=member,
                                status=IssueStatus.RESOLVED)
    Issue.objects.filter(pk=issue.pk).update(assignee=member)
    logistics = department("logistics")

    mine = list(department_queue(department=logistics, view="mine", user=member))

    assert [i.pk for i in mine] == [issue.pk]
    assert other.pk not in [i.pk for i in mine] and done.pk not in [i.pk for i in mine]
    assert department_queue_sizes(department=logistics, user=member)["mine"] == 1
    assert department_queue_sizes(department=logistics, user=lead)["mine"] == 1


def test_the_queue_header_counts_the_rows_of_the_view_and_names_the_open_total(client, lead, issue):
    Issue.objects.create(category=issue.category, department=issue.department, scope_type="sku", scope_key="FR-7",
                         title="只有一张", ticket_count=1)  # 观察中, not in the default view
    client.force_login(lead)
    page = client.get(reverse("department-queue")).content.decode()
    assert "此视图 1 个 · 共 2 个未关闭" in page


def test_a_just_resolved_issue_says_measuring_at_once(client, lead, issue):
    client.force_login(lead)
    client.post(reverse("issue-action", args=[issue.pk, "status"]), {
        "to_status": "resolved", "action_taken": "改走顺丰次日达", "action_date": timezone.localdate().isoformat()})
    issue.refresh_from_db()
    assert issue.status == IssueStatus.RESOLVED and not issue.impacts.exists()  # not measured yet

    page = client.get(reverse("issue-detail", args=[issue.pk])).content.decode()

    assert "data-impact-pending" in page and "测量中" in page and "改走顺丰次日达" in page


def test_assigned_to_nobody_is_not_every_unassigned_issue(issue):
    logistics = department("logistics")
    assert list(department_queue(department=logistics, view="mine", user=None)) == []
    assert "mine" not in department_queue_sizes(department=logistics)


def test_the_demo_staffs_every_department_and_its_leads_hand_agents_issues_but_not_the_spike(issue):
    from feedback.demo.services import demo_team_assign, demo_users_ensure
    from issues.models import Department

    demo_users_ensure()
    spike = Issue.objects.create(category=issue.category, department=issue.department, scope_type="sku",
                                 scope_key="FR-6", title="激增", ticket_count=40, count_7d=40, is_spiking=True)
    for code in Department.objects.values_list("code", flat=True):
        roles = {u.role for u in department_team(department=department(code))}
        assert {Role.LEAD, Role.AGENT} <= roles, code

    assert demo_team_assign() == 1
    issue.refresh_from_db()
    spike.refresh_from_db()
    assert issue.assignee.username == "agent_logistics" and spike.assignee is None
    assert issue.activities.filter(verb="assigned", actor__username="lead_logistics").exists()
    assert demo_team_assign() == 0  # run again: nothing new


def test_the_admin_lists_a_departments_members_and_their_count(client, admin_user, lead, member):
    client.force_login(admin_user)
    logistics = department("logistics")
    page = client.get(reverse("admin:issues_department_change", args=[logistics.pk])).content.decode()
    assert "wuliu_agent" in page and "lead1" in page
    listing = client.get(reverse("admin:issues_department_changelist")).content.decode()
    assert "member_count" in listing or "成员数" in listing


def test_a_move_is_told_in_the_readers_language_on_the_notifications_page(client, lead, member, issue):
    from django.utils import translation

    from issues.services import issue_department_set

    warehouse_lead = UserFactory(username="lead_cangchu", role=Role.LEAD, department=department("warehouse"))
    Issue.objects.filter(pk=issue.pk).update(assignee=member)
    issue.refresh_from_db()
    issue_department_set(issue=issue, department=department("warehouse"), actor=lead, note="是包装问题")

    client.force_login(warehouse_lead)
    chinese = client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"问题转入仓储包装部：{issue.title}" in chinese
    assert f"问题 #{issue.pk} 由物流部转给仓储包装部。是包装问题" in chinese
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        english = client.get(reverse("notifications")).content.decode()
    assert "Issue moved to Warehouse &amp; Packaging" in english
    assert f"Issue #{issue.pk} moved from Logistics to Warehouse &amp; Packaging. 是包装问题" in english
    assert "转入" not in english

    client.force_login(member)
    client.cookies["django_language"] = "en"
    # override() puts the language back afterwards: a request leaves its language active on the thread.
    with translation.override("en"):
        assert "An issue assigned to you changed department" in client.get(reverse("notifications")).content.decode()
