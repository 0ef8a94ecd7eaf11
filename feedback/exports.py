"""Spreadsheet exports that are safe to open in Excel, WPS or LibreOffice.

Every CSV or XLSX the app hands out goes through these helpers, so a ticket
text or a file header such as ``=HYPERLINK("http://evil", "点我")`` arrives as
inert text instead of a formula (CSV/formula injection, OWASP). The rule is the
common one: a text cell that begins with ``=``, ``+``, ``-``, ``@`` (or their
full-width forms), a tab or a carriage return gets a leading apostrophe. Numbers, dates and booleans are
written unchanged: a spreadsheet never evaluates them.

CSV is written as UTF-8 with a BOM, because Excel on Chinese Windows reads a
BOM-less CSV as GBK and shows mojibake.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import IO, Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language

# The ASCII triggers, plus their full-width forms: a Chinese or Japanese IME types ＝ and some
# spreadsheet programs (WPS, Excel in East Asian locales) turn it into a formula too.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: Any) -> Any:
    """Return ``value`` with a leading apostrophe if a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, str):
        if value.startswith(FORMULA_PREFIXES):
            return "'" + value
        return value
    if isinstance(value, (bool, int, float, date, datetime)):
        return value
    # Lazy translation strings, Decimals, enums ...: export their text, checked like any text.
    return safe_cell(str(value))


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Apply :func:`safe_cell` to every value of one row."""
    return [safe_cell(v) for v in values]


def _text_for_csv(value: Any) -> Any:
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def csv_write(stream: IO[str], *, header: Sequence[Any], rows: Iterable[Sequence[Any]], bom: bool = True) -> None:
    """Write ``header`` and ``rows`` to a text stream as CSV, every cell neutralised."""
    if bom:
        stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow([_text_for_csv(v) for v in safe_row(row)])


def xlsx_write(target: str | IO[bytes], *, header: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> None:
    """Write ``header`` and ``rows`` as an XLSX workbook (streamed, write-only), every cell neutralised."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Sheet1")
    sheet.append(safe_row(header))
    for row in rows:
        cells = []
        for value in safe_row(row):
            if isinstance(value, datetime) and timezone.is_aware(value):
                # XLSX has no time zones: write the local wall-clock time.
                value = timezone.localtime(value).replace(tzinfo=None)
            cells.append(value)
        sheet.append(cells)
    workbook.save(target)


def columns_header(columns: Sequence[tuple[str, str]]) -> list[str]:
    """Pick each column's title for the active language from (Chinese title, English key) pairs.

    English readers get the key (``return_rate_7d``), which is also what the API calls the field;
    one language per file, never "退货率 return_rate".
    """
    english = (get_language() or "").startswith("en")
    return [key if english else title for title, key in columns]


def csv_response(*, filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    """Return a download response holding a neutralised UTF-8 (BOM) CSV."""
    buffer = io.StringIO()
    csv_write(buffer, header=header, rows=rows)
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def xlsx_response(*, filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> HttpResponse:
    """Return a download response holding a neutralised XLSX workbook."""
    buffer = io.BytesIO()
    xlsx_write(buffer, header=header, rows=rows, title=title)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
