"""The Celery app as the integration tests' worker process runs it.

It is config.celery's app with three test-only adjustments, all from the environment:

* ``TEST_CELERY_QUEUE``: the default queue, so a test's tasks never reach another
  test run's worker on the shared Redis database;
* fast restore of unacknowledged messages (with a low CELERY_VISIBILITY_TIMEOUT),
  so a message of a killed worker is redelivered within seconds;
* ``TEST_STUB_CLASSIFIER=1`` swaps feedback.classification.ticket_classify and
  tickets_triage for a deterministic keyword classifier (the tests are about delivery, not the model);
  ``TEST_HANG=before_commit|after_commit`` makes the first task hang there (and
  touch ``TEST_HANG_MARKER``) so the test can SIGKILL the worker mid-task.
"""
from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path

from config.celery import app
from tests.clock import travel_like_the_test_process

travel_like_the_test_process()

queue = os.environ.get("TEST_CELERY_QUEUE")
if queue:
    app.conf.task_default_queue = queue
app.conf.broker_transport_options = {
    **(app.conf.broker_transport_options or {}),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

KEYWORDS = [("漏液", "damaged"), ("破", "damaged"), ("慢", "logistics_delay"), ("快递", "logistics_delay")]


def _hang(stage: str) -> None:
    marker = os.environ.get("TEST_HANG_MARKER")
    if os.environ.get("TEST_HANG") != stage or not marker or Path(marker).exists():
        return
    Path(marker).write_text(f"{os.getpid()} {stage}")
    time.sleep(120)


def stub_ticket_classify(*, ticket_id: int) -> None:
    """Apply a keyword category and attach the ticket, as the real service does, idempotently."""
    from django.db import transaction
    from django.utils import timezone

    from feedback.models import Category, Ticket, TriageStatus
    from issues.services import ticket_attach

    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
        if ticket.triage_status == TriageStatus.PENDING:
            code = next((c for word, c in KEYWORDS if word in ticket.text), "quality_defect")
            ticket.category = Category.objects.get(code=code)
            ticket.predicted_category = ticket.category
            ticket.prediction_confidence = 0.99
            ticket.triage_status = TriageStatus.CLASSIFIED
            ticket.classified_at = timezone.now()
            ticket.save(update_fields=["category", "predicted_category", "prediction_confidence", "triage_status",
                                       "classified_at"])
        ticket_attach(ticket=ticket)
        _hang("before_commit")
    _hang("after_commit")


def stub_tickets_triage(*, ticket_ids, route_inline: bool = False):
    """The batch form of the stub: keyword categories for a batch and one attach, idempotently."""
    from django.db import transaction
    from django.utils import timezone

    from feedback.models import Category, Ticket, TriageStatus
    from issues.services import tickets_attach

    from feedback.classification import TriageResult

    ids = sorted(set(ticket_ids))
    result = TriageResult()
    with transaction.atomic():
        for ticket in Ticket.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
            if ticket.triage_status == TriageStatus.PENDING:
                code = next((c for word, c in KEYWORDS if word in ticket.text), "quality_defect")
                ticket.category = Category.objects.get(code=code)
                ticket.predicted_category = ticket.category
                ticket.prediction_confidence = 0.99
                ticket.triage_status = TriageStatus.CLASSIFIED
                ticket.classified_at = timezone.now()
                ticket.save(update_fields=["category", "predicted_category", "prediction_confidence",
                                           "triage_status", "classified_at"])
                result.classified += 1
        result.attached = tickets_attach(ticket_ids=ids).attached
        _hang("before_commit")
    _hang("after_commit")
    return result


if os.environ.get("TEST_STUB_CLASSIFIER") == "1":
    import django

    django.setup()  # feedback.classification imports models
    try:
        import feedback.classification as classification
    except ImportError:
        classification = types.ModuleType("feedback.classification")
        sys.modules["feedback.classification"] = classification
    classification.ticket_classify = stub_ticket_classify
    # Single tickets are triaged in micro-batches (feedback.triage_pending), imports in batches.
    classification.tickets_triage = stub_tickets_triage


def slow_model_train(**kwargs) -> None:
    """Stand in for a long retrain: mark the start, sleep, mark the end (the queue test watches both)."""
    marker = Path(os.environ["TEST_SLOW_TRAINING_MARKER"])
    with marker.open("a") as log:
        log.write("started\n")
    time.sleep(float(os.environ.get("TEST_SLOW_TRAINING_SECONDS", "30")))
    with marker.open("a") as log:
        log.write("finished\n")


if os.environ.get("TEST_SLOW_TRAINING_MARKER"):
    import django

    django.setup()
    import feedback.classification as classification

    classification.model_train = slow_model_train
