"""manage.py triage_pending: the one triage pipeline (classify, group, route), in-process, in batches."""
import pytest
from django.core.management import call_command

from feedback import classification
from feedback.models import Category, Ticket, TriageStatus
from issues.models import Issue
from tests.factories import ProductFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shampoo():
    return ProductFactory(sku="SH-3001", name="洗发水", product_category="洗发水")


@pytest.fixture
def batches(damaged_batches):
    return damaged_batches


@pytest.fixture
def sent_routing(monkeypatch):
    from issues.tasks import route_issue

    sent = []
    monkeypatch.setattr(route_issue, "apply_async", lambda *args, **kwargs: sent.append(args))
    return sent


def test_triage_pending_classifies_groups_and_routes_in_batches_without_a_broker(shampoo, batches, sent_routing):
    TicketFactory.create_batch(7, product=shampoo, sku_raw=shampoo.sku)

    call_command("triage_pending", "--batch-size", "3", "--no-progress")

    assert [len(batch) for batch in batches] == [3, 3, 1]
    issue = Issue.objects.get()
    assert issue.ticket_count == 7 and issue.routed_at is not None
    assert not Ticket.objects.filter(triage_status=TriageStatus.PENDING).exists()
    assert sent_routing == []  # routed in-process


def test_triage_pending_twice_changes_nothing(shampoo, batches, sent_routing):
    TicketFactory.create_batch(4, product=shampoo, sku_raw=shampoo.sku)
    call_command("triage_pending", "--no-progress")
    call_command("triage_pending", "--no-progress")

    assert len(batches) == 1
    assert Issue.objects.get().ticket_count == 4


def test_tickets_triage_reports_what_was_classified_not_what_was_asked(shampoo, batches, sent_routing):
    pending = TicketFactory.create_batch(2, product=shampoo, sku_raw=shampoo.sku)
    confirmed = TicketFactory(
        product=shampoo, sku_raw=shampoo.sku, category=Category.objects.get(code="damaged"),
        confirmed_category=Category.objects.get(code="damaged"), triage_status=TriageStatus.CONFIRMED,
    )

    result = classification.tickets_triage(ticket_ids=[t.pk for t in pending] + [confirmed.pk], route_inline=True)

    assert result.classified == 2
    assert result.attached == 3  # the confirmed ticket is grouped under its confirmed category
    assert result.created_issues == 1
