"""SIGKILL a real Celery worker in the middle of a ticket import; another worker finishes it, exactly once."""
from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from feedback.models import ImportJob, Ticket
from feedback.tasks import run_import

from .conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROWS = 30_000


def test_killed_worker_mid_import_resumes_and_counts_every_row_once(celery_worker_process):
    # No id column: a restart from the top would import the first rows twice.
    body = "内容,渠道\n" + "".join(f"第 {i} 位买家：快递太慢了,电话\n" for i in range(ROWS))
    job = ImportJob(original_name="big.csv", source="crm")
    job.file.save("big.csv", ContentFile(body.encode("utf-8")), save=True)

    first = celery_worker_process.start()
    run_import.apply_async(args=[job.pk])
    wait_for(
        lambda: ImportJob.objects.get(pk=job.pk).processed_rows >= 3000,
        timeout=120, message=f"the import never got going; log:\n{celery_worker_process.log()}",
    )
    celery_worker_process.kill(first)
    stopped_at = ImportJob.objects.get(pk=job.pk)
    assert stopped_at.status == ImportJob.Status.RUNNING and stopped_at.processed_rows < ROWS

    celery_worker_process.start()  # the unacknowledged message comes back to this one
    wait_for(
        lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE,
        timeout=240, message=f"the import was not resumed; log:\n{celery_worker_process.log()}",
    )
    job.refresh_from_db()
    assert (job.imported, job.failed, job.processed_rows) == (ROWS, 0, ROWS)
    assert Ticket.objects.filter(external_source="crm").count() == ROWS
