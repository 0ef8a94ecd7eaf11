"""A department's queue: its open issues in the order a lead works them, with bulk actions.

Everyone logged in may look at any department's queue (the library is open to all);
only the department's lead and admins may act on it, which the services enforce
again per issue.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from accounts.permissions import department_can_work, team_can_manage

from .. import selectors, services
from ..forms import BulkActionForm
from ..models import Department, Issue
from .common import page_sparklines, paginate, safe_next

QUEUE_PAGE_SIZE = 50


class DepartmentQueueView(LoginRequiredMixin, View):
    template_name = "issues/queue.html"

    def get(self, request, code: str | None = None):
        departments = list(selectors.department_list_with_counts())
        if code is None:
            own = next((d for d in departments if d.pk == request.user.department_id), None)
            if own is None:
                return render(request, self.template_name, {"departments": departments, "department": None})
            department = own
        else:
            department = next((d for d in departments if d.code == code), None)
            if department is None:
                raise Http404
        view = request.GET.get("view") if request.GET.get("view") in selectors.QUEUE_VIEWS else "queue"
        page = paginate(selectors.department_queue(department=department, view=view, user=request.user),
                        page_number=request.GET.get("page"), per_page=QUEUE_PAGE_SIZE)
        return render(request, self.template_name, {
            "departments": departments,
            "department": department,
            "page_obj": page,
            "issues": page.object_list,
            "sparklines": page_sparklines(page),
            "can_act": department_can_work(request.user, department.pk),
            "is_own_queue": department.pk == request.user.department_id,
            "bulk_form": BulkActionForm(),
            "view": view,
            "view_sizes": selectors.department_queue_sizes(department=department, user=request.user),
            "team": selectors.department_team(department=department),
            "can_manage_team": team_can_manage(request.user, department.pk),
        })


class DepartmentQueueBulkView(LoginRequiredMixin, View):
    """Apply one action (acknowledge, start, ignore, assign to me) to the ticked issues of a queue."""

    def post(self, request, code: str):
        department = get_object_or_404(Department, code=code)
        if not department_can_work(request.user, department.pk):
            raise PermissionDenied
        back = safe_next(request, reverse("department-queue", args=[department.code]))
        form = BulkActionForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(back)
        # Only this queue's issues: a ticked id from elsewhere is simply not acted on.
        ids = list(
            Issue.objects.filter(pk__in=form.cleaned_data["issue_ids"], department=department).values_list("pk", flat=True)
        )
        action = form.cleaned_data["action"]
        if action == BulkActionForm.ASSIGN_ME:
            changed, refused = services.issues_bulk_assign(issue_ids=ids, assignee=request.user, actor=request.user)
        else:
            changed, refused = services.issues_bulk_transition(
                issue_ids=ids, to_status=BulkActionForm.TRANSITIONS[action], actor=request.user,
                note=form.cleaned_data["note"],
            )
        skipped = len(form.cleaned_data["issue_ids"]) - len(ids)
        label = dict(form.fields["action"].choices)[action]
        if changed:
            messages.success(request, ngettext(
                "%(action)s：%(count)d 个问题已更新。", "%(action)s：%(count)d 个问题已更新。", len(changed)
            ) % {"action": label, "count": len(changed)})
        for issue_id, reason in sorted(refused.items()):
            messages.warning(request, _("问题 #%(id)s 未更新：%(reason)s") % {"id": issue_id, "reason": reason})
        if skipped:
            messages.warning(request, ngettext(
                "%(count)d 个问题不在本部门队列中，已跳过。", "%(count)d 个问题不在本部门队列中，已跳过。", skipped
            ) % {"count": skipped})
        return redirect(back)
