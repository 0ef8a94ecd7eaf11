"""Which column holds which ticket field, and how one cell becomes a Python value.

Headers are matched after trimming spaces (ASCII and full-width), byte-order
marks and zero-width characters, case-folding, folding traditional characters
to simplified ones (``工單號`` is ``工单号``), and ignoring ``_``, ``-``, ``/``
and inner spaces, so ``Order Number``, ``order_number`` and ``ORDER-NUMBER``
are the same header.

Platform presets (``presets/*.json``, one file per platform) add each
platform's own headers. With no preset named, the platform is detected from
the headers (at least two of a preset's signature headers); otherwise the
generic aliases below apply. Within a field the header earlier in the alias
list wins (``商家编码`` beats ``商品``). The complaint text is the exception:
every column that is a text column (``买家留言``, ``退款原因``, ``退款说明`` ...) is
kept and the non-empty ones are combined. An explicit column mapping
overrides all of it; several columns mapped to ``text`` are combined too.
"""
from __future__ import annotations
from django.utils.translation import get_language, gettext

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from feedback.models import Channel

from .readers import ImportFileError

FIELDS = ("external_id", "text", "sku", "order_number", "channel", "received_at", "product_name")
FIELD_LABELS = {
    "external_id": "工单号",
    "text": "内容",
    "sku": "SKU",
    "order_number": "订单号",
    "channel": "渠道",
    "received_at": "创建时间",
    "product_name": "商品名称",
}
IGNORE = "ignore"
HEADER_SEARCH_ROWS = 10
# A preset is assumed only when at least this many of its signature headers are in the file.
PRESET_MIN_SIGNATURE = 2
PRESETS_DIR = Path(__file__).resolve().parent / "presets"

# Ordered by priority within each field. The platform's own numeric item ids (商品ID, 商品编号,
# 宝贝ID) are deliberately absent from sku: they are not the merchant's SKU (商家编码).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": (
        "external_id", "外部工单号", "工单号", "工单编号", "售后单号", "售后编号", "退款编号", "退款单号", "服务单号",
        "ticket_id", "ticket id", "单号", "id",
    ),
    "text": (
        "text", "content", "内容", "投诉内容", "买家留言", "问题描述", "评价内容", "反馈内容", "评论内容",
        "退款原因", "买家退款原因", "售后原因", "申请原因", "退款说明", "买家退款说明", "申请说明",
        "description", "comment",
    ),
    "sku": ("sku", "商家编码", "商品编码", "商家sku", "货号", "product_sku", "product_id", "商品", "product"),
    "order_number": ("order_number", "订单号", "订单编号", "order_no", "order_id", "order"),
    "channel": ("channel", "渠道", "来源渠道"),
    "received_at": (
        "received_at", "created_at", "创建时间", "申请时间", "提交时间", "投诉时间", "反馈时间", "评价时间",
        "时间", "日期", "date", "created",
    ),
    "product_name": ("product_name", "商品名称", "宝贝标题", "商品标题"),
}

CHANNEL_ALIASES: dict[str, tuple[str, ...]] = {
    Channel.PHONE: ("phone", "电话", "电话客服", "热线", "客服热线", "tel", "telephone", "call"),
    Channel.CHAT: ("chat", "在线客服", "在线", "客服", "在线咨询", "im", "online", "livechat", "online_chat"),
    Channel.EMAIL: ("email", "邮件", "电子邮件", "邮箱", "mail", "e-mail"),
    Channel.APP: ("app", "手机app", "客户端", "移动端"),
    Channel.REVIEW: ("review", "评价", "商品评价", "评论", "reviews"),
    Channel.PLATFORM: ("platform", "平台售后", "售后", "after_sales", "aftersales", "after-sales"),
}

SUMMARY_LABELS = ("合计", "总计", "小计", "汇总", "total", "grandtotal", "subtotal")

_STRIP = " \t\r\n\u3000\ufeff\u200b\u200c\u200d\u00a0"
_SEPARATORS = re.compile(r"[\s_\-/／:：()（）]+")
# Traditional characters that occur in export headers and channel names, folded to simplified so
# a Hong Kong or Taiwan export (工單號, 內容, 買家留言, 申請時間) matches the same aliases.
_TRADITIONAL = str.maketrans(
    "單號編碼買說請間時訂貨後務題稱類內問備價寶貝標評論來額數銷統計總應當狀態戶賣賬帳電話郵線條產細訊處實際驗證發運東贈況簡體據錄離開關聯絡歷則種異動頁項詢諮廣費傳彙匯員於長見觀圖義點擊註結護賠償辦複錢檔層區選擇預設優惠紀與為將這們個從舉節",
    "单号编码买说请间时订货后务题称类内问备价宝贝标评论来额数销统计总应当状态户卖账帐电话邮线条产细讯处实际验证发运东赠况简体据录离开关联络历则种异动页项询咨广费传汇汇员于长见观图义点击注结护赔偿办复钱档层区选择预设优惠纪与为将这们个从举节",
)


def traditional_fold(text: str) -> str:
    """Fold the traditional characters common in export headers to simplified ones."""
    return text.translate(_TRADITIONAL)


def header_normalise(value: Any) -> str:
    """Return the comparison key of a header or alias: trimmed, case-folded, simplified, no separators."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip(_STRIP).casefold()
    return _SEPARATORS.sub("", traditional_fold(text))


# --- presets ---


@dataclass(frozen=True)
class Preset:
    """One platform's export shape, loaded from ``presets/<name>.json``."""

    name: str
    label: str
    label_en: str
    channel: str
    signature: frozenset[str]
    aliases: dict[str, tuple[str, ...]]

    @property
    def display(self) -> str:
        """The platform's name in the active language (淘宝 / Taobao)."""
        return self.label_en if (get_language() or "").startswith("en") else self.label


@lru_cache(maxsize=1)
def presets_load() -> dict[str, Preset]:
    """Every platform preset by name, read once from the JSON files next to this module."""
    presets: dict[str, Preset] = {}
    for path in sorted(PRESETS_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        unknown = set(data["columns"]) - set(FIELDS)
        if unknown:
            raise ValueError(f"{path.name}: unknown fields {sorted(unknown)}")
        presets[data["name"]] = Preset(
            name=data["name"],
            label=data["label"],
            label_en=data["label_en"],
            channel=data.get("channel", Channel.PLATFORM),
            signature=frozenset(header_normalise(h) for h in data["signature"]),
            aliases={name: tuple(aliases) for name, aliases in data["columns"].items()},
        )
    return presets


def preset_get(name: str | None) -> Preset | None:
    """The preset called ``name`` (taobao, jd, pdd, douyin, kuaishou), or None."""
    if not name:
        return None
    return presets_load().get(name.strip().casefold())


@dataclass(frozen=True)
class Schema:
    """What one kind of import reads: its fields, their header aliases, which are required.

    Tickets, products and daily sales are three schemas over the same readers,
    header finding, column mapping and row reporting.
    """

    name: str
    fields: tuple[str, ...]
    labels: dict[str, str] = field(compare=False, hash=False)
    aliases: dict[str, tuple[str, ...]] = field(compare=False, hash=False)
    required: tuple[str, ...] = ()
    combined: frozenset[str] = frozenset()  # fields that take every matching column, combined (ticket text)
    presets: bool = False  # whether platform presets apply

    def missing_message(self, missing: Sequence[str], headers: Sequence[str]) -> str:
        wanted = gettext("、").join(str(self.labels.get(name, name)) for name in missing)
        return gettext("找不到必需的列：%(wanted)s；文件的列：%(headers)s；可用列映射指定，例如 商品编号=sku") % {
            "wanted": wanted, "headers": _listing(headers)}


_RANKS: dict[tuple[str, str | None], dict[str, tuple[str, int]]] = {}


def _alias_rank(schema: Schema, preset_name: str | None = None) -> dict[str, tuple[str, int]]:
    """{header key: (field, rank)}: the preset's headers first, then the schema's aliases."""
    key = (schema.name, preset_name)
    if key not in _RANKS:
        ranks: dict[str, tuple[str, int]] = {}
        preset = preset_get(preset_name) if schema.presets else None
        if preset is not None:
            for name, aliases in preset.aliases.items():
                for rank, alias in enumerate(aliases):
                    ranks.setdefault(header_normalise(alias), (name, rank))
        for name, aliases in schema.aliases.items():
            for rank, alias in enumerate(aliases):
                ranks.setdefault(header_normalise(alias), (name, 100 + rank))
        _RANKS[key] = ranks
    return _RANKS[key]


TICKETS = Schema(
    name="tickets", fields=FIELDS, labels=FIELD_LABELS, aliases=HEADER_ALIASES, required=("text",),
    combined=frozenset({"text"}), presets=True,
)

_CHANNEL_BY_KEY: dict[str, str] = {}
for _channel, _aliases in CHANNEL_ALIASES.items():
    for _alias in (*_aliases, str(_channel.label)):
        _CHANNEL_BY_KEY[header_normalise(_alias)] = str(_channel)

_IGNORED_NAMES = (IGNORE, "忽略", "-", "skip", "none")


def field_name_resolve(value: str, *, schema: Schema = TICKETS) -> str:
    """Turn a field named in a column mapping (``text``, ``内容``, ``ignore`` ...) into a field; raise ValueError."""
    key = header_normalise(value)
    if value.strip() == "-":  # "-" normalises to nothing; it has always meant "ignore"
        return IGNORE
    if key:
        if key in {header_normalise(name) for name in _IGNORED_NAMES}:
            return IGNORE
        for name in schema.fields:
            if key in (header_normalise(name), header_normalise(schema.labels.get(name, name))):
                return name
        ranks = _alias_rank(schema)
        if key in ranks:
            return ranks[key][0]
    raise ValueError(
        gettext("未知字段 '%(value)s'，可用：%(fields)s 或 ignore") % {"value": value, "fields": ', '.join(schema.fields)}
    )


def column_mapping_parse(text: str, *, schema: Schema = TICKETS) -> dict[str, str]:
    """Parse ``列名=字段`` lines (one per line) into {column header: field}; raise ValueError naming the line."""
    mapping: dict[str, str] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.replace("＝", "=")
        if "=" not in line:
            raise ValueError(gettext("第 %(number)s 行缺少 '='，格式为 列名=字段") % {"number": number})
        column, _, target = line.rpartition("=")
        column = column.strip()
        if not column:
            raise ValueError(gettext("第 %(number)s 行缺少列名") % {"number": number})
        if not target.strip():
            raise ValueError(gettext("第 %(number)s 行缺少字段") % {"number": number})
        try:
            mapping[column] = field_name_resolve(target, schema=schema)
        except ValueError as exc:
            raise ValueError(gettext("第 %(number)s 行：%(exc)s") % {"number": number, "exc": exc}) from None
    return mapping


# --- the column plan ---


@dataclass
class ColumnPlan:
    """Where each ticket field is found in the rows of one file."""

    header_row: int
    headers: list[str]
    columns: dict[str, int]  # field -> 0-based column index (for a combined field: its first column)
    combined: dict[str, list[int]] = field(default_factory=dict)  # combined field -> every column, in order
    schema: Schema | None = None
    preset: Preset | None = None
    detected: bool = False  # the preset was detected from the headers, not named by the user
    header_rows: int = 1  # 2 for a two-row (merged) header
    warnings: list[str] = field(default_factory=list)

    @property
    def text_columns(self) -> list[int]:
        return self.combined.get("text", [])

    def column_name(self, field_name: str) -> str:
        """The header the user sees for a field, or the field's Chinese label if it has no column."""
        several = self.combined.get(field_name, [])
        if len(several) > 1:
            return "+".join(self.headers[i] or f"第 {i + 1} 列" for i in several)
        index = self.columns.get(field_name)
        if index is None or index >= len(self.headers):
            labels = self.schema.labels if self.schema else FIELD_LABELS
            return labels.get(field_name, field_name)
        return self.headers[index] or f"第 {index + 1} 列"

    @property
    def score(self) -> tuple[int, int]:
        """How header-like the row is: fields found, then columns recognised."""
        return len(self.columns), sum(len(c) for c in self.combined.values())


def _preset_detect(keys: Sequence[str]) -> tuple[Preset | None, list[Preset]]:
    """The preset whose signature headers the row has most of (at least two), and any it tied with."""
    present = set(keys)
    scored = sorted(
        ((len(preset.signature & present), preset) for preset in presets_load().values()),
        key=lambda pair: -pair[0],
    )
    if not scored or scored[0][0] < PRESET_MIN_SIGNATURE:
        return None, []
    best = scored[0][0]
    tied = [preset for hits, preset in scored if hits == best]
    return tied[0], tied[1:]


def columns_resolve(
    header_cells: Sequence[Any],
    *,
    header_row: int = 1,
    mapping: dict[str, str] | None = None,
    preset: Preset | None = None,
    detect: bool = True,
    schema: Schema = TICKETS,
) -> ColumnPlan:
    """Decide which column fills which field; raise ImportFileError if a required field has no column."""
    headers = [cell_text(cell).strip(_STRIP) for cell in header_cells]
    keys = [header_normalise(h) for h in headers]
    detected = False
    tied: list[Preset] = []
    if not schema.presets:
        preset = None
    elif preset is None and detect:
        preset, tied = _preset_detect(keys)
        detected = preset is not None
    explicit: dict[int, str] = {}
    for column, target in (mapping or {}).items():
        key = header_normalise(column)
        if key not in keys:
            raise ImportFileError(
                gettext("列映射中的列「%(column)s」不在文件中；文件的列：%(headers)s") % {"column": column, "headers": _listing(headers)}
            )
        explicit[keys.index(key)] = field_name_resolve(target, schema=schema)

    columns: dict[str, int] = {}
    combined: dict[str, list[int]] = {}
    for index, target in sorted(explicit.items()):
        if target == IGNORE:
            continue
        if target in schema.combined:
            combined.setdefault(target, []).append(index)
            continue
        if target in columns:
            raise ImportFileError(
                gettext("列映射把「%(first)s」和「%(second)s」都映射到了 %(field)s，只能选一列") % {
                    "first": headers[columns[target]], "second": headers[index], "field": target}
            )
        columns[target] = index

    ranks = _alias_rank(schema, preset.name if preset else None)
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, index)
    found: dict[str, list[tuple[int, int]]] = {}  # combined field -> [(rank, index)]
    for index, key in enumerate(keys):
        if index in explicit or key not in ranks:
            continue
        target, rank = ranks[key]
        if target in schema.combined:
            if target not in combined:  # a mapping that names the field's columns overrides the aliases
                found.setdefault(target, []).append((rank, index))
            continue
        if target in columns:
            continue
        if target not in best or rank < best[target][0]:
            best[target] = (rank, index)
    for target, (_, index) in best.items():
        columns[target] = index
    for target, pairs in found.items():
        # The order of the alias list (note, then reason, then explanation), not of the file.
        combined[target] = [index for _, index in sorted(pairs)]
    for target, indexes in combined.items():
        columns[target] = indexes[0]
    missing = [name for name in schema.required if name not in columns]
    if missing:
        if schema is TICKETS:
            raise ImportFileError(gettext(
                "找不到内容列（可用列名：内容、买家留言、问题描述、退款原因、退款说明、投诉内容、评价内容、text、content），"
                "文件的列：%(headers)s；可用列映射指定，例如 评价正文=text") % {"headers": _listing(headers)})
        raise ImportFileError(schema.missing_message(missing, headers))
    plan = ColumnPlan(
        header_row=header_row, headers=headers, columns=columns, combined=combined, schema=schema,
        preset=preset, detected=detected,
    )
    if detected:
        others = gettext("、").join(p.display for p in tied)
        also = gettext("；也像：%(others)s，如不对请用 --source 指定") % {"others": others} if tied else ""
        plan.warnings.append(
            gettext("按平台格式识别：%(label)s（--source %(name)s）%(also)s") % {
                "label": preset.display, "name": preset.name, "also": also}
        )
    for target, indexes in combined.items():
        if len(indexes) > 1:
            names = gettext("、").join(f"「{headers[i]}」" for i in indexes)
            # Only the complaint text combines columns (Schema.combined); say so in the reader's words.
            plan.warnings.append(gettext("投诉内容由这些列合并而成：%(columns)s") % {"columns": names})
    duplicated = sorted({h for i, h in enumerate(headers) if h and keys.count(keys[i]) > 1})
    if duplicated:
        plan.warnings.append(
            gettext("表头有重名的列：%(duplicated)s，只用了每组中最先识别的一列（内容列全部合并）") % {"duplicated": _listing(duplicated)}
        )
    used = set(columns.values()) | {i for indexes in combined.values() for i in indexes} | set(explicit)
    unused = [h for i, h in enumerate(headers) if i not in used and h]
    if unused:
        plan.warnings.append(gettext("这些列未导入：%(unused)s") % {"unused": _listing(unused)})
    if schema is TICKETS:
        if "external_id" not in columns:
            plan.warnings.append(
                gettext("文件没有工单号列：无法去重，重复导入同一文件会产生重复工单")
            )
        if "received_at" not in columns:
            plan.warnings.append(
                gettext("文件没有时间列（如 申请时间、创建时间）：所有工单的时间记为导入时刻")
            )
    return plan


def _merge_header_rows(top: Sequence[Any], sub: Sequence[Any]) -> list[Any]:
    """One header from a two-row header: the lower cell where it has one, else the (merged) upper cell."""
    width = max(len(top), len(sub))
    merged = []
    for index in range(width):
        lower = cell_text(sub[index]).strip(_STRIP) if index < len(sub) else ""
        upper = cell_text(top[index]).strip(_STRIP) if index < len(top) else ""
        merged.append(lower or upper)
    return merged


def header_find(
    rows: Iterator[tuple[int, list[Any]]],
    *,
    mapping: dict[str, str] | None = None,
    preset: Preset | None = None,
    detect: bool = True,
    schema: Schema = TICKETS,
) -> tuple[ColumnPlan, Iterator[tuple[int, list[Any]]]]:
    """Find the header among the first non-empty rows; return its plan and the rows after it.

    Title lines and blank lines above the header are skipped. Each candidate is
    tried as a one-row header and, with the row below it, as a two-row (merged)
    header; the candidate that recognises the most fields wins, the earlier and
    the one-row reading on a tie. If none has the schema's required columns, the
    error names the headers of the first non-empty row.
    """
    buffered: list[tuple[int, list[Any]]] = []
    non_blank: list[int] = []  # indexes into buffered
    for row_number, cells in rows:
        buffered.append((row_number, cells))
        if not row_is_blank(cells):
            non_blank.append(len(buffered) - 1)
            if len(non_blank) > HEADER_SEARCH_ROWS:
                break
    if not non_blank:
        raise ImportFileError(gettext("文件没有任何数据行"))

    first_error: ImportFileError | None = None
    best: tuple[tuple[int, int, int], ColumnPlan, int] | None = None  # (rank, plan, buffered index of last header row)
    for position, index in enumerate(non_blank[:HEADER_SEARCH_ROWS]):
        row_number, cells = buffered[index]
        candidates = [(cells, index, 1)]
        if index + 1 < len(buffered) and not row_is_blank(buffered[index + 1][1]):
            lower = buffered[index + 1][1]
            merged = _merge_header_rows(cells, lower)
            # Only a real two-row header: some column's name comes from the upper row.
            if merged != [cell_text(c).strip(_STRIP) for c in lower] + [""] * (len(merged) - len(lower)):
                candidates.append((merged, index + 1, 2))
        for header_cells, last_index, height in candidates:
            try:
                plan = columns_resolve(
                    header_cells, header_row=row_number, mapping=mapping, preset=preset, detect=detect, schema=schema,
                )
            except ImportFileError as exc:
                if height == 1:
                    first_error = first_error or exc
                continue
            plan.header_rows = height
            # A one-row reading wins a tie, then the earlier row.
            rank = (*plan.score, -height)
            if best is None or rank > best[0]:
                best = (rank, plan, last_index)
    if best is None:
        raise first_error or ImportFileError(gettext("文件没有任何数据行"))
    _, plan, last_index = best
    if plan.header_rows == 2:
        plan.warnings.insert(0, (
            gettext("表头占两行（第 %(header_row)s–%(header_row2)s 行，含合并单元格），已合并") % {"header_row": plan.header_row, "header_row2": plan.header_row + 1}
        ))
    if plan.header_row > 1:
        plan.warnings.insert(0, gettext("表头在第 %(header_row)s 行，之前的行已忽略") % {"header_row": plan.header_row})
    return plan, chain(buffered[last_index + 1:], rows)


def header_score(
    rows: Iterable[tuple[int, list[Any]]], *, preset: Preset | None = None, schema: Schema = TICKETS,
    mapping: dict[str, str] | None = None,
) -> tuple[int, int]:
    """How well the header in these first rows fits the schema ((0, 0) if not at all); picks a workbook's sheet."""
    try:
        plan, _ = header_find(iter(rows), preset=preset, schema=schema, mapping=mapping)
    except ImportFileError:
        return (0, 0)
    return plan.score


def _listing(headers: Sequence[str]) -> str:
    shown = [h for h in headers if h][:30]
    return gettext("、").join(gettext("「%(header)s」") % {"header": h} for h in shown) if shown else gettext("（无）")


# --- cells ---


def row_is_blank(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip(_STRIP)) for c in cells)


def row_is_summary(cells: Sequence[Any]) -> bool:
    """Whether a row is a spreadsheet's total line (合计, 总计 ...): its first non-empty cell says so."""
    for cell in cells:
        if cell is None or (isinstance(cell, str) and not cell.strip(_STRIP)):
            continue
        if not isinstance(cell, str):
            return False
        key = header_normalise(cell)
        return len(key) <= 12 and any(key.startswith(label) for label in SUMMARY_LABELS)
    return False


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


# Excel keeps 15 significant digits; a longer number has had its tail replaced by zeros.
EXACT_DIGITS = 15
_EXCEL_TEXT_FORMULA = re.compile(r'^=\s*"(.*)"$', re.DOTALL)
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")


def id_clean(value: Any) -> tuple[str, bool]:
    """Return (id text, exact) for an id or order-number cell.

    Unwraps ``="3271..."`` (Excel's keep-as-text trick) and a leading apostrophe
    or tab. ``exact`` is False when a spreadsheet has already lost digits: a
    number in scientific notation (``2.69014E+17``) or a number cell with more
    than 15 digits.
    """
    if value is None or isinstance(value, bool):
        return cell_text(value), True
    if isinstance(value, int):
        text = str(value)
        return text, len(text.lstrip("-")) <= EXACT_DIGITS
    if isinstance(value, float):
        if value.is_integer():
            text = str(int(value))
            return text, len(text.lstrip("-")) <= EXACT_DIGITS
        text = repr(value)
        return text, "e" not in text.lower() and len(text.replace(".", "").lstrip("-")) <= EXACT_DIGITS
    text = unicodedata.normalize("NFKC", str(value)).strip(_STRIP)
    match = _EXCEL_TEXT_FORMULA.match(text)
    if match:
        text = match.group(1).strip(_STRIP)
    text = text.lstrip("'`").strip(_STRIP)
    return text, not _SCIENTIFIC.match(text)


def text_combine(parts: Sequence[tuple[str, Any]]) -> str:
    """Combine (header, cell) pairs into one complaint text; one non-empty part stays bare.

    With several, each is a ``header：value`` line, so a reader sees which is the
    buyer's note and which the picked reason; a value repeated in two columns is kept once.
    """
    kept: list[tuple[str, str]] = []
    seen: set[str] = set()
    for header, value in parts:
        text = cell_text(value).strip(_STRIP)
        if not text or text in seen:
            continue
        seen.add(text)
        kept.append((header, text))
    if len(kept) == 1:
        return kept[0][1]
    return "\n".join(f"{header}：{text}" for header, text in kept)


def channel_parse(value: Any) -> str:
    """Return the Channel value for a cell (电话, 在线客服, review ...); empty means chat; raise ValueError."""
    text = cell_text(value)
    key = header_normalise(text)
    if not key:
        return Channel.CHAT
    if key in _CHANNEL_BY_KEY:
        return _CHANNEL_BY_KEY[key]
    known = "、".join(str(c.label) for c in Channel)
    raise ValueError(gettext("未知渠道「%(text)s」，可用：%(known)s") % {"text": text.strip()[:40], "known": known, "values": ', '.join(Channel.values)})


_DATE_RE = re.compile(
    r"""^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})
    (?:(?:\s+|T)(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*(\d{1,2})(?:[.,](\d{1,6}))?)?)?
    \s*(Z|[+-]\d{2}(?::?\d{2})?)?$""",
    re.VERBOSE,
)
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?$")
_MERIDIEM = (
    ("下午", 12), ("晚上", 12), ("傍晚", 12), ("中午", 12), ("pm", 12), ("p.m.", 12),
    ("上午", 0), ("早上", 0), ("凌晨", 0), ("am", 0), ("a.m.", 0),
)
# Excel serial day numbers from 1927 to 2173; outside that a bare number is more likely a mistake.
_SERIAL_RANGE = (10_000, 100_000)


def _date_text_normalise(text: str) -> tuple[str, int | None]:
    """Full-width to half-width, Chinese date words to separators; return (text, hours to add for PM)."""
    text = unicodedata.normalize("NFKC", text).strip(_STRIP)
    meridiem = None
    lowered = text.casefold()
    for word, shift in _MERIDIEM:
        if word in lowered:
            position = lowered.index(word)
            text = (text[:position] + " " + text[position + len(word):]).strip()
            meridiem = shift
            break
    text = re.sub(r"\s*[年月]\s*", "-", text)
    text = re.sub(r"\s*[日号]\s*", " ", text)
    text = re.sub(r"\s*[时点]\s*", ":", text)
    text = re.sub(r"\s*分\s*", ":", text)
    text = re.sub(r"\s*秒\s*", "", text)
    text = re.sub(r"\s+", " ", text).strip().rstrip(":")
    return text, meridiem


def datetime_parse(value: Any, *, tz: ZoneInfo) -> datetime | None:
    """Return an aware datetime for a date cell, or None if empty; raise ValueError if unparseable.

    Accepts 2026-05-01, 2026/5/1, 2026年5月1日, 2026年12月1日 14时03分,
    2026/12/01 下午2:03, full-width digits, 20260501, "2026-05-01 13:45:00",
    ISO 8601 with an offset, XLSX dates and datetimes, Excel serial numbers
    (45778, 45778.5) and Unix timestamps in seconds or milliseconds. Times
    without an offset are wall-clock times in ``tz``.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=tz)
    if isinstance(value, bool):
        raise ValueError(gettext("无法识别的日期「%(value)s」") % {"value": value})
    if isinstance(value, (int, float)):
        return _number_to_datetime(value, str(value), tz)
    original = str(value).strip(_STRIP)
    if not original:
        return None
    text, meridiem = _date_text_normalise(original)
    try:
        match = _DATE_RE.match(text)
        if match:
            year, month, day, hour, minute, second, fraction, offset = match.groups()
            micro = int((fraction or "0").ljust(6, "0")) if fraction else 0
            hours = int(hour or 0)
            if meridiem is not None:
                if hour is None or hours > 12:
                    raise ValueError(text)
                hours = hours % 12 + meridiem
            result = datetime(int(year), int(month), int(day), hours, int(minute or 0), int(second or 0), micro)
            return result.replace(tzinfo=_offset(offset) if offset else tz)
        if meridiem is not None:
            raise ValueError(text)
        compact = _COMPACT_RE.match(text)
        if compact and len(text) in (8, 12, 14):
            year, month, day, hour, minute, second = compact.groups()
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz)
        if _NUMBER_RE.match(text):
            return _number_to_datetime(float(text) if "." in text else int(text), text, tz)
        result = datetime.fromisoformat(text)
        return result if result.tzinfo else result.replace(tzinfo=tz)
    except (ValueError, OverflowError):
        raise ValueError(
            gettext("无法识别的日期「%(original)s」，请用 2026-05-01 或 2026-05-01 13:45:00") % {"original": original[:40]}
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
    raise ValueError(gettext("无法识别的日期「%(text)s」") % {"text": text[:40]})
