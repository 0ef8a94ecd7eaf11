"""Which column holds which ticket field, and how one cell becomes a Python value.

Headers are matched after trimming spaces (ASCII and full-width), byte-order
marks and zero-width characters and case-folding, and ignoring ``_``, ``-``
and inner spaces, so ``Order Number``, ``order_number`` and ``ORDER-NUMBER``
are the same header. When two columns could fill one field, the header that
comes earlier in that field's alias list wins (``商品编码`` beats ``商品``,
which is often a product name). An explicit column mapping overrides all of it.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Any
from zoneinfo import ZoneInfo

from feedback.models import Channel

from .readers import ImportFileError

FIELDS = ("external_id", "text", "sku", "order_number", "channel", "received_at")
FIELD_LABELS = {
    "external_id": "工单号",
    "text": "内容",
    "sku": "SKU",
    "order_number": "订单号",
    "channel": "渠道",
    "received_at": "创建时间",
}
IGNORE = "ignore"
HEADER_SEARCH_ROWS = 10

# Ordered by priority within each field.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "外部工单号", "工单号", "工单编号", "ticket_id", "ticket id", "单号", "id"),
    "text": (
        "text", "content", "内容", "投诉内容", "问题描述", "评价内容", "反馈内容", "评论内容", "description", "comment",
    ),
    "sku": ("sku", "商品编码", "商品ID", "商品编号", "product_id", "product_sku", "商品", "product"),
    "order_number": ("order_number", "订单号", "订单编号", "order_no", "order_id", "order"),
    "channel": ("channel", "渠道", "来源渠道"),
    "received_at": (
        "received_at", "created_at", "创建时间", "提交时间", "投诉时间", "反馈时间", "评价时间", "时间", "日期", "date", "created",
    ),
}

CHANNEL_ALIASES: dict[str, tuple[str, ...]] = {
    Channel.PHONE: ("phone", "电话", "电话客服", "热线", "客服热线", "tel", "telephone", "call"),
    Channel.CHAT: ("chat", "在线客服", "在线", "客服", "在线咨询", "im", "online", "livechat", "online_chat"),
    Channel.EMAIL: ("email", "邮件", "电子邮件", "邮箱", "mail", "e-mail"),
    Channel.APP: ("app", "手机app", "客户端", "移动端"),
    Channel.REVIEW: ("review", "评价", "商品评价", "评论", "reviews"),
    Channel.PLATFORM: ("platform", "平台售后", "售后", "after_sales", "aftersales", "after-sales"),
}

_STRIP = " \t\r\n\u3000\ufeff\u200b\u200c\u200d\u00a0"
_SEPARATORS = re.compile(r"[\s_\-]+")


def header_normalise(value: Any) -> str:
    """Return the comparison key of a header or alias: trimmed, case-folded, no separators."""
    if value is None:
        return ""
    text = str(value).strip(_STRIP).casefold()
    return _SEPARATORS.sub("", text)


_ALIAS_RANK: dict[str, tuple[str, int]] = {}
for _field, _aliases in HEADER_ALIASES.items():
    for _rank, _alias in enumerate(_aliases):
        _ALIAS_RANK.setdefault(header_normalise(_alias), (_field, _rank))

_CHANNEL_BY_KEY: dict[str, str] = {}
for _channel, _aliases in CHANNEL_ALIASES.items():
    for _alias in (*_aliases, str(_channel.label)):
        _CHANNEL_BY_KEY[header_normalise(_alias)] = str(_channel)

_FIELD_BY_NAME: dict[str, str] = {header_normalise(f): f for f in FIELDS}
_FIELD_BY_NAME.update({header_normalise(label): f for f, label in FIELD_LABELS.items()})
_FIELD_BY_NAME.update({key: f for key, (f, _) in _ALIAS_RANK.items()})
for _ignored in (IGNORE, "忽略", "-", "skip", "none"):
    _FIELD_BY_NAME[header_normalise(_ignored)] = IGNORE


def field_name_resolve(value: str) -> str:
    """Turn a field named in a column mapping (``text``, ``内容``, ``ignore`` ...) into a field; raise ValueError."""
    key = header_normalise(value)
    if key in _FIELD_BY_NAME:
        return _FIELD_BY_NAME[key]
    raise ValueError(
        f"未知字段 '{value}'，可用：{', '.join(FIELDS)} 或 ignore (unknown field; use one of {', '.join(FIELDS)}, ignore)"
    )


def column_mapping_parse(text: str) -> dict[str, str]:
    """Parse ``列名=字段`` lines (one per line) into {column header: field}; raise ValueError naming the line."""
    mapping: dict[str, str] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.replace("＝", "=")
        if "=" not in line:
            raise ValueError(f"第 {number} 行缺少 '='，格式为 列名=字段 (line {number}: expected COLUMN=field)")
        column, _, target = line.rpartition("=")
        column = column.strip()
        if not column:
            raise ValueError(f"第 {number} 行缺少列名 (line {number}: column name is empty)")
        try:
            mapping[column] = field_name_resolve(target)
        except ValueError as exc:
            raise ValueError(f"第 {number} 行：{exc} (line {number})") from None
    return mapping


@dataclass
class ColumnPlan:
    """Where each ticket field is found in the rows of one file."""

    header_row: int
    headers: list[str]
    columns: dict[str, int]  # field -> 0-based column index
    warnings: list[str] = field(default_factory=list)

    def column_name(self, field_name: str) -> str:
        """The header the user sees for a field, or the field's Chinese label if it has no column."""
        index = self.columns.get(field_name)
        if index is None:
            return FIELD_LABELS.get(field_name, field_name)
        return self.headers[index] or f"第 {index + 1} 列"


def columns_resolve(header_cells: Sequence[Any], *, header_row: int = 1, mapping: dict[str, str] | None = None) -> ColumnPlan:
    """Decide which column fills which field; raise ImportFileError if there is no text column."""
    headers = [cell_text(cell).strip(_STRIP) for cell in header_cells]
    keys = [header_normalise(h) for h in headers]
    explicit: dict[int, str] = {}
    for column, target in (mapping or {}).items():
        key = header_normalise(column)
        if key not in keys:
            raise ImportFileError(
                f"列映射中的列「{column}」不在文件中；文件的列：{_listing(headers)} "
                f"(mapped column '{column}' is not in the file)"
            )
        explicit[keys.index(key)] = field_name_resolve(target)

    columns: dict[str, int] = {}
    for index, target in explicit.items():
        if target != IGNORE:
            columns[target] = index
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, index)
    for index, key in enumerate(keys):
        if index in explicit or key not in _ALIAS_RANK:
            continue
        target, rank = _ALIAS_RANK[key]
        if target in columns:
            continue
        if target not in best or rank < best[target][0]:
            best[target] = (rank, index)
    for target, (_, index) in best.items():
        columns[target] = index

    if "text" not in columns:
        raise ImportFileError(
            f"找不到内容列（可用列名：内容、问题描述、投诉内容、评价内容、text、content），文件的列：{_listing(headers)}；"
            f"可用列映射指定，例如 评价正文=text "
            f"(no text column found; headers in the file: {_listing(headers)}; map one, e.g. 评价正文=text)"
        )
    plan = ColumnPlan(header_row=header_row, headers=headers, columns=columns)
    used = set(columns.values()) | set(explicit)
    unused = [h for i, h in enumerate(headers) if i not in used and h]
    if unused:
        plan.warnings.append(f"这些列未导入：{_listing(unused)} (columns not imported)")
    if "external_id" not in columns:
        plan.warnings.append(
            "文件没有工单号列：无法去重，重复导入同一文件会产生重复工单 "
            "(no external id column: rows cannot be deduplicated, importing this file again creates duplicates)"
        )
    return plan


def header_find(rows: Iterator[tuple[int, list[Any]]], *, mapping: dict[str, str] | None = None) -> ColumnPlan:
    """Consume rows up to and including the header and return its plan.

    The header is the first row (among the first few non-empty ones) in which a
    text column is found, so a title line above the header (``订单导出 2026-05``)
    does not stop the import. If none qualifies, the error names the headers of
    the first non-empty row.
    """
    first_error: ImportFileError | None = None
    seen = 0
    for row_number, cells in rows:
        if row_is_blank(cells):
            continue
        try:
            plan = columns_resolve(cells, header_row=row_number, mapping=mapping)
        except ImportFileError as exc:
            first_error = first_error or exc
            seen += 1
            if seen >= HEADER_SEARCH_ROWS:
                break
            continue
        if row_number > 1:
            plan.warnings.insert(0, f"表头在第 {row_number} 行，之前的行已忽略 (header found on row {row_number}; rows above it ignored)")
        return plan
    if first_error is not None:
        raise first_error
    raise ImportFileError("文件没有任何数据行 (the file has no rows)")


def _listing(headers: Sequence[str]) -> str:
    shown = [h for h in headers if h][:30]
    return "、".join(f"「{h}」" for h in shown) if shown else "（无 none）"


# --- cells ---


def row_is_blank(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def cell_text(value: Any) -> str:
    """Return a cell as text; whole-number floats from XLSX lose their ``.0`` (order numbers, ids)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def channel_parse(value: Any) -> str:
    """Return the Channel value for a cell (电话, 在线客服, review ...); empty means chat; raise ValueError."""
    text = cell_text(value)
    key = header_normalise(text)
    if not key:
        return Channel.CHAT
    if key in _CHANNEL_BY_KEY:
        return _CHANNEL_BY_KEY[key]
    known = "、".join(str(c.label) for c in Channel)
    raise ValueError(f"未知渠道「{text.strip()[:40]}」，可用：{known} (unknown channel; use one of {', '.join(Channel.values)})")


_DATE_RE = re.compile(
    r"""^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?
    (?:(?:\s+|T|\s*日\s*)(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:[.,](\d{1,6}))?\s*秒?)?)?
    \s*(Z|[+-]\d{2}(?::?\d{2})?)?$""",
    re.VERBOSE,
)
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?$")
# Excel serial day numbers from 1927 to 2173; outside that a bare number is more likely a mistake.
_SERIAL_RANGE = (10_000, 100_000)


def datetime_parse(value: Any, *, tz: ZoneInfo) -> datetime | None:
    """Return an aware datetime for a date cell, or None if empty; raise ValueError if unparseable.

    Accepts 2026-05-01, 2026/5/1, 2026年5月1日, 20260501, "2026-05-01 13:45:00",
    "2026/5/1 9:05", ISO 8601 with an offset, XLSX dates and datetimes, Excel
    serial numbers (45778, 45778.5) and Unix timestamps in seconds or milliseconds.
    Times without an offset are wall-clock times in ``tz``.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=tz)
    if isinstance(value, bool):
        raise ValueError(f"无法识别的日期「{value}」 (unparseable date)")
    if isinstance(value, (int, float)):
        return _number_to_datetime(value, str(value), tz)
    text = str(value).strip(_STRIP)
    if not text:
        return None
    try:
        match = _DATE_RE.match(text)
        if match:
            year, month, day, hour, minute, second, fraction, offset = match.groups()
            micro = int((fraction or "0").ljust(6, "0")) if fraction else 0
            result = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
            return result.replace(tzinfo=_offset(offset) if offset else tz)
        if _COMPACT_RE.match(text) and len(text) in (8, 12, 14):
            year, month, day, hour, minute, second = _COMPACT_RE.match(text).groups()
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz)
        if _NUMBER_RE.match(text):
            return _number_to_datetime(float(text) if "." in text else int(text), text, tz)
        result = datetime.fromisoformat(text)
        return result if result.tzinfo else result.replace(tzinfo=tz)
    except (ValueError, OverflowError):
        raise ValueError(
            f"无法识别的日期「{text[:40]}」，请用 2026-05-01 或 2026-05-01 13:45:00 (unparseable date)"
        ) from None


def _offset(text: str) -> dt_timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return dt_timezone(sign * timedelta(hours=hours, minutes=minutes))


def _number_to_datetime(number: float, text: str, tz: ZoneInfo) -> datetime:
    whole = int(number)
    if isinstance(number, int) or float(number).is_integer():
        digits = len(str(whole))
        if digits == 8:  # 20260501 typed as a number
            return datetime(whole // 10000, whole // 100 % 100, whole % 100, tzinfo=tz)
        if digits == 10:  # Unix seconds
            return datetime.fromtimestamp(whole, tz=UTC)
        if digits == 13:  # Unix milliseconds
            return datetime.fromtimestamp(whole / 1000, tz=UTC)
    if _SERIAL_RANGE[0] <= number < _SERIAL_RANGE[1]:
        from openpyxl.utils.datetime import from_excel

        return from_excel(number).replace(tzinfo=tz)
    raise ValueError(f"无法识别的日期「{text[:40]}」 (unparseable date)")
