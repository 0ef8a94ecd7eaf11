"""Pages for bulk import: upload, the job list, a job's live progress and its error report."""
from __future__ import annotations

import os

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from accounts.permissions import Action, ActionRequiredMixin
from feedback.exports import columns_header, csv_response
from feedback.models import ImportJob, ImportMappingPreset

from .forms import ImportForm, ProductImportForm, WizardMappingForm, WizardUploadForm, max_upload_bytes, upload_path
from .products import products_import_file
from .readers import ImportFileError
from .selectors import import_job_list, import_job_progress
from .service import import_job_create
from .wizard import (
    import_draft_delete,
    import_draft_name,
    import_draft_path,
    import_draft_save,
    import_job_from_draft,
    import_preview,
    mapping_preset_save,
)


class ImportAccessMixin(ActionRequiredMixin):
    required_action = Action.IMPORT_TICKETS


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
        elif job.message:  # queued while the broker is down: saved, and started by the sweeper later
            messages.warning(self.request, job.message)
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
        header = columns_header([("类型", "kind"), ("行号", "row"), ("列", "column"), ("字段", "field"),
                                 ("原因", "message"), ("值", "value")])
        error, warning, note = columns_header([("错误", "error"), ("提示", "warning"), ("说明", "note")])
        rows = [[error, e.get("row"), e.get("column"), e.get("field"), e.get("message"), e.get("value")] for e in job.errors]
        rows += [[warning, w.get("row"), w.get("column"), w.get("field"), w.get("message"), w.get("value")] for w in job.warnings]
        if job.message:
            rows.append([note, None, None, None, job.message, None])
        return csv_response(filename=f"import-{job.pk}-errors.csv", header=header, rows=rows)


class ProductImportView(ActionRequiredMixin, FormView):
    """Upload a product catalogue; imported in the request and answered with its summary."""

    required_action = Action.MANAGE_PRODUCTS
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


# --- the import wizard ---

SESSION_DRAFTS = "import_drafts"


class ImportWizardStartView(ImportAccessMixin, FormView):
    """Step 1: upload. The file is kept as a draft until the user has seen how it will be read."""

    template_name = "feedback/import_wizard_start.html"
    form_class = WizardUploadForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["max_upload_mb"] = max_upload_bytes() // (1024 * 1024)
        return context

    def form_valid(self, form):
        upload, source = form.cleaned_data["file"], form.cleaned_data["source"]
        token = import_draft_save(upload=upload)
        try:
            with import_draft_path(token=token) as path:
                import_preview(path=path, source=source)
        except ImportFileError as exc:
            import_draft_delete(token=token)
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        drafts = self.request.session.get(SESSION_DRAFTS, {})
        drafts[token] = {"name": os.path.basename(upload.name)[:255], "source": source}
        self.request.session[SESSION_DRAFTS] = drafts
        return redirect("import-wizard-map", token=token)


class ImportWizardMapView(ImportAccessMixin, View):
    """Step 2: the detected platform, sheet and header, the first rows, a field per column; then import."""

    template_name = "feedback/import_wizard_map.html"

    def _draft(self, token: str) -> dict:
        draft = self.request.session.get(SESSION_DRAFTS, {}).get(token)
        if draft is None:
            raise Http404
        return draft

    def _preview(self, token: str, *, source: str, sheet: str | None, mapping: dict[str, str] | None):
        try:
            import_draft_name(token)
        except ValueError:
            raise Http404 from None
        with import_draft_path(token=token) as path:
            return import_preview(path=path, source=source, sheet=sheet, column_mapping=mapping)

    def get(self, request, token: str):
        draft = self._draft(token)
        source = request.GET.get("source", draft["source"]).strip()[:40]
        sheet = request.GET.get("sheet") or None
        preset = None
        if request.GET.get("preset"):
            preset = ImportMappingPreset.objects.filter(pk=request.GET["preset"]).first()
        try:
            preview = self._preview(token, source=source or (preset.source if preset else ""), sheet=sheet, mapping=None)
            if preset is not None:
                # Apply the saved mapping to the columns this file has; the others keep what was detected.
                known = set(preview.plan.headers)
                mapping = {h: f for h, f in preset.mapping.items() if h in known}
                preview = self._preview(token, source=source or preset.source, sheet=sheet, mapping=mapping)
        except ImportFileError as exc:
            return render(request, self.template_name, {"draft": draft, "token": token, "error": str(exc)})
        form = WizardMappingForm(
            headers=preview.plan.headers, initial_fields=preview.column_fields(),
            initial={"source": source or (preset.source if preset else "")},
        )
        return self._render(draft, token, preview, form, preset)

    def post(self, request, token: str):
        draft = self._draft(token)
        sheet = request.POST.get("sheet") or None
        try:
            preview = self._preview(token, source=request.POST.get("source", ""), sheet=sheet, mapping=None)
        except ImportFileError as exc:
            return render(request, self.template_name, {"draft": draft, "token": token, "error": str(exc)})
        form = WizardMappingForm(request.POST, headers=preview.plan.headers)
        if not form.is_valid():
            return self._render(draft, token, preview, form, None)
        source, mapping = form.cleaned_data["source"].strip(), form.cleaned_data["mapping"]
        if form.cleaned_data["preset_name"]:
            mapping_preset_save(
                name=form.cleaned_data["preset_name"], source=source, mapping=mapping, created_by=request.user,
            )
        job = import_job_from_draft(
            token=token, original_name=draft["name"], source=source, column_mapping=mapping,
            sheet=preview.sheet or "", created_by=request.user,
        )
        drafts = request.session.get(SESSION_DRAFTS, {})
        drafts.pop(token, None)
        request.session[SESSION_DRAFTS] = drafts
        if job.status == ImportJob.Status.FAILED:
            messages.error(request, job.message)
        else:
            messages.success(request, _("文件已上传，正在排队导入。"))
        return redirect("import-detail", pk=job.pk)

    def _render(self, draft, token, preview, form, preset):
        rows = [(number, [cells[i] if i < len(cells) else "" for i in range(len(preview.plan.headers))])
                for number, cells in preview.rows]
        return render(self.request, self.template_name, {
            "draft": draft, "token": token, "preview": preview, "form": form, "rows": rows,
            "presets": ImportMappingPreset.objects.all(), "preset": preset,
            "platform": preview.plan.preset,
        })
