"""Celery tasks of the impact app: thin, named, time-limited, safe to repeat."""
from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)

RETRYING = {"autoretry_for": (Exception,), "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 5}


@shared_task(name="impact.refresh_after_sales", acks_late=True, soft_time_limit=600, time_limit=660, **RETRYING)
def refresh_after_sales(first_day: str, last_day: str, product_ids: list[int]) -> int:
    """New sales for [first_day, last_day]: recompute those days' metrics, re-measure impacts, look for spikes."""
    from .services import impacts_remeasure, metrics_recompute, return_spikes_detect

    start, end = date.fromisoformat(first_day), date.fromisoformat(last_day)
    metrics_recompute(start=start, end=end, product_ids=product_ids)
    touched = impacts_remeasure(start=start, end=end)
    return_spikes_detect(product_ids=product_ids)
    return len(touched)


@shared_task(name="impact.refresh_recent", acks_late=True, soft_time_limit=300, time_limit=360, **RETRYING)
def refresh_recent() -> int:
    """Every few minutes: recent days' metrics (new tickets), then measure newly resolved and due issues."""
    from .conf import impact_setting
    from .services import impacts_sync, metrics_recompute

    today = timezone.localdate()
    metrics_recompute(start=today - timedelta(days=impact_setting("IMPACT_RECENT_DAYS")), end=today)
    return len(impacts_sync(today=today))


@shared_task(name="impact.complete_measurements", acks_late=True, soft_time_limit=300, time_limit=360, **RETRYING)
def complete_measurements() -> int:
    """Measure resolved issues without a completed impact: measuring ones whose window closed complete."""
    from .services import impacts_sync

    return len(impacts_sync())


@shared_task(name="impact.nightly", acks_late=True, soft_time_limit=1800, time_limit=1900)
def nightly() -> None:
    """Recompute every metric, complete due measurements, flag regressions and return spikes."""
    from .services import impacts_regression_check, impacts_sync, metrics_recompute, return_spikes_detect

    metrics_recompute()
    impacts_sync()
    impacts_regression_check()
    return_spikes_detect()


@shared_task(name="impact.run_sales_import", acks_late=True, soft_time_limit=3600, time_limit=3700)
def run_sales_import(job_id: int, language: str | None = None) -> None:
    """Run one uploaded orders/returns file; the job row carries progress for the browser, in the uploader's language."""
    from django.conf import settings
    from django.utils import translation

    from .services import sales_import_job_run

    with translation.override(language or settings.LANGUAGE_CODE):
        sales_import_job_run(job_id=job_id)


@shared_task(name="impact.sweep_queued_imports", acks_late=True, soft_time_limit=60)
def sweep_queued_imports() -> int:
    """Send sales import jobs still queued a while after upload (uploaded while the broker was down)."""
    from django.conf import settings

    from feedback.imports.framework import jobs_queued_requeue

    from .models import SalesImportJob

    return jobs_queued_requeue(model=SalesImportJob, task=run_sales_import,
                               older_than_seconds=settings.IMPORT_SWEEP_AFTER_SECONDS)


@shared_task(name="impact.sweep_sales_imports", acks_late=True, soft_time_limit=60)
def sweep_sales_imports() -> int:
    """Re-run sales imports left RUNNING by a worker that died (the upsert makes a re-run idempotent)."""
    from feedback.imports.framework import jobs_orphaned_resume

    from .models import SalesImportJob

    return len(jobs_orphaned_resume(model=SalesImportJob, task=run_sales_import))
