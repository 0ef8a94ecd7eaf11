"""Pages: the impact dashboard, its CSV downloads, and the orders/returns upload."""
from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from feedback.exports import columns_header, csv_response
from issues.models import Department

from . import selectors
from .conf import impact_setting
from .forms import ChangeMeasureForm, SalesUploadForm
from .measurement import MeasureInputError, change_row
from .models import SalesImportJob
from .permissions import CanImportSalesMixin, user_can_import_sales
from .services import sales_horizon, sales_import_job_create

PERIODS = (30, 60, 90, 180, 365)
DEFAULT_PERIOD = 90


def _period(request) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_PERIOD))
    except ValueError:
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def _range(request) -> tuple:
    _, last = sales_horizon()
    end = timezone.localdate()
    if last is not None and last < end:
        end = last  # the charts stop where the order data stops: no fake zero rates after it
    return end - timedelta(days=_period(request) - 1), end


def _percent(value):
    return None if value is None else round(value * 100, 2)


def _per_mille(value):
    return None if value is None else round(value, 2)


def _interval(low, high) -> str | None:
    if low is None or high is None:
        return None
    return f"[{low * 100:+.1f}%, {high * 100:+.1f}%]"


def _fix_extras(impact, language: str) -> dict:
    """What the fixes table shows beside the verdict: intervals, controls, why the old test disagreed."""
    english = language.startswith("en")
    details = impact.details or {}
    explanations = [
        details.get(metric, {}).get("explanation_en" if english else "explanation_zh")
        for metric in ("complaint_rate", "return_rate")
    ]
    return {
        "complaint_ci": _interval(impact.complaint_rate_ci_low, impact.complaint_rate_ci_high),
        "return_ci": _interval(impact.return_rate_ci_low, impact.return_rate_ci_high),
        "controls": (impact.controls or {}).get("label_en" if english else "label_zh"),
        "explanation": " ".join(text for text in explanations if text),
    }


def _change_form(request):
    """The "测量一次改动" form (GET, so a measurement can be linked) and its result, if submitted."""
    categories = selectors.product_categories()
    if "action_date" not in request.GET:
        return ChangeMeasureForm(categories=categories, initial={"window_days": impact_setting("IMPACT_WINDOW_DAYS")}), None
    form = ChangeMeasureForm(request.GET, categories=categories)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    try:
        row = change_row(sku=data["sku"] or None, category=data["category"] or None, action_date=data["action_date"],
                         window_days=data["window_days"] or impact_setting("IMPACT_WINDOW_DAYS"),
                         language=get_language() or "zh-hans")
    except MeasureInputError as error:
        form.add_error(None, str(error))
        return form, None
    row["return_ci_text"] = _interval(*(row["return_rate_ci"] or (None, None)))
    row["complaint_ci_text"] = _interval(*(row["complaint_rate_ci"] or (None, None)))
    return form, row


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "impact/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        scope = selectors.dashboard_scope(user=request.user, department_code=request.GET.get("department"))
        start, end = _range(request)
        series = selectors.trend_series(scope=scope, start=start, end=end)
        markers = selectors.fix_markers(scope=scope, start=start, end=end)
        language = get_language() or "zh-hans"
        chart = {
            "labels": [row["day"].isoformat() for row in series],
            "complaint_rate": [_per_mille(row["complaint_rate"]) for row in series],
            "complaint_rate_7d": [_per_mille(row["complaint_rate_7d"]) for row in series],
            "return_rate": [_percent(row["return_rate"]) for row in series],
            "return_rate_7d": [_percent(row["return_rate_7d"]) for row in series],
            "markers": [
                {"day": m["day"].isoformat(), "label": f"#{m['issue_id']} {m['action']}"[:40], "outcome": m["outcome"]}
                for m in markers
            ],
            "text": {
                "complaint": _("投诉率（每千单）"), "complaint_7d": _("7 天滚动"),
                "returns": _("退货率 %"), "returns_7d": _("7 天滚动"),
            },
        }
        fixes = selectors.fixes_ranked(scope=scope)
        change_form, change_result = _change_form(request)
        query = {"department": scope.department.code if scope.department else "all", "days": _period(request)}
        context.update(
            scope=scope,
            departments=Department.objects.order_by("id"),
            periods=PERIODS,
            days=_period(request),
            start=start,
            end=end,
            series=series,
            markers=markers,
            chart=chart,
            fixes=[(impact, impact.verdict(language), _fix_extras(impact, language)) for impact in fixes],
            calibration=selectors.calibration_latest(),
            change_form=change_form,
            change_result=change_result,
            ranked_issues=selectors.issues_ranked(scope=scope, limit=10),
            return_spikes=selectors.recent_return_spikes(scope=scope),
            query="&".join(f"{k}={v}" for k, v in query.items()),
            can_import=user_can_import_sales(request.user),
            has_data=any(row["orders"] for row in series),
        )
        return context


class TrendCsvView(LoginRequiredMixin, View):
    def get(self, request) -> HttpResponse:
        scope = selectors.dashboard_scope(user=request.user, department_code=request.GET.get("department"))
        start, end = _range(request)
        header = columns_header([("日期", "date"), ("订单数", "orders"), ("退货数", "returns"), ("工单数", "tickets"),
            ("退货率", "return_rate"), ("投诉率（每千单）", "complaint_rate_per_1000"), ("7 天退货率", "return_rate_7d"),
            ("7 天投诉率", "complaint_rate_7d")])
        rows = [
            [r["day"], r["orders"], r["returns"], r["tickets"], r["return_rate"], r["complaint_rate"],
             r["return_rate_7d"], r["complaint_rate_7d"]]
            for r in selectors.trend_series(scope=scope, start=start, end=end)
        ]
        name = scope.department.code if scope.department else "all"
        return csv_response(filename=f"impact-trend-{name}-{start}-{end}.csv", header=header, rows=rows)


class FixesCsvView(LoginRequiredMixin, View):
    def get(self, request) -> HttpResponse:
        scope = selectors.dashboard_scope(user=request.user, department_code=request.GET.get("department"))
        language = get_language() or "zh-hans"
        header = columns_header([("问题", "issue_id"), ("标题", "title"), ("类别", "category"), ("部门", "department"),
            ("范围", "scope"), ("措施", "action"), ("措施日期", "action_date"), ("窗口天数", "window_days"), ("状态", "status"),
            ("投诉率前", "complaint_rate_before"), ("投诉率后", "complaint_rate_after"),
            ("投诉率变化", "complaint_rate_change"), ("投诉率 p", "complaint_rate_p_value"),
            ("退货率前", "return_rate_before"), ("退货率后", "return_rate_after"), ("退货率变化", "return_rate_change"),
            ("退货率 p", "return_rate_p_value"), ("结论", "outcome"), ("已回升", "regressed"), ("说明", "verdict"),
            ("方法", "method"), ("对照", "controls"), ("投诉率区间下限", "complaint_rate_ci_low"),
            ("投诉率区间上限", "complaint_rate_ci_high"), ("退货率区间下限", "return_rate_ci_low"),
            ("退货率区间上限", "return_rate_ci_high")])
        rows = [
            [i.issue_id, i.issue.display_title(language), i.issue.category.code, i.issue.department.code if i.issue.department else "",
             i.scope_label, i.action, i.action_date, i.window_days, i.status, i.complaint_rate_before,
             i.complaint_rate_after, i.complaint_rate_change, i.complaint_rate_p_value, i.return_rate_before,
             i.return_rate_after, i.return_rate_change, i.return_rate_p_value, i.outcome, i.regressed,
             i.verdict(language), i.method, (i.controls or {}).get("label_en" if language.startswith("en") else "label_zh", ""),
             i.complaint_rate_ci_low, i.complaint_rate_ci_high, i.return_rate_ci_low, i.return_rate_ci_high]
            for i in selectors.fixes_ranked(scope=scope, limit=1000)
        ]
        return csv_response(filename="impact-fixes.csv", header=header, rows=rows)


class IssuesCsvView(LoginRequiredMixin, View):
    def get(self, request) -> HttpResponse:
        scope = selectors.dashboard_scope(user=request.user, department_code=request.GET.get("department"))
        header = columns_header([("问题", "issue_id"), ("标题", "title"), ("类别", "category"), ("部门", "department"),
            ("30 天工单", "tickets_30d"), ("占全公司投诉率（每千单）", "impact_per_1000_orders"),
            ("范围投诉率（每千单）", "complaint_rate"), ("范围退货率", "return_rate")])
        rows = [
            [r["issue"].pk, r["issue"].display_title(get_language() or "zh-hans"), r["issue"].category.code,
             r["issue"].department.code if r["issue"].department else "", r["tickets"], r["impact"],
             r["complaint_rate"], r["return_rate"]]
            for r in selectors.issues_ranked(scope=scope, limit=500)
        ]
        return csv_response(filename="impact-issues.csv", header=header, rows=rows)


class SalesImportView(CanImportSalesMixin, FormView):
    template_name = "impact/sales_import.html"
    form_class = SalesUploadForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["jobs"] = SalesImportJob.objects.select_related("created_by").defer("errors", "warnings")[:10]
        context["first_day"], context["last_day"] = sales_horizon()
        return context

    def form_valid(self, form):
        job = sales_import_job_create(upload=form.cleaned_data["file"], created_by=self.request.user)
        if job.status == SalesImportJob.Status.FAILED:
            messages.error(self.request, job.message)
        elif job.status == SalesImportJob.Status.QUEUED and job.message:  # broker down: queued for later
            messages.warning(self.request, job.message)
        elif job.status == SalesImportJob.Status.DONE:
            messages.success(self.request, _("导入完成：新增 %(created)s 行，更新 %(updated)s 行，失败 %(failed)s 行。") % {
                "created": job.created, "updated": job.updated, "failed": job.failed})
        else:
            messages.success(self.request, _("文件较大，已转入后台导入。"))
        return redirect("impact-sales-import-detail", pk=job.pk)


class SalesImportDetailView(CanImportSalesMixin, DetailView):
    template_name = "impact/sales_import_detail.html"
    context_object_name = "job"
    queryset = SalesImportJob.objects.select_related("created_by")


class SalesImportProgressView(CanImportSalesMixin, View):
    def get(self, request, pk: int) -> JsonResponse:
        job = get_object_or_404(SalesImportJob, pk=pk)
        try:
            since = max(0, int(request.GET.get("since", 0)))
        except ValueError:
            since = 0
        errors = job.errors or []
        # The same shape as the ticket import's progress JSON, so its progress script drives this page too.
        response = JsonResponse({
            "status": job.status, "status_label": str(job.get_status_display()), "finished": job.finished,
            "percent": job.percent, "processed_rows": job.processed_rows, "total_rows": job.total_rows,
            "imported": job.created + job.updated, "created": job.created, "updated": job.updated,
            "duplicates": 0, "failed": job.failed, "message": job.message,
            "errors_total": len(errors), "errors_since": since, "errors": errors[since : since + 200],
        })
        response["Cache-Control"] = "no-store"
        return response


class SalesImportErrorsView(CanImportSalesMixin, View):
    def get(self, request, pk: int) -> HttpResponse:
        job = get_object_or_404(SalesImportJob, pk=pk)
        header = columns_header([("类型", "kind"), ("行号", "row"), ("列", "column"), ("原因", "message"), ("值", "value")])
        error, warning = columns_header([("错误", "error"), ("提示", "warning")])
        rows = [[error, e.get("row"), e.get("column"), e.get("message"), e.get("value")] for e in job.errors]
        rows += [[warning, w.get("row"), w.get("column"), w.get("message"), w.get("value")] for w in job.warnings]
        return csv_response(filename=f"sales-import-{job.pk}-errors.csv", header=header, rows=rows)
