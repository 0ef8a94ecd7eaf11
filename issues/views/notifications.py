"""In-app notifications: the user's own and, for a lead, their department's."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from .. import services
from .common import paginate, safe_next

PAGE_SIZE = 30


class NotificationListView(LoginRequiredMixin, View):
    template_name = "issues/notifications.html"

    def get(self, request):
        notifications = services.notifications_for_user(request.user).select_related("issue", "department")
        unread_only = request.GET.get("unread") == "1"
        if unread_only:
            notifications = notifications.filter(read_at__isnull=True)
        page = paginate(notifications, page_number=request.GET.get("page"), per_page=PAGE_SIZE)
        return render(request, self.template_name, {
            "page_obj": page, "notifications": page.object_list, "unread_only": unread_only,
        })


class NotificationReadView(LoginRequiredMixin, View):
    """Mark one notification (``id``) or all of them read, then go back (or to the issue with ``open``)."""

    def post(self, request):
        raw = request.POST.get("id")
        ids = [int(raw)] if raw and raw.isdigit() else None
        marked = services.notifications_mark_read(user=request.user, notification_ids=ids)
        if ids is None:
            messages.success(request, _("已全部标为已读（%(count)d 条）。") % {"count": marked})
        return redirect(safe_next(request, reverse("notifications")))
