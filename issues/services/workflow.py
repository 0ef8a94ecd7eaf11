"""The lead workflow: status transitions, assignment, priority, department, merge, regression.

Every change writes an IssueActivity row with who and when. Services check
permissions themselves (``issue_can_change``) so pages, API and bulk actions
cannot drift; ``actor=None`` means the system.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from feedback.models import Ticket

from ..conf import issue_setting
from ..models import (
    DONE_STATUSES,
    TRANSITIONS,
    ActivityVerb,
    Department,
    DepartmentSource,
    Issue,
    IssueActivity,
    IssueStatus,
    NotificationKind,
    Priority,
)
from ..permissions import issue_can_change, issue_can_work
from ..selectors import issue_assignee_candidates
from .sla import sla_due_times

logger = logging.getLogger(__name__)

S = IssueStatus
class IssueActionError(ValueError):
    """A workflow action is not allowed or its input is incomplete; ``errors`` maps field to message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _check(actor, issue: Issue) -> None:
    if actor is not None and not issue_can_change(actor, issue):
        raise PermissionDenied(gettext("只有本部门负责人或管理员可以修改此问题"))


def _check_work(actor, issue: Issue) -> None:
    if actor is not None and not issue_can_work(actor, issue):
        raise PermissionDenied("只有本部门负责人、管理员或被指派的成员可以处理此问题 (only the department's lead, an admin "
                               "or the assigned member)")


def _log(issue: Issue, actor, verb: str, from_value="", to_value="", note: str = "", **payload) -> IssueActivity:
    return IssueActivity.objects.create(
        issue=issue,
        actor=actor,
        verb=verb,
        from_value=str(from_value or "")[:120],
        to_value=str(to_value or "")[:120],
        note=note,
        payload=payload,
    )


def issue_transition(
    *,
    issue: Issue,
    to_status: str,
    actor=None,
    note: str = "",
    action_taken: str = "",
    action_date: date | None = None,
    now: datetime | None = None,
) -> Issue:
    """Move an issue to ``to_status``; resolving requires the action taken and its date.

    Raises PermissionDenied (actor may not change it) or IssueActionError (not an
    allowed transition, or missing/invalid action fields).
    """
    now = now or timezone.now()
    _check_work(actor, issue)
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if to_status not in TRANSITIONS.get(issue.status, frozenset()):
            raise IssueActionError(
                {"status": gettext("不能从“%(current)s”变为“%(target)s”") % {
                    "current": issue.get_status_display(),
                    "target": S(to_status).label if to_status in S.values else to_status}}
            )
        from_status = issue.status
        fields = ["status", "updated_at"]
        issue.status = to_status
        if to_status == S.ACKNOWLEDGED and issue.acknowledged_at is None:
            issue.acknowledged_at = now
            fields.append("acknowledged_at")
        if to_status == S.IN_PROGRESS and issue.acknowledged_at is None:
            issue.acknowledged_at = now
            fields.append("acknowledged_at")
        if to_status == S.RESOLVED:
            errors: dict[str, str] = {}
            action_taken = (action_taken or "").strip()
            if not action_taken:
                errors["action_taken"] = gettext("解决问题时必须填写采取的措施")
            if action_date is None:
                errors["action_date"] = gettext("请填写措施日期")
            elif action_date > timezone.localdate(now):
                errors["action_date"] = gettext("措施日期不能在未来")
            if errors:
                raise IssueActionError(errors)
            issue.action_taken = action_taken
            issue.action_date = action_date
            issue.resolved_at = now
            issue.resolved_by = actor
            issue.rate_before_resolution = Ticket.objects.filter(
                issue=issue, received_at__gte=now - timedelta(days=7), received_at__lte=now
            ).count()
            issue.is_overdue = False
            issue.overdue_since = None
            if issue.acknowledged_at is None:
                issue.acknowledged_at = now
            fields += ["action_taken", "action_date", "resolved_at", "resolved_by", "rate_before_resolution",
                       "is_overdue", "overdue_since", "acknowledged_at"]
        if to_status == S.IGNORED:
            issue.is_overdue = False
            issue.overdue_since = None
            fields += ["is_overdue", "overdue_since"]
        if from_status in DONE_STATUSES and to_status == S.IN_PROGRESS:
            # Reopened by hand: a fresh resolve deadline from now.
            _, issue.resolve_due_at = sla_due_times(priority=issue.priority, start=now)
            fields.append("resolve_due_at")
        if from_status == S.IGNORED and to_status == S.NEW:
            issue.acknowledge_due_at, issue.resolve_due_at = sla_due_times(priority=issue.priority, start=now)
            issue.acknowledged_at = None
            fields += ["acknowledge_due_at", "resolve_due_at", "acknowledged_at"]
        issue.save(update_fields=sorted(set(fields)))
        payload = {}
        if to_status == S.RESOLVED:
            payload = {"action_taken": issue.action_taken, "action_date": issue.action_date.isoformat()}
        _log(issue, actor, ActivityVerb.STATUS, from_status, to_status, note, **payload)
    return issue


def issue_assign(*, issue: Issue, assignee, actor=None, note: str = "") -> Issue:
    """Set (or clear, with ``assignee=None``) who works on an issue; the assignee is notified."""
    _check(actor, issue)
    if assignee is not None and not assignee.is_active:
        raise IssueActionError({"assignee": gettext("该用户已停用")})
    if assignee is not None and actor is not None and not (
            issue_assignee_candidates(issue=issue, actor=actor).filter(pk=assignee.pk).exists()):
        raise IssueActionError({"assignee": gettext("只能指派给该问题所属部门的成员或你自己")})
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        previous = issue.assignee
        if previous == assignee:
            return issue
        issue.assignee = assignee
        issue.save(update_fields=["assignee", "updated_at"])
        _log(issue, actor, ActivityVerb.ASSIGNED, previous.username if previous else "",
             assignee.username if assignee else "", note)
        if assignee is not None and assignee != actor:
            from .notifications import TranslatableText, notification_create

            notification_create(
                kind=NotificationKind.ASSIGNED,
                title=TranslatableText("问题已指派给你：%(title)s", title=issue.display_title),
                body=TranslatableText("%(who)s 将问题 #%(number)s 指派给你。", number=issue.pk,
                                      who=actor.username if actor else lambda language: gettext("系统")),
                recipient=assignee,
                issue=issue,
            )
    return issue


# Passed as the priority: drop a manual choice and let the computed priority (services.priority) decide again.
PRIORITY_AUTO = "auto"


def issue_priority_set(*, issue: Issue, priority: str, actor=None, note: str = "") -> Issue:
    """Change an issue's priority; its SLA deadlines are recomputed from when it was opened.

    ``priority=PRIORITY_AUTO`` goes back to the computed priority after a manual choice."""
    _check(actor, issue)
    if priority == PRIORITY_AUTO:
        return _issue_priority_automatic(issue=issue, actor=actor, note=note)
    if priority not in Priority.values:
        raise IssueActionError({"priority": gettext("未知优先级 %(priority)s，可用：%(values)s") % {"priority": priority, "values": ', '.join(Priority.values)}})
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if issue.priority == priority:
            return issue
        previous = issue.priority
        start = issue.regressed_at if issue.status == S.REGRESSED and issue.regressed_at else issue.sla_started_at
        issue.priority = priority
        # A person's choice: the computed priority (services.priority) no longer overrides it.
        issue.priority_manual = True
        if start is not None:  # an issue still 观察中 has no SLA running yet
            issue.acknowledge_due_at, issue.resolve_due_at = sla_due_times(priority=priority, start=start)
        issue.save(update_fields=["priority", "priority_manual", "acknowledge_due_at", "resolve_due_at", "updated_at"])
        _log(issue, actor, ActivityVerb.PRIORITY, previous, priority, note)
    return issue


def _issue_priority_automatic(*, issue: Issue, actor, note: str) -> Issue:
    from .priority import issues_prioritize

    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if not issue.priority_manual:
            return issue
        previous = issue.priority
        issue.priority_manual = False
        issue.save(update_fields=["priority_manual", "updated_at"])
        issues_prioritize(issue_ids=[issue.pk])
        issue.refresh_from_db()
        _log(issue, actor, ActivityVerb.PRIORITY, previous, issue.priority, note, automatic=True)
    return issue


def issue_department_set(
    *, issue: Issue, department: Department, actor=None, note: str = "", confirm_no_lead: bool = False,
) -> Issue:
    """Hand an issue to another department by hand; routing will not move it back.

    A department without an active lead cannot act on the issue, so that move is refused
    unless an admin confirms it (``confirm_no_lead``). Old and new department and the
    assignee are told.
    """
    from django.utils.translation import get_language, gettext

    from accounts.permissions import user_is_admin

    from .routing import department_has_active_lead, issue_move_notify

    _check(actor, issue)
    if department.pk != issue.department_id and not department_has_active_lead(department.pk):
        if not confirm_no_lead:
            raise IssueActionError({"department": gettext(
                "%(department)s没有在职的负责人，转过去将无人处理；管理员可勾选确认后转交。"
            ) % {"department": department.display_name(get_language() or "zh-hans")}})
        if actor is not None and not user_is_admin(actor):
            raise IssueActionError({"department": gettext("只有管理员可以把问题转给没有负责人的部门。")})
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        previous = issue.department
        issue.department = department
        issue.department_source = DepartmentSource.MANUAL
        issue.routing_rule = None
        issue.routed_at = timezone.now()
        issue.save(update_fields=["department", "department_source", "routing_rule", "routed_at", "updated_at"])
        _log(issue, actor, ActivityVerb.ROUTED, previous.code if previous else "", department.code, note, manual=True)
        if previous != department:
            issue_move_notify(issue=issue, previous_department_id=previous.pk if previous else None, reason=note)
    return issue


def issue_comment(*, issue: Issue, actor, note: str) -> IssueActivity:
    """Add a note to an issue's activity log (anyone who may work the issue, its assignee too)."""
    _check_work(actor, issue)
    note = (note or "").strip()
    if not note:
        raise IssueActionError({"note": gettext("备注不能为空")})
    return _log(issue, actor, ActivityVerb.COMMENT, note=note)


def issue_merge(*, issue: Issue, into: Issue, actor=None, note: str = "") -> Issue:
    """Merge ``issue`` into ``into``: its tickets move, counts follow, it becomes ``merged``.

    Later tickets whose key matches the merged issue attach to ``into``.
    """
    _check(actor, issue)
    if into.pk == issue.pk:
        raise IssueActionError({"into": gettext("不能合并到自身")})
    if actor is not None and not issue_can_change(actor, into):
        raise PermissionDenied(gettext("目标问题不属于你的部门"))
    from .grouping import issue_recount

    with transaction.atomic():
        first, second = sorted([issue.pk, into.pk])
        locked = {i.pk: i for i in Issue.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
        issue, into = locked[issue.pk], locked[into.pk]
        if S.MERGED in (issue.status, into.status):
            raise IssueActionError({"into": gettext("已合并的问题不能再合并")})
        moved = Ticket.objects.filter(issue=issue).update(issue=into)
        from_status = issue.status
        issue.status = S.MERGED
        issue.merged_into = into
        issue.is_spiking = False
        issue.is_overdue = False
        issue.save(update_fields=["status", "merged_into", "is_spiking", "is_overdue", "updated_at"])
        Issue.objects.filter(merged_into=issue).update(merged_into=into)
        issue_recount(issue_id=issue.pk)
        issue_recount(issue_id=into.pk)
        _log(issue, actor, ActivityVerb.MERGED, from_status, f"#{into.pk}", note, into=into.pk, tickets=moved)
        _log(into, actor, ActivityVerb.MERGED, f"#{issue.pk}", "", note, merged_from=issue.pk, tickets=moved)
    into.refresh_from_db()
    return into


def issues_regression_check(*, issue_ids: list[int], now: datetime | None = None) -> list[int]:
    """Reopen resolved/closed issues whose tickets came back at their former rate; return those reopened.

    Regressed when the tickets received after resolution within the last 7 days
    reach ISSUE_REGRESSION_RATIO x the 7-day count before resolution, and at
    least ISSUE_REGRESSION_MIN_TICKETS: one stray ticket never reopens an issue.
    """
    now = now or timezone.now()
    ratio = issue_setting("ISSUE_REGRESSION_RATIO")
    minimum = issue_setting("ISSUE_REGRESSION_MIN_TICKETS")
    reopened: list[int] = []
    candidates = Issue.objects.filter(pk__in=issue_ids, status__in=DONE_STATUSES, resolved_at__isnull=False)
    for issue in candidates.select_related("department"):
        since = max(issue.resolved_at, now - timedelta(days=7))
        after = Ticket.objects.filter(issue=issue, received_at__gt=since).count()
        before = issue.rate_before_resolution or 0
        if after < max(minimum, ratio * before):
            continue
        acknowledge_due, resolve_due = sla_due_times(priority=issue.priority, start=now)
        claimed = Issue.objects.filter(pk=issue.pk, status__in=DONE_STATUSES).update(
            status=S.REGRESSED,
            regressed_at=now,
            regression_count=F("regression_count") + 1,
            acknowledge_due_at=acknowledge_due,
            resolve_due_at=resolve_due,
            acknowledged_at=None,
            is_overdue=False,
            overdue_since=None,
            updated_at=now,
        )
        if not claimed:
            continue
        issue.refresh_from_db()
        reopened.append(issue.pk)
        _log(issue, None, ActivityVerb.REGRESSED, "resolved", S.REGRESSED,
             f"解决后 7 天内又收到 {after} 张工单（解决前 7 天 {before} 张）", after=after, before=before)
        if issue.department_id:
            from .notifications import TranslatableText, notification_create

            notification_create(
                kind=NotificationKind.REGRESSED,
                title=TranslatableText("问题复发：%(title)s", title=issue.display_title),
                body=TranslatableText(
                    "问题 #%(number)s 已于 %(day)s 解决（措施：%(action)s），之后又收到 %(count)s 张工单，已重新打开。",
                    number=issue.pk, day=f"{issue.resolved_at:%Y-%m-%d}", action=issue.action_taken, count=after),
                department=issue.department,
                issue=issue,
                dedupe_key=f"regressed:{issue.pk}:{issue.regression_count}",
                payload={"after": after, "before": before},
            )
    return reopened


def _each_issue(issue_ids: list[int], change) -> tuple[list[int], dict[int, str]]:
    """Apply ``change(issue)`` to each issue; return (changed ids, {id: reason} for those refused)."""
    changed: list[int] = []
    refused: dict[int, str] = {}
    for issue in Issue.objects.filter(pk__in=issue_ids).select_related("department", "assignee"):
        try:
            change(issue)
            changed.append(issue.pk)
        except (PermissionDenied, IssueActionError) as error:
            refused[issue.pk] = str(error)
    return changed, refused


def issues_bulk_transition(
    *, issue_ids: list[int], to_status: str, actor, note: str = "", action_taken: str = "", action_date=None
) -> tuple[list[int], dict[int, str]]:
    """Apply one transition to many issues; return (changed ids, {id: reason} for those refused)."""
    return _each_issue(issue_ids, lambda issue: issue_transition(
        issue=issue, to_status=to_status, actor=actor, note=note, action_taken=action_taken, action_date=action_date,
    ))


def issues_bulk_assign(*, issue_ids: list[int], assignee, actor) -> tuple[list[int], dict[int, str]]:
    """Assign many issues through issue_assign; return (changed ids, {id: reason} for those refused)."""
    return _each_issue(issue_ids, lambda issue: issue_assign(issue=issue, assignee=assignee, actor=actor))
