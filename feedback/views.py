"""Agents' pages: thin views that validate input, call one service or selector, and render."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
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
