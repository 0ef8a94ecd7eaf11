"""Orders and returns per SKU and day: validation, upsert, file import and the upload job.

The contract, shared by the CLI (``manage.py import_orders``), the upload page
and the API (``POST /api/sales/``):

* Columns: 日期 / date, SKU / 商品编码 / sku, 订单数 / orders, 退货数 / returns,
  and optionally 退货原因 / return_reason. Headers are matched like the ticket
  importer's (case, spaces, ``_`` and ``-`` ignored). A file without one of the
  four required columns is refused before anything is saved.
* Dates: 2026-05-01, 2026/5/1, 2026年5月1日, 20260501, XLSX dates and Excel
  serial numbers (the ticket importer's parser). A date more than a day in the
  future is a row error.
* Counts must be whole numbers >= 0 ("12", 12, 12.0 and "1,234" are fine;
  "12.5", "-3", "" and "abc" are row errors).
* More returns than orders on a day is ACCEPTED with a warning: returns are
  booked on the day they come back, so they include returns of earlier orders.
* An unknown SKU is a row error naming the SKU: every metric needs the product
  (its category, its issues), and creating products from a sales file would
  turn typos into catalogue entries. Add the product first, then re-import.
* Re-import is idempotent: (day, SKU) is the key and a row REPLACES the stored
  orders, returns and return reasons of its day and SKU (it does not add to
  them), so importing a corrected file fixes the numbers and importing the same
  file twice changes nothing.
* Two rows with the same day and SKU in one file: the later row wins, as it
  would in a later import, and the earlier row gets a warning naming both rows.
* Return reasons (see ``reasons``) are mapped to complaint categories; reason
  counts that add up to more than the row's returns are a row error.
* File rows: every problem is reported with its row number (header = row 1)
  and good rows are saved, in batches of one transaction each. The API is
  all-or-nothing instead: one bad item refuses the whole batch (a pushing
  system fixes and resends it; half-applied batches are hard to reason about).
"""
from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from feedback.imports import columns as cols
from feedback.imports.readers import ImportFileError, table_open
from feedback.imports.service import QUEUED_UNTIL_BROKER_RETURNS
from feedback.models import Product

from ..models import DailySales, ReturnReasonDaily, SalesImportJob
from ..reasons import ReasonCountError, reasons_to_categories

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
MAX_LISTED = 1000
HEADER_SEARCH_ROWS = 10
FIELDS = ("day", "sku", "orders", "returns", "return_reason")
REQUIRED = ("day", "sku", "orders", "returns")
FIELD_LABELS = {"day": "日期", "sku": "SKU", "orders": "订单数", "returns": "退货数", "return_reason": "退货原因"}
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "day": ("日期", "date", "day", "统计日期", "业务日期", "销售日期"),
    "sku": ("sku", "商品编码", "商品编号", "商品id", "货号", "product_sku", "product_id"),
    "orders": ("订单数", "orders", "订单量", "下单数", "销量", "order_count"),
    "returns": ("退货数", "returns", "退货量", "退货件数", "退货单数", "return_count"),
    "return_reason": ("退货原因", "return_reason", "return_reasons", "退货理由", "原因", "reason", "reasons"),
}
_ALIAS: dict[str, str] = {
    cols.header_normalise(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")


@dataclass
class SalesItem:
    """One validated (day, SKU) row, ready to upsert."""

    day: date
    product: Product
    orders: int
    returns: int
    return_reason: str = ""
    reason_counts: Counter[str] = field(default_factory=Counter)


@dataclass
class SalesResult:
    """What an import or a push did. Errors and warnings are dicts {"row", "column", "field", "message", "value"}."""

    total: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    omitted: int = 0
    expected_total: int | None = None
    format: str = ""
    encoding: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    product_ids: set[int] = field(default_factory=set)

    def _add(self, target: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        if len(target) < MAX_LISTED:
            target.append(entry)
        else:
            self.omitted += 1

    def error_add(self, entry: dict[str, Any]) -> None:
        self._add(self.errors, entry)

    def warning_add(self, entry: dict[str, Any]) -> None:
        self._add(self.warnings, entry)

    def touched(self, day: date, product_id: int) -> None:
        self.first_day = day if self.first_day is None else min(self.first_day, day)
        self.last_day = day if self.last_day is None else max(self.last_day, day)
        self.product_ids.add(product_id)

    @property
    def saved(self) -> int:
        return self.created + self.updated


class SalesValidationError(ValueError):
    """One or more rows are invalid; ``errors`` lists them (API batches are all-or-nothing)."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__(f"{len(errors)} invalid rows")


# --- cells ---


def count_parse(value: Any, label: str) -> int:
    """Return a whole, non-negative count; raise ValueError saying why not (in Chinese, then English)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{label}为空 ({label} is empty)")
    if isinstance(value, bool):
        raise ValueError(f"{label}不是整数：{value} ({label} is not a whole number)")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{label}不是整数：{value} ({label} is not a whole number)")
        number = int(value)
    else:
        text = str(value).strip().replace("\u3000", "")
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        try:
            as_float = float(text)
        except ValueError:
            raise ValueError(f"{label}不是数字：「{text[:20]}」 ({label} is not a number)") from None
        if not as_float.is_integer() or "e" in text.lower():
            raise ValueError(f"{label}不是整数：{text[:20]} ({label} is not a whole number)")
        number = int(as_float)
    if number < 0:
        raise ValueError(f"{label}不能为负数：{number} ({label} cannot be negative)")
    if number > 2_000_000_000:
        raise ValueError(f"{label}过大：{number} ({label} is too large)")
    return number


def day_parse(value: Any, *, tz: ZoneInfo, today: date) -> date:
    """Return the calendar day of a date cell; raise ValueError for empty, unparseable or future dates."""
    moment = cols.datetime_parse(value, tz=tz)
    if moment is None:
        raise ValueError("日期为空 (date is empty)")
    day = moment.astimezone(tz).date() if moment.tzinfo else moment.date()
    if day > today + timedelta(days=1):
        raise ValueError(f"日期在未来：{day} (date is in the future)")
    return day


@dataclass
class RawRow:
    row: int | None  # spreadsheet row number, or the item's index in an API batch
    values: dict[str, Any]


class _Validator:
    """Validates raw rows against the database in batches (one product query per batch)."""

    def __init__(self) -> None:
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.today = timezone.localdate()
        self.products: dict[str, Product | None] = {}

    def prefetch(self, rows: Iterable[RawRow]) -> None:
        wanted = {cols.cell_text(r.values.get("sku")).strip() for r in rows} - set(self.products) - {""}
        # PostgreSQL cannot compare a NUL byte; such a SKU names no product (an "unknown SKU" row error).
        self.products.update({sku: None for sku in wanted if "\x00" in sku})
        wanted = {sku for sku in wanted if "\x00" not in sku}
        if wanted:
            found = {p.sku: p for p in Product.objects.filter(sku__in=wanted)}
            for sku in wanted:
                self.products[sku] = found.get(sku)

    def validate(self, raw: RawRow, issue: Callable[..., dict[str, Any]]) -> tuple[SalesItem | None, list, list]:
        errors: list[dict[str, Any]] = []
        warnings: list[dict[str, Any]] = []
        values = raw.values
        day = product = orders = returns = None
        try:
            day = day_parse(values.get("day"), tz=self.tz, today=self.today)
        except ValueError as exc:
            errors.append(issue(raw.row, "day", str(exc), values.get("day")))
        sku = cols.cell_text(values.get("sku")).strip()
        if not sku:
            errors.append(issue(raw.row, "sku", "SKU 为空 (SKU is empty)", sku))
        else:
            product = self.products.get(sku)
            if product is None:
                errors.append(issue(
                    raw.row, "sku",
                    f"未知 SKU「{sku[:64]}」：请先在商品列表中添加该商品，再重新导入 "
                    f"(unknown SKU '{sku[:64]}': add the product first, then import again)",
                    sku,
                ))
        for name, label in (("orders", "订单数"), ("returns", "退货数")):
            try:
                number = count_parse(values.get(name), label)
            except ValueError as exc:
                errors.append(issue(raw.row, name, str(exc), values.get(name)))
                continue
            if name == "orders":
                orders = number
            else:
                returns = number
        reason = cols.cell_text(values.get("return_reason")).strip()[:2000]
        counts: Counter[str] = Counter()
        if returns is not None and reason:
            try:
                counts = reasons_to_categories(reason, returns)
            except ReasonCountError as exc:
                errors.append(issue(raw.row, "return_reason", str(exc), reason))
        if errors:
            return None, errors, warnings
        if returns > orders:
            warnings.append(issue(
                raw.row, "returns",
                f"退货数 {returns} 大于订单数 {orders}：已接受（当天退回的可能是之前的订单） "
                f"(more returns than orders: accepted as returns of earlier orders)",
                returns,
            ))
        item = SalesItem(day=day, product=product, orders=orders, returns=returns, return_reason=reason, reason_counts=counts)
        return item, errors, warnings


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    text = cols.cell_text(value)
    return text[:80] + ("…" if len(text) > 80 else "")


# --- saving ---


def sales_upsert(*, items: list[SalesItem], source: str = "") -> tuple[int, int]:
    """Insert or replace the (day, product) rows of ``items`` and their reason counts; return (created, updated).

    A later item for the same (day, product) replaces an earlier one. Runs in
    one transaction; the caller enqueues the metric refresh after commit.
    """
    latest: dict[tuple[int, date], SalesItem] = {}
    for item in items:
        latest[(item.product.pk, item.day)] = item
    if not latest:
        return 0, 0
    product_ids = {product_id for product_id, _ in latest}
    days = {day for _, day in latest}
    with transaction.atomic():
        existing = set(
            DailySales.objects.filter(product_id__in=product_ids, day__in=days).values_list("product_id", "day")
        )
        existing &= set(latest)
        rows = [
            DailySales(
                day=item.day, product=item.product, orders=item.orders, returns=item.returns,
                return_reason=item.return_reason, source=source[:60],
            )
            for item in latest.values()
        ]
        DailySales.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["product", "day"],
            update_fields=["orders", "returns", "return_reason", "source", "updated_at"],
        )
        # Reason counts of a (day, product) are replaced with its row, even when the new row has none.
        for day in sorted(days):
            touched = [product_id for product_id, d in latest if d == day]
            ReturnReasonDaily.objects.filter(day=day, product_id__in=touched).delete()
        ReturnReasonDaily.objects.bulk_create(
            [
                ReturnReasonDaily(day=item.day, product=item.product, category_code=code, count=count)
                for item in latest.values()
                for code, count in sorted(item.reason_counts.items())
                if count > 0
            ],
            batch_size=1000,
        )
    created = len(latest) - len(existing)
    return created, len(existing)


def metrics_refresh_enqueue(*, first_day: date | None, last_day: date | None, product_ids: Iterable[int]) -> None:
    """After commit, ask Celery to recompute the metrics (and impacts) the new sales touch."""
    if first_day is None or last_day is None:
        return
    product_ids = sorted(set(product_ids))

    def send() -> None:
        from ..tasks import refresh_after_sales

        try:
            refresh_after_sales.apply_async(
                args=[first_day.isoformat(), last_day.isoformat(), product_ids], retry=False
            )
        except Exception as exc:  # broker down: the nightly recompute catches up
            logger.warning("could not enqueue the metric refresh (%s .. %s): %s", first_day, last_day, exc)

    transaction.on_commit(send)


# --- file import ---


@dataclass
class _Plan:
    header_row: int
    headers: list[str]
    columns: dict[str, int]

    def column_name(self, name: str) -> str:
        index = self.columns.get(name)
        if index is None or index >= len(self.headers):
            return FIELD_LABELS.get(name, name)
        return self.headers[index] or FIELD_LABELS.get(name, name)


def _columns_resolve(cells: list[Any], header_row: int) -> _Plan | None:
    headers = [cols.cell_text(c).strip() for c in cells]
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = _ALIAS.get(cols.header_normalise(header))
        if name and name not in columns:
            columns[name] = index
    if not all(name in columns for name in REQUIRED):
        return None
    return _Plan(header_row=header_row, headers=headers, columns=columns)


def _header_find(rows: Iterator[tuple[int, list[Any]]]) -> _Plan:
    first_headers: list[str] | None = None
    seen = 0
    for row_number, cells in rows:
        if cols.row_is_blank(cells):
            continue
        plan = _columns_resolve(cells, row_number)
        if plan is not None:
            return plan
        if first_headers is None:
            first_headers = [cols.cell_text(c).strip() for c in cells if cols.cell_text(c).strip()]
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    if first_headers is None:
        raise ImportFileError("文件没有任何数据行 (the file has no rows)")
    listing = "、".join(f"「{h}」" for h in first_headers[:20]) or "（无 none）"
    raise ImportFileError(
        f"找不到必需的列：日期、SKU、订单数、退货数（或 date, sku, orders, returns）；文件的列：{listing} "
        f"(required columns not found: date, sku, orders, returns)"
    )


ProgressCallback = Callable[[SalesResult], None]


def sales_import_file(
    *,
    path: str | Path,
    source: str = "",
    progress: ProgressCallback | None = None,
    job: SalesImportJob | None = None,
    batch_size: int = BATCH_SIZE,
    refresh: bool = True,
) -> SalesResult:
    """Import a CSV/XLSX of daily orders and returns; return what happened.

    Raises ImportFileError when the file cannot be read at all or lacks a
    required column. Good rows are saved batch by batch even if others fail.
    With ``refresh``, the metric refresh for the touched days is enqueued.
    """
    path = Path(path)
    source = (source or f"import:{path.name}")[:60]
    validator = _Validator()
    with table_open(path) as table:
        result = SalesResult(format=table.format, encoding=table.encoding)
        rows = iter(table.rows)
        plan = _header_find(rows)
        if table.estimated_rows is not None:
            result.expected_total = max(0, table.estimated_rows - plan.header_row)
        for message in table.warnings:
            result.warning_add({"row": None, "column": "", "field": "", "message": message, "value": None})
        if "return_reason" not in plan.columns:
            result.warning_add({
                "row": None, "column": "", "field": "return_reason",
                "message": "文件没有退货原因列：退货不归入问题类别 (no return-reason column: returns are not attributed to categories)",
                "value": None,
            })

        def issue(row: int | None, name: str, message: str, value: Any) -> dict[str, Any]:
            return {"row": row, "column": plan.column_name(name), "field": name, "message": message, "value": _preview(value)}

        seen_rows: dict[tuple[str, str], int] = {}
        pending: list[RawRow] = []

        def flush() -> None:
            if not pending:
                return
            validator.prefetch(pending)
            items: list[SalesItem] = []
            item_rows: dict[tuple[int, date], int] = {}
            for raw in pending:
                item, errors, warnings = validator.validate(raw, issue)
                for entry in errors:
                    result.error_add(entry)
                for entry in warnings:
                    result.warning_add(entry)
                if item is None:
                    result.failed += 1
                    continue
                key = (item.product.sku, item.day.isoformat())
                if key in seen_rows:
                    result.warning_add(issue(
                        raw.row, "sku",
                        f"第 {seen_rows[key]} 行与本行的日期和 SKU 相同（{item.day} {item.product.sku}），以本行（较后的一行）为准 "
                        f"(same day and SKU as row {seen_rows[key]}; the later row wins)",
                        item.product.sku,
                    ))
                seen_rows[key] = raw.row or 0
                item_rows[(item.product.pk, item.day)] = raw.row or 0
                items.append(item)
            created, updated = sales_upsert(items=items, source=source)
            # A duplicate within one batch replaces its twin before saving: count it once.
            result.created += created
            result.updated += updated
            for item in items:
                result.touched(item.day, item.product.pk)
            pending.clear()
            if job is not None:
                _job_save(job, result)
            if progress:
                progress(result)

        if job is not None:
            _job_save(job, result)
        try:
            for row_number, cells in rows:
                if cols.row_is_blank(cells):
                    continue
                result.total += 1
                values = {
                    name: cells[index] if index < len(cells) else None for name, index in plan.columns.items()
                }
                pending.append(RawRow(row=row_number, values=values))
                if len(pending) >= batch_size:
                    flush()
        except ImportFileError:
            flush()
            raise
        flush()
    result.expected_total = result.total
    if refresh:
        metrics_refresh_enqueue(first_day=result.first_day, last_day=result.last_day, product_ids=result.product_ids)
    logger.info(
        "sales import %s: %d rows, %d new, %d replaced, %d failed",
        path.name, result.total, result.created, result.updated, result.failed,
    )
    return result


def sales_push(*, items: list[dict[str, Any]], source: str = "api", refresh: bool = True) -> SalesResult:
    """Validate and upsert a batch pushed by another system, all or nothing.

    Each item has date (or 日期), sku, orders, returns and optionally
    return_reason. Raises SalesValidationError listing every bad item (by its
    0-based index) and saves nothing if any item is invalid.
    """
    validator = _Validator()
    raws = []
    for index, item in enumerate(items):
        values: dict[str, Any] = {}
        if isinstance(item, dict):
            for key, value in item.items():
                name = _ALIAS.get(cols.header_normalise(key))
                if name and name not in values:
                    values[name] = value
        raws.append(RawRow(row=index, values=values))
    validator.prefetch(raws)
    result = SalesResult(total=len(raws))

    def issue(row: int | None, name: str, message: str, value: Any) -> dict[str, Any]:
        return {"row": row, "column": name, "field": name, "message": message, "value": _preview(value)}

    valid: list[SalesItem] = []
    seen: dict[tuple[int, date], int] = {}
    for raw in raws:
        if not isinstance(items[raw.row], dict):
            result.error_add(issue(raw.row, "", "每一项必须是对象 (each item must be an object)", None))
            continue
        item, errors, warnings = validator.validate(raw, issue)
        # Text with a NUL byte cannot be stored in PostgreSQL: refuse it here, naming the field.
        nul_fields = [name for name, value in raw.values.items() if isinstance(value, str) and "\x00" in value]
        errors += [issue(raw.row, name, "不能包含空字符 NUL (a NUL byte is not allowed)", raw.values[name])
                   for name in nul_fields if not any(e.get("field") == name for e in errors)]
        if nul_fields:
            item = None
        for entry in errors:
            result.error_add(entry)
        for entry in warnings:
            result.warning_add(entry)
        if item is None:
            result.failed += 1
            continue
        key = (item.product.pk, item.day)
        if key in seen:
            result.warning_add(issue(
                raw.row, "sku",
                f"第 {seen[key]} 项与本项的日期和 SKU 相同，以本项为准 (same day and SKU as item {seen[key]}; the later item wins)",
                item.product.sku,
            ))
        seen[key] = raw.row
        valid.append(item)
    if result.errors:
        raise SalesValidationError(result.errors)
    with transaction.atomic():
        result.created, result.updated = sales_upsert(items=valid, source=source)
        for item in valid:
            result.touched(item.day, item.product.pk)
        if refresh:
            metrics_refresh_enqueue(first_day=result.first_day, last_day=result.last_day, product_ids=result.product_ids)
    return result


# --- upload jobs ---


def _job_save(job: SalesImportJob, result: SalesResult) -> None:
    job.total_rows = result.expected_total
    job.processed_rows = result.total
    job.created = result.created
    job.updated = result.updated
    job.failed = result.failed
    job.errors = result.errors
    job.warnings = result.warnings
    job.save(update_fields=["total_rows", "processed_rows", "created", "updated", "failed", "errors", "warnings"])


def _job_finish(job: SalesImportJob, *, status: str, message: str = "") -> None:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


def sales_import_job_create(*, upload, created_by, run_now: bool | None = None) -> SalesImportJob:
    """Save an uploaded file as a job; import it now if small (or ``run_now``), else enqueue it after commit."""
    from ..conf import impact_setting

    job = SalesImportJob(original_name=os.path.basename(upload.name)[:255], created_by=created_by)
    job.file.save(os.path.basename(upload.name), upload, save=False)
    job.save()
    if run_now is None:
        run_now = (upload.size or 0) <= impact_setting("IMPACT_SYNC_IMPORT_BYTES")
    if run_now:
        sales_import_job_run(job_id=job.pk)
    else:
        transaction.on_commit(lambda: _job_enqueue(job.pk))
    job.refresh_from_db()
    return job


def _job_enqueue(job_id: int) -> None:
    from ..tasks import run_sales_import

    try:
        run_sales_import.apply_async(args=[job_id], retry=False)
    except Exception as exc:  # broker down: the file is saved; impact.sweep_queued_imports sends it later
        logger.warning("broker unavailable, sales import %s stays queued for the sweeper: %s", job_id, exc)
        SalesImportJob.objects.filter(pk=job_id, status=SalesImportJob.Status.QUEUED).update(
            message=QUEUED_UNTIL_BROKER_RETURNS)


def sales_import_job_run(*, job_id: int) -> SalesResult | None:
    """Run a queued job to the end; a redelivered task finds it claimed and does nothing."""
    claimed = SalesImportJob.objects.filter(pk=job_id, status=SalesImportJob.Status.QUEUED).update(
        status=SalesImportJob.Status.RUNNING
    )
    if not claimed:
        return None
    job = SalesImportJob.objects.get(pk=job_id)
    try:
        result = sales_import_file(path=job.file.path, source=f"upload:{job.original_name}"[:60], job=job)
    except ImportFileError as exc:
        _job_finish(job, status=SalesImportJob.Status.FAILED, message=str(exc))
        return None
    except Exception as exc:
        logger.exception("sales import job %s stopped", job_id)
        _job_finish(job, status=SalesImportJob.Status.FAILED,
                    message=f"导入意外中断，已导入的行已保存 (the import stopped; rows already saved are kept): {type(exc).__name__}")
        raise
    note = f"另有 {result.omitted} 条错误/提示未列出 ({result.omitted} more not listed)" if result.omitted else ""
    _job_save(job, result)
    _job_finish(job, status=SalesImportJob.Status.DONE, message=note)
    return result
