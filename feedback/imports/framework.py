"""What every file import shares: the report, opening a file at its header, row iteration and the job life cycle.

Ticket imports (``service``), product imports (``products``) and daily sales
imports (``issues.impact.services.sales``) each add only their schema (columns
and aliases, see ``columns.Schema``), their row validation and their upsert.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models
from django.utils import timezone

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
                f"跳过了 {len(summary)} 行合计/总计行（第 {listed} 行），不算失败 "
                f"(skipped {len(summary)} total rows: {listed}; not counted as failures)"
            )


# --- the job life cycle (ImportJobBase subclasses) ---


def job_claim(model: type[models.Model], job_id: int):
    """Claim a QUEUED job with a conditional update and return it; None if another worker has it."""
    claimed = model.objects.filter(pk=job_id, status=model.Status.QUEUED).update(status=model.Status.RUNNING)
    if not claimed:
        logger.info("%s %s is not queued (already claimed or gone); nothing to do", model.__name__, job_id)
        return None
    return model.objects.select_related("created_by").get(pk=job_id)


def job_finish(job, *, status: str, message: str) -> None:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


def job_enqueue(*, task, model: type[models.Model], job_id: int) -> None:
    """Send the job's task; if the broker is unreachable, mark the job failed with a message the page shows."""
    try:
        task.apply_async(args=[job_id], retry=False)
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning("broker unavailable, %s %s marked failed: %s", model.__name__, job_id, exc)
        model.objects.filter(pk=job_id, status=model.Status.QUEUED).update(
            status=model.Status.FAILED,
            message="任务队列暂时不可用，导入未开始，请稍后重新上传 (the task queue is unreachable; the import did not start, upload again later)",
            finished_at=timezone.now(),
        )


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
            message=f"导入意外中断，已导入的行已保存 (the import stopped unexpectedly; rows already imported are kept): {type(exc).__name__}",
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
