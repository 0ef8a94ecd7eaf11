"""Item 2 of the hardening issue: bad input gets a JSON 400 (or 404) naming what is wrong, never a 500.

Each row is one input the audit found answered with an HTML 500.
"""
from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from issues.models import Issue
from tests.factories import UserFactory
from tests.issues.conftest import make_ticket

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def issue(shampoo) -> Issue:
    make_ticket(product=shampoo)
    return Issue.objects.get()


@pytest.fixture
def api(db) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(UserFactory(username="boss", role=Role.ADMIN, is_staff=True, is_superuser=True))
    return client


RULE = {"name": "破损", "department": "warehouse", "keywords": "碎"}

# (method, path, query or body, expected status, field the error names)
CASES = [
    ("get", "/api/tickets/", {"received_before": "9999-12-31"}, 400, "received_before"),
    ("get", "/api/tickets/", {"received_after": "9999-12-31"}, 400, "received_after"),
    ("get", "/api/tickets/", {"received_after": "0001-01-01"}, 400, "received_after"),
    ("get", "/api/tickets/", {"q": f"漏{NUL}液"}, 400, "q"),
    ("get", "/api/issues/report/", {"day": "9999-12-31"}, 400, "day"),
    ("get", "/api/issues/report/", {"day": "0001-01-01"}, 400, "day"),
    ("get", "/api/issues/", {"q": f"a{NUL}"}, 400, "q"),
    ("get", "/api/issues/", {"product": NUL}, 400, "product"),
    ("get", "/api/issues/", {"category": NUL}, 400, "category"),
    ("get", "/api/issues/", {"department": NUL}, 400, "department"),
    ("get", "/api/issues/", {"product_category": NUL}, 400, "product_category"),
    ("get", "/api/issues/", {"priority": "P9"}, 400, "priority"),
    ("get", "/api/issues/", {"status": "open,bogus"}, 400, "status"),
    ("get", "/api/issues/", {"assignee": "²"}, 400, "assignee"),
    ("get", "/api/issues/", {"ordering": "drop table"}, 400, "ordering"),
    ("get", "/api/issues/", {"spiking": "maybe"}, 400, "spiking"),
    ("get", "/api/issues/queue/", {"department": NUL}, 400, "department"),
    ("get", "/api/subthemes/", {"issue": "abc"}, 400, "issue"),
    ("get", "/api/subthemes/", {"category": NUL}, 400, "category"),
    ("get", "/api/subthemes/", {"status": "bogus"}, 400, "status"),
    ("post", "/api/notifications/read/", {"ids": "abc"}, 400, "ids"),
    ("post", "/api/notifications/read/", {"ids": ["abc"]}, 400, "ids"),
    ("post", "/api/routing-rules/", {**RULE, "name": f"a{NUL}"}, 400, "name"),
    ("post", "/api/routing-rules/", {**RULE, "keywords": f"碎{NUL}"}, 400, "keywords"),
    ("post", "/api/routing-rules/", {**RULE, "department": NUL}, 400, "department"),
    ("post", "/api/routing-rules/", {**RULE, "category": NUL}, 400, "category"),
    ("post", "/api/routing-rules/", {**RULE, "sku": NUL}, 400, "sku"),
    ("post", "/api/routing-rules/preview/?days=abc", RULE, 400, "days"),
    ("post", "/api/routing-rules/preview/?days=0", RULE, 400, "days"),
    ("post", "/api/routing-rules/preview/", {**RULE, "product_category": NUL}, 400, "product_category"),
]


@pytest.mark.parametrize(("method", "path", "data", "expected", "field"), CASES,
                         ids=[f"{c[1]} {sorted(c[2])}" for c in CASES])
def test_bad_input_is_a_json_400_naming_the_field(api, issue, method, path, data, expected, field):
    if method == "get":
        response = api.get(path, data)
    else:
        response = api.post(path, data, format="json")

    assert response.status_code == expected, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert field in response.json(), response.json()


ISSUE_ACTIONS = [
    ("get", "activity"), ("post", "priority"), ("post", "status"), ("post", "assign"), ("post", "merge"),
    ("post", "comment"), ("get", ""),
]


@pytest.mark.parametrize(("method", "action"), ISSUE_ACTIONS)
@pytest.mark.parametrize("identifier", ["abc", "²", "1.5", "-1"])
def test_non_numeric_issue_id_is_a_json_404(api, issue, method, action, identifier):
    path = f"/api/issues/{identifier}/{action + '/' if action else ''}"
    response = api.get(path) if method == "get" else api.post(path, {"note": "x"}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_assignee_with_a_non_ascii_digit_is_a_400(api, issue):
    response = api.post(f"/api/issues/{issue.pk}/assign/", {"assignee": "²"}, format="json")

    assert response.status_code == 400 and "assignee" in response.json()


def test_valid_report_day_and_filters_still_work(api, issue):
    assert api.get("/api/issues/report/", {"day": "2026-01-05"}).status_code == 200
    assert api.get("/api/issues/", {"status": "open", "priority": "P3", "assignee": "me"}).status_code == 200
    assert api.get("/api/subthemes/", {"issue": str(issue.pk)}).status_code == 200
    assert api.post("/api/notifications/read/", {"ids": []}, format="json").status_code == 200
    assert api.post("/api/notifications/read/", {}, format="json").json() == {"marked": 0}


def test_an_unexpected_error_in_an_api_view_is_json_not_html(api, monkeypatch):
    from issues import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "issue_list", broken)
    response = api.get("/api/issues/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json() and "boom" not in response.content.decode()


def test_an_api_url_that_matches_nothing_is_a_json_404(api):
    response = api.get("/api/no-such-thing/")

    assert response.status_code == 404 and response.json() == {"detail": "未找到"}


def test_handler500_answers_json_under_api_and_html_elsewhere(rf):
    from config.errors import handler500

    api_response = handler500(rf.get("/api/tickets/"))
    page_response = handler500(rf.get("/tickets/"))

    assert api_response.status_code == 500 and api_response["Content-Type"] == "application/json"
    assert page_response.status_code == 500 and page_response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("path", "query"), [
    ("/tickets/", {"received_to": "9999-12-31"}),
    ("/tickets/", {"received_from": "0001-01-01"}),
    ("/issues/report/", {"day": "0001-01-01"}),
    ("/issues/", {"category": "²"}),
    ("/issues/", {"assignee": "²"}),
])
def test_pages_show_a_bad_filter_instead_of_failing(issue, path, query):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="boss2", role=Role.ADMIN, is_staff=True, is_superuser=True))

    response = client.get(path, query)

    assert response.status_code == 200


def test_a_nul_byte_in_a_page_query_is_a_400_naming_the_parameter(issue):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="boss3", role=Role.ADMIN, is_staff=True, is_superuser=True))

    response = client.get("/issues/", {"q": f"a{NUL}"})

    assert response.status_code == 400 and b"q:" in response.content


@pytest.mark.parametrize("sku", [f"SH{NUL}1", "x" * 65, {"a": 1}])
def test_a_batch_with_an_unusable_sku_names_the_item_and_field_never_a_500(api, sku):
    response = api.post("/api/tickets/batch/", {"tickets": [{"text": "瓶子漏液了", "sku": sku}]}, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert errors and errors[0]["index"] == 0 and errors[0]["field"] == "sku"
