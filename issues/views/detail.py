"""One issue: its daily chart, what customers say, its tickets and activity, and the lead's actions.

Every change goes through issues.services; a refused change (IssueActionError)
is shown on the page with the lead's input kept, never as a server error.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from .. import selectors, services
from ..forms import AssignForm, CommentForm, DepartmentForm, MergeForm, PriorityForm, TransitionForm
from ..models import DONE_STATUSES, Issue, IssueStatus
from ..permissions import issue_can_change, issue_can_work

TEMPLATE = "issues/detail.html"

# What a button moving an issue to each status says.
TRANSITION_LABELS = {
    IssueStatus.ACKNOWLEDGED: gettext_lazy("确认"),
    IssueStatus.IN_PROGRESS: gettext_lazy("开始处理"),
    IssueStatus.RESOLVED: gettext_lazy("已解决"),
    IssueStatus.CLOSED: gettext_lazy("关闭"),
    IssueStatus.IGNORED: gettext_lazy("忽略"),
    IssueStatus.NEW: gettext_lazy("恢复为新问题"),
}
MERGE_SUGGESTIONS = 20


def merge_suggestions(issue: Issue) -> list[Issue]:
    """Open issues of the same category and department, the likeliest merge targets."""
    return list(
        Issue.objects.filter(category_id=issue.category_id, department_id=issue.department_id)
        .exclude(pk=issue.pk)
        .exclude(status=IssueStatus.MERGED)
        .order_by("-count_7d", "-id")
        .only("id", "title", "count_7d")[:MERGE_SUGGESTIONS]
    )


def chart_data(detail: selectors.IssueDetail) -> dict:
    issue = detail.issue
    return {
        "labels": [point["day"].isoformat() for point in detail.series],
        "counts": [point["count"] for point in detail.series],
        "action_date": issue.action_date.isoformat() if issue.action_date else None,
        "action_label": _("措施：%(action)s") % {"action": Truncator(issue.action_taken).chars(24)},
        "text": {"tickets": _("每日工单"), "tooltip": _("工单")},
    }


def detail_context(request, issue_id: int, **forms) -> dict:
    """Everything the page shows; ``forms`` replaces the blank form of one action (bound, with errors)."""
    try:
        detail = selectors.issue_detail(issue_id=issue_id)
    except Issue.DoesNotExist:
        raise Http404 from None
    issue = detail.issue
    can_change = issue_can_change(request.user, issue)
    # The team member an issue is assigned to works it (status, resolve, notes) but does not reassign it.
    can_work = can_change or issue_can_work(request.user, issue)
    context = {
        "detail": detail,
        "issue": issue,
        "chart_data": chart_data(detail),
        "can_change": can_change,
        "can_work": can_work,
    }
    if can_work:
        context.update({
            "transitions": [
                (status, _("重新处理") if status == IssueStatus.IN_PROGRESS and issue.status in DONE_STATUSES
                 else TRANSITION_LABELS[status])
                for status in detail.allowed_transitions if status != IssueStatus.RESOLVED
            ],
            "can_resolve": IssueStatus.RESOLVED in detail.allowed_transitions,
            "resolve_form": TransitionForm(initial={"to_status": IssueStatus.RESOLVED}),
            "comment_form": CommentForm(),
        })
    if can_change:
        context.update({
            "assign_form": AssignForm(issue=issue, user=request.user),
            "merge_form": MergeForm(),
            "merge_targets": merge_suggestions(issue),
            "priority_form": PriorityForm(initial={"priority": issue.priority if issue.priority_manual else "auto"}),
            "department_form": DepartmentForm(initial={"department": issue.department_id}),
        })
    if can_work:
        context.update(forms)
    return context


class IssueDetailView(LoginRequiredMixin, View):
    def get(self, request, pk: int):
        return render(request, TEMPLATE, detail_context(request, pk))


class IssueActionView(LoginRequiredMixin, View):
    """POST one workflow action: status, assign, priority, department, merge or comment."""

    # action -> (form class, the name of the form in the page context)
    FORMS = {
        "status": (TransitionForm, "resolve_form"),
        "assign": (AssignForm, "assign_form"),
        "priority": (PriorityForm, "priority_form"),
        "department": (DepartmentForm, "department_form"),
        "merge": (MergeForm, "merge_form"),
        "comment": (CommentForm, "comment_form"),
    }

    # What the assignee may do on their own issue; the rest needs issue_can_change.
    WORK_ACTIONS = frozenset({"status", "comment"})

    def post(self, request, pk: int, action: str):
        if action not in self.FORMS:
            raise Http404
        issue = get_object_or_404(Issue.objects.select_related("department", "assignee"), pk=pk)
        allowed = issue_can_work if action in self.WORK_ACTIONS else issue_can_change
        if not allowed(request.user, issue):
            raise PermissionDenied
        form_class, form_name = self.FORMS[action]
        kwargs = {"issue": issue, "user": request.user} if form_class is AssignForm else {}
        form = form_class(request.POST, **kwargs)
        if form.is_valid():
            try:
                result, message = getattr(self, f"do_{action}")(issue, form.cleaned_data)
            except services.IssueActionError as error:
                form.add_service_errors(error)
            except PermissionDenied as error:
                # The issue itself was checked above: this refusal is about the other side (a merge target).
                form.add_error(None, str(error) or _("你没有权限执行此操作。"))
            else:
                messages.success(request, message)
                return redirect("issue-detail", pk=result.pk)
        if action == "status" and form.data.get("to_status") != IssueStatus.RESOLVED:
            # A plain status button has no fields to show its error next to: say it at the top.
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return render(request, TEMPLATE, detail_context(request, pk))
        messages.error(request, _("操作未完成，请检查下方的提示。"))
        return render(request, TEMPLATE, detail_context(request, pk, **{form_name: form}))

    def do_status(self, issue, data):
        issue = services.issue_transition(
            issue=issue, to_status=data["to_status"], actor=self.request.user, note=data["note"],
            action_taken=data["action_taken"], action_date=data["action_date"],
        )
        return issue, _("问题已更新为“%(status)s”。") % {"status": issue.get_status_display()}

    def do_assign(self, issue, data):
        issue = services.issue_assign(issue=issue, assignee=data["assignee"], actor=self.request.user, note=data["note"])
        if issue.assignee_id:
            return issue, _("已指派给 %(user)s。") % {"user": issue.assignee.get_username()}
        return issue, _("已取消指派。")

    def do_priority(self, issue, data):
        issue = services.issue_priority_set(issue=issue, priority=data["priority"], actor=self.request.user,
                                            note=data["note"])
        if data["priority"] == "auto":
            return issue, _("已恢复自动优先级：%(priority)s。") % {"priority": issue.get_priority_display()}
        return issue, _("优先级已改为 %(priority)s。") % {"priority": issue.get_priority_display()}

    def do_department(self, issue, data):
        issue = services.issue_department_set(issue=issue, department=data["department"], actor=self.request.user,
                                              note=data["note"], confirm_no_lead=data["confirm_no_lead"])
        return issue, _("已转交给%(department)s。") % {"department": data["department"].display_name(
            self.request.LANGUAGE_CODE)}

    def do_merge(self, issue, data):
        into = services.issue_merge(issue=issue, into=data["into"], actor=self.request.user, note=data["note"])
        return into, _("问题 #%(from)s 已合并到本问题。") % {"from": issue.pk}

    def do_comment(self, issue, data):
        services.issue_comment(issue=issue, actor=self.request.user, note=data["note"])
        return issue, _("备注已添加。")
