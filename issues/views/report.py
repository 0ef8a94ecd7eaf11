"""The daily high-frequency issue report (每日高频问题报告): a page and CSV/XLSX downloads.

The default day is yesterday, the last complete day, as in the morning email;
today can be chosen to see the day so far.
"""
from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from .. import selectors
from ..exports import report_csv, report_xlsx
from ..forms import ReportDayForm

DOWNLOADS = {
    "csv": (report_csv, "text/csv; charset=utf-8"),
    "xlsx": (report_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def report_day(request):
    """Return (the form, the chosen day or None for the default)."""
    form = ReportDayForm(request.GET or None)
    day = form.cleaned_data.get("day") if form.is_bound and form.is_valid() else None
    return form, day


class DailyReportView(LoginRequiredMixin, View):
    template_name = "issues/report.html"

    def get(self, request):
        form, day = report_day(request)
        if form.is_bound and form.errors:
            for error in form.errors.get("day", []):
                messages.error(request, error)
        report = selectors.daily_report(day=day)
        today = timezone.localdate()
        return render(request, self.template_name, {
            "form": form,
            "report": report,
            "today": today,
            "previous_day": report.day - timedelta(days=1),
            "next_day": report.day + timedelta(days=1) if report.day < today else None,
        })


class DailyReportDownloadView(LoginRequiredMixin, View):
    """The same report as a spreadsheet; every cell is neutralised against formula injection by issues.exports."""

    def get(self, request, export: str):
        if export not in DOWNLOADS:
            raise Http404
        _form, day = report_day(request)
        report = selectors.daily_report(day=day)
        render_export, content_type = DOWNLOADS[export]
        response = HttpResponse(render_export(report), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="issue-report-{report.day.isoformat()}.{export}"'
        return response
