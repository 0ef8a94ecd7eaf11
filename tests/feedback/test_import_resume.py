"""A crashed import resumes where it stopped, once, without importing anything twice.

These run on the suite's PostgreSQL database: the "worker is alive" signal is a
PostgreSQL advisory lock held by the worker's session.
"""
from __future__ import annotations

import csv
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.db import connection

from feedback.imports import framework, service
from feedback.imports.service import import_job_run
from feedback.models import ImportJob, Ticket

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL advisory locks")


def job_with_rows(rows: int) -> ImportJob:
    lines = [["内容", "渠道"]] + [[f"第 {i} 位买家：杯子碎了", "电话"] for i in range(rows)]
    body = "\n".join(",".join(line) for line in lines).encode("utf-8")
    job = ImportJob(original_name="noid.csv", source="crm")
    job.file.save("noid.csv", ContentFile(body), save=True)
    return job


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing in the importer catches it, so no clean-up runs."""


def test_a_job_whose_worker_died_resumes_and_imports_every_row_once(db, monkeypatch):
    # Rows without ids: a restart from scratch would double them; only a resume is exact.
    job = job_with_rows(2500)
    monkeypatch.setattr(service, "BATCH_SIZE", 1000)
    real_flush = service._Importer.flush
    calls = {"n": 0}

    def dying_flush(self):
        calls["n"] += 1
        if calls["n"] == 3:  # after two committed batches
            raise WorkerKilled
        real_flush(self)

    monkeypatch.setattr(service._Importer, "flush", dying_flush)
    with pytest.raises(WorkerKilled):
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, Ticket.objects.count()) == (ImportJob.Status.RUNNING, 2000, 2000)

    monkeypatch.setattr(service._Importer, "flush", real_flush)
    result = import_job_run(job_id=job.pk)  # the redelivered task

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.imported, job.failed, job.processed_rows) == (2500, 0, 2500)
    assert Ticket.objects.count() == 2500
    assert result is not None and any("中断" in w["message"] for w in result.warnings)


def _other_session_lock(job_id: int):
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"] or "postgres",
        password=settings["PASSWORD"] or None, dbname=settings["NAME"], autocommit=True,
    )
    other.execute("SELECT pg_advisory_lock(%s, %s)", [framework._lock_key(ImportJob), job_id])
    return other


def test_a_job_a_live_worker_holds_is_left_alone(db):
    job = job_with_rows(3)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    other = _other_session_lock(job.pk)  # the live worker
    try:
        assert import_job_run(job_id=job.pk) is None
        assert not framework.job_is_orphaned(ImportJob, job.pk)
    finally:
        other.close()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and Ticket.objects.count() == 0


def test_a_redelivered_task_for_a_finished_job_does_nothing(db):
    job = job_with_rows(3)
    import_job_run(job_id=job.pk)
    assert import_job_run(job_id=job.pk) is None
    assert Ticket.objects.count() == 3


def test_sweeper_resends_only_orphaned_jobs(db, monkeypatch):
    orphan, held, queued = job_with_rows(1), job_with_rows(1), job_with_rows(1)
    ImportJob.objects.filter(pk__in=[orphan.pk, held.pk]).update(status=ImportJob.Status.RUNNING)
    sent = []
    monkeypatch.setattr("feedback.tasks.run_import.apply_async", lambda args, **kwargs: sent.append(args[0]))
    other = _other_session_lock(held.pk)
    try:
        from feedback.tasks import sweep_imports

        assert sweep_imports() == 1
    finally:
        other.close()
    assert sent == [orphan.pk]
    assert ImportJob.objects.get(pk=queued.pk).status == ImportJob.Status.QUEUED
