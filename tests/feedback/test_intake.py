"""Intake at the speed of the stack: round trips of a single create, the cheap response, coalesced triage."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient, APIRequestFactory

from feedback import classification, services
from feedback.api.serializers import TicketSerializer, ticket_data
from feedback.models import Ticket, TriageStatus
from feedback.services import DuplicateTicket, TicketInput, ticket_create
from issues.models import Issue
from issues.services import ticket_attach
from tests.factories import ProductFactory, TicketFactory, UserFactory, category

TICKETS = "/api/tickets/"


def statements(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split()[0].upper() for query in queries.captured_queries]


# --- one round trip per ticket ---


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sku", ["SH-001", "NO-SUCH-SKU", ""])
def test_outside_a_transaction_a_create_is_one_statement_with_the_product_looked_up_in_it(sku):
    product = ProductFactory(sku="SH-001", name="柔顺洗发水", product_category="洗护")

    with CaptureQueriesContext(connection) as queries:
        ticket = ticket_create(data=(data := TicketInput(text="洗发水漏液了", sku=sku)), enqueue=False)

    # No BEGIN/COMMIT, no duplicate check, and on PostgreSQL no separate SELECT of the product.
    if connection.vendor == "postgresql":
        assert statements(queries) == ["WITH"]
    else:  # SQLite has RETURNING but no INSERT in a WITH: the known product is read after
        assert statements(queries) == (["INSERT", "SELECT"] if sku == "SH-001" else ["INSERT"])
    saved = Ticket.objects.select_related("product").get(pk=ticket.pk)
    assert saved.product == ticket.product == (product if sku == "SH-001" else None)
    assert saved.sku_raw == sku
    assert (ticket.product.name if ticket.product else None) == ("柔顺洗发水" if sku == "SH-001" else None)
    assert len(data.warnings) == (1 if sku == "NO-SUCH-SKU" else 0)


@pytest.mark.django_db(transaction=True)
def test_the_api_files_a_ticket_in_two_statements_token_and_insert(agent):
    ProductFactory(sku="SH-001")
    token = Token.objects.create(user=agent)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    with CaptureQueriesContext(connection) as queries:
        response = api.post(TICKETS, {"text": "洗发水漏液了", "sku": "SH-001"}, format="json")

    assert response.status_code == 201, response.data
    assert response.data["product"]["sku"] == "SH-001"
    assert statements(queries) == (["SELECT", "WITH"] if connection.vendor == "postgresql" else ["SELECT", "INSERT", "SELECT"])


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_external_id_outside_a_transaction_is_reported_with_the_saved_ticket():
    first = ticket_create(data=TicketInput(text="第一次", external_source="jd", external_id="JD-1"), enqueue=False)

    with pytest.raises(DuplicateTicket) as raised:
        ticket_create(data=TicketInput(text="第二次", external_source="jd", external_id="JD-1"), enqueue=False)

    assert raised.value.ticket.pk == first.pk
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_a_duplicate_inside_a_transaction_leaves_the_transaction_usable():
    ticket_create(data=TicketInput(text="第一次", external_source="jd", external_id="JD-1"), enqueue=False)

    with pytest.raises(DuplicateTicket):
        ticket_create(data=TicketInput(text="第二次", external_source="jd", external_id="JD-1"), enqueue=False)

    assert ticket_create(data=TicketInput(text="第三次"), enqueue=False).pk  # the savepoint rolled back alone
    assert Ticket.objects.count() == 2


# --- the response is the serializer's, built once ---


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["filer", "other agent", "admin"])
def test_ticket_data_equals_the_ticket_serializer_for_every_viewer(agent, admin_user, viewer):
    user = {"filer": agent, "other agent": UserFactory(username="agent2"), "admin": admin_user}[viewer]
    product = ProductFactory(sku="SH-001", name="柔顺洗发水", product_category="洗护")
    ticket = TicketFactory(
        text="请回电 13812345678，洗发水漏液", filed_by=agent, product=product, sku_raw="SH-001",
        category=category("damaged"), predicted_category=category("damaged"), triage_status=TriageStatus.CLASSIFIED,
        prediction_confidence=0.91, prediction_top=[["damaged", 0.91]], prediction_terms=[["漏液", 1.2]],
    )
    ticket_attach(ticket=ticket)
    ticket = Ticket.objects.select_related("product", "category", "predicted_category", "filed_by").get(pk=ticket.pk)
    request = APIRequestFactory().get("/")
    request.user = user

    expected = TicketSerializer(ticket, context={"request": request}).data

    assert ticket_data(ticket, user=user) == expected
    assert ("13812345678" in expected["text"]) is (viewer != "other agent")
    assert expected["issue"] == Issue.objects.get().pk and expected["product"]["sku"] == "SH-001"


# --- single tickets coalesce into one triage run per window ---


@pytest.fixture
def published(monkeypatch, settings):
    """Record triage_pending publishes, synchronously, on a fresh per-process cache."""
    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "intake"}}
    settings.TRIAGE_COALESCE_SECONDS = 30  # far longer than the test: only release() ends the window
    caches["default"].delete(services.TRIAGE_PENDING_KEY)
    sent: list[float] = []

    class Inline:
        def submit(self, function, **kwargs):
            sent.append(kwargs["countdown"])

    monkeypatch.setattr(services, "_publisher", lambda: Inline())
    yield sent
    caches["default"].delete(services.TRIAGE_PENDING_KEY)


@pytest.mark.django_db
def test_tickets_filed_in_one_window_publish_one_delayed_run(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(5):
            ticket_create(data=TicketInput(text=f"快递太慢了 #{index}"))

    assert published == [30]


@pytest.mark.django_db
def test_a_ticket_after_the_run_started_publishes_a_new_run(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_create(data=TicketInput(text="快递太慢了"))
    services.triage_pending_release()  # what the run does as it starts looking for work
    with django_capture_on_commit_callbacks(execute=True):
        ticket_create(data=TicketInput(text="又慢又破"))
        ticket_create(data=TicketInput(text="还是很慢"))

    assert published == [30, 30]


@pytest.mark.django_db
def test_a_rolled_back_ticket_publishes_nothing(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket_create(data=TicketInput(text="快递太慢了"))

    assert published == [] and len(callbacks) == 1  # on commit only


@pytest.mark.django_db
def test_a_batch_still_goes_out_as_batch_messages(monkeypatch, django_capture_on_commit_callbacks):
    from feedback.tasks import triage_tickets

    sent = []
    monkeypatch.setattr(triage_tickets, "apply_async", lambda args, **kwargs: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        services.tickets_enqueue_triage(ticket_ids=list(range(1, 451)))

    assert [len(ids) for ids in sent] == [200, 200, 50]


@pytest.mark.django_db
def test_a_broker_outage_is_logged_and_the_ticket_stays_pending(monkeypatch, caplog):
    from feedback.tasks import triage_pending

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(triage_pending, "apply_async", refuse)
    services._publish_triage_pending(countdown=0.5)

    assert "left for the sweeper" in caplog.text


# --- the worker's side: take everything waiting, newest first ---


@pytest.fixture
def classified_batches(damaged_batches, monkeypatch):
    """Batches classified as 'damaged' (tests/feedback/conftest.py); routing is not sent anywhere."""
    monkeypatch.setattr("issues.tasks.route_issue.apply_async", lambda *args, **kwargs: None)
    return damaged_batches


@pytest.mark.django_db
def test_a_pending_run_takes_the_newest_waiting_tickets_up_to_the_limit(classified_batches, published):
    product = ProductFactory(sku="SH-3001", product_category="洗发水")
    tickets = [ticket_create(data=TicketInput(text=f"洗发水漏液 #{i}", sku=product.sku), enqueue=False) for i in range(5)]
    services.triage_pending_schedule()  # claims the window's key
    TicketFactory(text="已确认", triage_status=TriageStatus.CONFIRMED, category=category("damaged"))

    first = classification.tickets_triage_pending(limit=3)
    second = classification.tickets_triage_pending(limit=3)
    third = classification.tickets_triage_pending(limit=3)

    assert first.ticket_ids == sorted(first.ticket_ids, reverse=True) == [t.pk for t in tickets[:1:-1]]
    assert first.more_waiting and not second.more_waiting
    assert second.ticket_ids == [tickets[1].pk, tickets[0].pk]
    assert third.ticket_ids == [] and classified_batches == [sorted(first.ticket_ids), sorted(second.ticket_ids)]
    assert not Ticket.objects.filter(triage_status=TriageStatus.PENDING).exists()
    assert Issue.objects.get().ticket_count == 5
    # The run released the window, so the next ticket schedules a new run.
    services.triage_pending_schedule()
    assert published == [30, 30]


@pytest.mark.django_db
def test_the_pending_task_continues_at_once_when_a_full_batch_was_taken(classified_batches, monkeypatch, settings):
    from feedback.tasks import triage_pending

    settings.TRIAGE_PENDING_BATCH = 2
    for index in range(3):
        ticket_create(data=TicketInput(text=f"快递太慢了 #{index}"), enqueue=False)
    again = []
    monkeypatch.setattr(triage_pending, "apply_async", lambda *args, **kwargs: again.append(kwargs))

    triage_pending.apply()
    triage_pending.apply()

    assert len(again) == 1  # after the full first batch only
    assert not Ticket.objects.filter(triage_status=TriageStatus.PENDING).exists()


# --- a batch: one pass, one INSERT, one message ---


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_100_is_one_product_query_one_insert_and_one_triage_message(agent, monkeypatch):
    from feedback.tasks import triage_tickets

    ProductFactory(sku="SH-001")
    sent = []
    monkeypatch.setattr(triage_tickets, "apply_async", lambda args, **kwargs: sent.append(args[0]))
    api = APIClient()
    api.force_authenticate(agent)
    items = [{"text": f"洗发水漏液了 #{i}", "sku": "SH-001" if i % 2 else "NO-SUCH"} for i in range(100)]

    with CaptureQueriesContext(connection) as queries:
        response = api.post(f"{TICKETS}batch/", {"tickets": items}, format="json")

    assert response.status_code == 201, response.data
    if connection.vendor == "postgresql":
        assert statements(queries) == ["SELECT", "BEGIN", "INSERT", "COMMIT"]  # no savepoints, no per-item query
    else:  # SQLite splits the INSERT to stay under its 999 parameters
        assert statements(queries).count("SELECT") == 1 and "SAVEPOINT" not in statements(queries)
    assert response.data["created"] == 100 and len(response.data["warnings"]) == 50
    assert sent == [response.data["ids"]]
    assert Ticket.objects.filter(product__sku="SH-001").count() == 50


@pytest.mark.django_db
def test_a_batch_reports_every_bad_item_by_index_and_saves_nothing(agent):
    agent_api = APIClient()
    agent_api.force_authenticate(agent)
    items = [{"text": "好"}, {"text": ""}, "not an object", {"text": "好", "received_at": "soon"}, {"text": "好", "channel": 3.5}]

    response = agent_api.post(f"{TICKETS}batch/", {"tickets": items}, format="json")

    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.data["errors"]] == [
        (1, "text"), (2, None), (3, "received_at"), (4, "channel"),
    ]
    assert Ticket.objects.count() == 0


# --- worker database connections ---


def test_the_celery_fixup_keeps_connections_across_tasks(settings, monkeypatch):
    from celery.fixups.django import DjangoWorkerFixup

    from config.celery import app

    fixup = DjangoWorkerFixup(app)
    closed = []
    monkeypatch.setattr(fixup, "_close_database", lambda: closed.append(1))
    for _ in range(10):  # five tasks: the fixup calls close_database before and after each
        fixup.close_database()

    assert fixup.db_reuse_max == settings.CELERY_DB_REUSE_MAX >= 100
    assert closed == []


@pytest.mark.parametrize("eager", [False, True])
def test_before_each_worker_task_a_broken_or_old_connection_is_dropped(monkeypatch, eager):
    from config import celery as celery_config

    calls = []
    monkeypatch.setattr("django.db.close_old_connections", lambda: calls.append("checked"))
    task = type("Task", (), {"request": type("Request", (), {"is_eager": eager})()})()

    celery_config._close_unusable_database_connections(task=task)

    assert calls == ([] if eager else ["checked"])  # an eager task runs inside the caller's transaction
