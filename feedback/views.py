"""Agents' pages: thin views that validate input, call one service or selector, and render."""
from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from accounts.permissions import Action, ActionRequiredMixin

from . import selectors
from .forms import CategoryConfirmForm, TicketFilterForm, TicketForm
from .models import Channel, Ticket, TriageStatus
from .services import TicketValidationError, ticket_create

def health(request):
    """Public liveness check: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

logger = logging.getLogger(__name__)


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["counts"] = selectors.ticket_counts(user=user)
        context["recent_tickets"] = selectors.ticket_list(user=user, filters=selectors.TicketFilters(filed_by=user))[:10]
        context["review_tickets"] = selectors.ticket_list(
            user=user, filters=selectors.TicketFilters(triage_status=TriageStatus.NEEDS_REVIEW)
        )[:10]
        return context


class TicketListView(LoginRequiredMixin, ListView):
    template_name = "feedback/ticket_list.html"
    context_object_name = "tickets"
    paginate_by = 50

    def get_queryset(self):
        self.filter_form = TicketFilterForm(self.request.GET or None)
        filters = self.filter_form.to_filters() if self.request.GET else selectors.TicketFilters()
        return selectors.ticket_list(user=self.request.user, filters=filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        context["is_review_queue"] = self.request.GET.get("triage_status") == "needs_review"
        return context


class TicketCreateView(ActionRequiredMixin, FormView):
    """File one ticket fast; "save and file another" comes back to an empty form."""

    required_action = Action.FILE_TICKETS
    template_name = "feedback/ticket_form.html"
    form_class = TicketForm

    def get_initial(self):
        # Agents on one channel (a phone shift) file many tickets in a row: keep their last channel.
        return {"channel": self.request.session.get("last_ticket_channel", Channel.CHAT)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["last_filed_ticket_id"] = self.request.session.get("last_filed_ticket_id")
        return context

    def form_valid(self, form):
        data = form.to_ticket_input()
        try:
            ticket = ticket_create(data=data, filed_by=self.request.user)
        except TicketValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        self.request.session["last_ticket_channel"] = ticket.channel
        self.request.session["last_filed_ticket_id"] = ticket.pk
        for warning in data.warnings:
            messages.warning(self.request, warning)
        detail_url = reverse("ticket-detail", args=[ticket.pk])
        messages.success(self.request, _("工单 #%(number)s 已保存。") % {"number": ticket.pk})
        if "save_another" in self.request.POST:
            return redirect("ticket-create")
        return HttpResponseRedirect(detail_url)


class TicketDetailView(LoginRequiredMixin, TemplateView):
    template_name = "feedback/ticket_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            ticket = selectors.ticket_get(user=self.request.user, pk=self.kwargs["pk"])
        except Ticket.DoesNotExist:
            raise Http404 from None
        user = self.request.user
        initial_category = ticket.category or ticket.predicted_category
        context.update(
            ticket=ticket,
            ticket_text=selectors.ticket_text_for(ticket=ticket, user=user),
            text_is_masked=not (user.can_see_unmasked or ticket.filed_by_id == user.pk),
            suggestions=selectors.ticket_suggestions(ticket=ticket),
            terms=selectors.ticket_terms(ticket=ticket),
            labels=selectors.ticket_labels(ticket=ticket),
            can_correct=user.can_correct_tickets,
            confirm_form=CategoryConfirmForm(initial={"category": initial_category.code if initial_category else None}),
        )
        return context


class TicketConfirmView(ActionRequiredMixin, View):
    """Confirm or correct a ticket's category (managers read only: 403)."""

    required_action = Action.CORRECT_TICKETS
    http_method_names = ("post",)

    def post(self, request, pk: int):
        ticket = get_object_or_404(Ticket, pk=pk)
        detail_url = reverse("ticket-detail", args=[ticket.pk])
        form = CategoryConfirmForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请选择一个有效的类别。"))
            return HttpResponseRedirect(detail_url)
        try:
            # Imported here so the pages work while the classification module is being written.
            from .classification import ticket_confirm_category
        except ImportError:
            messages.error(request, _("分类服务暂不可用，类别未保存。"))
            return HttpResponseRedirect(detail_url)
        category = form.cleaned_data["category"]
        ticket_confirm_category(ticket=ticket, category=category, user=request.user)
        messages.success(request, _("已将类别确认为“%(category)s”。") % {"category": category.display_name(request.LANGUAGE_CODE)})
        return HttpResponseRedirect(detail_url)


class ProductSearchView(LoginRequiredMixin, View):
    """JSON for the product autocomplete: up to 10 products whose SKU or name contains ``q``."""

    def get(self, request):
        products = selectors.product_search(q=request.GET.get("q", ""))
        return JsonResponse(
            {
                "results": [
                    {"sku": p.sku, "name": p.name, "product_category": p.product_category} for p in products
                ]
            }
        )


class ModelPageView(ActionRequiredMixin, TemplateView):
    """The triage model's versions: metrics, the gate's decision, per-category F1; admins activate,
    roll back and retrain (managers read)."""

    required_action = Action.VIEW_MODELS
    template_name = "feedback/models.html"

    def get_context_data(self, **kwargs):
        from accounts.permissions import user_can

        from .classification import model_versions

        from datetime import datetime

        from django.utils.translation import get_language

        from .models import Category

        language = get_language() or "zh-hans"
        names = {c.code: c.display_name(language) for c in Category.objects.all()}
        versions = model_versions()
        for version in versions:
            try:  # ISO text in the metadata; a datetime, so the page shows it in local time
                version["created_at"] = datetime.fromisoformat(version.get("created") or "")
            except ValueError:
                version["created_at"] = None
            metrics = version.get("metrics") or {}
            # Weakest first: the categories the model gets wrong are what a reader looks for.
            version["f1_rows"] = sorted(
                ({"code": code, "name": names.get(code, code), **row}
                 for code, row in (metrics.get("per_category") or {}).items() if row.get("support")),
                key=lambda row: row.get("f1", 0),
            )
        return super().get_context_data(
            versions=versions, can_manage=user_can(self.request.user, Action.MANAGE_MODELS), **kwargs
        )

    def post(self, request):
        from accounts.permissions import user_can

        from .classification import model_activate, model_rollback
        from .classifiers.store import UnknownVersionError

        if not user_can(request.user, Action.MANAGE_MODELS):
            raise PermissionDenied
        action = request.POST.get("action")
        version = (request.POST.get("version") or "").strip()
        try:
            if action == "activate" and version:
                model_activate(version=version)
                messages.success(request, _("已启用模型版本 %(version)s。") % {"version": version})
            elif action == "rollback":
                active = model_rollback()
                messages.success(request, _("已回滚到模型版本 %(version)s。") % {"version": active})
            elif action == "retrain":
                from .tasks import train_model

                try:
                    train_model.delay()
                except Exception:  # noqa: BLE001 - the broker is down: say so rather than fail the page
                    logger.exception("could not enqueue feedback.train_model")
                    messages.error(request, _("消息队列不可用，无法提交训练任务；请稍后再试。"))
                else:
                    messages.success(request, _("已提交训练任务；新版本通过评估门槛后会自动启用。"))
            else:
                messages.error(request, _("未知操作。"))
        except UnknownVersionError:
            messages.error(request, _("找不到可用的模型版本（%(version)s）。") % {"version": version or _("上一个版本")})
        return redirect("model-page")
