"""The search's gram column and index (migration 0006): filled on every way a ticket is written,
finds exactly what the plain substring search found, never holds a masked digit, and is used."""
from __future__ import annotations

import importlib
import random
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from rest_framework.test import APIClient

from accounts.models import Role
from feedback.imports.service import import_file
from feedback.models import Ticket
from feedback.selectors import ticket_search_condition
from feedback.services import TicketInput, ticket_create, tickets_bulk_create
from tests.factories import ProductFactory, TicketFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the gram index is PostgreSQL's"),
]

NOW = datetime(2026, 5, 20, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # a fixed moment for the demo
MARK = "榴莲发霉"  # in no other test's text


def grams_of(pk: int) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_grams FROM feedback_ticket WHERE id = %s",
            [pk],
        )
        return set(cursor.fetchone()[0])


def found_by_index(term: str) -> set[int]:
    """Ticket ids whose grams hold every pair of ``term``: the index's own answer, no substring test."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM feedback_ticket WHERE search_grams @> feedback_search_term_grams(%s)",
            [term],
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def agent():
    return UserFactory(username="index-agent", role=Role.AGENT)


def test_ticket_create_is_indexed_from_the_masked_text(agent):
    ticket = ticket_create(
        data=TicketInput(text=f"{MARK}，回电 13812345678", order_number="DD778899", sku="sk-9"), filed_by=agent,
        enqueue=False,
    )

    grams = grams_of(ticket.pk)
    assert {"榴莲", "发霉", "DD", "77", "SK", "K-"} <= grams  # upper-cased, like icontains compares
    assert {"81", "12", "23", "34"}.isdisjoint(grams)  # the masked digits are not there
    assert "8D" not in grams and "9S" not in grams  # no pair spans two fields
    assert ticket.pk in found_by_index("发霉")


def test_bulk_create_and_the_api_batch_are_indexed(agent):
    created, _ = tickets_bulk_create(items=[TicketInput(text=f"批量 {MARK}")], filed_by=agent, enqueue=False)
    api = APIClient()
    api.force_authenticate(agent)
    response = api.post("/api/tickets/batch/", {"tickets": [{"text": f"接口 {MARK}", "channel": "app"}]}, format="json")
    assert response.status_code == 201, response.data

    assert found_by_index(MARK) == {created[0].pk, *response.data["ids"]}


def test_imported_tickets_are_indexed(tmp_path, agent):
    path = tmp_path / "export.csv"
    path.write_text(f"工单号,内容,订单号\nT-1,导入的{MARK},DD5566\n", encoding="utf-8")

    result = import_file(path=path, source="taobao", enqueue=False, filed_by=agent)

    imported = Ticket.objects.get(external_id="T-1")
    assert result.imported == 1
    assert imported.pk in found_by_index(MARK) and imported.pk in found_by_index("dd5566")


def test_demo_tickets_are_indexed(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with time_machine.travel(NOW, tick=False):
        call_command("load_demo", "--tickets", "60", "--no-triage", stdout=StringIO(), stderr=StringIO())
    sample = list(Ticket.objects.order_by("pk")[:60:7])

    for ticket in sample:
        word = ticket.text_masked.strip()[:2]
        assert ticket.pk in found_by_index(word), (ticket.pk, word)


def test_the_migration_fills_the_column_for_tickets_saved_before_it(agent):
    migration = importlib.import_module("feedback.migrations.0006_ticket_search_grams")
    old = ticket_create(data=TicketInput(text=f"旧的{MARK}"), filed_by=agent, enqueue=False)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no deferred check
        cursor.execute(migration.DROP_COLUMN)
        cursor.execute(migration.ADD_COLUMN)
        cursor.execute(migration.INDEX)
        cursor.execute("SELECT count(*) FROM feedback_ticket WHERE search_grams IS NULL")
        unfilled = cursor.fetchone()[0]

    assert old.pk in found_by_index(MARK) and unfilled == 0


def test_a_changed_text_is_reindexed(agent):
    ticket = ticket_create(data=TicketInput(text="牛奶胀包"), filed_by=agent, enqueue=False)

    Ticket.objects.filter(pk=ticket.pk).update(text="洗发水漏液", text_masked="洗发水漏液")

    assert ticket.pk in found_by_index("漏液") and ticket.pk not in found_by_index("胀包")


def test_the_search_uses_the_index(agent):
    TicketFactory(text=f"{MARK}了")
    condition = ticket_search_condition(q="榴莲 发霉", user=agent)
    tickets = Ticket.objects.filter(condition).order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: make the planner show its index
        plan = tickets.explain()

    assert "feedback_ticket_search_grams" in plan


# --- the index finds exactly what the substring search found ---

PIECES = ["牛奶", "酸", "胀包", "洗发水", "漏液", "快递", "太慢", "SH-500", "sh-500", "Ａ杯", "破损", "了", "，",
          "13812345678", "138 1234 5678", "010-62345678", "DD2024", "订单", "(010)", "+86", "*", "no", "box"]
TERMS = ["牛奶 酸", "漏液", "洗发水 漏液", "sh-500", "SH", "ａ杯", "酸", "1381234", "5678", "138", "DD2024 牛奶",
         "010-6", "(010", "+86", "**", "快递太慢", "不存在", "了", "no box", "8 1234"]


def substring_condition(term: str, user) -> Q:
    """The search as it was before the index: a LIKE over every searched field (the reference)."""
    if user.can_see_unmasked:
        text = Q(text__icontains=term)
    else:
        text = Q(text_masked__icontains=term) | Q(filed_by=user, text__icontains=term)
    return (text | Q(order_number__icontains=term) | Q(sku_raw__icontains=term) | Q(product__sku__icontains=term)
            | Q(product__name__icontains=term) | Q(external_id__icontains=term))


@pytest.fixture
def sample():
    """200 tickets put together from pieces that meet at odd places (phone numbers, full width, case)."""
    rng = random.Random(14)
    filer = UserFactory(username="sample-filer", role=Role.AGENT)
    products = [ProductFactory(sku="SH-500", name="去屑洗发水"), ProductFactory(sku="MILK-1", name="纯牛奶")]
    for n in range(200):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
        ticket = ticket_create(data=TicketInput(
            text=text, order_number=rng.choice(["", "DD20241111001", "A-77"]), sku=rng.choice(["", "sh-500x"]),
            product=rng.choice([None, *products]),
        ), filed_by=filer if n % 5 == 0 else None, enqueue=False)
        assert ticket.pk
    return filer


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN, "filer"])
def test_the_index_finds_what_the_substring_search_found(sample, role):
    from feedback.search import search_terms, ticket_number

    user = sample if role == "filer" else UserFactory(username=f"sampler-{role}", role=role)
    compared = 0
    for q in TERMS:
        terms = search_terms(q)
        reference = Q()
        for term in terms:
            reference &= substring_condition(term, user)
        if (number := ticket_number(q)) is not None:
            reference |= Q(pk=number)
        expected = set(Ticket.objects.filter(reference).values_list("pk", flat=True))
        got = set(Ticket.objects.filter(ticket_search_condition(q=q, user=user)).values_list("pk", flat=True))
        assert got == expected, (q, sorted(got ^ expected)[:5])
        compared += len(expected)
    assert compared > 200  # the sample really matched things


def test_without_postgresql_the_search_is_the_plain_substring_search(sample, monkeypatch):
    """The path SQLite takes (no gram index) gives the same answers, here built on the PostgreSQL test database."""
    from django.db import connections

    user = UserFactory(username="sampler-sqlite", role=Role.AGENT)
    for q in ("牛奶 酸", "1381234", "sh-500", "漏液 洗发水"):
        indexed = set(Ticket.objects.filter(ticket_search_condition(q=q, user=user)).values_list("pk", flat=True))
        with monkeypatch.context() as patch:
            patch.setattr(connections["default"], "vendor", "sqlite")
            condition = ticket_search_condition(q=q, user=user)
        assert "feedback_search_grams" not in str(Ticket.objects.filter(condition).query)
        plain = set(Ticket.objects.filter(condition).values_list("pk", flat=True))
        assert plain == indexed
