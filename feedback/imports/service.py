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
* No complaint is lost to one bad field: an unreadable date keeps the row, dated
  at import, with a row warning; an unknown channel keeps the row on the
  preset's default channel with a row warning that quotes the raw value. Only a
  row without any text (or with too long a text) fails.
* Ids a spreadsheet has mangled (``2.69014E+17``, number cells of more than 15
  digits) are never used to deduplicate or stored as if exact: the row is
  imported without an external id (an order number is kept with a leading
  ``≈``), and one warning per file and column gives the count and the rows.
* Summary rows (合计, 总计 ...) are skipped and counted apart, not as failures.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import get_language, gettext

from feedback.masking import mask_phone_numbers
from feedback.models import Channel, ImportJob, Product
from feedback.services import TicketInput, TicketValidationError, ticket_validate, tickets_bulk_create

from . import columns as cols
from .framework import (
    ROWS_QUOTED,
    ImportReport,
    data_rows,
    job_enqueue,
    job_execute,
    job_finish,
    job_run,
    table_with_plan,
)
from .readers import ImportFileError

logger = logging.getLogger(__name__)

DEFAULT_SOURCE = "import"
BATCH_SIZE = 1000
VALUE_PREVIEW_CHARS = 80
# Marks an order number whose digits a spreadsheet has rounded away.
INEXACT_MARK = "≈"

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
class ImportResult(ImportReport):
    """What a ticket import did (see ImportReport for the shared counters and row reports)."""

    imported: int = 0
    duplicates: int = 0
    source: str = ""  # the id namespace the tickets were saved under
    preset: str | None = None  # the platform preset used (named or detected)
    preset_detected: bool = False


ProgressCallback = Callable[[ImportResult], None]


@dataclass
class _PendingRow:
    row: int
    data: TicketInput
    errors: dict[str, tuple[str, str | None]]  # field -> (message, offending value)
    raw: dict[str, str]
    notes: list[tuple[str, str, str | None]] = field(default_factory=list)  # (field, warning, value) if saved


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
        self.default_channel = plan.preset.channel if plan.preset else Channel.CHAT
        # field -> (rows, first raw value) of ids a spreadsheet rounded
        self.inexact: dict[str, tuple[list[int], str]] = {}
        self.inexact_counts: dict[str, int] = {}
        self.products: dict[str, Product | None] = {}
        self.seen_ids: set[str] = set()
        self.pending: list[_PendingRow] = []
        self._saved_lengths = (-1, -1, "")

    def _cell(self, cells: list[Any], name: str) -> Any:
        index = self.index.get(name)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def _inexact(self, name: str, row_number: int, raw: str) -> None:
        rows, first = self.inexact.setdefault(name, ([], raw))
        if len(rows) < ROWS_QUOTED:
            rows.append(row_number)
        self.inexact_counts[name] = self.inexact_counts.get(name, 0) + 1

    def row_skip(self, row_number: int, cells: list[Any]) -> None:
        """Count a row a crashed run already committed, and note its rounded ids for the file warning."""
        self.result.total += 1
        for name in ("external_id", "order_number"):
            value, exact = cols.id_clean(self._cell(cells, name))
            if value and not exact:
                self._inexact(name, row_number, value)

    def row_add(self, row_number: int, cells: list[Any]) -> None:
        self.result.total += 1
        errors: dict[str, tuple[str, str | None]] = {}
        notes: list[tuple[str, str, str | None]] = []
        raw_channel = self._cell(cells, "channel")
        if not cols.cell_text(raw_channel).strip():
            channel = self.default_channel
        else:
            try:
                channel = cols.channel_parse(raw_channel)
            except ValueError:
                channel = self.default_channel
                notes.append(("channel", (
                    gettext("未知渠道「%(raw_channel)s」：工单已导入，渠道记为「%(label)s」，原值见此处") % {"raw_channel": cols.cell_text(raw_channel).strip()[:40], "label": Channel(channel).label, "channel": channel}
                ), cols.cell_text(raw_channel)))
        raw_date = self._cell(cells, "received_at")
        try:
            received_at = cols.datetime_parse(raw_date, tz=self.tz)
        except ValueError:
            received_at = None
            notes.append(("received_at", (
                gettext("无法识别的日期「%(raw_date)s」：工单已导入，时间记为导入时刻") % {"raw_date": cols.cell_text(raw_date).strip()[:40]}
            ), cols.cell_text(raw_date)))
        raw: dict[str, str] = {}
        exact: dict[str, bool] = {}
        for name in ("external_id", "order_number"):
            raw[name], exact[name] = cols.id_clean(self._cell(cells, name))
            if raw[name] and not exact[name]:
                self._inexact(name, row_number, raw[name])
        raw["sku"], _ = cols.id_clean(self._cell(cells, "sku"))
        # A rounded id would merge different complaints into one: keep the row, drop the id.
        external_id = raw["external_id"] if exact["external_id"] else ""
        order_number = raw["order_number"] if exact["order_number"] else INEXACT_MARK + raw["order_number"]
        text = cols.text_combine([(self.plan.headers[i], cells[i] if i < len(cells) else None) for i in self.plan.text_columns])
        data = TicketInput(
            text=text,
            channel=channel,
            sku=raw["sku"],
            order_number=order_number,
            external_source=self.source,
            external_id=external_id or None,
            received_at=received_at,
        )
        self.pending.append(_PendingRow(row=row_number, data=data, errors=errors, raw=raw, notes=notes))
        if len(self.pending) >= self.batch_size:
            self.flush()

    def inexact_warnings(self) -> list[str]:
        """One warning per column whose ids a spreadsheet rounded: the count, the rows, an example."""
        messages = []
        for name, (rows, example) in self.inexact.items():
            count = self.inexact_counts[name]
            column = self.plan.column_name(name)
            quoted = "、".join(str(r) for r in rows) + ("…" if count > len(rows) else "")
            if name == "external_id":
                consequence = gettext(
                    "这些行已导入，但没有保存工单号、不参与去重（重新导入修正后的文件会再导入一次这些行）")
            else:
                consequence = gettext("这些行已导入，订单号按原样保存并加上「%(mark)s」标记") % {"mark": INEXACT_MARK}
            messages.append(
                gettext("「%(column)s」列有 %(count)s 行的编号被表格软件改成了科学计数法或超过 15 位的数字"
                        "（如「%(example)s」，第 %(quoted)s 行），末几位已丢失：%(consequence)s。"
                        "请在导出或 Excel 中把该列设为文本后重新导出") % {
                    "column": column, "count": count, "example": example, "quoted": quoted, "consequence": consequence}
            )
        return messages

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
                for name, message, value in pending.notes:
                    warnings.append(self._issue(pending.row, name, message, value))
                continue
            external_id = pending.data.external_id
            if external_id:
                if external_id in self.seen_ids or external_id in batch_ids:
                    duplicates += 1
                    warnings.append(self._issue(
                        pending.row, "external_id",
                        gettext("工单号「%(external_id)s」在本文件中已出现过，已跳过") % {"external_id": external_id},
                        external_id,
                    ))
                    continue
                batch_ids.add(external_id)
            for message in pending.data.warnings:
                warnings.append(self._issue(pending.row, "sku", message, pending.data.sku))
            for name, message, value in pending.notes:
                warnings.append(self._issue(pending.row, name, message, value))
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


def source_resolve(source: str | None) -> tuple[str, cols.Preset | None]:
    """(id namespace, preset) for a --source value; empty means "detect from the headers"."""
    source = (source or "").strip()[:40]
    return source, cols.preset_get(source)


def import_file(
    *,
    path: str | Path,
    source: str | None = None,
    column_mapping: dict[str, str] | None = None,
    sheet: str | None = None,
    filed_by=None,
    progress: ProgressCallback | None = None,
    job: ImportJob | None = None,
    resume: bool = False,
    enqueue: bool = True,
    batch_size: int | None = None,
) -> ImportResult:
    """Import every row of a CSV or XLSX file as tickets; return what happened.

    ``source`` is the id namespace and, when it names a platform preset (taobao,
    jd, pdd, douyin, kuaishou), the column preset too. Without it the platform is
    detected from the headers and its name becomes the namespace (``import`` if
    none is recognised). ``sheet`` names the workbook sheet; by default the sheet
    whose header looks most like tickets is used.

    Raises ImportFileError when the file cannot be read at all; rows imported
    before a failure part-way through (a damaged XLSX) stay saved. With ``job``,
    the job's progress fields are saved after every batch. With ``enqueue``,
    new tickets are sent to triage after their batch commits.

    With ``resume`` (a job whose worker died), the job's saved counters and
    reports are kept and its first ``processed_rows`` data rows are skipped: they
    were committed together with that count, so nothing is imported twice, not
    even rows without an id.
    """
    source, preset = source_resolve(source)
    batch_size = batch_size or BATCH_SIZE
    result = ImportResult()
    with table_with_plan(path=path, report=result, mapping=column_mapping, preset=preset, sheet=sheet) as (_, plan, rows):
        result.source = source or (plan.preset.name if plan.preset else DEFAULT_SOURCE)
        result.preset = plan.preset.name if plan.preset else None
        result.preset_detected = plan.detected
        importer = _Importer(
            plan=plan, source=result.source, filed_by=filed_by, enqueue=enqueue, batch_size=batch_size,
            result=result, job=job, progress=progress,
        )
        skip = 0
        if job is not None and resume:
            skip = job.processed_rows
            result.imported, result.duplicates, result.failed = job.imported, job.duplicates, job.failed
            # The saved lists already hold the file-level notes of the first run.
            result.errors, result.warnings = list(job.errors), list(job.warnings)
            result.file_warning_add(
                gettext("导入进程在第 %(skip)s 行后中断，已从中断处继续；之前的行没有重复导入") % {"skip": skip}
            )
        if job is not None:
            importer._job_save()
        if progress:
            progress(result)
        try:
            for index, (row_number, cells) in enumerate(data_rows(rows, result)):
                if index < skip:
                    importer.row_skip(row_number, cells)
                    continue
                importer.row_add(row_number, cells)
        except ImportFileError:
            # The file broke part-way (a truncated XLSX): keep the good rows read before the break.
            importer.flush()
            raise
        importer.flush()
    for message in importer.inexact_warnings():
        result.file_warning_add(message)
    result.expected_total = result.total
    if job is not None:
        importer._saved_lengths = (-1, -1, "")
        importer._job_save()
    logger.info(
        "imported %s: %d rows, %d new, %d duplicates, %d failed",
        Path(path).name, result.total, result.imported, result.duplicates, result.failed,
    )
    return result


def import_preflight(
    *, path: str | Path, column_mapping: dict[str, str] | None = None, source: str | None = None, sheet: str | None = None
) -> cols.ColumnPlan:
    """Open the file and find its header, so an upload form can refuse an unreadable file at once.

    Raises ImportFileError exactly as ``import_file`` would before its first row.
    """
    _, preset = source_resolve(source)
    with table_with_plan(
        path=path, report=ImportResult(), mapping=column_mapping, preset=preset, sheet=sheet,
    ) as (_, plan, _rows):
        return plan


def import_job_create(
    *, upload, source: str, column_mapping: dict[str, str], created_by, sheet: str = "",
) -> ImportJob:
    """Save an uploaded file as a queued ImportJob and enqueue ``feedback.run_import`` after commit.

    Never raises for an unreachable broker: the job stays queued with a message the upload page
    shows, and ``jobs_queued_requeue`` (the beat task ``feedback.sweep_queued_imports``) sends it
    once the broker is back.
    """
    with transaction.atomic():
        job = ImportJob(
            original_name=os.path.basename(upload.name)[:255],
            source=(source or "").strip()[:40],
            column_mapping=column_mapping or {},
            sheet=(sheet or "")[:100],
            created_by=created_by,
        )
        job.file.save(os.path.basename(upload.name), upload, save=False)
        job.save()
        transaction.on_commit(lambda: _job_enqueue(job))
    job.refresh_from_db()
    return job


def _job_enqueue(job: ImportJob) -> None:
    from feedback.tasks import run_import

    job_enqueue(task=run_import, model=ImportJob, job_id=job.pk, language=get_language())


def import_job_run(*, job_id: int) -> ImportResult | None:
    """Run a queued import job to the end (the body of the ``feedback.run_import`` task).

    See ``framework.job_execute``: a redelivered task for a job another worker
    is running does nothing; one for a job whose worker died resumes it. A
    file-level error marks the job FAILED with its message; an unexpected error
    marks it FAILED and re-raises for the worker log.
    """

    def run(job: ImportJob, resume: bool) -> ImportResult | None:
        def body(path: str) -> ImportResult:
            return import_file(
                path=path,
                source=job.source,
                column_mapping=job.column_mapping or None,
                sheet=job.sheet or None,
                filed_by=job.created_by,
                job=job,
                resume=resume,
            )

        result = job_run(job, body=body, model_label="ticket import")
        if result is None:
            return None
        if job.source != result.source:
            job.source = result.source
            job.save(update_fields=["source"])
        job_finish(job, status=ImportJob.Status.DONE, message=result.note)
        return result

    return job_execute(ImportJob, job_id, run=run)
