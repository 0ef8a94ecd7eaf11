import sys
import types

import pytest
from django.core.management import call_command

from feedback.models import Category, Ticket, TriageStatus
from issues.models import Issue
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def classify_rows(ticket_ids):
    damaged = Category.objects.get(code="damaged")
    Ticket.objects.filter(pk__in=ticket_ids, triage_status=TriageStatus.PENDING).update(
        category=damaged, triage_status=TriageStatus.CLASSIFIED
    )


@pytest.fixture
def fake_classification(monkeypatch):
    """Stand in for feedback.classification with the API shape the command looks for."""
    module = types.ModuleType("feedback.classification")
    calls = {"batch": 0, "single": 0}

    def tickets_classify(*, ticket_ids):
        calls["batch"] += 1
        classify_rows(ticket_ids)

    def ticket_classify(*, ticket_id):
        calls["single"] += 1
        classify_rows([ticket_id])

    module.tickets_classify = tickets_classify
    module.ticket_classify = ticket_classify
    monkeypatch.setitem(sys.modules, "feedback.classification", module)
    return module, calls


def test_triage_pending_classifies_groups_and_routes_in_batches_without_a_broker(shampoo, fake_classification, sent_tasks):
    _, calls = fake_classification
    TicketFactory.create_batch(7, product=shampoo, sku_raw=shampoo.sku)
    call_command("triage_pending", "--batch-size", "3", "--no-progress")
    assert calls == {"batch": 3, "single": 0}
    issue = Issue.objects.get()
    assert issue.ticket_count == 7 and issue.routed_at is not None
    assert not Ticket.objects.filter(triage_status=TriageStatus.PENDING).exists()
    assert sent_tasks == []  # routing happened in-process
    call_command("triage_pending", "--no-progress")  # nothing left: a no-op
    issue.refresh_from_db()
    assert issue.ticket_count == 7


def test_triage_pending_falls_back_to_one_ticket_at_a_time(shampoo, fake_classification):
    module, calls = fake_classification
    del module.tickets_classify
    TicketFactory.create_batch(2, product=shampoo, sku_raw=shampoo.sku)
    call_command("triage_pending", "--no-progress")
    assert calls["single"] == 2
    assert Issue.objects.get().ticket_count == 2
