"""Celery tasks for tickets: thin wrappers that load rows by id and call one service."""
from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


# Triage is idempotent: a failure (database restart, lock timeout) retries with backoff.
RETRYING = {"bind": True, "acks_late": True, "autoretry_for": (Exception,), "retry_backoff": True,
            "retry_backoff_max": 300, "max_retries": 8}


@shared_task(name="feedback.triage_ticket", soft_time_limit=60, time_limit=90, **RETRYING)
def triage_ticket(self, ticket_id: int) -> None:
    """Classify one ticket (and, through the classification service, group and route it)."""
    from .classification import ticket_classify

    ticket_classify(ticket_id=ticket_id)


@shared_task(name="feedback.triage_tickets", soft_time_limit=300, time_limit=360, **RETRYING)
def triage_tickets(self, ticket_ids: list[int]) -> None:
    """Classify, group and route a batch of tickets with one model call (imports, API batches, the sweeper)."""
    from .classification import tickets_triage

    tickets_triage(ticket_ids=ticket_ids)


@shared_task(
    name="feedback.triage_pending",
    bind=True,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=8,
    soft_time_limit=300,
    time_limit=360,
)
def triage_pending(self) -> None:
    """Triage the tickets filed one by one that are waiting, as one batch; continue at once if more wait."""
    from .classification import tickets_triage_pending

    result = tickets_triage_pending(limit=settings.TRIAGE_PENDING_BATCH)
    if result.more_waiting:
        try:
            self.apply_async(retry=False)
        except Exception as exc:  # the sweeper takes what is left
            logger.warning("broker unavailable, pending tickets left for the sweeper: %s", exc)


@shared_task(name="feedback.sweep_untriaged", acks_late=True, soft_time_limit=120)
def sweep_untriaged(limit: int = 5000) -> int:
    """Re-enqueue tickets saved but still pending after a few minutes (e.g. filed while the broker was down)."""
    from .models import Ticket, TriageStatus

    cutoff = timezone.now() - timedelta(seconds=settings.TRIAGE_SWEEP_AFTER_SECONDS)
    ids = list(
        Ticket.objects.filter(triage_status=TriageStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    from .services import TRIAGE_BATCH_SIZE

    for start in range(0, len(ids), TRIAGE_BATCH_SIZE):
        triage_tickets.delay(ids[start : start + TRIAGE_BATCH_SIZE])
    if ids:
        logger.info("sweeper re-enqueued %d untriaged tickets", len(ids))
    return len(ids)


@shared_task(name="feedback.run_import", acks_late=True, soft_time_limit=3600, time_limit=3700)
def run_import(job_id: int, language: str | None = None) -> None:
    """Run one bulk import job; the job row carries progress for the browser, in the uploader's language."""
    from django.utils import translation

    from .imports.service import import_job_run

    with translation.override(language or settings.LANGUAGE_CODE):
        import_job_run(job_id=job_id)


@shared_task(name="feedback.sweep_queued_imports", acks_late=True, soft_time_limit=60)
def sweep_queued_imports() -> int:
    """Send import jobs still queued a while after upload (uploaded while the broker was down)."""
    from .imports.framework import jobs_queued_requeue
    from .models import ImportJob

    return jobs_queued_requeue(model=ImportJob, task=run_import, older_than_seconds=settings.IMPORT_SWEEP_AFTER_SECONDS)


@shared_task(name="feedback.sweep_imports", acks_late=True, soft_time_limit=60)
def sweep_imports() -> int:
    """Resume ticket imports left RUNNING by a worker that died (see feedback.imports.framework.job_execute).

    Also deletes import-wizard drafts abandoned for a day.
    """
    from .imports.framework import jobs_orphaned_resume
    from .imports.wizard import import_drafts_purge
    from .models import ImportJob

    import_drafts_purge()
    return len(jobs_orphaned_resume(model=ImportJob, task=run_import))


@shared_task(name="feedback.train_model", acks_late=True, soft_time_limit=1800, time_limit=1900)
def train_model(run_id: int | None = None) -> None:
    """Retrain from the seed corpus plus confirmed labels (promotion-gated), reporting on a TrainingRun.

    The model page's button sends the run it created; the nightly schedule sends none and gets
    its own run, or skips when a training is already in progress.
    """
    from .services import training_run_execute, training_run_start

    if run_id is None:
        run, created = training_run_start(user=None, enqueue=False)
        if not created:
            logger.info("nightly retrain skipped: training run %s is in progress", run.pk)
            return
        run_id = run.pk
    training_run_execute(run_id=run_id)
