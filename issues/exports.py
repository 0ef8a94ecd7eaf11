"""CSV and XLSX downloads of the daily report, safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

try:
    from feedback.exports import safe_cell
except ImportError:  # pragma: no cover - the shared helper is the normal path
    _FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

    def safe_cell(value: Any) -> Any:
        """Return ``value`` with a leading apostrophe if a spreadsheet would read it as a formula."""
        if value is None:
            return ""
        if isinstance(value, (bool, int, float)):
            return value
        text = str(value)
        return "'" + text if text.startswith(_FORMULA_PREFIXES) else text

from .selectors import DailyReport, ReportRow

HEADER = ["板块", "排名", "问题编号", "问题", "类别", "范围", "部门", "状态", "优先级", "当日工单", "前7日日均", "增长",
          "7天工单", "累计工单", "措施", "措施日期"]


def report_rows(report: DailyReport) -> Iterable[list[Any]]:
    """Yield the report as rows: one per issue per section, every cell neutralised."""
    for _, title, rows in report.sections:
        for rank, entry in enumerate(rows, start=1):
            if isinstance(entry, ReportRow):
                issue, count, baseline, growth = entry.issue, entry.count, entry.baseline, entry.growth
            else:
                issue, count, baseline, growth = entry, None, None, None
            yield [safe_cell(v) for v in (
                title, rank, issue.pk, issue.title, issue.category.name_zh, issue.scope_key,
                issue.department.name_zh if issue.department_id else "", issue.get_status_display(),
                issue.priority, count, baseline, growth, issue.count_7d, issue.ticket_count,
                issue.action_taken, issue.action_date.isoformat() if issue.action_date else "",
            )]


def report_csv(report: DailyReport) -> bytes:
    """Return the report as CSV in UTF-8 with a BOM, so Excel shows the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([f"每日高频问题报告 {report.day.isoformat()}", f"当日工单 {report.tickets}"])
    writer.writerow(HEADER)
    writer.writerows(report_rows(report))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def report_xlsx(report: DailyReport) -> bytes:
    """Return the report as an XLSX workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = report.day.isoformat()
    sheet.append([f"每日高频问题报告 {report.day.isoformat()}", f"当日工单 {report.tickets}"])
    sheet.append(HEADER)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in report_rows(report):
        sheet.append(row)
    for column, width in zip("ABCDEFGHIJKLMNOP", (10, 6, 9, 40, 12, 16, 12, 10, 8, 10, 10, 8, 9, 9, 30, 12)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
