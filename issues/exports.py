"""CSV and XLSX downloads of the daily report, safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from feedback.exports import safe_cell

from .selectors import DailyReport, ReportRow

# Column titles, translated when a download is made (gettext_lazy): the reader's language in a
# request, the default language in the emailed report.
HEADER = [_("板块"), _("排名"), _("问题编号"), _("问题"), _("类别"), _("范围"), _("部门"), _("状态"), _("优先级"),
          _("当日工单"), _("前7日日均"), _("增长"), _("7天工单"), _("累计工单"), _("措施"), _("措施日期")]
SECTION_TITLES = {"top_by_volume": _("当日工单最多"), "top_by_growth": _("增长最快"), "new": _("新问题"),
                  "spiking": _("激增"), "resolved": _("已解决")}


def _first_row(report: DailyReport) -> list[str]:
    return [gettext("每日高频问题报告 %(day)s") % {"day": report.day.isoformat()},
            gettext("当日工单 %(count)s") % {"count": report.tickets}]


def report_rows(report: DailyReport) -> Iterable[list[Any]]:
    """Yield the report as rows: one per issue per section, every cell neutralised."""
    language = get_language() or "zh-hans"
    for key, title, rows in report.sections:
        title = str(SECTION_TITLES.get(key, title))
        for rank, entry in enumerate(rows, start=1):
            if isinstance(entry, ReportRow):
                issue, count, baseline, growth = entry.issue, entry.count, entry.baseline, entry.growth
            else:
                issue, count, baseline, growth = entry, None, None, None
            yield [safe_cell(v) for v in (
                title, rank, issue.pk, issue.display_title(language), issue.category.display_name(language),
                issue.scope_key, issue.department.display_name(language) if issue.department_id else "",
                issue.get_status_display(),
                issue.priority, count, baseline, growth, issue.count_7d, issue.ticket_count,
                issue.action_taken, issue.action_date.isoformat() if issue.action_date else "",
            )]


def report_csv(report: DailyReport) -> bytes:
    """Return the report as CSV in UTF-8 with a BOM, so Excel shows the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_first_row(report))
    writer.writerow([str(title) for title in HEADER])
    writer.writerows(report_rows(report))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def report_xlsx(report: DailyReport) -> bytes:
    """Return the report as an XLSX workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = report.day.isoformat()
    sheet.append(_first_row(report))
    sheet.append([str(title) for title in HEADER])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in report_rows(report):
        sheet.append(row)
    for column, width in zip("ABCDEFGHIJKLMNOP", (10, 6, 9, 40, 12, 16, 12, 10, 8, 10, 10, 8, 9, 9, 30, 12)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
