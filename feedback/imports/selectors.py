"""Reads for import jobs: the list page and the progress JSON the detail page polls."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from feedback.models import ImportJob

# At most this many row errors per poll, so a job with 1,000 errors is sent in slices.
PROGRESS_ERRORS_PER_POLL = 200


def import_job_list() -> QuerySet[ImportJob]:
    """Every import job, newest first, without the (possibly large) error lists."""
    return ImportJob.objects.select_related("created_by").defer("errors", "warnings", "column_mapping")


def import_job_progress(*, job: ImportJob, errors_since: int = 0) -> dict[str, Any]:
    """The job's state for the progress bar, with the row errors from index ``errors_since`` on."""
    errors_since = max(0, errors_since)
    errors = job.errors or []
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "finished": finished,
        "percent": job.percent,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "imported": job.imported,
        "duplicates": job.duplicates,
        "failed": job.failed,
        "message": job.message,
        "errors_total": len(errors),
        "errors_since": errors_since,
        "errors": errors[errors_since : errors_since + PROGRESS_ERRORS_PER_POLL],
    }
