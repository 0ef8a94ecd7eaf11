"""Bulk import of platform exports (CSV/XLSX) into tickets.

The contract, shared by the CLI (``manage.py import_tickets``) and the upload
page (through the ``feedback.run_import`` task):

* A file that cannot be read at all (missing, binary, unsupported format, no
  text column, a mapped column that is not there) raises ImportFileError before
  anything is saved.
* Every other problem is a row error: the row number as a spreadsheet shows it
  (header = row 1), the column, and the reason. Bad rows are skipped, good rows
  are imported.
* Rows are validated by ``feedback.services.ticket_validate`` and saved by
  ``tickets_bulk_create``, like tickets from the form and the API.
* Rows are saved in batches; each batch and the job's progress are one
  transaction, so a crash never leaves half a batch, and the progress shown is
  what is really in the database.
* Deduplication is by (source, external id). A later row repeating an id of the
  same file is skipped as a duplicate, and so is a row whose id an earlier import
  from the same source saved: importing a file twice creates nothing new.
  Rows without an external id cannot be deduplicated and are imported as they
  are (hashing the text instead would merge two customers who both wrote
  "物流太慢了"); the result carries a warning when the file has no id column.
* An unknown SKU is not an error: the ticket is saved without a product and the
  row gets a warning (the rule of ``ticket_validate``).
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback.masking import mask_phone_numbers
from feedback.models import Channel, ImportJob, Product
from feedback.services import TicketInput, TicketValidationError, ticket_validate, tickets_bulk_create

from . import columns as cols
from .readers import ImportFileError, table_open

logger = logging.getLogger(__name__)

DEFAULT_SOURCE = "import"
BATCH_SIZE = 1000
# Caps on what is kept per job, so a file of 100,000 bad rows cannot bloat the ImportJob row.
MAX_LISTED_ERRORS = 1000
MAX_LISTED_WARNINGS = 1000
VALUE_PREVIEW_CHARS = 80

__all__ = [
    "DEFAULT_SOURCE",
    "ImportFileError",
    "ImportResult",
    "import_file",
    "import_job_create",
    "import_job_run",
    "import_preflight",
]


@dataclass
class ImportResult:
    """What an import did. ``errors`` and ``warnings`` are capped lists of dicts
    ``{"row", "column", "field", "message", "value"}`` (``row`` is None for a note
    about the whole file); ``*_omitted`` count what the caps left out."""

    total: int = 0  # data rows read so far (blank rows are not counted)
    imported: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    errors_omitted: int = 0
    warnings_omitted: int = 0
    expected_total: int | None = None  # estimate for a progress bar; None if unknown
    format: str = ""
    encoding: str | None = None

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


ProgressCallback = Callable[[ImportResult], None]


@dataclass
class _PendingRow:
    row: int
    data: TicketInput
    errors: dict[str, tuple[str, str | None]]  # field -> (message, offending value)
    raw: dict[str, str]


class _Importer:
    """Turns rows into batches of tickets; one instance per file."""

    def __init__(self, *, plan: cols.ColumnPlan, source: str, filed_by, enqueue: bool, batch_size: int,
                 result: ImportResult, job: ImportJob | None, progress: ProgressCallback | None):
        self.plan = plan
        self.source = source
        self.filed_by = filed_by
        self.enqueue = enqueue
        self.batch_size = batch_size
        self.result = result
        self.job = job
        self.progress = progress
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.index = plan.columns
        self.products: dict[str, Product | None] = {}
        self.seen_ids: set[str] = set()
        self.pending: list[_PendingRow] = []
        self._saved_lengths = (-1, -1, "")

    def _cell(self, cells: list[Any], name: str) -> Any:
        index = self.index.get(name)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def row_add(self, row_number: int, cells: list[Any]) -> None:
        self.result.total += 1
        errors: dict[str, tuple[str, str | None]] = {}
        raw_channel = self._cell(cells, "channel")
        try:
            channel = cols.channel_parse(raw_channel)
        except ValueError as exc:
            errors["channel"] = (str(exc), cols.cell_text(raw_channel))
            channel = Channel.CHAT  # placeholder so validation does not report the channel twice
        raw_date = self._cell(cells, "received_at")
        try:
            received_at = cols.datetime_parse(raw_date, tz=self.tz)
        except ValueError as exc:
            errors["received_at"] = (str(exc), cols.cell_text(raw_date))
            received_at = None
        raw = {
            name: cols.cell_text(self._cell(cells, name)).strip()
            for name in ("external_id", "sku", "order_number")
        }
        data = TicketInput(
            text=cols.cell_text(self._cell(cells, "text")),
            channel=channel,
            sku=raw["sku"],
            order_number=raw["order_number"],
            external_source=self.source,
            external_id=raw["external_id"] or None,
            received_at=received_at,
        )
        self.pending.append(_PendingRow(row=row_number, data=data, errors=errors, raw=raw))
        if len(self.pending) >= self.batch_size:
            self.flush()

    def _products_prefetch(self) -> None:
        wanted = {p.data.sku for p in self.pending if p.data.sku and p.data.sku not in self.products}
        if not wanted:
            return
        found = {product.sku: product for product in Product.objects.filter(sku__in=wanted)}
        for sku in wanted:
            self.products[sku] = found.get(sku)

    def _issue(self, row: int, field_name: str, message: str, value: str | None) -> dict[str, Any]:
        if value is not None:
            # Shown to every importer and in the error report: mask a phone number typed into the wrong column.
            value = mask_phone_numbers(value[:VALUE_PREVIEW_CHARS]) + ("…" if len(value) > VALUE_PREVIEW_CHARS else "")
        return {
            "row": row,
            "column": self.plan.column_name(field_name),
            "field": field_name,
            "message": message,
            # Ticket text is never echoed back: it may hold a customer's phone number.
            "value": None if field_name == "text" else value,
        }

    def flush(self) -> None:
        """Validate the pending rows and save the good ones and the job's progress in one transaction."""
        if not self.pending:
            return
        self._products_prefetch()
        items: list[TicketInput] = []
        failed = duplicates = 0
        errors: list[dict[str, Any]] = []
        warnings: list[dict[str, Any]] = []
        batch_ids: set[str] = set()
        for pending in self.pending:
            row_errors = dict(pending.errors)
            try:
                ticket_validate(pending.data, product_cache=self.products)
            except TicketValidationError as exc:
                for name, message in exc.errors.items():
                    row_errors.setdefault(name, (message, pending.raw.get(name)))
            if row_errors:
                failed += 1
                for name, (message, value) in row_errors.items():
                    errors.append(self._issue(pending.row, name, message, value))
                continue
            external_id = pending.data.external_id
            if external_id:
                if external_id in self.seen_ids or external_id in batch_ids:
                    duplicates += 1
                    warnings.append(self._issue(
                        pending.row, "external_id",
                        f"工单号「{external_id}」在本文件中已出现过，已跳过 (duplicate external id in this file, skipped)",
                        external_id,
                    ))
                    continue
                batch_ids.add(external_id)
            for message in pending.data.warnings:
                warnings.append(self._issue(pending.row, "sku", message, pending.data.sku))
            items.append(pending.data)

        for attempt in (1, 2):
            try:
                with transaction.atomic():
                    created, existing = tickets_bulk_create(items=items, filed_by=self.filed_by, enqueue=self.enqueue)
                    self._apply(len(created), duplicates + len(existing), failed, errors, warnings)
                    self._job_save()
                break
            except IntegrityError:
                # Another import of the same ids committed between our duplicate check and our
                # insert; the retry sees its rows and counts them as duplicates.
                if attempt == 2:
                    raise
                logger.info("import batch raced with another import; retrying")
        self.seen_ids |= batch_ids
        self.pending = []
        if self.progress:
            self.progress(self.result)

    def _apply(self, imported: int, duplicates: int, failed: int, errors, warnings) -> None:
        result = self.result
        result.imported += imported
        result.duplicates += duplicates
        result.failed += failed
        for entry in errors:
            result.error_add(entry)
        for entry in warnings:
            result.warning_add(entry)
        if result.expected_total is not None and result.total > result.expected_total:
            result.expected_total = result.total

    def _job_save(self) -> None:
        if self.job is None:
            return
        job, result = self.job, self.result
        job.total_rows = result.expected_total
        job.processed_rows = result.total
        job.imported = result.imported
        job.duplicates = result.duplicates
        job.failed = result.failed
        fields = ["total_rows", "processed_rows", "imported", "duplicates", "failed"]
        # Rewrite the (up to 1,000-entry) JSON lists only when they grew.
        lengths = (len(result.errors), len(result.warnings), result.note)
        if lengths != self._saved_lengths:
            job.errors = result.errors
            job.warnings = result.warnings
            job.message = result.note
            fields += ["errors", "warnings", "message"]
            self._saved_lengths = lengths
        job.save(update_fields=fields)


def import_file(
    *,
    path: str | Path,
    source: str = DEFAULT_SOURCE,
    column_mapping: dict[str, str] | None = None,
    filed_by=None,
    progress: ProgressCallback | None = None,
    job: ImportJob | None = None,
    enqueue: bool = True,
    batch_size: int | None = None,
) -> ImportResult:
    """Import every row of a CSV or XLSX file as tickets from ``source``; return what happened.

    Raises ImportFileError when the file cannot be read at all; rows imported
    before a failure part-way through (a damaged XLSX) stay saved. With ``job``,
    the job's progress fields are saved after every batch. With ``enqueue``,
    new tickets are sent to triage after their batch commits.
    """
    source = (source or DEFAULT_SOURCE).strip()[:40] or DEFAULT_SOURCE
    batch_size = batch_size or BATCH_SIZE
    with table_open(path) as table:
        result = ImportResult(format=table.format, encoding=table.encoding)
        rows: Iterator[tuple[int, list[Any]]] = iter(table.rows)
        plan = cols.header_find(rows, mapping=column_mapping)
        if table.estimated_rows is not None:
            result.expected_total = max(0, table.estimated_rows - plan.header_row)
        for message in [*table.warnings, *plan.warnings]:
            result.warning_add({"row": None, "column": "", "field": "", "message": message, "value": None})
        importer = _Importer(
            plan=plan, source=source, filed_by=filed_by, enqueue=enqueue, batch_size=batch_size,
            result=result, job=job, progress=progress,
        )
        if job is not None:
            importer._job_save()
        if progress:
            progress(result)
        try:
            for row_number, cells in rows:
                if cols.row_is_blank(cells):
                    continue
                importer.row_add(row_number, cells)
        except ImportFileError:
            # The file broke part-way (a truncated XLSX): keep the good rows read before the break.
            importer.flush()
            raise
        importer.flush()
    result.expected_total = result.total
    if job is not None:
        importer._saved_lengths = (-1, -1, "")
        importer._job_save()
    logger.info(
        "imported %s: %d rows, %d new, %d duplicates, %d failed",
        Path(path).name, result.total, result.imported, result.duplicates, result.failed,
    )
    return result


def import_preflight(*, path: str | Path, column_mapping: dict[str, str] | None = None) -> cols.ColumnPlan:
    """Open the file and find its header, so an upload form can refuse an unreadable file at once.

    Raises ImportFileError exactly as ``import_file`` would before its first row.
    """
    with table_open(path) as table:
        return cols.header_find(iter(table.rows), mapping=column_mapping)


def import_job_create(*, upload, source: str, column_mapping: dict[str, str], created_by) -> ImportJob:
    """Save an uploaded file as a queued ImportJob and enqueue ``feedback.run_import`` after commit.

    Never raises for an unreachable broker: the job stays queued with a message the upload page
    shows, and ``import_jobs_requeue`` (the beat task ``feedback.sweep_queued_imports``) sends it
    once the broker is back.
    """
    with transaction.atomic():
        job = ImportJob(
            original_name=os.path.basename(upload.name)[:255],
            source=(source or DEFAULT_SOURCE).strip()[:40],
            column_mapping=column_mapping or {},
            created_by=created_by,
        )
        job.file.save(os.path.basename(upload.name), upload, save=False)
        job.save()
        transaction.on_commit(lambda: _job_enqueue(job))
    job.refresh_from_db()
    return job


QUEUED_UNTIL_BROKER_RETURNS = (
    "任务队列暂时不可用：文件已保存，队列恢复后自动开始导入，无需重新上传 "
    "(the task queue is unreachable: the file is saved and the import starts by itself when the queue is back; "
    "no need to upload again)"
)


def _job_enqueue(job: ImportJob) -> None:
    from feedback.tasks import run_import

    try:
        run_import.apply_async(args=[job.pk], retry=False)
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning("broker unavailable, import job %s stays queued for the sweeper: %s", job.pk, exc)
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(message=QUEUED_UNTIL_BROKER_RETURNS)


def import_jobs_requeue(*, model, task, older_than_seconds: int) -> int:
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


@contextmanager
def _local_path(stored_file) -> Iterator[str]:
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


def _job_finish(job: ImportJob, *, status: str, message: str) -> None:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


def import_job_run(*, job_id: int) -> ImportResult | None:
    """Run a queued import job to the end (the body of the ``feedback.run_import`` task).

    Claims the job with a conditional QUEUED -> RUNNING update, so a redelivered
    task finds nothing to do. A file-level error marks the job FAILED with its
    message; an unexpected error marks it FAILED and re-raises for the worker log.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(status=ImportJob.Status.RUNNING)
    if not claimed:
        logger.info("import job %s is not queued (already claimed or gone); nothing to do", job_id)
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    try:
        with _local_path(job.file) as path:
            result = import_file(
                path=path,
                source=job.source or DEFAULT_SOURCE,
                column_mapping=job.column_mapping or None,
                filed_by=job.created_by,
                job=job,
            )
    except ImportFileError as exc:
        _job_finish(job, status=ImportJob.Status.FAILED, message=str(exc))
        return None
    except Exception as exc:
        logger.exception("import job %s stopped", job_id)
        _job_finish(
            job,
            status=ImportJob.Status.FAILED,
            message=f"导入意外中断，已导入的行已保存 (the import stopped unexpectedly; rows already imported are kept): {type(exc).__name__}",
        )
        raise
    _job_finish(job, status=ImportJob.Status.DONE, message=result.note)
    return result
