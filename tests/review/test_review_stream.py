"""The review stream's server side: order, confirm, undo, bulk, permissions and bad input."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from accounts.models import Role
from feedback.models import CategoryLabel, Ticket, TriageStatus
from feedback.selectors import ReviewOrder, review_queue, text_segments
from tests.factories import TicketFactory, UserFactory, category

pytestmark = pytest.mark.django_db

FIXED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def waiting(text: str, top: list[list], minute: int = 0) -> Ticket:
    return TicketFactory(
        text=text, triage_status=TriageStatus.NEEDS_REVIEW, predicted_category=category(top[0][0]),
        prediction_confidence=top[0][1], prediction_top=top, prediction_terms=[["漏液", 1.2], ["慢", -0.3]],
        received_at=FIXED.replace(minute=minute),
    )


@pytest.fixture
def queue():
    return {
        # confidence 0.50, margin 0.05
        "close": waiting("洗发水漏液 A", [["damaged", 0.50], ["wrong_or_missing", 0.45], ["other", 0.05]], minute=1),
        # confidence 0.30 (least confident), margin 0.20
        "unsure": waiting("洗发水漏液 B", [["damaged", 0.30], ["other", 0.10]], minute=2),
        # confidence 0.55, margin 0.50; newest
        "clear": waiting("洗发水漏液 C", [["logistics_delay", 0.55], ["other", 0.05]], minute=3),
    }


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(username=f"r-{role}", role=role))
    return client


def post_json(client: Client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("order", "expected"), [
    (ReviewOrder.MARGIN, ["close", "unsure", "clear"]),
    (ReviewOrder.LEAST_CONFIDENT, ["unsure", "close", "clear"]),
    (ReviewOrder.NEWEST, ["clear", "unsure", "close"]),
])
def test_queue_orders_by_margin_confidence_or_time(queue, order, expected):
    ids = list(review_queue(user=None, order=order).values_list("pk", flat=True))
    assert ids == [queue[name].pk for name in expected]


def test_tickets_endpoint_defaults_to_smallest_margin_and_skips_excluded(queue):
    client = client_for(Role.AGENT)
    data = client.get("/review/tickets/").json()
    assert [t["id"] for t in data["tickets"]] == [queue["close"].pk, queue["unsure"].pk, queue["clear"].pk]
    assert data["remaining"] == 3
    first = data["tickets"][0]
    assert [s["code"] for s in first["suggestions"]] == ["damaged", "wrong_or_missing", "other"]
    # Only terms that pushed towards the prediction are highlighted.
    assert ["漏液", True] in first["segments"] and not any(piece == "慢" and hit for piece, hit in first["segments"])
    data = client.get("/review/tickets/", {"exclude": f"{queue['close'].pk},x,99999999999999999999,٣"}).json()
    assert [t["id"] for t in data["tickets"]] == [queue["unsure"].pk, queue["clear"].pk]


def test_confirm_then_undo_restores_the_queue_and_drops_the_label(queue):
    client = client_for(Role.AGENT)
    ticket = queue["close"]
    response = post_json(client, f"/review/tickets/{ticket.pk}/confirm/", {"category": "wrong_or_missing"})
    assert response.status_code == 200, response.content
    assert response.json()["remaining"] == 2
    ticket.refresh_from_db()
    assert (ticket.triage_status, ticket.category.code) == (TriageStatus.CONFIRMED, "wrong_or_missing")
    assert CategoryLabel.objects.filter(ticket=ticket).count() == 1

    # Confirming a ticket that has left the queue is refused, not silently overwritten.
    again = post_json(client, f"/review/tickets/{ticket.pk}/confirm/", {"category": "damaged"})
    assert again.status_code == 409

    undone = post_json(client, f"/review/tickets/{ticket.pk}/undo/", {})
    assert undone.status_code == 200, undone.content
    assert undone.json()["ticket"]["id"] == ticket.pk and undone.json()["remaining"] == 3
    ticket.refresh_from_db()
    assert ticket.triage_status == TriageStatus.NEEDS_REVIEW
    assert ticket.category_id is None and ticket.confirmed_by_id is None
    assert not CategoryLabel.objects.filter(ticket=ticket).exists()


def test_only_the_agent_who_confirmed_may_undo(queue):
    ticket = queue["close"]
    post_json(client_for(Role.AGENT), f"/review/tickets/{ticket.pk}/confirm/", {"category": "damaged"})
    other = Client()
    other.force_login(UserFactory(username="other-agent", role=Role.AGENT))
    response = post_json(other, f"/review/tickets/{ticket.pk}/undo/", {})
    assert response.status_code == 409
    assert "自己" in response.json()["error"]
    ticket.refresh_from_db()
    assert ticket.triage_status == TriageStatus.CONFIRMED


@pytest.mark.parametrize("body", [{}, {"category": "no-such"}, {"category": 5}])
def test_confirm_with_a_bad_category_is_a_400_naming_the_field(queue, body):
    response = post_json(client_for(Role.AGENT), f"/review/tickets/{queue['close'].pk}/confirm/", body)
    assert response.status_code == 400
    assert response.json()["field"] == "category"


@pytest.mark.parametrize("limit", ["abc", "1e9"])
def test_a_bad_limit_is_a_400_naming_the_field(queue, limit):
    response = client_for(Role.AGENT).get("/review/tickets/", {"limit": limit})
    assert response.status_code == 400 and response.json()["field"] == "limit"


def test_bad_json_body_is_a_400_not_a_500(queue):
    client = client_for(Role.AGENT)
    response = client.post(f"/review/tickets/{queue['close'].pk}/confirm/", data="{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("role", [Role.MANAGER])
def test_roles_that_cannot_correct_get_403_everywhere(queue, role):
    client = client_for(role)
    assert client.get("/review/").status_code == 403
    assert client.get("/review/tickets/").status_code == 403
    assert post_json(client, f"/review/tickets/{queue['close'].pk}/confirm/", {"category": "damaged"}).status_code == 403
    assert client.get("/review/bulk/", {"category": "damaged", "min_confidence": "0.1"}).status_code == 403
    queue["close"].refresh_from_db()
    assert queue["close"].triage_status == TriageStatus.NEEDS_REVIEW


def test_bulk_preview_counts_at_the_threshold_inclusive_then_confirms_exactly_those(queue):
    client = client_for(Role.LEAD)
    # damaged at 0.50 (close) and 0.30 (unsure): a threshold of exactly 0.50 takes "close" only.
    preview = client.get("/review/bulk/", {"category": "damaged", "min_confidence": "0.5"})
    assert preview.json() == {"count": 1}
    assert client.get("/review/bulk/", {"category": "damaged", "min_confidence": "0.51"}).json() == {"count": 0}
    done = post_json(client, "/review/bulk/", {"category": "damaged", "min_confidence": 0.5, "expected": 1})
    assert done.json()["confirmed"] == 1
    statuses = {name: Ticket.objects.get(pk=t.pk).triage_status for name, t in queue.items()}
    assert statuses == {"close": TriageStatus.CONFIRMED, "unsure": TriageStatus.NEEDS_REVIEW, "clear": TriageStatus.NEEDS_REVIEW}


def test_bulk_refuses_when_more_tickets_match_than_were_previewed(queue):
    response = post_json(client_for(Role.AGENT), "/review/bulk/", {"category": "damaged", "min_confidence": 0.1, "expected": 1})
    assert response.status_code == 409 and response.json()["count"] == 2
    assert Ticket.objects.filter(triage_status=TriageStatus.CONFIRMED).count() == 0


@pytest.mark.parametrize(("params", "field"), [
    ({"category": "damaged", "min_confidence": "high"}, "min_confidence"),
    ({"category": "damaged", "min_confidence": "1.5"}, "min_confidence"),
    ({"category": "nope", "min_confidence": "0.5"}, "category"),
])
def test_bulk_bad_input_names_the_field(queue, params, field):
    response = client_for(Role.AGENT).get("/review/bulk/", params)
    assert response.status_code == 400 and response.json()["field"] == field


def test_text_segments_mark_terms_longest_first_and_keep_all_text():
    segments = text_segments(text="洗发水漏液了<b>", terms=["洗发水", "洗发", "漏液"])
    assert segments == [("洗发水", True), ("漏液", True), ("了<b>", False)]
    assert "".join(piece for piece, _ in segments) == "洗发水漏液了<b>"


def test_review_page_renders_for_an_agent(queue):
    response = client_for(Role.AGENT).get("/review/")
    assert response.status_code == 200
    assert b"js/review.js" in response.content and b"<script>" not in response.content


def test_auto_apply_share_per_model_version_newest_first(settings):
    from feedback.selectors import auto_apply_shares

    def predicted(version: str, confidence: float, minute: int, code: str = "damaged"):
        TicketFactory(model_version=version, predicted_category=category(code), prediction_confidence=confidence,
                      classified_at=FIXED.replace(minute=minute))

    # Old model: 1 of 3 at or above 0.6. New model: 3 of 4 (0.6 exactly counts; other's threshold is 0.9).
    for confidence in (0.2, 0.5, 0.6):
        predicted("v1", confidence, 1)
    for confidence in (0.6, 0.7, 0.95):
        predicted("v2", confidence, 5)
    predicted("v2", 0.8, 6, code="other")
    shares = auto_apply_shares(thresholds={"other": 0.9}, default_threshold=0.6)
    assert [(s.version, s.applied, s.total) for s in shares] == [("v2", 3, 4), ("v1", 1, 3)]
    assert shares[0].share == 0.75


def test_review_page_shows_the_share_against_the_previous_model(settings):
    settings.TRIAGE_CONFIDENCE_THRESHOLD = 0.6
    settings.TRIAGE_CATEGORY_THRESHOLDS = {}
    TicketFactory(model_version="v1", predicted_category=category("damaged"), prediction_confidence=0.3,
                  classified_at=FIXED)
    TicketFactory(model_version="v2", predicted_category=category("damaged"), prediction_confidence=0.9,
                  classified_at=FIXED.replace(minute=9))
    page = client_for(Role.AGENT).get("/review/").content.decode()
    assert "自动分类占比 100%（模型 v2）" in page and "上一版 0%" in page


def test_review_page_reads_in_english(settings):
    TicketFactory(model_version="v2", predicted_category=category("damaged"), prediction_confidence=0.9,
                  classified_at=FIXED)
    client = client_for(Role.AGENT)
    client.cookies["django_language"] = "en"
    page = client.get("/review/").content.decode()
    assert "Review stream" in page and "Auto-applied 100% (model v2)" in page and "Keyboard shortcuts" in page
