"""What every file import shares: the report, opening a file at its header, row iteration and the job life cycle.

Ticket imports (``service``), product imports (``products``) and daily sales
imports (``issues.impact.services.sales``) each add only their schema (columns
and aliases, see ``columns.Schema``), their row validation and their upsert.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from . import columns as cols
from .readers import ImportFileError, Table, table_open

logger = logging.getLogger(__name__)

MAX_LISTED_ERRORS = 1000
MAX_LISTED_WARNINGS = 1000
ROWS_QUOTED = 10


@dataclass
class ImportReport:
    """What an import did. ``errors`` and ``warnings`` are capped lists of dicts
    ``{"row", "column", "field", "message", "value"}`` (``row`` is None for a note
    about the whole file); ``*_omitted`` count what the caps left out."""

    total: int = 0  # data rows read so far (blank and total rows are not counted)
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    errors_omitted: int = 0
    warnings_omitted: int = 0
    expected_total: int | None = None  # estimate for a progress bar; None if unknown
    format: str = ""
    encoding: str | None = None
    sheet: str | None = None
    summary_rows: int = 0  # 合计/总计 lines skipped, not counted as rows

    def error_add(self, entry: dict[str, Any]) -> None:
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(entry)
        else:
            self.errors_omitted += 1

    def warning_add(self, entry: dict[str, Any]) -> None:
        if len(self.warnings) < MAX_LISTED_WARNINGS:
            self.warnings.append(entry)
        else:
            self.warnings_omitted += 1

    def file_warning_add(self, message: str) -> None:
        self.warning_add({"row": None, "column": "", "field": "", "message": message, "value": None})

    @property
    def omitted(self) -> int:
        return self.errors_omitted + self.warnings_omitted

    @property
    def note(self) -> str:
        """A line saying what the caps left out, or ""."""
        parts = []
        if self.errors_omitted:
            parts.append(f"仅列出前 {MAX_LISTED_ERRORS} 条错误，另有 {self.errors_omitted} 条未列出")
        if self.warnings_omitted:
            parts.append(f"仅列出前 {MAX_LISTED_WARNINGS} 条提示，另有 {self.warnings_omitted} 条未列出")
        if not parts:
            return ""
        english = []
        if self.errors_omitted:
            english.append(f"{self.errors_omitted} more errors not listed")
        if self.warnings_omitted:
            english.append(f"{self.warnings_omitted} more warnings not listed")
        return "；".join(parts) + f" ({'; '.join(english)})"


@contextmanager
def table_with_plan(
    *,
    path: str | Path,
    report: ImportReport,
    schema: cols.Schema = cols.TICKETS,
    mapping: dict[str, str] | None = None,
    preset: cols.Preset | None = None,
    sheet: str | None = None,
) -> Iterator[tuple[Table, cols.ColumnPlan, Iterator[tuple[int, list[Any]]]]]:
    """Open the file, choose the workbook sheet that fits the schema, find its header.

    Fills the report's format, encoding, sheet and progress estimate and adds the
    file-level warnings (encoding, sheets, title lines, unused columns ...).
    Raises ImportFileError before yielding if the file cannot be imported at all.
    """

    def scorer(head: list[tuple[int, list[Any]]]) -> tuple[int, int]:
        return cols.header_score(head, preset=preset, schema=schema, mapping=mapping)

    with table_open(path, sheet_name=sheet, sheet_scorer=scorer) as table:
        plan, rows = cols.header_find(iter(table.rows), mapping=mapping, preset=preset, schema=schema)
        report.format, report.encoding, report.sheet = table.format, table.encoding, table.sheet_name
        if table.estimated_rows is not None:
            report.expected_total = max(0, table.estimated_rows - plan.header_row - plan.header_rows + 1)
        for message in [*table.warnings, *plan.warnings]:
            report.file_warning_add(message)
        yield table, plan, rows


def data_rows(rows: Iterator[tuple[int, list[Any]]], report: ImportReport) -> Iterator[tuple[int, list[Any]]]:
    """The data rows: blank rows skipped silently, total rows (合计, 总计) skipped and reported once at the end."""
    summary: list[int] = []
    try:
        for row_number, cells in rows:
            if cols.row_is_blank(cells):
                continue
            if cols.row_is_summary(cells):
                summary.append(row_number)
                continue
            yield row_number, cells
    finally:
        report.summary_rows = len(summary)
        if summary:
            listed = "、".join(str(r) for r in summary[:ROWS_QUOTED])
            report.file_warning_add(
                gettext("跳过了 %(count)s 行合计/总计行（第 %(listed)s 行），不算失败") % {"count": len(summary), "listed": listed}
            )


# --- the job life cycle (ImportJobBase subclasses) ---


def _lock_key(model: type[models.Model]) -> int:
    return zlib.crc32(model._meta.label_lower.encode()) & 0x7FFFFFFF


@contextmanager
def job_lock(model: type[models.Model], job_id: int) -> Iterator[bool]:
    """Hold a PostgreSQL advisory lock on the job for as long as this worker runs it; yield whether it was free.

    The lock belongs to the database session, so it disappears with a worker that
    dies: a job that is RUNNING while its lock is free has lost its worker. On
    other databases (SQLite in development) there is no such signal; the lock is
    always "free" and a RUNNING job is left alone (see ``job_execute``).
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = _lock_key(model)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [key, job_id])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [key, job_id])


def job_is_orphaned(model: type[models.Model], job_id: int) -> bool:
    """Whether a RUNNING job has no live worker (its advisory lock is free). Always False off PostgreSQL."""
    if connection.vendor != "postgresql":
        return False
    with job_lock(model, job_id) as free:
        return free


def job_execute(model: type[models.Model], job_id: int, *, run: Callable[[Any, bool], ImportReport | None]):
    """Claim a job and call ``run(job, resume)``; None if there is nothing to do.

    Under the job's lock: a QUEUED job is claimed with a conditional update
    (QUEUED -> RUNNING, so a redelivered task does nothing twice); a RUNNING job
    whose lock was free lost its worker mid-import and is resumed (``resume`` is
    True); a job another live worker holds, or a finished one, is left alone.
    """
    with job_lock(model, job_id) as free:
        if not free:
            logger.info("%s %s is being run by another worker; nothing to do", model.__name__, job_id)
            return None
        job = model.objects.select_related("created_by").filter(pk=job_id).first()
        if job is None or job.status in (model.Status.DONE, model.Status.FAILED):
            return None
        resume = job.status == model.Status.RUNNING
        if resume:
            if connection.vendor != "postgresql":
                return None
            logger.warning("%s %s lost its worker after %s rows; resuming", model.__name__, job_id, job.processed_rows)
        else:
            claimed = model.objects.filter(pk=job_id, status=model.Status.QUEUED).update(status=model.Status.RUNNING)
            if not claimed:
                return None
            job.status = model.Status.RUNNING
        return run(job, resume)


def jobs_orphaned_resume(*, model: type[models.Model], task) -> list[int]:
    """Re-send the task of every RUNNING job that has lost its worker; return their ids.

    For a message the broker lost (a broker restart, a purge): a redelivered
    message resumes the job by itself. Sending one for a job a live worker holds
    is harmless too: ``job_execute`` finds the lock taken and does nothing.
    """
    orphaned = [
        job_id
        for job_id in model.objects.filter(status=model.Status.RUNNING).values_list("pk", flat=True)
        if job_is_orphaned(model, job_id)
    ]
    for job_id in orphaned:
        logger.warning("%s %s is RUNNING without a worker; sending it again", model.__name__, job_id)
        job_enqueue(task=task, model=model, job_id=job_id)
    return orphaned


def job_finish(job, *, status: str, message: str) -> None:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


# A file uploaded while the broker is down is kept; the job waits for the sweeper, never refused.
QUEUED_UNTIL_BROKER_RETURNS = (
    gettext_lazy("任务队列暂时不可用：文件已保存，队列恢复后自动开始导入，无需重新上传")
)


def job_enqueue(*, task, model: type[models.Model], job_id: int, language: str | None = None) -> None:
    """Send the job's task; if the broker is unreachable the job stays queued for ``jobs_queued_requeue``.

    ``language`` is the uploader's: the worker writes the job's messages in it (a job sent again by
    the sweeper has none and is written in the default language).
    """
    try:
        task.apply_async(args=[job_id], kwargs={"language": language} if language else {}, retry=False)
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning("broker unavailable, %s %s stays queued for the sweeper: %s", model.__name__, job_id, exc)
        model.objects.filter(pk=job_id, status=model.Status.QUEUED).update(message=QUEUED_UNTIL_BROKER_RETURNS)


def jobs_queued_requeue(*, model: type[models.Model], task, older_than_seconds: int) -> int:
    """Send again every job of ``model`` still queued ``older_than_seconds`` after its upload; return how many.

    Safe to repeat: the job's task claims it with a conditional update, so a job whose first
    message did reach the broker runs once however often it is sent.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(model.objects.filter(status=model.Status.QUEUED, created_at__lt=cutoff)
               .order_by("created_at").values_list("pk", flat=True)[:500])
    for job_id in ids:
        task.delay(job_id)
    if ids:
        logger.info("re-enqueued %d queued %s jobs", len(ids), model._meta.model_name)
    return len(ids)


def job_run(job, *, body: Callable[[str], ImportReport | None], model_label: str = "import") -> ImportReport | None:
    """Run ``body(path)`` for a claimed job; a file error fails the job with its message, anything else re-raises."""
    try:
        with local_path(job.file) as path:
            return body(path)
    except ImportFileError as exc:
        job_finish(job, status=job.Status.FAILED, message=str(exc))
        return None
    except Exception as exc:
        logger.exception("%s job %s stopped", model_label, job.pk)
        job_finish(
            job,
            status=job.Status.FAILED,
            message=gettext("导入意外中断，已导入的行已保存：%(error)s") % {"error": type(exc).__name__},
        )
        raise


@contextmanager
def local_path(stored_file) -> Iterator[str]:
    """A filesystem path for a stored file; copied to a temporary file for storages without one."""
    try:
        path = stored_file.path
    except NotImplementedError:
        path = None
    if path:
        yield path
        return
    suffix = Path(stored_file.name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy, stored_file.open("rb") as source:
        shutil.copyfileobj(source, copy)
        copy.flush()
        yield copy.name
