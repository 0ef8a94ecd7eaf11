"""Every user-visible rule of intake and triage at its boundary, so a shifted rule fails a test.

The confidence gate (>= threshold, per category), the "received in the future"
rule (one day of clock skew allowed) and the re-check of a single ticket that
an agent confirmed while the model was predicting.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from feedback import classification
from feedback.classification import ticket_classify, ticket_confirm_category
from feedback.classifiers import Prediction
from feedback.models import Category, TriageStatus
from feedback.services import TicketInput, TicketValidationError, ticket_validate
from tests.factories import TicketFactory, UserFactory, category

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def prediction(label: str, confidence: float, *, empty: bool = False) -> Prediction:
    return Prediction(label=label, confidence=confidence, top=[(label, confidence)], terms=[], empty=empty)


@pytest.fixture
def thresholds(settings):
    settings.TRIAGE_CONFIDENCE_THRESHOLD = 0.55
    settings.TRIAGE_CATEGORY_THRESHOLDS = {"damaged": 0.8, "other": 0.3}


@pytest.mark.parametrize(
    ("label", "confidence", "status"),
    [
        ("logistics_delay", 0.55, TriageStatus.CLASSIFIED),  # exactly the default threshold: applied
        ("logistics_delay", 0.5499999, TriageStatus.NEEDS_REVIEW),
        ("logistics_delay", 0.99, TriageStatus.CLASSIFIED),
        ("damaged", 0.8, TriageStatus.CLASSIFIED),  # its own, higher threshold
        ("damaged", 0.7999999, TriageStatus.NEEDS_REVIEW),
        ("damaged", 0.6, TriageStatus.NEEDS_REVIEW),  # above the default, below its own
        ("other", 0.3, TriageStatus.CLASSIFIED),  # its own, lower threshold
        ("other", 0.2999999, TriageStatus.NEEDS_REVIEW),
    ],
)
def test_confidence_gate_at_its_boundary(thresholds, label, confidence, status):
    categories = {c.code: c for c in Category.objects.all()}
    predicted, outcome, _ = classification._outcome(prediction(label, confidence), categories)
    assert outcome == status
    assert predicted == categories[label]


@pytest.mark.parametrize(
    ("label", "override", "confidence", "status"),
    [
        # An admin's override (the database) wins over the environment's per-category threshold (damaged 0.8) ...
        ("damaged", 0.6, 0.6, TriageStatus.CLASSIFIED),
        ("damaged", 0.6, 0.5999999, TriageStatus.NEEDS_REVIEW),
        ("damaged", 0.9, 0.8999999, TriageStatus.NEEDS_REVIEW),  # would clear the environment's 0.8
        ("damaged", 0.9, 0.9, TriageStatus.CLASSIFIED),
        # ... and over the global default (0.55).
        ("logistics_delay", 0.7, 0.7, TriageStatus.CLASSIFIED),
        ("logistics_delay", 0.7, 0.6999999, TriageStatus.NEEDS_REVIEW),
        ("logistics_delay", 0.4, 0.4, TriageStatus.CLASSIFIED),
        ("logistics_delay", 0.4, 0.3999999, TriageStatus.NEEDS_REVIEW),
        # A cleared override falls back to the environment.
        ("damaged", None, 0.7999999, TriageStatus.NEEDS_REVIEW),
        ("damaged", None, 0.8, TriageStatus.CLASSIFIED),
    ],
)
def test_an_admins_override_moves_the_gate_to_its_own_boundary(thresholds, label, override, confidence, status):
    from feedback.services import category_threshold_set

    category_threshold_set(category=category(label), threshold=0.5, user=None)
    category_threshold_set(category=category(label), threshold=override, user=None)
    categories = {c.code: c for c in Category.objects.all()}
    _, outcome, reason = classification._outcome(prediction(label, confidence), categories)
    assert outcome == status, reason


@pytest.mark.parametrize(("override", "confidence", "applied"), [(0.7, 0.7, True), (0.7, 0.6999999, False)])
def test_an_override_takes_effect_in_single_and_batch_classification(thresholds, monkeypatch, override, confidence, applied):
    from feedback.services import category_threshold_set

    category_threshold_set(category=category("logistics_delay"), threshold=override, user=None)
    monkeypatch.setattr(classification, "get_predictor", lambda: FixedModel("logistics_delay", confidence))
    single, batch = TicketFactory(text="快递太慢"), TicketFactory(text="物流太慢")

    ticket_classify(ticket_id=single.pk)
    classification.tickets_classify(ticket_ids=[batch.pk])

    for ticket in (single, batch):
        ticket.refresh_from_db()
        assert ticket.triage_status == (TriageStatus.CLASSIFIED if applied else TriageStatus.NEEDS_REVIEW)


def test_an_empty_text_is_never_applied_whatever_its_confidence(thresholds):
    categories = {c.code: c for c in Category.objects.all()}
    _, outcome, reason = classification._outcome(prediction("other", 1.0, empty=True), categories)
    assert outcome == TriageStatus.NEEDS_REVIEW and "empty" in reason


def test_a_label_that_is_not_an_active_category_goes_to_review(thresholds):
    categories = {c.code: c for c in Category.objects.exclude(code="price")}
    predicted, outcome, _ = classification._outcome(prediction("price", 0.99), categories)
    assert predicted is None and outcome == TriageStatus.NEEDS_REVIEW


class FixedModel:
    """A model that always answers the same prediction (the gate, not the model, is under test)."""

    version = "fixed-1"

    def __init__(self, label: str, confidence: float, before_answer=None):
        self.answer = prediction(label, confidence)
        self.before_answer = before_answer

    def predict(self, texts, products=None, **kwargs):
        if self.before_answer:
            self.before_answer()
        return [self.answer for _ in texts]


@pytest.mark.parametrize(("confidence", "applied"), [(0.55, True), (0.5499999, False)])
def test_single_and_batch_paths_apply_the_same_gate(thresholds, monkeypatch, confidence, applied):
    monkeypatch.setattr(classification, "get_predictor", lambda: FixedModel("logistics_delay", confidence))
    single, batch = TicketFactory(text="快递太慢"), TicketFactory(text="物流太慢")

    ticket_classify(ticket_id=single.pk)
    classification.tickets_classify(ticket_ids=[batch.pk])

    for ticket in (single, batch):
        ticket.refresh_from_db()
        assert ticket.predicted_category == category("logistics_delay")
        assert (ticket.category == category("logistics_delay")) is applied
        assert ticket.triage_status == (TriageStatus.CLASSIFIED if applied else TriageStatus.NEEDS_REVIEW)


def test_a_single_ticket_confirmed_while_the_model_predicts_keeps_the_agents_category(thresholds, monkeypatch):
    agent = UserFactory()
    ticket = TicketFactory(text="快递太慢")

    def agent_confirms_meanwhile():
        ticket_confirm_category(ticket=ticket, category=category("price"), user=agent)

    monkeypatch.setattr(
        classification, "get_predictor", lambda: FixedModel("logistics_delay", 0.99, agent_confirms_meanwhile)
    )
    result = ticket_classify(ticket_id=ticket.pk)

    ticket.refresh_from_db()
    assert result.triage_status == ticket.triage_status == TriageStatus.CONFIRMED
    assert ticket.category == category("price") and ticket.predicted_category is None
    assert ticket.model_version == ""


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59), True),
        (timedelta(days=1), True),  # one day of clock skew between systems is allowed
        (timedelta(days=1, seconds=1), False),
        (timedelta(days=30), False),
    ],
)
def test_received_in_the_future_is_refused_beyond_one_day(ahead, accepted):
    with time_machine.travel(NOW, tick=False):
        data = TicketInput(text="快递太慢了", received_at=NOW + ahead)
        if accepted:
            ticket_validate(data)
        else:
            with pytest.raises(TicketValidationError) as error:
                ticket_validate(data)
            assert "received_at" in error.value.errors
