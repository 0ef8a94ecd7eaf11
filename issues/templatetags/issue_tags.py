"""Template helpers for the issue-library pages.

The sparkline is inline SVG built on the server from integers only, so a page of
fifty issues costs no JavaScript and no extra query. Nothing here marks user text safe.
"""
from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from feedback.masking import mask_phone_numbers
from feedback.models import Channel
from issues.models import UNACKNOWLEDGED_STATUSES, ActivityVerb, IssueStatus

register = template.Library()

SPARKLINE_WIDTH = 104
SPARKLINE_HEIGHT = 26
# A deadline closer than this is shown as due soon.
DUE_SOON = timedelta(hours=4)


@register.simple_tag
def sparkline(values, width: int = SPARKLINE_WIDTH, height: int = SPARKLINE_HEIGHT, label: str = ""):
    """Render daily counts (oldest first) as a small inline SVG line with a shaded area."""
    counts = [max(0, int(v or 0)) for v in (values or [])]
    if not counts:
        return ""
    peak = max(counts) or 1
    step = (width - 2) / max(len(counts) - 1, 1)
    usable = height - 4

    def point(index: int, count: int) -> tuple[float, float]:
        return 1 + index * step, 2 + usable - usable * count / peak

    points = [point(i, c) for i, c in enumerate(counts)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    area = f"1,{height - 1} {line} {points[-1][0]:.1f},{height - 1}"
    last_x, last_y = points[-1]
    total = sum(counts)
    title = label or _("近 %(days)s 天共 %(total)s 张工单，单日最多 %(peak)s 张") % {
        "days": len(counts), "total": total, "peak": max(counts)}
    return format_html(
        '<svg class="sparkline" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">'
        "<title>{t}</title>"
        '<polygon class="sparkline__area" points="{area}"/>'
        '<polyline class="sparkline__line" points="{line}"/>'
        '<circle class="sparkline__last" cx="{x}" cy="{y}" r="2"/>'
        "</svg>",
        w=width, h=height, t=title, area=area, line=line, x=f"{last_x:.1f}", y=f"{last_y:.1f}",
    )


@register.filter
def ago(value) -> str:
    """How long ago, in its largest unit only ("3 小时", not "3 小时，12 分钟"): enough for a list."""
    return timesince(value, depth=1) if value else ""


@register.filter
def lookup(mapping, key):
    """{{ sparklines|lookup:issue.pk }}: read a dict by a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def display_name(obj) -> str:
    """A category or department in the active language."""
    if obj is None:
        return ""
    return obj.display_name(get_language() or "zh-hans")


@register.filter
def masked(text: str | None) -> str:
    """Ticket text with phone numbers masked; still escaped by the template."""
    return mask_phone_numbers(text or "")


@register.filter
def channel_label(value: str) -> str:
    try:
        return Channel(value).label
    except ValueError:
        return value


@register.filter
def status_label(value: str) -> str:
    """Show an issue status value (as stored in the activity log) by its label."""
    try:
        return IssueStatus(value).label
    except ValueError:
        return value


@register.filter
def verb_label(value: str) -> str:
    try:
        return ActivityVerb(value).label
    except ValueError:
        return value


@register.simple_tag
def sla_due(issue) -> dict:
    """Return the SLA deadline that applies now: {"kind", "at", "overdue", "passed", "soon"}, or {} when none applies."""
    if issue.status in UNACKNOWLEDGED_STATUSES:
        kind, at = _("确认"), issue.acknowledge_due_at
    elif issue.status in (IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS):
        kind, at = _("解决"), issue.resolve_due_at
    else:
        return {}
    if at is None:
        return {}
    now = timezone.now()
    overdue = issue.is_overdue or at < now
    return {"kind": kind, "at": at, "overdue": overdue, "passed": at < now,
            "soon": not overdue and at < now + DUE_SOON}


@register.filter
def growth_percent(issue) -> str:
    """Week-over-week growth as '+50%' / '-20%', 'new' without a previous week, '' when flat at zero."""
    if not issue.count_prev_7d:
        return pgettext("weekly growth", "新增") if issue.count_7d else ""
    change = (issue.count_7d - issue.count_prev_7d) / issue.count_prev_7d * 100
    return f"{change:+.0f}%"


@register.filter
def growth_direction(issue) -> str:
    if issue.count_7d > issue.count_prev_7d:
        return "up"
    if issue.count_7d < issue.count_prev_7d:
        return "down"
    return "flat"


@register.simple_tag
def unread_notifications(user) -> int:
    """How many in-app notifications ``user`` has not read (0 for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    from issues.services import notifications_for_user

    return notifications_for_user(user).filter(read_at__isnull=True).count()


def _department_names(context) -> dict:
    """Departments by id, read once per page render (a notifications page names many)."""
    from issues.models import Department

    cache = context.render_context
    if "issue_tags_departments" not in cache:
        cache["issue_tags_departments"] = Department.objects.in_bulk()
    return cache["issue_tags_departments"]


@register.simple_tag(takes_context=True)
def notification_text(context, notification, part: str = "title") -> str:
    """A notification's title or body in the reader's language.

    Moves (kind routed, with the payload issue_move_notify writes) are worded here with gettext at
    render time; every other notification, and moves stored before the payload said enough, show
    the stored text. The result is plain text (autoescaped by the template).
    """
    stored = notification.title if part == "title" else notification.body
    payload = notification.payload or {}
    if notification.kind != "routed" or "audience" not in payload:
        return stored
    language = get_language() or "zh-hans"
    departments = _department_names(context)

    def name(department_id) -> str:
        department = departments.get(department_id)
        return department.display_name(language) if department else _("未分配")

    title = notification.issue.title if notification.issue_id and notification.issue else ""
    if part == "title":
        if payload["audience"] == "new":
            return _("问题转入%(department)s：%(title)s") % {"department": name(payload.get("to")), "title": title}
        if payload["audience"] == "old":
            return _("问题已转出%(department)s：%(title)s") % {"department": name(payload.get("from")), "title": title}
        return _("你负责的问题已转部门：%(title)s") % {"title": title}
    body = _("问题 #%(id)s 由%(old)s转给%(new)s。") % {
        "id": notification.issue_id, "old": name(payload.get("from")), "new": name(payload.get("to"))}
    source, detail = payload.get("source"), payload.get("detail") or ""
    if source == "rule":
        body += _("路由规则：%(rule)s") % {"rule": detail}
    elif source == "default":
        body += _("类别默认部门")
    elif detail:
        body += detail
    return body
