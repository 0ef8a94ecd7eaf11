"""The morning email of the daily high-frequency issue report."""
from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Role, User
from accounts.selectors import user_language

from .conf import issue_setting
from .exports import SECTION_TITLES, report_xlsx
from .selectors import DailyReport, ReportRow, daily_report

logger = logging.getLogger(__name__)


def report_text(report: DailyReport, language: str | None = None) -> str:
    """Render the report as plain text for the email body, in ``language`` (default: the site's)."""
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        lines = [gettext("每日高频问题报告 %(day)s：当日共 %(count)s 张已归类工单。") % {
            "day": f"{report.day:%Y-%m-%d}", "count": report.tickets}, ""]
        site = issue_setting("ISSUE_SITE_URL").rstrip("/")
        for key, _title, rows in report.sections:
            lines.append(gettext("【%(section)s】") % {"section": SECTION_TITLES[key]} + ("" if rows else gettext(" 无")))
            for rank, entry in enumerate(rows[:10], start=1):
                if isinstance(entry, ReportRow):
                    issue = entry.issue
                    lines.append(gettext("%(rank)s. #%(id)s %(title)s — 当日 %(count)s 张（前 7 日日均 %(baseline)s）%(department)s") % {
                        "rank": rank, "id": issue.pk, "title": issue.display_title(language), "count": entry.count,
                        "baseline": f"{entry.baseline:g}",
                        "department": f" {issue.department.display_name(language)}" if issue.department_id else "",
                    })
                else:
                    issue = entry
                    lines.append(gettext("%(rank)s. #%(id)s %(title)s — 措施：%(action)s（%(date)s）") % {
                        "rank": rank, "id": issue.pk, "title": issue.display_title(language),
                        "action": issue.action_taken, "date": issue.action_date,
                    })
            lines.append("")
        lines.append(gettext("完整报告：%(url)s") % {"url": f"{site}/issues/report/?day={report.day.isoformat()}"})
    return "\n".join(lines)


def report_recipients_by_language() -> dict[str, list[str]]:
    """The report's addresses grouped by language: each person's choice, the site's default for the
    configured addresses (ISSUE_REPORT_RECIPIENTS) that belong to nobody in the app."""
    people = User.objects.filter(is_active=True).filter(
        Q(role__in=[Role.LEAD, Role.MANAGER, Role.ADMIN]) | Q(is_superuser=True)
    ).exclude(email="")
    languages = {address: settings.LANGUAGE_CODE for address in issue_setting("ISSUE_REPORT_RECIPIENTS")}
    languages.update({person.email: user_language(person) for person in people})
    grouped: dict[str, list[str]] = {}
    for address, language in sorted(languages.items()):
        grouped.setdefault(language, []).append(address)
    return grouped


def daily_report_send(*, day: date | None = None) -> int:
    """Email the report of ``day`` (default yesterday) with the XLSX attached; return recipients.

    One email per language, each reader's choice: the text, the subject and the workbook's headings.
    """
    report = daily_report(day=day)
    grouped = report_recipients_by_language()
    if not grouped:
        logger.info("daily report %s: nobody to send it to", report.day)
        return 0
    for language, recipients in grouped.items():
        with translation.override(language):
            message = EmailMessage(
                subject=gettext("[问题库] 每日高频问题报告 %(day)s") % {"day": f"{report.day:%Y-%m-%d}"},
                body=report_text(report, language),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=recipients,
            )
            message.attach(
                f"issues-{report.day.isoformat()}.xlsx",
                report_xlsx(report),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        message.send()
    return sum(len(recipients) for recipients in grouped.values())
