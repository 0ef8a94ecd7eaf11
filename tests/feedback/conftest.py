import pytest

from feedback import classification
from feedback.models import Category, Ticket, TriageStatus


@pytest.fixture
def damaged_batches(monkeypatch):
    """The model is not under test: every batch is classified as 'damaged' by one UPDATE; the batches
    the pipeline asked for are returned, in order."""
    seen: list[list[int]] = []

    def tickets_classify(*, ticket_ids, attach=True):
        seen.append(list(ticket_ids))
        return Ticket.objects.filter(pk__in=ticket_ids, triage_status=TriageStatus.PENDING).update(
            category=Category.objects.get(code="damaged"), triage_status=TriageStatus.CLASSIFIED
        )

    monkeypatch.setattr(classification, "tickets_classify", tickets_classify)
    return seen
