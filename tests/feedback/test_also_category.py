"""A second category (也涉及): the model proposes its close runner-up, an agent confirms it.

The ticket keeps counting under its first category; the second is never its own category, is set
through one service (page, review stream and API), only by people who may confirm categories.
"""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from feedback import classification
from feedback.classification import (
    ticket_classify,
    ticket_confirm_category,
    tickets_classify,
    tickets_confirm_categories,
)
from feedback.classifiers.model import ALSO_RATIO, Prediction
from feedback.models import Category, Ticket, TriageStatus
from feedback.selectors import ticket_also_suggestion
from feedback.services import AlsoCategoryError, ticket_also_category_set
from tests.factories import TicketFactory, category

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=SHANGHAI)
TICKETS = "/api/tickets/"


def fake_and_broken(*, first: float = 0.5, second: float = 0.3, **fields) -> Ticket:
    """A ticket the model read as a fake first and as broken second, with these probabilities."""
    fields.setdefault("text", "鞋子做工很差像是假的，鞋底还开胶了")
    return TicketFactory(
        prediction_top=[["counterfeit", first], ["damaged", second], ["quality_defect", 0.05]],
        predicted_category=category("counterfeit"), prediction_confidence=first, **fields,
    )


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- the service ---


def test_an_agent_sets_the_second_category_and_who_and_when_are_recorded(agent):
    ticket = fake_and_broken(category=category("counterfeit"), triage_status=TriageStatus.CLASSIFIED)

    with time_machine.travel(NOW, tick=False):
        ticket_also_category_set(ticket_id=ticket.pk, code="damaged", user=agent)

    ticket.refresh_from_db()
    assert ticket.also_category == category("damaged")
    assert ticket.also_category_set_by == agent
    assert ticket.also_category_set_at == NOW
    # A filter, not a regrouping: the ticket's category and issue are what they were.
    assert ticket.category == category("counterfeit")


@pytest.mark.parametrize("empty", ["", None])
def test_an_empty_code_clears_the_second_category(agent, empty):
    ticket = fake_and_broken(category=category("counterfeit"), also_category=category("damaged"))

    ticket_also_category_set(ticket_id=ticket.pk, code=empty, user=agent)

    ticket.refresh_from_db()
    assert ticket.also_category is None
    assert ticket.also_category_set_by == agent


def test_the_second_category_cannot_be_the_tickets_own(agent):
    ticket = fake_and_broken(category=category("counterfeit"))

    with pytest.raises(AlsoCategoryError) as refused:
        ticket_also_category_set(ticket_id=ticket.pk, code="counterfeit", user=agent)

    assert refused.value.field == "also_category"
    assert "不能与工单本身的类别相同" in refused.value.message
    ticket.refresh_from_db()
    assert ticket.also_category is None


@pytest.mark.parametrize("code", ["no_such_category", "retired"])
def test_unknown_or_retired_codes_are_refused(agent, code):
    Category.objects.create(code="retired", name_zh="停用类别", name_en="Retired", is_active=False)
    ticket = fake_and_broken()

    with pytest.raises(AlsoCategoryError, match=code):
        ticket_also_category_set(ticket_id=ticket.pk, code=code, user=agent)

    assert Ticket.objects.get(pk=ticket.pk).also_category is None


def test_only_people_who_may_confirm_categories_may_set_it(manager):
    ticket = fake_and_broken()

    with pytest.raises(PermissionDenied):
        ticket_also_category_set(ticket_id=ticket.pk, code="damaged", user=manager)

    assert Ticket.objects.get(pk=ticket.pk).also_category is None


def test_the_database_refuses_a_second_category_equal_to_the_first():
    ticket = fake_and_broken(category=category("counterfeit"))

    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(also_category=category("counterfeit"))


# --- writers of the first category clear a second one that becomes the first ---


def test_confirming_the_second_category_as_the_first_clears_the_second(agent):
    ticket = fake_and_broken(category=category("counterfeit"), also_category=category("damaged"),
                             triage_status=TriageStatus.CLASSIFIED)
    other = fake_and_broken(category=category("counterfeit"), also_category=category("quality_defect"),
                            triage_status=TriageStatus.CLASSIFIED)

    tickets_confirm_categories(confirmations={ticket.pk: category("damaged"), other.pk: category("damaged")},
                               user=agent)

    ticket.refresh_from_db()
    other.refresh_from_db()
    assert ticket.category == category("damaged") and ticket.also_category is None
    # Only the ticket whose second category became its first loses it.
    assert other.also_category == category("quality_defect")


def test_confirming_another_category_keeps_the_second(agent):
    ticket = fake_and_broken(also_category=category("damaged"), triage_status=TriageStatus.NEEDS_REVIEW)

    ticket = ticket_confirm_category(ticket=ticket, category=category("counterfeit"), user=agent)

    assert ticket.also_category == category("damaged")


class _FixedModel:
    """Predicts ``label`` for every text; the model itself is not under test here."""

    version = "fixed"

    def __init__(self, label: str):
        self.label = label

    def predict(self, texts, products=None):
        top = [(self.label, 0.9), ("other", 0.05), ("price", 0.02)]
        return [Prediction(self.label, 0.9, top, []) for _ in texts]


@pytest.mark.parametrize("batch", [True, False], ids=["batch", "single"])
def test_a_new_prediction_equal_to_the_second_category_clears_it(monkeypatch, settings, batch):
    settings.TRIAGE_CONFIDENCE_THRESHOLD = 0.5
    monkeypatch.setattr(classification, "get_predictor", lambda: _FixedModel("damaged"))
    becomes_first = TicketFactory(text="盒子压扁了", also_category=category("damaged"))
    stays_second = TicketFactory(text="盒子压扁了", also_category=category("counterfeit"))

    if batch:
        tickets_classify(ticket_ids=[becomes_first.pk, stays_second.pk], attach=False)
    else:
        for ticket in (becomes_first, stays_second):
            ticket_classify(ticket_id=ticket.pk)

    becomes_first.refresh_from_db()
    stays_second.refresh_from_db()
    assert becomes_first.category == category("damaged") and becomes_first.also_category is None
    assert stays_second.category == category("damaged") and stays_second.also_category == category("counterfeit")


# --- the suggestion: only when the runner-up is close (the model's own rule) ---


@pytest.mark.parametrize(
    "second, shown",
    [(ALSO_RATIO * 0.5, True), (ALSO_RATIO * 0.5 - 0.001, False), (0.45, True), (0.05, False)],
    ids=["exactly-the-ratio", "just-below", "well-above", "far-below"],
)
def test_the_runner_up_is_proposed_only_when_it_is_close(second, shown):
    ticket = fake_and_broken(first=0.5, second=second)

    suggestion = ticket_also_suggestion(ticket=ticket)

    assert (suggestion is not None) is shown
    if shown:
        assert suggestion.category == category("damaged")
        assert suggestion.confidence == pytest.approx(second)


def test_when_an_agent_made_the_runner_up_the_category_the_models_first_is_proposed():
    ticket = fake_and_broken(category=category("damaged"), triage_status=TriageStatus.CONFIRMED)

    assert ticket_also_suggestion(ticket=ticket).category == category("counterfeit")


def test_nothing_is_proposed_when_the_category_is_neither_of_the_two_or_already_recorded():
    corrected = fake_and_broken(category=category("price"), triage_status=TriageStatus.CONFIRMED)
    recorded = fake_and_broken(category=category("counterfeit"), also_category=category("damaged"))

    assert ticket_also_suggestion(ticket=corrected) is None
    assert ticket_also_suggestion(ticket=recorded) is None


@pytest.mark.parametrize("top", [[], [["counterfeit", 0.9]], [["counterfeit", 0.5], ["damaged", None]]])
def test_nothing_is_proposed_without_two_scored_candidates(top):
    assert ticket_also_suggestion(ticket=TicketFactory(prediction_top=top)) is None


# --- the ticket page ---


def test_the_ticket_page_proposes_a_close_runner_up_and_one_click_records_it(agent_client, agent):
    ticket = fake_and_broken(category=category("counterfeit"), triage_status=TriageStatus.CLASSIFIED)
    page = agent_client.get(reverse("ticket-detail", args=[ticket.pk]))

    assert page.context["also_suggestion"].category == category("damaged")
    assert "也涉及：破损变质？" in page.content.decode()

    response = agent_client.post(reverse("ticket-also", args=[ticket.pk]), {"also_category": "damaged"})

    assert response.status_code == 302
    assert response["Location"] == reverse("ticket-detail", args=[ticket.pk]) + "#confirm"
    assert Ticket.objects.get(pk=ticket.pk).also_category == category("damaged")
    after = agent_client.get(response["Location"]).content.decode()
    assert "已记录：也涉及“破损变质”" in after
    assert "也涉及：破损变质？" not in after  # recorded, no longer proposed
    assert "也涉及“破损变质”（agent1）" in after


def test_the_ticket_page_does_not_propose_a_distant_runner_up(agent_client):
    ticket = fake_and_broken(first=0.8, second=0.2)

    page = agent_client.get(reverse("ticket-detail", args=[ticket.pk]))

    assert page.context["also_suggestion"] is None
    assert "data-also-suggestion" not in page.content.decode()


def test_the_agent_chooses_any_second_category_and_clears_it_on_the_page(agent_client):
    ticket = fake_and_broken(first=0.8, second=0.1, category=category("counterfeit"))
    page = agent_client.get(reverse("ticket-detail", args=[ticket.pk]))
    # Every active category but the ticket's own is offered.
    assert list(page.context["also_choices"]) == list(Category.objects.filter(is_active=True).exclude(code="counterfeit"))

    agent_client.post(reverse("ticket-also", args=[ticket.pk]), {"also_category": "logistics_delay"})
    assert Ticket.objects.get(pk=ticket.pk).also_category == category("logistics_delay")

    response = agent_client.post(reverse("ticket-also", args=[ticket.pk]), {"also_category": ""}, follow=True)
    assert Ticket.objects.get(pk=ticket.pk).also_category is None
    assert "已清除“也涉及”" in response.content.decode()


@pytest.mark.parametrize(
    "code, message",
    [("counterfeit", "不能与工单本身的类别相同"), ("<b>nope</b>", "没有这个类别：&lt;b&gt;nope&lt;/b&gt;")],
    ids=["same-as-first", "unknown-code-escaped"],
)
def test_bad_choices_on_the_page_are_an_error_message(agent_client, code, message):
    ticket = fake_and_broken(category=category("counterfeit"))

    response = agent_client.post(reverse("ticket-also", args=[ticket.pk]), {"also_category": code}, follow=True)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).also_category is None


def test_a_manager_gets_403_and_sees_no_proposal(client, manager):
    ticket = fake_and_broken()
    client.force_login(manager)

    assert client.post(reverse("ticket-also", args=[ticket.pk]), {"also_category": "damaged"}).status_code == 403
    assert client.post(reverse("review-also", args=[ticket.pk]), {"also_category": "damaged"},
                       content_type="application/json").status_code == 403
    page = client.get(reverse("ticket-detail", args=[ticket.pk])).content.decode()
    assert "data-also-suggestion" not in page and 'name="also_category"' not in page
    assert Ticket.objects.get(pk=ticket.pk).also_category is None


def test_setting_it_on_a_missing_ticket_is_404(agent_client):
    assert agent_client.post(reverse("ticket-also", args=[999999]), {"also_category": "damaged"}).status_code == 404


# --- the review stream ---


def test_the_review_stream_offers_the_chip_and_records_it_in_one_request(agent_client):
    close = fake_and_broken(triage_status=TriageStatus.NEEDS_REVIEW)
    distant = fake_and_broken(first=0.9, second=0.05, triage_status=TriageStatus.NEEDS_REVIEW)

    tickets = {t["id"]: t for t in agent_client.get(reverse("review-tickets")).json()["tickets"]}

    assert tickets[close.pk]["also"]["code"] == "damaged"
    assert tickets[distant.pk]["also"] is None
    response = agent_client.post(reverse("review-also", args=[close.pk]), {"also_category": "damaged"},
                                 content_type="application/json")
    assert response.status_code == 200
    assert response.json()["also_category"] == {"code": "damaged", "name": "破损变质"}
    assert Ticket.objects.get(pk=close.pk).also_category == category("damaged")
    # Still waiting for its first category: recording the second one confirms nothing.
    assert Ticket.objects.get(pk=close.pk).triage_status == TriageStatus.NEEDS_REVIEW
    again = {t["id"]: t for t in agent_client.get(reverse("review-tickets")).json()["tickets"]}
    assert again[close.pk]["also"] is None and again[close.pk]["also_category"]["code"] == "damaged"


@pytest.mark.parametrize("body, status", [({"also_category": "nonsense"}, 400), ({"also_category": 7}, 400),
                                          ({"also_category": None}, 200)])
def test_the_review_stream_answers_bad_codes_with_a_400_naming_the_field(agent_client, body, status):
    ticket = fake_and_broken(triage_status=TriageStatus.NEEDS_REVIEW)

    response = agent_client.post(reverse("review-also", args=[ticket.pk]), json.dumps(body),
                                 content_type="application/json")

    assert response.status_code == status
    if status == 400:
        assert response.json()["field"] == "also_category"


# --- the API ---


def test_the_api_sets_shows_and_clears_the_second_category(agent):
    ticket = fake_and_broken(category=category("counterfeit"))
    api = api_for(agent)

    response = api.post(f"{TICKETS}{ticket.pk}/also/", {"also_category": "damaged"}, format="json")

    assert response.status_code == 200, response.data
    assert response.data["also_category"] == "damaged"
    assert response.data["category"] == "counterfeit"
    assert api.get(f"{TICKETS}{ticket.pk}/").data["also_category"] == "damaged"
    assert [row["id"] for row in api.get(f"{TICKETS}?also_category=damaged").data["results"]] == [ticket.pk]
    cleared = api.post(f"{TICKETS}{ticket.pk}/also/", {"also_category": None}, format="json")
    assert cleared.status_code == 200 and cleared.data["also_category"] is None
    assert Ticket.objects.get(pk=ticket.pk).also_category is None


@pytest.mark.parametrize("body", [{"also_category": "nonsense"}, {"also_category": "counterfeit"}, {}],
                         ids=["unknown-code", "same-as-first", "missing"])
def test_the_api_refuses_bad_second_categories_naming_the_field(agent, body):
    ticket = fake_and_broken(category=category("counterfeit"))

    response = api_for(agent).post(f"{TICKETS}{ticket.pk}/also/", body, format="json")

    assert response.status_code == 400
    assert list(response.data) == ["also_category"]
    assert Ticket.objects.get(pk=ticket.pk).also_category is None


def test_the_api_refuses_a_manager(manager):
    ticket = fake_and_broken()

    response = api_for(manager).post(f"{TICKETS}{ticket.pk}/also/", {"also_category": "damaged"}, format="json")

    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).also_category is None


# --- the ticket list ---


def test_the_ticket_list_filters_by_the_second_category_and_shows_it(agent_client):
    marked = fake_and_broken(category=category("counterfeit"), also_category=category("damaged"))
    fake_and_broken(category=category("counterfeit"))

    response = agent_client.get(reverse("ticket-list"), {"also_category": "damaged"})

    assert [t.pk for t in response.context["tickets"]] == [marked.pk]
    assert "也涉及破损变质" in response.content.decode()
