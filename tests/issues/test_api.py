
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from issues.models import Issue, IssueStatus, RoutingRule
from tests.factories import UserFactory
from tests.issues.conftest import department, make_ticket

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def issue(shampoo) -> Issue:
    for day in range(3):
        make_ticket(product=shampoo, days_ago=day)
    return Issue.objects.get()


def test_everyone_logged_in_can_list_and_filter(issue, agent, tshirt):
    make_ticket(product=tshirt, code="description_mismatch")
    api = client_for(agent)
    body = api.get("/api/issues/", {"category": "damaged"}).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["id"], row["sku"], row["ticket_count"], row["department"]["code"]) == (issue.pk, "SH-3001", 3, "warehouse")
    assert len(row["sparkline"]) == 30 and sum(row["sparkline"]) == 3
    assert api.get("/api/issues/", {"department": "merchandising"}).json()["count"] == 1
    assert api.get("/api/issues/", {"product": "SH-3001"}).json()["count"] == 1
    assert api.get("/api/issues/", {"status": "resolved"}).json()["count"] == 0
    assert api.get("/api/issues/", {"spiking": "true"}).json()["count"] == 0
    assert APIClient().get("/api/issues/").status_code in (401, 403)


def test_retrieve_includes_the_daily_series(issue, agent):
    body = client_for(agent).get(f"/api/issues/{issue.pk}/").json()
    assert len(body["daily"]) == 90 and sum(p["count"] for p in body["daily"]) == 3
    assert body["can_change"] is False and "acknowledged" in body["allowed_transitions"]


def test_the_departments_lead_resolves_with_an_action(issue, warehouse_lead):
    api = client_for(warehouse_lead)
    assert api.post(f"/api/issues/{issue.pk}/status/", {"status": "acknowledged"}, format="json").status_code == 200
    missing = api.post(f"/api/issues/{issue.pk}/status/", {"status": "resolved"}, format="json")
    assert missing.status_code == 400 and set(missing.json()) == {"action_taken", "action_date"}
    done = api.post(f"/api/issues/{issue.pk}/status/",
                    {"status": "resolved", "action_taken": "加固包装", "action_date": timezone.localdate().isoformat()},
                    format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["action_taken"], done.json()["resolved_by"]) == ("resolved", "加固包装", "lead_warehouse")
    activity = api.get(f"/api/issues/{issue.pk}/activity/").json()
    assert [a["to_value"] for a in activity if a["verb"] == "status"] == ["resolved", "acknowledged"]


@pytest.mark.parametrize("role, department_code, expected", [
    (Role.LEAD, "logistics", 403),
    (Role.AGENT, "warehouse", 403),
    (Role.MANAGER, "warehouse", 403),
    (Role.ADMIN, None, 200),
])
def test_only_the_departments_lead_and_admins_change_issues(issue, role, department_code, expected):
    user = UserFactory(role=role, department=department(department_code) if department_code else None)
    response = client_for(user).post(f"/api/issues/{issue.pk}/status/", {"status": "acknowledged"}, format="json")
    assert response.status_code == expected
    issue.refresh_from_db()
    assert (issue.status == IssueStatus.ACKNOWLEDGED) is (expected == 200)


def test_assign_by_username(issue, warehouse_lead):
    colleague = UserFactory(username="wh_agent", role=Role.AGENT, department=department("warehouse"))
    api = client_for(warehouse_lead)
    body = api.post(f"/api/issues/{issue.pk}/assign/", {"assignee": "wh_agent"}, format="json").json()
    assert body["assignee"] == "wh_agent"
    assert api.post(f"/api/issues/{issue.pk}/assign/", {"assignee": "nobody"}, format="json").status_code == 400
    assert client_for(colleague).get("/api/notifications/").json()["count"] == 1


def test_queue_and_report_endpoints(issue, warehouse_lead):
    api = client_for(warehouse_lead)
    assert [row["id"] for row in api.get("/api/issues/queue/").json()["results"]] == [issue.pk]
    report = api.get("/api/issues/report/", {"day": timezone.localdate().isoformat()}).json()
    assert report["top_by_volume"][0]["issue"]["id"] == issue.pk
    csv = api.get("/api/issues/report/", {"day": timezone.localdate().isoformat(), "export": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and "attachment" in csv["Content-Disposition"]
    xlsx = api.get("/api/issues/report/", {"export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_routing_rules_are_admin_only_and_preview_matches(issue, admin_user, warehouse_lead, sent_tasks):
    rule = {"name": "漏液归品控", "order": 5, "keywords": "漏液", "department": "quality"}
    assert client_for(warehouse_lead).post("/api/routing-rules/", rule, format="json").status_code == 403
    api = client_for(admin_user)
    preview = api.post("/api/routing-rules/preview/", {**rule, "keywords": "漏液"}, format="json").json()
    assert preview["count"] == 3
    refused = api.post("/api/routing-rules/", rule, format="json")  # it would move an issue to 品控, which has no lead
    assert refused.status_code == 400 and "confirm_moves" in refused.json()
    created = api.post("/api/routing-rules/", {**rule, "confirm_moves": True}, format="json")
    assert created.status_code == 201 and RoutingRule.objects.get().department.code == "quality"
