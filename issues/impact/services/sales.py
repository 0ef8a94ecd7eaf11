"""Orders and returns per SKU and day: validation, upsert, file import and the upload job.

The contract, shared by the CLI (``manage.py import_orders``), the upload page
and the API (``POST /api/sales/``):

* Columns: 日期 / date, SKU / 商家编码 / 商品编码 / sku, 订单数 / orders,
  退货数 / returns, and optionally 退货原因 / return_reason (more aliases in
  ``HEADER_ALIASES``; ``--map`` / ``column_mapping`` names any other header).
  The file is read by the shared import framework (``feedback.imports``):
  same encodings, sheet choice, title lines, two-row headers, total rows
  (合计) skipped, header matching (case, spaces, traditional characters,
  ``_`` and ``-`` ignored). A file without one of the four required columns is
  refused before anything is saved.
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext

from feedback.imports import columns as cols
from feedback.imports.framework import (
    ImportReport,
    data_rows,
    job_enqueue,
    job_execute,
    job_finish,
    job_run,
    table_with_plan,
)
from feedback.imports.readers import ImportFileError
from feedback.models import Product

from ..models import DailySales, ReturnReasonDaily, SalesImportJob
from ..reasons import ReasonCountError, reasons_to_categories

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
FIELDS = ("day", "sku", "orders", "returns", "return_reason")
REQUIRED = ("day", "sku", "orders", "returns")
FIELD_LABELS = {"day": "日期", "sku": "SKU", "orders": "订单数", "returns": "退货数", "return_reason": "退货原因"}
# 商家编码 (the merchant's code) first; 商品编号/商品ID stay last resorts because on JD and Pinduoduo
# they are the platform's own ids, which a catalogue imported by 商家编码 will not know.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "day": ("日期", "date", "day", "统计日期", "业务日期", "销售日期", "下单日期", "付款日期", "时间"),
    "sku": ("sku", "商家编码", "商品编码", "商家sku", "sku编码", "货号", "product_sku", "商品编号", "商品id", "product_id"),
    "orders": ("订单数", "orders", "订单量", "下单数", "销量", "销售数量", "支付订单数", "付款订单数", "成交订单数", "order_count"),
    "returns": ("退货数", "returns", "退货量", "退货件数", "退货单数", "退款订单数", "退货退款数", "return_count"),
    "return_reason": ("退货原因", "return_reason", "return_reasons", "退货理由", "退款原因", "原因", "reason", "reasons"),
}
SALES = cols.Schema(name="sales", fields=FIELDS, labels=FIELD_LABELS, aliases=HEADER_ALIASES, required=REQUIRED)
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
class SalesResult(ImportReport):
    """What an import or a push did. Errors and warnings are dicts {"row", "column", "field", "message", "value"}."""

    created: int = 0
    updated: int = 0
    first_day: date | None = None
    last_day: date | None = None
    product_ids: set[int] = field(default_factory=set)

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
        raise ValueError(gettext("日期为空"))
    day = moment.astimezone(tz).date() if moment.tzinfo else moment.date()
    if day > today + timedelta(days=1):
        raise ValueError(gettext("日期在未来：%(day)s") % {"day": day})
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
            errors.append(issue(raw.row, "sku", gettext("SKU 为空"), sku))
        else:
            product = self.products.get(sku)
            if product is None:
                errors.append(issue(
                    raw.row, "sku",
                    gettext("未知 SKU「%(sku)s」：请先在商品列表中添加该商品，再重新导入") % {"sku": sku[:64]},
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
                gettext("退货数 %(returns)s 大于订单数 %(orders)s：已接受（当天退回的可能是之前的订单）") % {"returns": returns, "orders": orders},
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


ProgressCallback = Callable[[SalesResult], None]


def sales_import_file(
    *,
    path: str | Path,
    source: str = "",
    column_mapping: dict[str, str] | None = None,
    sheet: str | None = None,
    progress: ProgressCallback | None = None,
    job: SalesImportJob | None = None,
    batch_size: int = BATCH_SIZE,
    refresh: bool = True,
) -> SalesResult:
    """Import a CSV/XLSX of daily orders and returns; return what happened.

    Raises ImportFileError when the file cannot be read at all or lacks a
    required column. Good rows are saved batch by batch even if others fail.
    With ``refresh``, the metric refresh for the touched days is enqueued.
    ``column_mapping`` maps headers to fields (``商品货号=sku``).
    """
    path = Path(path)
    source = (source or f"import:{path.name}")[:60]
    validator = _Validator()
    result = SalesResult()
    with table_with_plan(path=path, report=result, schema=SALES, mapping=column_mapping, sheet=sheet) as (_, plan, rows):
        if "return_reason" not in plan.columns:
            result.warning_add({
                "row": None, "column": "", "field": "return_reason",
                "message": gettext("文件没有退货原因列：退货不归入问题类别"),
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
                        gettext("第 %(key)s 行与本行的日期和 SKU 相同（%(day)s %(sku)s），以本行（较后的一行）为准") % {"key": seen_rows[key], "day": item.day, "sku": item.product.sku},
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
            for row_number, cells in data_rows(rows, result):
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
            result.error_add(issue(raw.row, "", gettext("每一项必须是对象"), None))
            continue
        item, errors, warnings = validator.validate(raw, issue)
        # Text with a NUL byte cannot be stored in PostgreSQL: refuse it here, naming the field.
        nul_fields = [name for name, value in raw.values.items() if isinstance(value, str) and "\x00" in value]
        errors += [issue(raw.row, name, gettext("不能包含空字符 NUL"), raw.values[name])
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
                gettext("第 %(key)s 项与本项的日期和 SKU 相同，以本项为准") % {"key": seen[key]},
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

    job_enqueue(task=run_sales_import, model=SalesImportJob, job_id=job_id, language=get_language())


def sales_import_job_run(*, job_id: int) -> SalesResult | None:
    """Run a queued job to the end; a redelivered task finds it claimed and does nothing.

    A job whose worker died is run again from the start: the upsert replaces
    each (day, SKU), so re-running it is idempotent.
    """

    def run(job: SalesImportJob, resume: bool) -> SalesResult | None:
        def body(path: str) -> SalesResult:
            return sales_import_file(path=path, source=f"upload:{job.original_name}"[:60], job=job)

        result = job_run(job, body=body, model_label="sales import")
        if result is None:
            return None
        _job_save(job, result)
        job_finish(job, status=SalesImportJob.Status.DONE, message=result.note)
        return result

    return job_execute(SalesImportJob, job_id, run=run)
