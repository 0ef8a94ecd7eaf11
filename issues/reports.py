"""The morning email of the daily high-frequency issue report."""
from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q

from accounts.models import Role, User

from .conf import issue_setting
from .exports import report_xlsx
from .selectors import DailyReport, ReportRow, daily_report

logger = logging.getLogger(__name__)


def report_text(report: DailyReport) -> str:
    """Render the report as plain text for the email body."""
    lines = [f"每日高频问题报告 {report.day:%Y-%m-%d}：当日共 {report.tickets} 张已归类工单。", ""]
    site = issue_setting("ISSUE_SITE_URL").rstrip("/")
    for _, title, rows in report.sections:
        lines.append(f"【{title}】" + ("" if rows else " 无"))
        for rank, entry in enumerate(rows[:10], start=1):
            if isinstance(entry, ReportRow):
                issue = entry.issue
                lines.append(f"{rank}. #{issue.pk} {issue.title} — 当日 {entry.count} 张（前 7 日日均 {entry.baseline:g}）"
                             f" {issue.department.name_zh if issue.department_id else ''}")
            else:
                issue = entry
                lines.append(f"{rank}. #{issue.pk} {issue.title} — 措施：{issue.action_taken}（{issue.action_date}）")
        lines.append("")
    lines.append(f"完整报告：{site}/issues/report/?day={report.day.isoformat()}")
    return "\n".join(lines)


def report_recipients() -> list[str]:
    people = User.objects.filter(is_active=True).filter(
        Q(role__in=[Role.LEAD, Role.MANAGER, Role.ADMIN]) | Q(is_superuser=True)
    ).exclude(email="")
    return sorted(set(people.values_list("email", flat=True)) | set(issue_setting("ISSUE_REPORT_RECIPIENTS")))


def daily_report_send(*, day: date | None = None) -> int:
    """Email the report of ``day`` (default yesterday) with the XLSX attached; return recipients."""
    report = daily_report(day=day)
    recipients = report_recipients()
    if not recipients:
        logger.info("daily report %s: nobody to send it to", report.day)
        return 0
    message = EmailMessage(
        subject=f"[问题库] 每日高频问题报告 {report.day:%Y-%m-%d}",
        body=report_text(report),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach(
        f"issues-{report.day.isoformat()}.xlsx",
        report_xlsx(report),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    message.send()
    return len(recipients)
