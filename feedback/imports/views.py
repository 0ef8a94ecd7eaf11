"""Pages for bulk import: upload, the job list, a job's live progress and its error report."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from accounts.models import Role
from accounts.permissions import RoleRequiredMixin
from feedback.exports import csv_response
from feedback.models import ImportJob

from .forms import ImportForm, ProductImportForm, max_upload_bytes, upload_path
from .products import products_import_file
from .readers import ImportFileError
from .selectors import import_job_list, import_job_progress
from .service import import_job_create


class ImportAccessMixin(RoleRequiredMixin):
    # The roles that may file tickets may also import them.
    allowed_roles = (Role.AGENT, Role.LEAD, Role.MANAGER)


class ImportListView(ImportAccessMixin, ListView):
    template_name = "feedback/import_list.html"
    context_object_name = "jobs"
    paginate_by = 25

    def get_queryset(self):
        return import_job_list()


class ImportCreateView(ImportAccessMixin, FormView):
    template_name = "feedback/import_form.html"
    form_class = ImportForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["max_upload_mb"] = max_upload_bytes() // (1024 * 1024)
        return context

    def form_valid(self, form):
        job = import_job_create(
            upload=form.cleaned_data["file"],
            source=form.cleaned_data["source"],
            column_mapping=form.cleaned_data["column_mapping"],
            created_by=self.request.user,
        )
        if job.status == ImportJob.Status.FAILED:
            messages.error(self.request, job.message)
        else:
            messages.success(self.request, _("文件已上传，正在排队导入。"))
        return redirect("import-detail", pk=job.pk)


class ImportDetailView(ImportAccessMixin, DetailView):
    template_name = "feedback/import_detail.html"
    context_object_name = "job"

    def get_queryset(self):
        return ImportJob.objects.select_related("created_by")


class ImportProgressView(ImportAccessMixin, View):
    def get(self, request, pk: int) -> JsonResponse:
        job = get_object_or_404(ImportJob, pk=pk)
        try:
            since = int(request.GET.get("since", 0))
        except ValueError:
            since = 0
        response = JsonResponse(import_job_progress(job=job, errors_since=since))
        response["Cache-Control"] = "no-store"
        return response


class ImportErrorReportView(ImportAccessMixin, View):
    def get(self, request, pk: int) -> HttpResponse:
        job = get_object_or_404(ImportJob, pk=pk)
        header = ["类型 kind", "行号 row", "列 column", "字段 field", "原因 message", "值 value"]
        rows = [["错误 error", e.get("row"), e.get("column"), e.get("field"), e.get("message"), e.get("value")] for e in job.errors]
        rows += [["提示 warning", w.get("row"), w.get("column"), w.get("field"), w.get("message"), w.get("value")] for w in job.warnings]
        if job.message:
            rows.append(["说明 note", None, None, None, job.message, None])
        return csv_response(filename=f"import-{job.pk}-errors.csv", header=header, rows=rows)


class ProductImportView(RoleRequiredMixin, FormView):
    """Upload a product catalogue; imported in the request and answered with its summary."""

    # Changing the catalogue changes every ticket's product link: leads and managers, not agents.
    allowed_roles = (Role.LEAD, Role.MANAGER)
    template_name = "feedback/product_import.html"
    form_class = ProductImportForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["max_upload_mb"] = max_upload_bytes() // (1024 * 1024)
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            with upload_path(upload) as path:
                result = products_import_file(path=path, column_mapping=form.cleaned_data["column_mapping"] or None)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        return self.render_to_response(self.get_context_data(form=ProductImportForm(), result=result, file_name=upload.name))
