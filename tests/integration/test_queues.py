"""Queues by urgency: a long bulk task (a retrain, an import) never delays triage of a new ticket."""
from __future__ import annotations

import time

import pytest

from feedback.models import Ticket, TriageStatus
from feedback.services import TicketInput, ticket_create
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BULK_SECONDS = 40


def triaged(ticket: Ticket) -> bool:
    return Ticket.objects.filter(pk=ticket.pk).exclude(triage_status=TriageStatus.PENDING).exists()


def test_the_retrain_goes_to_bulk_and_live_triage_to_triage(settings):
    from config.celery import app

    router = app.amqp.router
    assert router.route({}, "feedback.train_model")["queue"].name == settings.CELERY_BULK_QUEUE
    assert router.route({}, "feedback.run_import")["queue"].name == settings.CELERY_BULK_QUEUE
    assert router.route({}, "feedback.triage_tickets")["queue"].name == settings.CELERY_TRIAGE_QUEUE
    assert router.route({}, "issues.route_issue")["queue"].name == settings.CELERY_TRIAGE_QUEUE


def test_a_new_ticket_is_triaged_while_a_long_retrain_runs(celery_worker_process, tmp_path):
    from feedback.tasks import train_model

    marker = tmp_path / "training"
    celery_worker_process.start(
        queues="bulk", TEST_SLOW_TRAINING_MARKER=str(marker), TEST_SLOW_TRAINING_SECONDS=str(BULK_SECONDS)
    )
    celery_worker_process.start(queues="triage")
    train_model.delay()
    wait_for(marker.exists, timeout=60, message=f"the retrain never started:\n{celery_worker_process.log()}")
    filed = time.monotonic()

    ticket = ticket_create(data=TicketInput(text="快递太慢了，一周才到", sku=""))

    wait_for(lambda: triaged(ticket), timeout=BULK_SECONDS / 2,
             message=f"the ticket waited for the retrain:\n{celery_worker_process.log()}")
    assert time.monotonic() - filed < BULK_SECONDS / 2
    assert marker.read_text() == "started", "the retrain was still running when the ticket was triaged"


def test_with_one_worker_for_both_queues_the_ticket_waits(celery_worker_process, tmp_path):
    """The control: the same work on one worker process that serves both queues does wait."""
    from feedback.tasks import train_model

    marker = tmp_path / "training"
    # A visibility timeout longer than the retrain: with the fixture's 3 s the unacknowledged retrain is
    # redelivered, and its copy can start (writing "started") just after the ticket's triage.
    celery_worker_process.start(queues="both", TEST_SLOW_TRAINING_MARKER=str(marker), TEST_SLOW_TRAINING_SECONDS="12",
                                CELERY_VISIBILITY_TIMEOUT="60")
    train_model.delay()
    wait_for(marker.exists, timeout=60, message=f"the retrain never started:\n{celery_worker_process.log()}")

    ticket = ticket_create(data=TicketInput(text="快递太慢了，一周才到", sku=""))

    time.sleep(4)
    assert not triaged(ticket) and marker.read_text() == "started"
    wait_for(lambda: triaged(ticket), timeout=60, message=celery_worker_process.log())
    assert marker.read_text() == "finished"
