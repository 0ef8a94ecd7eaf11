"""The REST API: /api/tickets/ (create, batch, list, filters, confirm), categories, products, token, schema."""
import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from feedback.models import Channel, Product, Ticket, TriageStatus
from tests.factories import ProductFactory, TicketFactory, UserFactory, category

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TICKETS = "/api/tickets/"
BATCH = "/api/tickets/batch/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def agent_api(api, agent):
    api.force_authenticate(agent)
    return api


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response) -> set[int]:
    return {row["id"] for row in response.data["results"]}


# --- authentication ---


def test_token_from_username_and_password_authenticates_later_requests(api, agent):
    response = api.post("/api/auth/token/", {"username": "agent1", "password": "pass-1234"}, format="json")

    assert response.status_code == 200
    token = response.data["token"]
    assert token == Token.objects.get(user=agent).key
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(TICKETS).status_code == 200


def test_token_refused_for_wrong_password(api, agent):
    response = api.post("/api/auth/token/", {"username": "agent1", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert "token" not in response.data


def test_bad_token_is_refused_with_401(api, agent):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert api.get(TICKETS).status_code == 401


def test_session_login_works_for_the_api(client, agent):
    client.force_login(agent)

    assert client.get(TICKETS).status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", TICKETS),
        ("post", TICKETS),
        ("get", "/api/tickets/{id}/"),
        ("post", "/api/tickets/{id}/confirm/"),
        ("post", "/api/tickets/{id}/also/"),
        ("post", BATCH),
        ("get", "/api/categories/"),
        ("get", "/api/categories/damaged/"),
        ("get", "/api/products/"),
        ("post", "/api/products/"),
        ("get", "/api/schema/"),
        ("get", "/api/docs/"),
    ],
)
def test_anonymous_callers_are_refused(api, method, url):
    ticket = TicketFactory(text="洗发水漏液了")

    response = getattr(api, method)(url.format(id=ticket.pk), {}, format="json")

    assert response.status_code in (401, 403)
    assert Ticket.objects.count() == 1


# --- create one ---


def test_create_files_a_ticket_through_the_service(agent_api, agent):
    product = ProductFactory(sku="SH-001", name="柔顺洗发水", product_category="洗护")

    response = agent_api.post(
        TICKETS,
        {
            "text": "  洗发水漏液了，盒子都湿了  ",
            "channel": "app",
            "sku": "SH-001",
            "order_number": "20240501123456",
            "external_source": "tmall",
            "external_id": "T-1",
            "received_at": "2024-05-01T10:30:00+08:00",
        },
        format="json",
    )

    assert response.status_code == 201, response.data
    ticket = Ticket.objects.get(pk=response.data["id"])
    assert ticket.text == "洗发水漏液了，盒子都湿了"
    assert ticket.product == product
    assert ticket.filed_by == agent
    assert ticket.received_at == datetime(2024, 5, 1, 10, 30, tzinfo=SHANGHAI)
    assert response.data["product"] == {"sku": "SH-001", "name": "柔顺洗发水", "product_category": "洗护"}
    assert response.data["filed_by"] == "agent1"
    assert response.data["triage_status"] == TriageStatus.PENDING
    assert response.data["warnings"] == []


def test_create_defaults_channel_and_received_at(agent_api):
    response = agent_api.post(TICKETS, {"text": "快递三天了还没到"}, format="json")

    assert response.status_code == 201
    assert response.data["channel"] == Channel.CHAT
    assert response.data["received_at"]


@pytest.mark.parametrize(
    "payload",
    [
        {"text": ""},
        {"text": "   \n\t  "},
        {"text": "好" * (settings.TICKET_TEXT_MAX_LENGTH + 1)},
        {"channel": "chat"},
        {"text": None},
    ],
    ids=["empty", "whitespace-only", "5001-characters", "missing", "null"],
)
def test_create_refuses_bad_text_naming_the_field(agent_api, payload):
    response = agent_api.post(TICKETS, payload, format="json")

    assert response.status_code == 400
    assert set(response.data) == {"text"}
    assert Ticket.objects.count() == 0


def test_create_accepts_text_of_exactly_the_limit(agent_api):
    response = agent_api.post(TICKETS, {"text": "好" * settings.TICKET_TEXT_MAX_LENGTH}, format="json")

    assert response.status_code == 201


def test_create_refuses_unknown_channel(agent_api):
    response = agent_api.post(TICKETS, {"text": "发错货了", "channel": "carrier-pigeon"}, format="json")

    assert response.status_code == 400
    assert "channel" in response.data
    assert Ticket.objects.count() == 0


def test_create_refuses_unparseable_received_at(agent_api):
    response = agent_api.post(TICKETS, {"text": "发错货了", "received_at": "yesterday-ish"}, format="json")

    assert response.status_code == 400
    assert "received_at" in response.data


def test_create_with_unknown_sku_saves_with_a_warning(agent_api):
    response = agent_api.post(TICKETS, {"text": "屏幕有坏点", "sku": "NO-SUCH-SKU"}, format="json")

    assert response.status_code == 201
    assert response.data["product"] is None
    assert response.data["sku"] == "NO-SUCH-SKU"
    assert len(response.data["warnings"]) == 1
    assert "NO-SUCH-SKU" in response.data["warnings"][0]
    assert Ticket.objects.get().sku_raw == "NO-SUCH-SKU"


def test_create_with_duplicate_external_id_returns_409_with_existing_id(agent_api):
    existing = TicketFactory(external_source="jd", external_id="JD-77")

    response = agent_api.post(
        TICKETS, {"text": "又来一次", "external_source": "jd", "external_id": "JD-77"}, format="json"
    )

    assert response.status_code == 409
    assert response.data["id"] == existing.pk
    assert Ticket.objects.count() == 1


def test_same_external_id_from_another_source_is_not_a_duplicate(agent_api):
    TicketFactory(external_source="jd", external_id="77")

    response = agent_api.post(TICKETS, {"text": "不同平台", "external_source": "tmall", "external_id": "77"}, format="json")

    assert response.status_code == 201


def test_manager_may_file_tickets(manager):
    response = client_for(manager).post(TICKETS, {"text": "经理代客户登记"}, format="json")

    assert response.status_code == 201


# --- read ---


def test_retrieve_returns_the_documented_fields(agent_api, agent):
    from issues.services import ticket_attach

    ticket = TicketFactory(text="收到就碎了", filed_by=agent, category=category("damaged"))
    issue = ticket_attach(ticket=ticket)

    response = agent_api.get(f"{TICKETS}{ticket.pk}/")

    assert response.status_code == 200
    assert set(response.data) == {
        "id", "text", "channel", "sku", "product", "order_number", "external_source", "external_id",
        "received_at", "created_at", "triage_status", "category", "predicted_category",
        "prediction_confidence", "prediction_top", "prediction_terms", "model_version",
        "confirmed_category", "also_category", "issue", "filed_by",
    }  # fmt: skip
    assert response.data["category"] == "damaged"
    # The issue the ticket counts towards, so an API client can follow it to /api/issues/.
    assert issue is not None and response.data["issue"] == issue.pk


def test_retrieve_unknown_ticket_is_404(agent_api):
    assert agent_api.get(f"{TICKETS}999999/").status_code == 404
    assert agent_api.get(f"{TICKETS}not-a-number/").status_code == 404


def test_phone_numbers_are_masked_for_everyone_but_the_filer_and_admins(agent, admin_user):
    other_agent = UserFactory(username="agent2")
    ticket = TicketFactory(text="请回电 13812345678", filed_by=agent)
    url = f"{TICKETS}{ticket.pk}/"

    assert client_for(agent).get(url).data["text"] == "请回电 13812345678"
    assert client_for(admin_user).get(url).data["text"] == "请回电 13812345678"
    masked = client_for(other_agent).get(url).data["text"]
    assert "13812345678" not in masked
    assert masked.startswith("请回电 138")
    listed = client_for(other_agent).get(TICKETS).data["results"][0]["text"]
    assert "13812345678" not in listed


# --- filters ---


@pytest.fixture
def spread_tickets():
    shampoo = ProductFactory(sku="SH-001", product_category="洗护")
    phone = ProductFactory(sku="PH-009", product_category="数码")
    return {
        "april": TicketFactory(
            text="物流太慢了", channel=Channel.PHONE, received_at=datetime(2024, 4, 30, 23, 59, tzinfo=SHANGHAI)
        ),
        "may1": TicketFactory(
            text="洗发水漏液了",
            product=shampoo,
            category=category("damaged"),
            triage_status=TriageStatus.CLASSIFIED,
            received_at=datetime(2024, 5, 1, 0, 0, tzinfo=SHANGHAI),
        ),
        "may2": TicketFactory(
            text="手机屏幕不亮",
            product=phone,
            category=category("quality_defect"),
            triage_status=TriageStatus.CONFIRMED,
            received_at=datetime(2024, 5, 2, 23, 30, tzinfo=SHANGHAI),
        ),
        "may3": TicketFactory(text="客服态度差", received_at=datetime(2024, 5, 3, 0, 0, tzinfo=SHANGHAI)),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("received_after=2024-05-01&received_before=2024-05-02", {"may1", "may2"}),
        ("received_after=2024-05-01T00:00:01%2B08:00", {"may2", "may3"}),
        ("received_before=2024-05-02T23:00:00%2B08:00", {"april", "may1"}),
        ("received_after=2024-05-02T15:30:00Z", {"may2", "may3"}),
        ("channel=phone", {"april"}),
        ("product=SH-001", {"may1"}),
        ("product_category=数码", {"may2"}),
        ("category=damaged", {"may1"}),
        ("triage_status=confirmed", {"may2"}),
        ("q=漏液", {"may1"}),
        ("q=漏液&channel=phone", set()),
    ],
)
def test_list_filters(agent_api, spread_tickets, query, expected):
    response = agent_api.get(f"{TICKETS}?{query}")

    assert response.status_code == 200, response.data
    assert ids(response) == {spread_tickets[name].pk for name in expected}


@pytest.mark.parametrize(
    "query", ["received_after=2024-13-01", "received_before=soon", "channel=pigeon", "category=no_such_code"]
)
def test_bad_filter_values_are_400_naming_the_filter(agent_api, query):
    response = agent_api.get(f"{TICKETS}?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.data


def test_list_is_newest_first(agent_api, spread_tickets):
    response = agent_api.get(TICKETS)

    assert [row["id"] for row in response.data["results"]] == [
        spread_tickets[name].pk for name in ("may3", "may2", "may1", "april")
    ]


def test_list_is_paginated_with_page_size_up_to_500(agent_api):
    TicketFactory.create_batch(503)

    default = agent_api.get(TICKETS)
    assert default.data["count"] == 503
    assert len(default.data["results"]) == settings.REST_FRAMEWORK["PAGE_SIZE"]
    assert default.data["next"]

    page_two = agent_api.get(f"{TICKETS}?page_size=200&page=2")
    assert len(page_two.data["results"]) == 200

    capped = agent_api.get(f"{TICKETS}?page_size=10000")
    assert len(capped.data["results"]) == 500


def test_list_page_past_the_end_is_404(agent_api):
    TicketFactory()

    assert agent_api.get(f"{TICKETS}?page=5").status_code == 404


# --- batch ---


def item(n: int, **overrides) -> dict:
    return {"text": f"第 {n} 条：洗发水漏液了", "channel": "platform", **overrides}


def test_batch_of_1000_is_saved_in_a_handful_of_queries(agent_api, agent, django_assert_max_num_queries):
    ProductFactory(sku="SH-001")
    ProductFactory(sku="PH-009")
    items = [
        item(n, sku=("SH-001", "PH-009", "UNKNOWN-1")[n % 3], external_source="tmall", external_id=f"T-{n}")
        for n in range(settings.API_BATCH_MAX)
    ]

    # One SKU lookup, one duplicate check, two savepoints and the INSERTs, which Django splits by the
    # backend's parameter limit: 2 statements on PostgreSQL (batch_size=500), ~23 on SQLite (999 parameters).
    columns = [f for f in Ticket._meta.concrete_fields if not f.primary_key]
    rows_per_insert = min(500, connection.ops.bulk_batch_size(columns, items))
    with django_assert_max_num_queries(6 + math.ceil(len(items) / rows_per_insert)):
        response = agent_api.post(BATCH, {"tickets": items}, format="json")

    assert response.status_code == 201, response.data
    assert response.data["created"] == 1000
    assert response.data["duplicates"] == []
    assert len(response.data["ids"]) == 1000
    assert Ticket.objects.count() == 1000
    assert Ticket.objects.filter(product__sku="SH-001").count() == 334
    assert Ticket.objects.filter(filed_by=agent).count() == 1000
    # ids are in item order
    first, last = Ticket.objects.get(pk=response.data["ids"][0]), Ticket.objects.get(pk=response.data["ids"][-1])
    assert (first.external_id, last.external_id) == ("T-0", "T-999")
    # every item with the unknown SKU is warned about, by index
    assert [w["index"] for w in response.data["warnings"]] == list(range(2, 1000, 3))


def test_batch_of_1001_is_refused_naming_the_limit(agent_api):
    response = agent_api.post(BATCH, {"tickets": [item(n) for n in range(1001)]}, format="json")

    assert response.status_code == 400
    error = response.data["errors"][0]
    assert error["field"] == "tickets"
    assert "1000" in error["message"]
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize("payload", [{}, {"tickets": "nope"}, {"tickets": []}, [item(1)]])
def test_batch_without_a_list_of_tickets_is_refused(agent_api, payload):
    response = agent_api.post(BATCH, payload, format="json")

    assert response.status_code == 400
    assert response.data["errors"][0]["field"] == "tickets"


def test_batch_with_one_bad_item_saves_nothing_and_names_index_and_field(agent_api):
    items = [item(n) for n in range(5)]
    items[3]["text"] = "   "
    items[4]["received_at"] = "not a date"

    response = agent_api.post(BATCH, {"tickets": items}, format="json")

    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.data["errors"]] == [(3, "text"), (4, "received_at")]
    assert all(e["message"] for e in response.data["errors"])
    assert Ticket.objects.count() == 0


def test_batch_item_that_is_not_an_object_is_reported_by_index(agent_api):
    response = agent_api.post(BATCH, {"tickets": [item(0), "just a string"]}, format="json")

    assert response.status_code == 400
    assert response.data["errors"][0]["index"] == 1
    assert Ticket.objects.count() == 0


def test_batch_reports_duplicates_inside_the_batch_and_already_saved(agent_api):
    saved = TicketFactory(external_source="jd", external_id="A")
    items = [
        item(0, external_source="jd", external_id="B"),
        item(1, external_source="jd", external_id="A"),  # saved before
        item(2, external_source="jd", external_id="B"),  # repeats item 0
        item(3),  # no external id: never a duplicate
        item(4, external_source="tmall", external_id="B"),  # another source
        item(5, external_source="jd", external_id="A"),  # saved before, again
    ]

    response = agent_api.post(BATCH, {"tickets": items}, format="json")

    assert response.status_code == 201, response.data
    assert response.data["created"] == 3
    first_b = Ticket.objects.get(external_source="jd", external_id="B")
    assert response.data["duplicates"] == [
        {"index": 1, "id": saved.pk},
        {"index": 2, "id": first_b.pk},
        {"index": 5, "id": saved.pk},
    ]
    assert response.data["ids"][0] == first_b.pk
    assert Ticket.objects.count() == 4


def test_batch_requires_a_role_that_files_tickets(api):
    api.force_authenticate(UserFactory(username="nobody", role="unknown-role"))

    assert api.post(BATCH, {"tickets": [item(0)]}, format="json").status_code == 403
    assert api.post(TICKETS, item(0), format="json").status_code == 403


# --- confirm / correct ---


def test_agent_confirms_a_category(agent_api, agent):
    ticket = TicketFactory(text="收到就碎了", triage_status=TriageStatus.NEEDS_REVIEW)

    response = agent_api.post(f"{TICKETS}{ticket.pk}/confirm/", {"category": "damaged"}, format="json")

    assert response.status_code == 200, response.data
    ticket.refresh_from_db()
    assert ticket.confirmed_category.code == "damaged"
    assert response.data["confirmed_category"] == "damaged"


def test_manager_may_not_confirm(manager):
    ticket = TicketFactory()

    response = client_for(manager).post(f"{TICKETS}{ticket.pk}/confirm/", {"category": "damaged"}, format="json")

    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.confirmed_category is None


def test_confirm_with_unknown_category_is_400(agent_api):
    ticket = TicketFactory()

    response = agent_api.post(f"{TICKETS}{ticket.pk}/confirm/", {"category": "nonsense"}, format="json")

    assert response.status_code == 400
    assert "category" in response.data


# --- categories and products ---


def test_categories_list_the_taxonomy_with_default_departments(agent_api):
    response = agent_api.get("/api/categories/")

    assert response.status_code == 200
    damaged = next(c for c in response.data if c["code"] == "damaged")
    assert damaged["name_zh"] == "破损变质"
    assert damaged["default_department"] == "warehouse"
    assert len(response.data) >= 10


def test_products_search_by_sku_or_name(agent_api):
    ProductFactory(sku="SH-001", name="柔顺洗发水")
    ProductFactory(sku="PH-009", name="智能手机")

    by_name = agent_api.get("/api/products/?q=洗发")
    by_sku = agent_api.get("/api/products/?q=ph-0")

    assert [p["sku"] for p in by_name.data["results"]] == ["SH-001"]
    assert [p["sku"] for p in by_sku.data["results"]] == ["PH-009"]
    assert agent_api.get("/api/products/PH-009/").data["name"] == "智能手机"


def test_only_admins_create_products(agent, admin_user):
    payload = {"sku": "FR-100", "name": "赣南脐橙 5斤", "product_category": "水果"}

    assert client_for(agent).post("/api/products/", payload, format="json").status_code == 403
    response = client_for(admin_user).post("/api/products/", payload, format="json")

    assert response.status_code == 201
    assert Product.objects.get(sku="FR-100").product_category == "水果"


# --- schema ---


def test_schema_is_valid_openapi_3_for_a_logged_in_user(agent_api):
    response = agent_api.get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert {"/api/tickets/", "/api/tickets/batch/", "/api/tickets/{id}/confirm/", "/api/auth/token/"} <= set(
        schema["paths"]
    )


def test_swagger_ui_is_served_from_the_app(client, agent):
    client.force_login(agent)

    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn." not in response.content
