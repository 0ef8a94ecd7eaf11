"""Agents' pages: thin views that validate input, call one service or selector, and render."""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from accounts.permissions import Action, ActionRequiredMixin
from issues.services import notifications_for_user

from . import selectors
from .classification import UndoRefused, ticket_confirm_category, ticket_confirmation_undo, tickets_confirm_categories
from .forms import CategoryConfirmForm, TicketFilterForm, TicketForm
from .model_text import gate_reason_text
from .models import Category, Channel, Ticket, TriageStatus
from .pagination import CappedCountPaginator
from .presence import PRESENCE_POLL_SECONDS, ticket_presence_forget, ticket_presence_mark, ticket_presence_others
from .search import search_terms
from .services import (
    AlsoCategoryError,
    SavedViewError,
    TicketValidationError,
    saved_view_delete,
    saved_view_save,
    ticket_also_category_set,
    ticket_create,
)


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

    def get(self, request, *args, **kwargs):
        # A bare ticket number or an exact order number, searched on its own, opens that ticket.
        q = request.GET.get("q", "").strip()
        # The search form sends its empty fields too: only a filled-in one is "another filter".
        other_filters = any(value for name, value in request.GET.items() if name != "q")
        if q and not other_filters and (target := selectors.ticket_search_target(q=q)):
            return redirect("ticket-detail", pk=target)
        return super().get(request, *args, **kwargs)

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kwargs):
        # A search counts its matches only up to a limit (feedback/pagination.py): the exact count of
        # a common word costs more than the page.
        paginator_class = CappedCountPaginator if self.request.GET.get("q", "").strip() else self.paginator_class
        return paginator_class(queryset, per_page, orphans=orphans, allow_empty_first_page=allow_empty_first_page, **kwargs)

    def get_queryset(self):
        self.filter_form = TicketFilterForm(self.request.GET or None)
        filters = self.filter_form.to_filters() if self.request.GET else selectors.TicketFilters()
        return selectors.ticket_list(user=self.request.user, filters=filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        context["is_review_queue"] = self.request.GET.get("triage_status") == "needs_review"
        context["search_terms"] = search_terms(self.request.GET.get("q", ""))
        context["saved_views"] = selectors.saved_view_links(
            owner=self.request.user, current=self.request.GET.dict(), today=timezone.localdate()
        )
        context["current_query"] = self.request.GET.urlencode()
        filters = self.filter_form.cleaned_data if self.filter_form.is_bound and self.filter_form.is_valid() else {}
        kept = selectors.saved_view_filters(filters=filters, today=timezone.localdate())
        context["saved_view_placeholder"] = selectors.saved_view_describe(filters=kept) if kept else ""
        return context


class SavedViewCreateView(LoginRequiredMixin, View):
    """Save the list's current filters (posted as its query string) under a name, for this user only."""

    def post(self, request):
        query = QueryDict(request.POST.get("query", ""))
        form = TicketFilterForm(query)
        list_url = reverse("ticket-list") + (f"?{query.urlencode()}" if query else "")
        if not form.is_valid():
            messages.error(request, _("筛选条件有误，未保存视图。"))
            return HttpResponseRedirect(list_url)
        try:
            view = saved_view_save(
                owner=request.user, name=request.POST.get("name", ""), filters=form.cleaned_data,
                today=timezone.localdate(),
            )
        except SavedViewError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(list_url)
        messages.success(request, _("已保存视图“%(name)s”。") % {"name": view.name})
        return HttpResponseRedirect(list_url)


class SavedViewDeleteView(LoginRequiredMixin, View):
    """Delete one of the user's own saved views; anyone else's is a 404, as if it did not exist."""

    def post(self, request, pk: int):
        if not saved_view_delete(owner=request.user, pk=pk):
            raise Http404
        messages.success(request, _("已删除视图。"))
        return HttpResponseRedirect(reverse("ticket-list") + (f"?{request.POST['query']}" if request.POST.get("query") else ""))


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
        suggestions = selectors.ticket_suggestions(ticket=ticket)
        context.update(
            ticket=ticket,
            ticket_text=selectors.ticket_text_for(ticket=ticket, user=user),
            text_is_masked=not (user.can_see_unmasked or ticket.filed_by_id == user.pk),
            suggestions=suggestions,
            also_suggestion=selectors.ticket_also_suggestion(ticket=ticket, suggestions=suggestions),
            # Any active category but the ticket's own can be its second one.
            also_choices=Category.objects.filter(is_active=True).exclude(pk=ticket.category_id),
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
        category = form.cleaned_data["category"]
        ticket_confirm_category(ticket=ticket, category=category, user=request.user)
        messages.success(request, _("已将类别确认为“%(category)s”。") % {"category": category.display_name(request.LANGUAGE_CODE)})
        return HttpResponseRedirect(detail_url)


class TicketAlsoView(ActionRequiredMixin, View):
    """Set or clear the ticket's second category (也涉及) from its page; the service checks the code."""

    required_action = Action.CORRECT_TICKETS
    http_method_names = ("post",)

    def post(self, request, pk: int):
        detail_url = reverse("ticket-detail", args=[pk]) + "#confirm"
        try:
            ticket = ticket_also_category_set(
                ticket_id=pk, code=request.POST.get("also_category", "").strip(), user=request.user
            )
        except Ticket.DoesNotExist:
            raise Http404 from None
        except AlsoCategoryError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(detail_url)
        if ticket.also_category is None:
            messages.success(request, _("已清除“也涉及”。"))
        else:
            messages.success(request, _("已记录：也涉及“%(category)s”。") % {
                "category": ticket.also_category.display_name(request.LANGUAGE_CODE)})
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


def _category_json(category: Category | None, language: str) -> dict | None:
    if category is None:
        return None
    return {"code": category.code, "name": category.display_name(language)}


def _review_ticket_json(ticket: Ticket, *, user, language: str) -> dict:
    """What the review stream shows of one ticket; text comes as plain pieces the script escapes."""
    text = selectors.ticket_text_for(ticket=ticket, user=user)
    terms = [term for term, weight in selectors.ticket_terms(ticket=ticket) if weight > 0]
    suggestions = selectors.ticket_suggestions(ticket=ticket)
    also = selectors.ticket_also_suggestion(ticket=ticket, suggestions=suggestions)
    return {
        "id": ticket.pk,
        "url": reverse("ticket-detail", args=[ticket.pk]),
        "segments": selectors.text_segments(text=text, terms=terms),
        "terms": terms[:8],
        "channel": ticket.get_channel_display(),
        "product": ticket.product.name if ticket.product else ticket.sku_raw,
        "received_at": timezone.localtime(ticket.received_at).strftime("%Y-%m-%d %H:%M"),
        "suggestions": [
            {**_category_json(s.category, language), "confidence": s.confidence} for s in suggestions
        ],
        # The model's close second complaint, one click to record (ReviewAlsoView); null when not close
        # or already recorded (then in also_category).
        "also": _category_json(also.category, language) if also else None,
        "also_category": _category_json(ticket.also_category, language),
    }


def _review_order(request) -> str:
    order = request.GET.get("order", "")
    return order if order in selectors.ReviewOrder.values else selectors.ReviewOrder.MARGIN


class ReviewStreamView(ActionRequiredMixin, TemplateView):
    """One screen to confirm the review queue from the keyboard; review.js fetches the tickets."""

    required_action = Action.CORRECT_TICKETS
    template_name = "feedback/review.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        language = self.request.LANGUAGE_CODE
        context.update(
            orders=selectors.ReviewOrder.choices,
            order=_review_order(self.request),
            # Each with what it covers, shown on hover over the category buttons.
            categories=[{**_category_json(c, language), "description": c.display_description(language)}
                        for c in Category.objects.filter(is_active=True)],
            remaining=selectors.needs_review_count(),
            shares=selectors.auto_apply_shares(
                thresholds=settings.TRIAGE_CATEGORY_THRESHOLDS, default_threshold=settings.TRIAGE_CONFIDENCE_THRESHOLD
            ),
        )
        return context


class ReviewTicketsView(ActionRequiredMixin, View):
    """JSON: the next tickets of the review stream, skipping the ones the page already holds."""

    required_action = Action.CORRECT_TICKETS

    def get(self, request):
        # Ids the page already holds; anything that is not a plausible id is skipped, never an error.
        exclude = [
            int(part) for part in request.GET.get("exclude", "").split(",")[:2000]
            if part.isascii() and part.isdigit() and len(part) <= 10 and int(part) < 2**31
        ]
        try:
            limit = max(1, min(int(request.GET.get("limit", 20)), selectors.REVIEW_BATCH_LIMIT))
        except ValueError:
            return JsonResponse({"error": _("limit 必须是整数。"), "field": "limit"}, status=400)
        queue = selectors.review_queue(user=request.user, order=_review_order(request))
        tickets = queue.exclude(pk__in=exclude)[:limit]
        language = request.LANGUAGE_CODE
        return JsonResponse({
            "tickets": [_review_ticket_json(t, user=request.user, language=language) for t in tickets],
            "remaining": selectors.needs_review_count(),
        })


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


class ReviewConfirmView(ActionRequiredMixin, View):
    """JSON: confirm one waiting ticket as ``category`` (409 if someone else got there first)."""

    required_action = Action.CORRECT_TICKETS
    http_method_names = ("post",)

    def post(self, request, pk: int):
        code = _json_body(request).get("category")
        category = Category.objects.filter(code=code, is_active=True).first() if isinstance(code, str) else None
        if category is None:
            return JsonResponse({"error": _("请选择一个有效的类别。"), "field": "category"}, status=400)
        ticket = Ticket.objects.filter(pk=pk).first()
        if ticket is None:
            return JsonResponse({"error": _("工单不存在。")}, status=404)
        if ticket.triage_status != TriageStatus.NEEDS_REVIEW:
            return JsonResponse({"error": _("这张工单已经不在待确认队列里了。")}, status=409)
        ticket_confirm_category(ticket=ticket, category=category, user=request.user)
        return JsonResponse({
            "id": ticket.pk, "category": _category_json(category, request.LANGUAGE_CODE),
            "remaining": selectors.needs_review_count(),
        })


class ReviewAlsoView(ActionRequiredMixin, View):
    """JSON: record (or, with null, clear) a waiting ticket's second category: the chip in the stream."""

    required_action = Action.CORRECT_TICKETS
    http_method_names = ("post",)

    def post(self, request, pk: int):
        code = _json_body(request).get("also_category")
        if code is not None and not isinstance(code, str):
            return JsonResponse({"error": _("请选择一个有效的类别。"), "field": "also_category"}, status=400)
        try:
            ticket = ticket_also_category_set(ticket_id=pk, code=code, user=request.user)
        except Ticket.DoesNotExist:
            return JsonResponse({"error": _("工单不存在。")}, status=404)
        except AlsoCategoryError as error:
            return JsonResponse({"error": error.message, "field": error.field}, status=400)
        return JsonResponse({"id": ticket.pk, "also_category": _category_json(ticket.also_category, request.LANGUAGE_CODE)})


class ReviewUndoView(ActionRequiredMixin, View):
    """JSON: put a ticket the agent just confirmed back into the review queue."""

    required_action = Action.CORRECT_TICKETS
    http_method_names = ("post",)

    def post(self, request, pk: int):
        try:
            ticket = ticket_confirmation_undo(ticket_id=pk, user=request.user)
        except UndoRefused as refused:
            return JsonResponse({"error": refused.reason}, status=409)
        return JsonResponse({
            "ticket": _review_ticket_json(ticket, user=request.user, language=request.LANGUAGE_CODE),
            "remaining": selectors.needs_review_count(),
        })


def _bulk_input(data) -> tuple[Category | None, float | None, dict | None]:
    """Read ``category`` and ``min_confidence`` (0-1); the third value is the error to send back."""
    code = data.get("category")
    category = Category.objects.filter(code=code, is_active=True).first() if isinstance(code, str) else None
    if category is None:
        return None, None, {"error": _("请选择一个有效的类别。"), "field": "category"}
    try:
        threshold = float(data.get("min_confidence"))
    except (TypeError, ValueError):
        threshold = None
    if threshold is None or not 0 <= threshold <= 1:
        return None, None, {"error": _("置信度下限必须是 0 到 1 之间的数字。"), "field": "min_confidence"}
    return category, threshold, None


class ReviewBulkView(ActionRequiredMixin, View):
    """JSON: GET previews how many waiting tickets a bulk confirmation takes; POST confirms them."""

    required_action = Action.CORRECT_TICKETS

    def get(self, request):
        category, threshold, error = _bulk_input(request.GET)
        if error:
            return JsonResponse(error, status=400)
        count = selectors.review_bulk_candidates(category_code=category.code, min_confidence=threshold).count()
        return JsonResponse({"count": count})

    def post(self, request):
        body = _json_body(request)
        category, threshold, error = _bulk_input(body)
        if error:
            return JsonResponse(error, status=400)
        ids = list(
            selectors.review_bulk_candidates(category_code=category.code, min_confidence=threshold)
            .values_list("pk", flat=True)
        )
        # The agent agreed to a number; if the queue grew since the preview, confirm nothing unseen.
        expected = body.get("expected")
        if isinstance(expected, int) and len(ids) > expected:
            return JsonResponse(
                {"error": _("预览之后又有新的工单符合条件，请重新预览。"), "count": len(ids)}, status=409
            )
        confirmed = tickets_confirm_categories(confirmations={pk: category for pk in ids}, user=request.user)
        return JsonResponse({"confirmed": confirmed, "remaining": selectors.needs_review_count()})


REVIEW_SELECTED_LIMIT = 200


class ReviewSelectedView(ActionRequiredMixin, View):
    """JSON: confirm the tickets an agent selected in the stream, each as the category sent for it.

    Body: ``{"confirmations": {"<ticket id>": "<category code>", ...}}`` (at most 200). Tickets no
    longer waiting (someone else confirmed them) are skipped and listed, never confirmed twice.
    """

    required_action = Action.CORRECT_TICKETS
    http_method_names = ("post",)

    def post(self, request):
        confirmations = _json_body(request).get("confirmations")
        if not isinstance(confirmations, dict) or not confirmations:
            return JsonResponse({"error": _("请先选择工单。"), "field": "confirmations"}, status=400)
        if len(confirmations) > REVIEW_SELECTED_LIMIT:
            return JsonResponse(
                {"error": _("一次最多确认 %(limit)s 张工单。") % {"limit": REVIEW_SELECTED_LIMIT}, "field": "confirmations"},
                status=400,
            )
        categories = {c.code: c for c in Category.objects.filter(is_active=True)}
        wanted: dict[int, Category] = {}
        for key, code in confirmations.items():
            if not (isinstance(key, str) and key.isascii() and key.isdigit() and len(key) <= 10 and int(key) < 2**31):
                return JsonResponse({"error": _("工单编号无效：%(id)s") % {"id": key}, "field": "confirmations"}, status=400)
            if code not in categories:
                return JsonResponse(
                    {"error": _("工单 #%(id)s：请选择一个有效的类别。") % {"id": key}, "field": "confirmations"}, status=400
                )
            wanted[int(key)] = categories[code]
        waiting = set(
            Ticket.objects.filter(pk__in=list(wanted), triage_status=TriageStatus.NEEDS_REVIEW).values_list("pk", flat=True)
        )
        confirmed = tickets_confirm_categories(
            confirmations={pk: category for pk, category in wanted.items() if pk in waiting}, user=request.user
        )
        return JsonResponse({
            "confirmed": confirmed,
            "ids": sorted(waiting),
            "skipped": sorted(set(wanted) - waiting),
            "remaining": selectors.needs_review_count(),
        })


class TicketLiveView(LoginRequiredMixin, View):
    """JSON the ticket page polls while the worker has not classified the ticket yet."""

    def get(self, request, pk: int):
        ticket = Ticket.objects.filter(pk=pk).select_related("category", "predicted_category").first()
        if ticket is None:
            return JsonResponse({"error": _("工单不存在。")}, status=404)
        language = request.LANGUAGE_CODE
        return JsonResponse({
            "id": ticket.pk,
            "triage_status": ticket.triage_status,
            "triage_status_display": ticket.get_triage_status_display(),
            "category": _category_json(ticket.category, language),
            "predicted_category": _category_json(ticket.predicted_category, language),
        })


class TicketPresenceView(LoginRequiredMixin, View):
    """JSON: note that this user has the ticket on screen; answer who else has (presence.js polls it).

    DELETE says the user moved on, so the others stop seeing them at once rather than after a minute.
    """

    http_method_names = ("post", "delete")

    def delete(self, request, pk: int):
        ticket_presence_forget(ticket_id=pk, user=request.user)
        return JsonResponse({"id": pk, "others": []})

    def post(self, request, pk: int):
        if not Ticket.objects.filter(pk=pk).exists():
            return JsonResponse({"error": _("工单不存在。")}, status=404)
        now = timezone.now()
        ticket_presence_mark(ticket_id=pk, user=request.user, now=now)
        others = ticket_presence_others(ticket_id=pk, user=request.user, now=now)
        return JsonResponse({
            "id": pk,
            "others": [presence.user.get_full_name() or presence.user.get_username() for presence in others],
            "poll_seconds": PRESENCE_POLL_SECONDS,
        })


class LiveCountsView(LoginRequiredMixin, View):
    """JSON for the navigation badges (待确认, 通知), polled by app.js so they never go stale."""

    def get(self, request):
        return JsonResponse({
            "needs_review": selectors.needs_review_count(),
            "unread_notifications": notifications_for_user(request.user).filter(read_at__isnull=True).count(),
        })
class ModelPageView(ActionRequiredMixin, TemplateView):
    """The triage model's versions: metrics, the gate's decision, per-category F1, the confidence
    thresholds with their measured trade-off and the latest training run; admins activate, roll
    back, retrain and set thresholds (managers read)."""

    required_action = Action.VIEW_MODELS
    template_name = "feedback/models.html"

    def get_context_data(self, **kwargs):
        from datetime import datetime

        from django.utils.translation import get_language

        from accounts.permissions import user_can

        from .classification import model_versions

        language = get_language() or "zh-hans"
        names = {c.code: c.display_name(language) for c in Category.objects.all()}
        versions = model_versions()
        active = None
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
            if version.get("active"):
                active = version
        report = selectors.model_threshold_report(
            heldout_curve=(active or {}).get("threshold_curve"), heldout_version=(active or {}).get("version"),
        )
        return super().get_context_data(
            versions=versions, can_manage=user_can(self.request.user, Action.MANAGE_MODELS),
            report=report, training_run=selectors.training_run_latest(),
            threshold_cache_seconds=int(settings.TRIAGE_THRESHOLD_CACHE_SECONDS), **kwargs,
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
                self._retrain(request)
            elif action == "threshold":
                self._threshold(request)
            else:
                messages.error(request, _("未知操作。"))
        except UnknownVersionError:
            messages.error(request, _("找不到可用的模型版本（%(version)s）。") % {"version": version or _("上一个版本")})
        return redirect(reverse("model-page") + ("#thresholds" if action == "threshold" else ""))

    def _retrain(self, request) -> None:
        from .services import training_run_start

        run, created = training_run_start(user=request.user)
        if not created:
            messages.info(request, _("已有一次训练在进行中（%(percent)s%%），没有再提交。") % {"percent": run.percent})
        elif run.status == run.Status.FAILED:
            messages.error(request, _("消息队列不可用，无法提交训练任务；请稍后再试。"))
        else:
            messages.success(request, _("已提交训练任务；新版本通过评估门槛后会自动启用。"))

    def _threshold(self, request) -> None:
        from .forms import CategoryThresholdForm
        from .services import ThresholdError, category_threshold_set

        form = CategoryThresholdForm(request.POST)
        if not form.is_valid():
            category = Category.objects.filter(code=request.POST.get("category") or "").first()
            name = category.display_name(request.LANGUAGE_CODE) if category else request.POST.get("category", "")
            errors = "; ".join(str(e) for field_errors in form.errors.values() for e in field_errors)
            messages.error(request, _("未保存类别「%(category)s」的阈值：%(errors)s") % {"category": name, "errors": errors})
            return
        category = form.cleaned_data["category"]
        threshold = None if form.cleaned_data["clear"] else form.cleaned_data["threshold"]
        name = category.display_name(request.LANGUAGE_CODE)
        try:
            category_threshold_set(category=category, threshold=threshold, user=request.user)
        except ThresholdError as error:
            messages.error(request, _("未保存类别「%(category)s」的阈值：%(errors)s") % {"category": name, "errors": error.message})
            return
        if threshold is None:
            messages.success(request, _("类别「%(category)s」的阈值已清除，恢复为配置的值。") % {"category": name})
        else:
            messages.success(request, _("类别「%(category)s」的阈值已设为 %(threshold)s，用于之后的新分类。") % {
                "category": name, "threshold": f"{threshold:.2f}"})


class ModelTrainingProgressView(ActionRequiredMixin, View):
    """JSON for the model page's training progress bar: the newest training run, polled until it ends."""

    required_action = Action.VIEW_MODELS

    def get(self, request):
        run = selectors.training_run_latest()
        if run is None:
            return JsonResponse({"run": None})
        return JsonResponse({"run": {
            "id": run.pk,
            "status": run.status,
            "status_label": run.get_status_display(),
            "stage": run.stage,
            "stage_label": run.get_stage_display(),
            "percent": run.percent,
            "finished": run.finished,
            "version": run.version,
            "activated": run.activated,
            "outcome": run.outcome,
            "reason": gate_reason_text(run.reason),
        }})
