"""Search: jieba terms ANDed across fields, jumps to a ticket or an order number, escaped highlighting."""
from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from feedback.search import search_terms
from tests.factories import ProductFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("q", "terms"), [
    ("牛奶 酸", ["牛奶", "酸"]),
    ("牛奶酸了", ["牛奶", "酸"]),
    ("漏液 洗发水", ["漏液", "洗发水"]),
    ("SH-500  DD20241111001", ["SH-500", "DD20241111001"]),
    ("了", ["了"]),
    ("", []),
])
def test_search_terms(q, terms):
    assert search_terms(q) == terms


@pytest.fixture
def tickets():
    milk = ProductFactory(sku="MILK-1L", name="纯牛奶 1L", product_category="乳品")
    shampoo = ProductFactory(sku="SH-500", name="去屑洗发水 500ml", product_category="洗护")
    return {
        "sour": TicketFactory(text="牛奶收到就酸了，不敢喝", product=milk),
        "sour_no_product": TicketFactory(text="买的牛奶有股酸味 <script>alert(1)</script>"),
        "milk_late": TicketFactory(text="牛奶一周还没到", product=milk),
        "leak": TicketFactory(text="漏液了，整个盒子都湿了", product=shampoo, order_number="DD20241111001"),
        "other": TicketFactory(text="快递员态度很差"),
    }


@pytest.fixture
def agent_client():
    client = Client()
    client.force_login(UserFactory(username="searcher", role=Role.AGENT))
    return client


def page_ids(client, **params) -> set[int]:
    response = client.get("/tickets/", params)
    assert response.status_code == 200
    return {t.pk for t in response.context["tickets"]}


@pytest.mark.parametrize(("q", "expected"), [
    ("牛奶 酸", {"sour", "sour_no_product"}),
    ("牛奶酸了", {"sour", "sour_no_product"}),
    ("酸 MILK-1L", {"sour"}),  # text AND SKU
    ("漏液 洗发水", {"leak"}),  # text AND product name
    ("洗发水 酸", set()),
    ("DD2024 湿", {"leak"}),  # order number substring AND text
])
def test_all_terms_must_match_across_fields(tickets, agent_client, q, expected):
    assert page_ids(agent_client, q=q, channel="") == {tickets[name].pk for name in expected}


def test_api_uses_the_same_search(tickets):
    api = APIClient()
    api.force_authenticate(UserFactory(username="api-searcher", role=Role.AGENT))
    rows = api.get("/api/tickets/", {"q": "牛奶 酸"}).json()["results"]
    assert {row["id"] for row in rows} == {tickets["sour"].pk, tickets["sour_no_product"].pk}


def test_a_ticket_number_jumps_to_the_ticket(tickets, agent_client):
    pk = tickets["other"].pk
    for q in (str(pk), f"#{pk}", f" {pk} "):
        response = agent_client.get("/tickets/", {"q": q})
        assert response.status_code == 302 and response.url == f"/tickets/{pk}/"


def test_an_exact_order_number_jumps_to_its_ticket(tickets, agent_client):
    response = agent_client.get("/tickets/", {"q": "DD20241111001"})
    assert response.status_code == 302 and response.url == f"/tickets/{tickets['leak'].pk}/"


def test_a_number_that_is_both_an_id_and_another_tickets_order_number_lists_both(tickets, agent_client):
    pk = tickets["other"].pk
    tickets["sour"].order_number = str(pk)
    tickets["sour"].save()
    response = agent_client.get("/tickets/", {"q": str(pk)})
    assert response.status_code == 200
    # Both are listed (other tickets may hold the digits too, e.g. in "500ml").
    assert {pk, tickets["sour"].pk} <= {t.pk for t in response.context["tickets"]}


def test_no_jump_when_other_filters_are_set_or_nothing_matches(tickets, agent_client):
    pk = tickets["other"].pk
    assert agent_client.get("/tickets/", {"q": str(pk), "channel": "chat"}).status_code == 200
    assert agent_client.get("/tickets/", {"q": "99999999999"}).status_code == 200
    assert agent_client.get("/tickets/", {"q": "#2147483648"}).status_code == 200


def test_matches_are_highlighted_and_the_text_stays_escaped(tickets, agent_client):
    page = agent_client.get("/tickets/", {"q": "牛奶 酸"}).content.decode()
    assert '<mark class="search-hit">牛奶</mark>' in page
    assert '<mark class="search-hit">酸</mark>' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_search_forms_empty_fields_do_not_stop_the_jump(tickets, agent_client):
    pk = tickets["other"].pk
    response = agent_client.get("/tickets/", {"q": str(pk), "channel": "", "category": "", "issue": ""})
    assert response.status_code == 302 and response.url == f"/tickets/{pk}/"


@pytest.mark.parametrize(("sort", "first", "last"), [
    ("", "other", "sour"),  # newest first
    ("received_at", "sour", "other"),
    ("-id", "other", "sour"),
    ("id", "sour", "other"),
    ("nonsense", "other", "sour"),  # unknown: the default, not an error
])
def test_list_sorts_by_a_column(tickets, agent_client, sort, first, last):
    response = agent_client.get("/tickets/", {"sort": sort})
    ids = [t.pk for t in response.context["tickets"]]
    assert ids[0] == tickets[first].pk and ids[-1] == tickets[last].pk


def test_column_headers_link_to_both_directions_and_keep_the_search(tickets, agent_client):
    page = agent_client.get("/tickets/", {"q": "牛奶", "sort": "channel"}).content.decode()
    assert "sort=-channel" in page and "q=%E7%89%9B%E5%A5%B6" in page
    assert 'name="sort" value="channel"' in page  # a new search keeps the order


def test_the_demos_sour_milk_complaints_are_found(settings):
    """`牛奶 酸` over the demo data finds exactly what a brute-force AND over the fields finds."""
    from datetime import datetime
    from io import StringIO
    from zoneinfo import ZoneInfo

    import time_machine
    from django.core.management import call_command

    from feedback.models import Ticket

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(datetime(2026, 5, 20, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        call_command("load_demo", "--tickets", "3000", "--no-triage", stdout=StringIO(), stderr=StringIO())
    agent = UserFactory(username="demo-searcher", role=Role.AGENT)

    def holds(ticket, term):
        fields = [ticket.text_masked, ticket.order_number, ticket.sku_raw, ticket.external_id or ""]
        if ticket.product:
            fields += [ticket.product.sku, ticket.product.name]
        return any(term.lower() in field.lower() for field in fields)

    everything = Ticket.objects.select_related("product")
    expected = {t.pk for t in everything if holds(t, "牛奶") and holds(t, "酸")}
    client = Client()
    client.force_login(agent)
    found = page_ids(client, q="牛奶 酸", channel="") | set()
    response = client.get("/tickets/", {"q": "牛奶 酸", "channel": ""})
    assert expected, "the demo should hold sour-milk complaints"
    print(f"\n牛奶 酸 in 3,000 demo tickets: {len(expected)} found")
    assert response.context["paginator"].count == len(expected)
    assert found <= expected
    assert any("酸" in Ticket.objects.get(pk=pk).text for pk in found)
