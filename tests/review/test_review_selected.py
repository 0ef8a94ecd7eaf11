"""Confirming the tickets an agent selected in the review stream (x, then one button)."""
from __future__ import annotations

import pytest

from accounts.models import Role
from feedback.models import CategoryLabel, TriageStatus
from feedback.views import REVIEW_SELECTED_LIMIT
from tests.review.test_review_stream import client_for, post_json, queue  # noqa: F401 - queue is a fixture

pytestmark = pytest.mark.django_db

URL = "/review/selected/"


def test_each_selected_ticket_gets_the_category_sent_for_it(queue):
    agent = client_for(Role.AGENT)

    response = post_json(agent, URL, {"confirmations": {
        str(queue["close"].pk): "damaged", str(queue["clear"].pk): "logistics_delay",
    }})

    assert response.status_code == 200
    body = response.json()
    assert (body["confirmed"], body["skipped"], body["remaining"]) == (2, [], 1)
    assert body["ids"] == sorted([queue["close"].pk, queue["clear"].pk])
    for name, code in (("close", "damaged"), ("clear", "logistics_delay")):
        queue[name].refresh_from_db()
        assert (queue[name].triage_status, queue[name].category.code) == (TriageStatus.CONFIRMED, code)
    assert CategoryLabel.objects.count() == 2


def test_a_ticket_someone_else_confirmed_meanwhile_is_skipped_not_labelled_twice(queue):
    agent, other = client_for(Role.AGENT), client_for(Role.LEAD)
    post_json(other, f"/review/tickets/{queue['close'].pk}/confirm/", {"category": "other"})

    body = post_json(agent, URL, {"confirmations": {
        str(queue["close"].pk): "damaged", str(queue["unsure"].pk): "damaged",
    }}).json()

    queue["close"].refresh_from_db()
    assert (body["confirmed"], body["skipped"]) == (1, [queue["close"].pk])
    assert queue["close"].category.code == "other"
    assert CategoryLabel.objects.filter(ticket=queue["close"]).count() == 1


@pytest.mark.parametrize(("body", "status"), [
    ({}, 400),
    ({"confirmations": []}, 400),
    ({"confirmations": {"abc": "damaged"}}, 400),
    ({"confirmations": {"1": "no_such_category"}}, 400),
    ({"confirmations": {str(n): "damaged" for n in range(1, REVIEW_SELECTED_LIMIT + 2)}}, 400),
])
def test_bad_selections_are_a_400_naming_the_field(queue, body, status):
    response = post_json(client_for(Role.AGENT), URL, body)

    assert response.status_code == status and response.json()["field"] == "confirmations"
    assert CategoryLabel.objects.count() == 0


def test_the_limit_itself_is_accepted(queue):
    confirmations = {str(n): "damaged" for n in range(10**6, 10**6 + REVIEW_SELECTED_LIMIT)}

    assert post_json(client_for(Role.AGENT), URL, {"confirmations": confirmations}).status_code == 200


def test_managers_cannot_confirm_a_selection(queue):
    response = post_json(client_for(Role.MANAGER), URL, {"confirmations": {str(queue["close"].pk): "damaged"}})

    assert response.status_code == 403
    queue["close"].refresh_from_db()
    assert queue["close"].triage_status == TriageStatus.NEEDS_REVIEW
