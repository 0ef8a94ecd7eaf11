"""What classification, confirmation and the triage pipeline write, field by field.

Written against the mutants mutmut left alive in feedback/classification.py
(bin/mutation): every field an agent sees on a ticket, on the single and the
batch path, the training label an agent's confirmation leaves, and what a
triage batch reports. The model is a fixed stand-in: the bridge is under test.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from feedback import classification
from feedback.classification import (
    ticket_classify,
    ticket_confirm_category,
    tickets_classify,
    tickets_confirm_categories,
    tickets_triage,
)
from feedback.classifiers import Prediction
from feedback.models import Category, CategoryLabel, Ticket, TriageStatus
from issues.models import Issue
from tests.factories import ProductFactory, TicketFactory, UserFactory, category

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class FixedModel:
    """Answers every text with the same prediction, and records what it was asked."""

    version = "fixed-7"

    def __init__(self, prediction: Prediction):
        self.prediction = prediction
        self.asked: list[tuple[list[str], list]] = []

    def predict(self, texts, products=None, **kwargs):
        self.asked.append((list(texts), list(products or [])))
        return [self.prediction for _ in texts]


CONFIDENT = Prediction(
    label="damaged", confidence=0.91, top=[("damaged", 0.91), ("quality_defect", 0.06), ("other", 0.03)],
    terms=[("漏液", 1.5), ("裂开", 0.75)],
)
UNSURE = Prediction(
    label="damaged", confidence=0.41, top=[("damaged", 0.41), ("quality_defect", 0.39)], terms=[("漏液", 0.5)]
)


@pytest.fixture
def model(settings, monkeypatch):
    settings.TRIAGE_CONFIDENCE_THRESHOLD = 0.55
    settings.TRIAGE_CATEGORY_THRESHOLDS = {}
    fixed = FixedModel(CONFIDENT)
    monkeypatch.setattr(classification, "get_predictor", lambda: fixed)
    return fixed


def classify_single(ids):
    for ticket_id in ids:
        ticket_classify(ticket_id=ticket_id)


def classify_batch(ids):
    tickets_classify(ticket_ids=ids)


PATHS = pytest.mark.parametrize("classify", [classify_single, classify_batch], ids=["single", "batch"])


@PATHS
@pytest.mark.parametrize(
    ("prediction", "status", "applied"),
    [(CONFIDENT, TriageStatus.CLASSIFIED, True), (UNSURE, TriageStatus.NEEDS_REVIEW, False)],
    ids=["applied", "review"],
)
def test_every_field_an_agent_sees_is_written_on_both_paths(model, classify, prediction, status, applied):
    model.prediction = prediction
    ticket = TicketFactory(text="瓶子裂开漏液")

    with time_machine.travel(NOW, tick=False):
        classify([ticket.pk])

    ticket.refresh_from_db()
    assert ticket.triage_status == status
    assert ticket.predicted_category == category("damaged")
    assert ticket.category == (category("damaged") if applied else None)
    assert ticket.prediction_confidence == prediction.confidence
    assert ticket.prediction_top == [[code, p] for code, p in prediction.top]
    assert ticket.prediction_terms == [[term, w] for term, w in prediction.terms]
    assert ticket.model_version == "fixed-7"
    assert ticket.classified_at == NOW
    # Applied tickets are grouped at once; tickets for review wait for an agent.
    assert (ticket.issue_id is not None) is applied


@PATHS
def test_a_label_that_is_no_longer_an_active_category_goes_to_review_on_both_paths(model, classify):
    Category.objects.filter(code="price").update(is_active=False)
    model.prediction = Prediction(label="price", confidence=0.99, top=[("price", 0.99)], terms=[])
    ticket = TicketFactory(text="太贵了")

    classify([ticket.pk])

    ticket.refresh_from_db()
    assert ticket.triage_status == TriageStatus.NEEDS_REVIEW
    assert ticket.predicted_category is None and ticket.category is None
    assert ticket.prediction_confidence == 0.99 and ticket.model_version == "fixed-7"


@PATHS
def test_the_model_reads_masked_text_and_the_products_category(model, classify):
    lotion = ProductFactory(sku="LO-1", product_category="身体乳")
    ticket = TicketFactory(text="漏液了，回电13812345678", product=lotion, sku_raw=lotion.sku)

    classify([ticket.pk])

    assert model.asked == [(["漏液了，回电138****5678"], ["身体乳"])]


@PATHS
def test_a_confirmed_ticket_is_not_reclassified(model, classify):
    agent = UserFactory()
    ticket = TicketFactory(text="瓶子裂开漏液")
    ticket_confirm_category(ticket=ticket, category=category("price"), user=agent)

    classify([ticket.pk])

    ticket.refresh_from_db()
    assert ticket.triage_status == TriageStatus.CONFIRMED and ticket.category == category("price")
    assert ticket.predicted_category is None and ticket.model_version == ""


def test_batch_classification_counts_only_the_tickets_it_wrote(model):
    agent = UserFactory()
    pending = TicketFactory.create_batch(3, text="瓶子裂开漏液")
    confirmed = TicketFactory(text="价格太贵")
    ticket_confirm_category(ticket=confirmed, category=category("price"), user=agent)

    assert tickets_classify(ticket_ids=[t.pk for t in pending] + [confirmed.pk]) == 3
    assert tickets_classify(ticket_ids=[]) == 0
    assert tickets_classify(ticket_ids=[confirmed.pk]) == 0
    assert len(model.asked) == 1  # nothing to classify: the model is not even asked


def test_batch_classification_groups_what_it_applied_unless_told_not_to(model):
    grouped, held_back = TicketFactory(text="瓶子裂开漏液"), TicketFactory(text="瓶子也裂开了")

    tickets_classify(ticket_ids=[grouped.pk])
    tickets_classify(ticket_ids=[held_back.pk], attach=False)

    assert Ticket.objects.get(pk=grouped.pk).issue_id is not None
    assert Ticket.objects.get(pk=held_back.pk).issue_id is None


@pytest.mark.parametrize("who", ["agent", "anonymous", "nobody"])
def test_a_confirmation_records_who_when_and_what_the_ticket_was_before(model, who):
    agent = UserFactory(username="agent-confirming")
    user = {"agent": agent, "anonymous": AnonymousUser(), "nobody": None}[who]
    ticket = TicketFactory(text="瓶子裂开漏液")
    ticket_classify(ticket_id=ticket.pk)  # applied as damaged

    with time_machine.travel(NOW, tick=False):
        ticket = ticket_confirm_category(ticket=ticket, category=category("quality_defect"), user=user)

    labelled_by = agent if who == "agent" else None
    assert ticket.triage_status == TriageStatus.CONFIRMED
    assert ticket.category == ticket.confirmed_category == category("quality_defect")
    assert ticket.confirmed_by == labelled_by and ticket.confirmed_at == NOW
    label = CategoryLabel.objects.get(ticket=ticket)
    assert (label.category, label.previous_category, label.labelled_by) == (
        category("quality_defect"), category("damaged"), labelled_by,
    )
    # The ticket moved to the issue of its confirmed category.
    assert Issue.objects.get(pk=ticket.issue_id).category == category("quality_defect")


def test_confirming_many_tickets_gives_each_its_own_category_and_label(model):
    agent = UserFactory()
    first, second, third = TicketFactory.create_batch(3, text="瓶子裂开漏液")
    untouched = TicketFactory(text="瓶子裂开漏液")
    tickets_classify(ticket_ids=[first.pk, second.pk, third.pk, untouched.pk])

    confirmed = tickets_confirm_categories(
        confirmations={first.pk: category("price"), second.pk: category("service"), third.pk: category("price")},
        user=agent,
    )

    assert confirmed == 3
    rows = dict(Ticket.objects.values_list("pk", "category__code"))
    assert rows == {first.pk: "price", second.pk: "service", third.pk: "price", untouched.pk: "damaged"}
    assert set(Ticket.objects.filter(triage_status=TriageStatus.CONFIRMED).values_list("pk", flat=True)) == {
        first.pk, second.pk, third.pk,
    }
    labels = {label.ticket_id: (label.category.code, label.previous_category.code) for label in CategoryLabel.objects.all()}
    assert labels == {first.pk: ("price", "damaged"), second.pk: ("service", "damaged"), third.pk: ("price", "damaged")}
    assert {t.issue.category.code for t in Ticket.objects.filter(pk__in=[first.pk, second.pk])} == {"price", "service"}
    assert tickets_confirm_categories(confirmations={}, user=agent) == 0


def test_a_triage_batch_reports_each_ticket_once_and_an_empty_batch_does_nothing(model):
    shampoo = ProductFactory(sku="SH-9", product_category="洗发水")
    tickets = TicketFactory.create_batch(2, text="瓶子裂开漏液", product=shampoo, sku_raw=shampoo.sku)
    ids = [tickets[1].pk, tickets[0].pk, tickets[1].pk]

    result = tickets_triage(ticket_ids=ids, route_inline=True)

    assert (result.classified, result.attached, result.created_issues) == (2, 2, 1)
    assert model.asked and len(model.asked[0][0]) == 2
    assert Issue.objects.get().ticket_count == 2
    assert tickets_triage(ticket_ids=[]) == classification.TriageResult(0, 0, 0)
    assert len(model.asked) == 1


@pytest.mark.parametrize("route_inline", [True, False, None], ids=["inline", "by-task", "default-by-task"])
def test_a_triage_batch_routes_new_issues_in_process_only_when_asked(model, monkeypatch, route_inline,
                                                                      django_capture_on_commit_callbacks):
    from issues.tasks import route_issue

    queued = []
    monkeypatch.setattr(route_issue, "apply_async", lambda args=(), **kwargs: queued.append(list(args)))
    ticket = TicketFactory(text="瓶子裂开漏液")

    options = {} if route_inline is None else {"route_inline": route_inline}
    with django_capture_on_commit_callbacks(execute=True):
        tickets_triage(ticket_ids=[ticket.pk], **options)

    # The Celery task calls without the option: its new issues are routed by their own task.
    issue = Issue.objects.get()
    assert (issue.routed_at is not None) is bool(route_inline)
    assert queued == ([] if route_inline else [[issue.pk]])


@pytest.mark.parametrize("how_many", [1, 2, 3])
def test_an_agent_can_confirm_any_number_of_tickets_at_once(model, how_many):
    agent = UserFactory()
    tickets = TicketFactory.create_batch(how_many, text="瓶子裂开漏液")

    confirmed = tickets_confirm_categories(confirmations={t.pk: category("price") for t in tickets}, user=agent)

    assert confirmed == how_many
    assert Ticket.objects.filter(triage_status=TriageStatus.CONFIRMED, category__code="price").count() == how_many
    assert CategoryLabel.objects.filter(labelled_by=agent).count() == how_many
