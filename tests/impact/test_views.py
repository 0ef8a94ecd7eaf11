"""Dashboard, CSV downloads, upload page, API and the impact_report command."""
import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from issues.impact.models import DailySales, SalesImportJob
from issues.impact.selectors import REPORT_KEYS
from issues.impact.services import impact_measure, metrics_recompute
from tests.factories import UserFactory

from .helpers import issue_for, product, resolve, sales, tickets

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def resolved_world():
    """A T-shirt whose return rate fell after a fix 20 days ago, with a formula-looking action text."""
    today = timezone.localdate()
    action_date = today - timedelta(days=20)
    shirt = product()
    start = action_date - timedelta(days=20)
    sales(shirt, start, 40, orders=600, returns=lambda d: 72 if d < action_date else 45)
    issue = issue_for(shirt)
    for offset in range(40):
        day = start + timedelta(days=offset)
        tickets(issue, day, 3 if day < action_date else 1)
    issue = resolve(issue, action_date, action='=HYPERLINK("http://evil.example","点我")')
    issue.title = "-2+3 T恤尺码"
    issue.save(update_fields=["title"])
    metrics_recompute()
    impact_measure(issue_id=issue.pk)
    return issue


def test_dashboard_refuses_anonymous(client):
    response = client.get(reverse("impact-dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client.get(reverse("impact-fixes-csv")).status_code == 302


@pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD, Role.MANAGER, Role.ADMIN])
def test_dashboard_renders_for_every_logged_in_role(client, resolved_world, role):
    client.force_login(UserFactory(role=role))
    response = client.get(reverse("impact-dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "vendor/chart.js/dist/chart.umd.js" in body
    assert "chartjs-plugin-annotation.min.js" in body
    assert 'id="impact-chart-data"' in body
    assert "退货率 12.0% → 7.5%" in body
    assert "前后比较（无对照）下降 37.5%" in body


def test_lead_defaults_to_own_department(client, resolved_world, lead):
    client.force_login(lead)  # a logistics lead; the T-shirt issue belongs to merchandising
    response = client.get(reverse("impact-dashboard"))
    assert response.context["scope"].department.code == "logistics"
    assert response.context["fixes"] == []
    response = client.get(reverse("impact-dashboard") + "?department=merchandising")
    assert len(response.context["fixes"]) == 1
    response = client.get(reverse("impact-dashboard") + "?department=all")
    assert response.context["scope"].department is None


def test_dashboard_without_data_shows_the_empty_state(agent_client):
    response = agent_client.get(reverse("impact-dashboard"))
    assert response.status_code == 200
    assert "还没有订单数据" in response.content.decode()


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_downloads_neutralise_formulas(agent_client, resolved_world):
    rows = read_csv(agent_client.get(reverse("impact-fixes-csv")))
    action_column = rows[0].index("措施")
    title_column = rows[0].index("标题")
    assert rows[1][action_column] == '\'=HYPERLINK("http://evil.example","点我")'
    assert rows[1][title_column] == "'-2+3 T恤尺码"
    issues = read_csv(agent_client.get(reverse("impact-issues-csv") + "?department=all"))
    assert len(issues) == 1  # the issue is resolved, so nothing open to rank
    # One language per file: the Chinese titles here, the field names in English.
    agent_client.cookies["django_language"] = "en"
    english = read_csv(agent_client.get(reverse("impact-fixes-csv")))[0]
    assert english[:3] == ["issue_id", "title", "category"] and rows[0][:3] == ["问题", "标题", "类别"]
    trend = read_csv(agent_client.get(reverse("impact-trend-csv") + "?days=30"))
    assert len(trend) == 31
    assert trend[-1][1] == "600"


def test_upload_page_is_for_managers_and_imports_small_files_at_once(client, agent):
    product()
    client.force_login(agent)
    assert client.get(reverse("impact-sales-import")).status_code == 403
    client.force_login(UserFactory(role=Role.MANAGER))
    upload = SimpleUploadedFile("orders.csv", "日期,SKU,订单数,退货数\n2026-05-01,CL-2001,10,1\n2026-05-01,X,1,1\n".encode())
    response = client.post(reverse("impact-sales-import"), {"file": upload})
    job = SalesImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("impact-sales-import-detail", args=[job.pk])
    assert (job.status, job.created, job.failed) == ("done", 1, 1)
    progress = client.get(reverse("impact-sales-import-progress", args=[job.pk])).json()
    assert progress["finished"] and progress["imported"] == 1 and progress["errors_total"] == 1
    assert client.get(reverse("impact-sales-import-detail", args=[job.pk])).status_code == 200
    errors = read_csv(client.get(reverse("impact-sales-import-errors", args=[job.pk])))
    assert errors[1][1] == "3"


def test_large_upload_runs_in_celery(client, settings, django_capture_on_commit_callbacks):
    settings.IMPACT_SYNC_IMPORT_BYTES = 10
    product()
    client.force_login(UserFactory(role=Role.ADMIN))
    upload = SimpleUploadedFile("orders.csv", "日期,SKU,订单数,退货数\n2026-05-01,CL-2001,10,1\n".encode())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("impact-sales-import"), {"file": upload})
    assert SalesImportJob.objects.get().status == "done"
    assert DailySales.objects.get().orders == 10


def test_api_push_validates_all_or_nothing_and_upserts(client):
    product()
    api = APIClient()
    api.force_authenticate(UserFactory(role=Role.AGENT))
    assert api.post("/api/sales/", [{"date": "2026-05-01", "sku": "CL-2001", "orders": 1, "returns": 0}],
                    format="json").status_code == 403
    api.force_authenticate(UserFactory(role=Role.MANAGER))
    bad = api.post("/api/sales/", [
        {"date": "2026-05-01", "sku": "CL-2001", "orders": 10, "returns": 1},
        {"date": "20260502", "sku": "CL-2001", "orders": -1, "returns": 0},
    ], format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["row"] == 1 and bad.json()["errors"][0]["field"] == "orders"
    assert not DailySales.objects.exists()

    items = [
        {"date": "2026/5/1", "sku": "CL-2001", "orders": 10, "returns": 12, "return_reason": "尺码偏小"},
        {"日期": "20260502", "SKU": "CL-2001", "订单数": "8", "退货数": 0},
    ]
    with_warning = api.post("/api/sales/", {"items": items}, format="json")
    assert with_warning.status_code == 200
    assert with_warning.json()["created"] == 2
    assert "大于订单数" in with_warning.json()["warnings"][0]["message"]
    again = api.post("/api/sales/", {"items": items}, format="json").json()
    assert (again["created"], again["updated"]) == (0, 2)

    listing = api.get("/api/sales/?sku=CL-2001&date_from=2026-05-02").json()
    assert listing["count"] == 1
    assert listing["results"][0]["orders"] == 8


def test_impact_report_json_has_exactly_the_documented_keys(resolved_world, capsys):
    call_command("impact_report", "--format", "json")
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    row = rows[0]
    assert tuple(row) == REPORT_KEYS
    assert row["issue_id"] == resolved_world.pk
    assert row["category"] == "description_mismatch"
    assert row["scope"] == "sku:CL-2001"
    assert row["action_date"] == resolved_world.action_date.isoformat()
    assert row["window_days"] == 14
    # 14 days x 600 orders each side; 72 -> 45 returns a day; 3 -> 1 tickets a day.
    assert row["return_rate_before"] == pytest.approx(0.12)
    assert row["return_rate_after"] == pytest.approx(0.075)
    assert row["return_rate_change"] == pytest.approx(-0.375)
    assert row["return_rate_p_value"] < 0.001
    assert row["complaint_rate_before"] == pytest.approx(5.0)
    assert row["complaint_rate_after"] == pytest.approx(1.666667)
    assert row["complaint_rate_change"] == pytest.approx(-0.666667)
    assert row["verdict"].startswith("投诉率 5.00‰ → 1.67‰，前后比较（无对照）下降 66.7%，95% 区间 [")
    # New keys: the method, its controls, the interval and the significance as a bool.
    assert row["method"] == "before_after_quasi_poisson"
    assert row["controls"]["kind"] == "none" and row["controls"]["count"] == 0
    assert row["return_rate_ci"][0] < -0.375 < row["return_rate_ci"][1]
    assert row["return_rate_significant"] is True
    assert row["return_rate_plain_significant"] is True

    call_command("impact_report", "--issue", str(resolved_world.pk), "--format", "json", "--language", "en")
    [english] = json.loads(capsys.readouterr().out)
    assert "return rate 12.0% → 7.5%, down 37.5% (before/after, no controls), 95% interval [" in english["verdict"]
    call_command("impact_report")
    assert "sku:CL-2001" in capsys.readouterr().out


def test_api_lists_impacts(resolved_world):
    api = APIClient()
    api.force_authenticate(UserFactory(role=Role.AGENT))
    data = api.get("/api/impacts/").json()
    assert data["count"] == 1 and data["results"][0]["status"] == "completed"


def test_dashboard_shows_the_calibration_figure_and_intervals(client, resolved_world):
    from issues.impact.models import ImpactCalibration

    client.force_login(UserFactory(role=Role.MANAGER))
    body = client.get(reverse("impact-dashboard")).content.decode()
    assert "尚未在贵店历史数据上校准误报率" in body
    ImpactCalibration.objects.create(method="did_quasi_binomial", window_days=14, runs=250, false_positives=12,
                                     false_positive_rate=12 / 250, false_positive_ci_low=0.025, false_positive_ci_high=0.082,
                                     power={"-0.3": {"trials": 250, "detected": 190, "rate": 0.76, "ci": [0.7, 0.81]}})
    body = client.get(reverse("impact-dashboard")).content.decode()
    assert "本方法在贵店历史数据上的误报率 4.8%" in body
    assert "真实 30% 降幅的检出率 76.0%" in body
    impact = resolved_world.impacts.get()
    # The return rate's net change and its 95 % interval, as stored.
    assert f"[{impact.return_rate_ci_low * 100:+.1f}%, {impact.return_rate_ci_high * 100:+.1f}%]" in body
    client.cookies["django_language"] = "en"
    body = client.get(reverse("impact-dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "False-positive rate of this method on your shop's history: 4.8%" in body


def test_dashboard_measures_a_change_from_the_form(client, resolved_world):
    client.force_login(UserFactory(role=Role.AGENT))
    url = reverse("impact-dashboard")
    response = client.get(url, {"sku": "CL-2001", "action_date": resolved_world.action_date.isoformat(),
                                "window_days": 14})
    result = response.context["change_result"]
    assert result["sku"] == "CL-2001" and result["return_rate_change"] == pytest.approx(-0.375, abs=0.001)
    assert "前后比较（无对照）下降 37.5%" in response.content.decode()

    bad = client.get(url, {"sku": "NOPE", "action_date": "2026-01-01"})
    assert bad.status_code == 200 and bad.context["change_result"] is None
    assert "没有 SKU 为 NOPE 的商品" in bad.content.decode()
    neither = client.get(url, {"action_date": "2026-01-01"})
    assert "请填写商品 SKU 或选择商品品类" in neither.content.decode()
    bad_date = client.get(url, {"sku": "CL-2001", "action_date": "yesterday"})
    assert bad_date.status_code == 200 and bad_date.context["change_form"].errors["action_date"]
