"""Product catalogue import: ``manage.py import_products FILE`` and the product upload page.

* Columns: 商家编码 / SKU (required), 商品名称 (required), 类目 / 品类
  (optional), 价格 (optional; recognised and checked, but not stored: the
  Product model has no price). ``column_mapping`` names any other header.
* Upsert by SKU: a new SKU creates a product, a known one gets the file's name
  and category. A row with an empty category keeps a known product's category
  and files a new product under 未分类, with a row warning.
* A SKU a spreadsheet turned into ``2.69014E+17`` (or a number cell of more
  than 15 digits) is a row error: a rounded SKU would never match a ticket.
* The same SKU twice in one file: the later row wins and the earlier is named
  in a warning.
* The file is read by the shared import framework: encodings, sheet choice,
  title lines, two-row headers, total rows (合计), row-numbered errors.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from feedback.models import Product

from . import columns as cols
from .framework import ImportReport, data_rows, table_with_plan

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
UNCATEGORISED = "未分类"
FIELDS = ("sku", "name", "category", "price")
FIELD_LABELS = {"sku": "商家编码", "name": "商品名称", "category": "类目", "price": "价格"}
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "商家编码", "商品编码", "商家sku", "sku编码", "货号", "外部编码", "product_sku"),
    "name": ("商品名称", "name", "名称", "品名", "商品名", "宝贝标题", "商品标题", "标题", "product_name", "title"),
    "category": ("类目", "品类", "商品类目", "商品品类", "分类", "商品分类", "类别", "category", "product_category"),
    "price": ("价格", "售价", "单价", "零售价", "一口价", "price"),
}
PRODUCTS = cols.Schema(
    name="products", fields=FIELDS, labels=FIELD_LABELS, aliases=HEADER_ALIASES, required=("sku", "name"),
)
_NAME_MAX = Product._meta.get_field("name").max_length
_CATEGORY_MAX = Product._meta.get_field("product_category").max_length
_SKU_MAX = Product._meta.get_field("sku").max_length


@dataclass
class ProductResult(ImportReport):
    created: int = 0
    updated: int = 0


@dataclass
class _Row:
    row: int
    sku: str
    name: str
    category: str  # "" = keep the known product's, or UNCATEGORISED for a new one


def products_import_file(
    *,
    path: str | Path,
    column_mapping: dict[str, str] | None = None,
    sheet: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> ProductResult:
    """Create or update products from a CSV/XLSX catalogue, keyed by SKU; return what happened.

    Raises ImportFileError when the file cannot be read at all or lacks the SKU
    or name column. Each batch is one transaction.
    """
    result = ProductResult()
    with table_with_plan(path=path, report=result, schema=PRODUCTS, mapping=column_mapping, sheet=sheet) as (_, plan, rows):
        if "category" not in plan.columns:
            result.file_warning_add(
                gettext("文件没有类目列：新商品归入「%(UNCATEGORISED)s」，已有商品的类目不变") % {"UNCATEGORISED": UNCATEGORISED}
            )
        if "price" in plan.columns:
            result.file_warning_add(gettext("价格列已检查，但不保存（商品没有价格字段）"))

        def issue(row: int, name: str, message: str, value: Any) -> dict[str, Any]:
            text = cols.cell_text(value)[:80] if value is not None else None
            return {"row": row, "column": plan.column_name(name), "field": name, "message": message, "value": text}

        def cell(cells: list[Any], name: str) -> Any:
            index = plan.columns.get(name)
            return cells[index] if index is not None and index < len(cells) else None

        seen: dict[str, int] = {}
        pending: list[_Row] = []
        for row_number, cells in data_rows(rows, result):
            result.total += 1
            errors = []
            sku, exact = cols.id_clean(cell(cells, "sku"))
            if not sku:
                errors.append(issue(row_number, "sku", gettext("商家编码为空"), sku))
            elif not exact:
                errors.append(issue(row_number, "sku", (
                    gettext("商家编码被表格软件改成了科学计数法或超过 15 位的数字，末几位已丢失；请把该列设为文本后重新导出")
                ), sku))
            elif len(sku) > _SKU_MAX:
                errors.append(issue(row_number, "sku", gettext("商家编码过长，最多 %(SKU_MAX)s 个字符") % {"SKU_MAX": _SKU_MAX}, sku))
            name = cols.cell_text(cell(cells, "name")).strip()
            if not name:
                errors.append(issue(row_number, "name", gettext("商品名称为空"), name))
            elif len(name) > _NAME_MAX:
                errors.append(issue(row_number, "name", gettext("商品名称过长，最多 %(NAME_MAX)s 字") % {"NAME_MAX": _NAME_MAX}, name))
            category = cols.cell_text(cell(cells, "category")).strip()
            if len(category) > _CATEGORY_MAX:
                errors.append(issue(row_number, "category", gettext("类目过长，最多 %(CATEGORY_MAX)s 字") % {"CATEGORY_MAX": _CATEGORY_MAX}, category))
            price = cell(cells, "price")
            if cols.cell_text(price).strip():
                try:
                    if Decimal(cols.cell_text(price).strip().lstrip("¥￥").replace(",", "")) < 0:
                        raise InvalidOperation
                except InvalidOperation:
                    result.warning_add(issue(row_number, "price", gettext("价格不是非负数字，已忽略"), price))
            if errors:
                result.failed += 1
                for entry in errors:
                    result.error_add(entry)
                continue
            if "category" in plan.columns and not category:
                result.warning_add(issue(row_number, "category", (
                    gettext("类目为空：已有商品保留原类目，新商品归入「%(UNCATEGORISED)s」") % {"UNCATEGORISED": UNCATEGORISED}
                ), category))
            if sku in seen:
                result.warning_add(issue(row_number, "sku", (
                    gettext("第 %(sku)s 行的商家编码与本行相同，以本行（较后的一行）为准") % {"sku": seen[sku]}
                ), sku))
            seen[sku] = row_number
            pending.append(_Row(row=row_number, sku=sku, name=name, category=category))
            if len(pending) >= batch_size:
                _flush(pending, result)
        _flush(pending, result)
    logger.info("product import %s: %d rows, %d new, %d updated, %d failed",
                Path(path).name, result.total, result.created, result.updated, result.failed)
    return result


def _flush(pending: list[_Row], result: ProductResult) -> None:
    """Upsert one batch by SKU in one transaction; a later row for the same SKU replaces an earlier one."""
    if not pending:
        return
    latest = {row.sku: row for row in pending}
    with transaction.atomic():
        known = dict(Product.objects.filter(sku__in=latest).values_list("sku", "product_category"))
        products = [
            Product(sku=row.sku, name=row.name, product_category=row.category or known.get(row.sku) or UNCATEGORISED)
            for row in latest.values()
        ]
        Product.objects.bulk_create(
            products, batch_size=BATCH_SIZE, update_conflicts=True, unique_fields=["sku"],
            update_fields=["name", "product_category"],
        )
    result.created += len(latest) - len(known)
    result.updated += len(known)
    pending.clear()
