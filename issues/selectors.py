"""Reads of the issue library, shaped for pages, the API and reports.

Every selector runs a fixed number of queries whatever the page size: related
rows come with select_related, sparklines and series in one query per page.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from feedback.models import Ticket

from .conf import issue_setting
from .models import (
    OPEN_STATUSES,
    UNACKNOWLEDGED_STATUSES,
    Department,
    Issue,
    IssueActivity,
    IssueDaily,
    IssueStatus,
    Priority,
    SubTheme,
    SubThemeStatus,
    TRANSITIONS,
)

ORDERINGS = {
    "volume": ("-count_7d", "-ticket_count", "-id"),
    "volume_30d": ("-count_30d", "-id"),
    "growth": ("-growth_7d", "-count_7d", "-id"),
    "recent": ("-last_seen_at", "-id"),
    "new": ("-first_seen_at", "-id"),
    "total": ("-ticket_count", "-id"),
    "priority": ("priority", "-count_7d", "-id"),
}


def _truthy(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes", "on")


def _is_id(value: Any) -> bool:
    """True for an ASCII number that fits a primary key ("²".isdigit() is True too, but int() refuses it)."""
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 18


def _base() -> QuerySet[Issue]:
    return Issue.objects.select_related("category", "department", "assignee", "product")


def issue_list(*, filters: dict[str, Any] | None = None, user=None) -> QuerySet[Issue]:
    """Return issues filtered for the library overview (everyone logged in may read all of them).

    Filters (all optional): category (code or id), department (code or id, or "mine"
    for the user's department), status (a status, a comma list, or "open"), spiking,
    overdue, product (SKU), product_category, assignee ("me" or a user id), q (text in
    title, scope or keywords), also (category code or id: issues holding tickets an agent marked
    as also about it, each annotated with ``also_count``; counts unchanged), ordering (one of
    ORDERINGS; default volume).
    """
    filters = filters or {}
    issues = _base()
    category = filters.get("category")
    if category:
        issues = issues.filter(category_id=int(category)) if _is_id(category) else issues.filter(category__code=category)
    department = filters.get("department")
    if department == "mine" and user is not None:
        issues = issues.filter(department_id=getattr(user, "department_id", None))
    elif department:
        issues = (
            issues.filter(department_id=int(department)) if _is_id(department)
            else issues.filter(department__code=department)
        )
    status = filters.get("status")
    if status == "open":
        issues = issues.filter(status__in=OPEN_STATUSES)
    elif status:
        statuses = [s for s in str(status).split(",") if s in IssueStatus.values]
        issues = issues.filter(status__in=statuses)
    else:
        issues = issues.exclude(status=IssueStatus.MERGED)
    spiking = _truthy(filters.get("spiking"))
    if spiking is not None:
        issues = issues.filter(is_spiking=spiking)
    overdue = _truthy(filters.get("overdue"))
    if overdue is not None:
        issues = issues.filter(is_overdue=overdue)
    product = filters.get("product")
    if product:
        issues = issues.filter(Q(product__sku=product) | Q(scope_type="sku", scope_key=product))
    if filters.get("product_category"):
        issues = issues.filter(product_category=filters["product_category"])
    if filters.get("priority") in Priority.values:
        issues = issues.filter(priority=filters["priority"])
    assignee = filters.get("assignee")
    if assignee == "me" and user is not None:
        issues = issues.filter(assignee=user)
    elif assignee and _is_id(assignee):
        issues = issues.filter(assignee_id=int(assignee))
    text = (filters.get("q") or "").strip()
    if text:
        issues = issues.filter(Q(title__icontains=text) | Q(scope_key__icontains=text) | Q(keywords__icontains=text))
    also = filters.get("also")
    if also:
        issues = _also_about(issues, also)
    return issues.order_by(*ORDERINGS.get(filters.get("ordering") or "volume", ORDERINGS["volume"]))


def _also_tickets(category: str) -> QuerySet[Ticket]:
    """Tickets an agent marked as also about ``category`` (a code or an id)."""
    if _is_id(category):
        return Ticket.objects.filter(also_category_id=int(category))
    return Ticket.objects.filter(also_category__code=category)


def _also_about(issues: QuerySet[Issue], category: str) -> QuerySet[Issue]:
    """Keep the issues holding tickets also about ``category``, each with ``also_count``: how many.

    A filter, not a second count: the issues' own counts (ticket_count, count_7d ...) stay what
    they are, and the tickets stay counted under their first category only.
    """
    tickets = _also_tickets(category).filter(issue=OuterRef("pk"))
    count = tickets.order_by().values("issue").annotate(n=Count("pk")).values("n")
    return issues.filter(Exists(tickets)).annotate(also_count=Subquery(count))


def issue_also_ticket_count(*, issues: QuerySet[Issue], category: str) -> int:
    """Return how many tickets of ``issues`` are also about ``category`` (each ticket once)."""
    return _also_tickets(category).filter(issue__in=issues.order_by().values("pk")).count()


def issue_assignee_candidates(*, issue: Issue, actor) -> QuerySet:
    """Return who ``actor`` may assign ``issue`` to: active members of its department, the actor, or its
    current assignee. The page's choices and the service's check (so the API too) both come from here."""
    from django.contrib.auth import get_user_model

    people = Q(is_active=True) & (Q(department_id=issue.department_id) | Q(pk=getattr(actor, "pk", None)))
    if issue.assignee_id:
        people |= Q(pk=issue.assignee_id)
    return get_user_model().objects.filter(people).order_by("username")


QUEUE_VIEWS = ("queue", "watching", "dormant", "mine")


def department_queue(
    *, department: Department | int, statuses: tuple[str, ...] = OPEN_STATUSES, view: str = "queue",
    now: datetime | None = None, user=None,
) -> QuerySet[Issue]:
    """Return a department's open issues in the order a lead works them.

    Spiking first, then overdue, then priority (P1 first), then 7-day volume,
    then week-over-week growth. ``view``: "queue" (高频 and active, or taken up), "watching"
    (观察中: below the 高频 threshold), "dormant" (no ticket for ISSUE_DORMANT_DAYS days) or
    "mine" (分配给我: assigned to ``user``, whatever their size or age).
    """
    department_id = department.pk if isinstance(department, Department) else department
    now = now or timezone.now()
    if view == "mine":
        # Nobody logged in has nothing assigned (assignee_id=None would match every unassigned issue).
        condition = Q(assignee_id=user.pk) if getattr(user, "pk", None) else Q(pk__in=[])
    else:
        condition = {"queue": queue_condition(now=now), "watching": watching_condition(),
                     "dormant": dormant_condition(now=now)}[view]
    # The partial index issue_queue_order has exactly this order, so a page is an index scan.
    return (
        _base()
        .filter(condition, department_id=department_id, status__in=statuses)
        .order_by("-is_spiking", "-is_overdue", "priority", "-count_7d", "-growth_7d", "-id")
    )


def department_queue_sizes(*, department: Department | int, now: datetime | None = None,
                           user=None) -> dict[str, int]:
    """Return {"queue": n, "watching": n, "dormant": n} for a department's open issues, in one query, and
    "mine" (assigned to ``user``) when a user is given."""
    department_id = department.pk if isinstance(department, Department) else department
    now = now or timezone.now()
    counts = {
        "queue": Count("id", filter=queue_condition(now=now)),
        "watching": Count("id", filter=watching_condition()),
        "dormant": Count("id", filter=dormant_condition(now=now)),
    }
    if getattr(user, "pk", None):
        counts["mine"] = Count("id", filter=Q(assignee_id=user.pk))
    return Issue.objects.filter(department_id=department_id, status__in=OPEN_STATUSES).aggregate(**counts)


def queue_condition(*, now: datetime) -> Q:
    """Issues that belong in a department's default queue: 高频 and not dormant, or already taken up."""
    cutoff = now - timedelta(days=issue_setting("ISSUE_DORMANT_DAYS"))
    return (
        Q(status=IssueStatus.IN_PROGRESS)
        | Q(assignee__isnull=False)
        | (Q(ticket_count__gte=issue_setting("ISSUE_HIGH_FREQUENCY_MIN_TICKETS")) & Q(last_seen_at__gt=cutoff))
    )


def watching_condition() -> Q:
    """Open issues too small to be 高频 yet (and nobody has taken them up)."""
    return Q(ticket_count__lt=issue_setting("ISSUE_HIGH_FREQUENCY_MIN_TICKETS")) & ~(
        Q(status=IssueStatus.IN_PROGRESS) | Q(assignee__isnull=False))


def dormant_condition(*, now: datetime) -> Q:
    """Open 高频 issues with no ticket for ISSUE_DORMANT_DAYS days (and nobody has taken them up)."""
    cutoff = now - timedelta(days=issue_setting("ISSUE_DORMANT_DAYS"))
    return (
        Q(ticket_count__gte=issue_setting("ISSUE_HIGH_FREQUENCY_MIN_TICKETS"))
        & (Q(last_seen_at__lte=cutoff) | Q(last_seen_at__isnull=True))
        & ~(Q(status=IssueStatus.IN_PROGRESS) | Q(assignee__isnull=False))
    )



def issue_sparklines(*, issue_ids: list[int], days: int = 30, today: date | None = None) -> dict[int, list[int]]:
    """Return {issue id: daily counts of the last ``days`` days, oldest first} in one query."""
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    series: dict[int, list[int]] = {issue_id: [0] * days for issue_id in issue_ids}
    if not issue_ids:
        return series
    # order_by(): IssueDaily's default ordering by issue would join and sort the issues table.
    rows = IssueDaily.objects.filter(issue_id__in=issue_ids, day__gte=start, day__lte=today).order_by()
    for issue_id, day, count in rows.values_list("issue_id", "day", "count"):
        series[issue_id][(day - start).days] = count
    return series


def issue_daily_series(*, issue_id: int, days: int = 90, today: date | None = None) -> list[dict[str, Any]]:
    """Return [{"day": date, "count": n}] for the last ``days`` days, zeros filled in."""
    today = today or timezone.localdate()
    counts = issue_sparklines(issue_ids=[issue_id], days=days, today=today)[issue_id]
    start = today - timedelta(days=days - 1)
    return [{"day": start + timedelta(days=i), "count": count} for i, count in enumerate(counts)]


@dataclass
class IssueDetail:
    issue: Issue
    series: list[dict[str, Any]]
    subthemes: list[SubTheme]
    representative_tickets: list[Ticket]
    recent_tickets: list[Ticket]
    activities: list[IssueActivity]
    merged_from: list[Issue]
    allowed_transitions: list[str] = field(default_factory=list)


def issue_detail(*, issue_id: int, days: int = 90, ticket_limit: int = 50) -> IssueDetail:
    """Return everything the issue page shows. Raises Issue.DoesNotExist."""
    issue = _base().select_related("resolved_by", "merged_into", "routing_rule").get(pk=issue_id)
    representative_ids = list(issue.representative_ticket_ids or [])
    by_id = Ticket.objects.select_related("product").in_bulk(representative_ids)
    return IssueDetail(
        issue=issue,
        series=issue_daily_series(issue_id=issue_id, days=days),
        subthemes=list(SubTheme.objects.filter(issue=issue, status=SubThemeStatus.ACTIVE).order_by("-size")[:12]),
        representative_tickets=[by_id[i] for i in representative_ids if i in by_id],
        recent_tickets=list(
            Ticket.objects.filter(issue=issue).select_related("product").order_by("-received_at", "-id")[:ticket_limit]
        ),
        activities=list(issue.activities.select_related("actor").order_by("-created_at", "-id")[:200]),
        merged_from=list(Issue.objects.filter(merged_into=issue).only("id", "title", "ticket_count")),
        allowed_transitions=allowed_transitions(issue),
    )


def category_subthemes(*, category_id: int) -> list[SubTheme]:
    return list(
        SubTheme.objects.filter(category_id=category_id, issue__isnull=True, status=SubThemeStatus.ACTIVE).order_by("-size")
    )


def candidate_subthemes() -> list[SubTheme]:
    return list(SubTheme.objects.filter(is_candidate=True, status=SubThemeStatus.CANDIDATE).order_by("-size"))


# --- the daily high-frequency issue report ---


@dataclass
class ReportRow:
    issue: Issue
    count: int  # tickets on the report day
    baseline: float  # mean daily tickets over the 7 days before
    growth: float  # count - baseline


@dataclass
class DailyReport:
    day: date
    tickets: int
    top_by_volume: list[ReportRow]
    top_by_growth: list[ReportRow]
    new: list[ReportRow]
    spiking: list[ReportRow]
    resolved: list[Issue]

    @property
    def sections(self) -> list[tuple[str, str, list]]:
        return [
            ("top_by_volume", "当日工单最多", self.top_by_volume),
            ("top_by_growth", "增长最快", self.top_by_growth),
            ("new", "新问题", self.new),
            ("spiking", "激增", self.spiking),
            ("resolved", "已解决", self.resolved),
        ]


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, start + timedelta(days=1)


def daily_report(*, day: date | None = None, top: int = 10) -> DailyReport:
    """Return the high-frequency issue report of one day (default: yesterday)."""
    day = day or timezone.localdate() - timedelta(days=1)
    counts = dict(IssueDaily.objects.filter(day=day, count__gt=0).values_list("issue_id", "count"))
    total = sum(counts.values())
    baseline_totals: dict[int, int] = defaultdict(int)
    if counts:
        # Only issues among the day's top few hundred matter for growth: bounded query.
        busiest = sorted(counts, key=counts.get, reverse=True)[:500]
        for issue_id, value in (
            IssueDaily.objects.filter(issue_id__in=busiest, day__gte=day - timedelta(days=7), day__lt=day)
            .order_by()
            .values("issue_id")
            .annotate(total=Sum("count"))
            .values_list("issue_id", "total")
        ):
            baseline_totals[issue_id] = value
    else:
        busiest = []
    start, end = _day_bounds(day)
    new_ids = list(
        Issue.objects.filter(first_seen_at__gte=start, first_seen_at__lt=end).order_by("-ticket_count").values_list("pk", flat=True)[:50]
    )
    spiking = spiking_issue_ids(day=day)
    resolved = list(_base().filter(resolved_at__gte=start, resolved_at__lt=end).order_by("-resolved_at"))
    volume_ids = busiest[:top]

    def growth(issue_id: int) -> float:
        return counts.get(issue_id, 0) - baseline_totals.get(issue_id, 0) / 7

    growth_ids = [i for i in sorted(busiest, key=growth, reverse=True) if growth(i) > 0][:top]
    wanted = set(volume_ids) | set(growth_ids) | set(new_ids) | set(spiking)
    issues = _base().in_bulk(list(wanted))

    def row(issue_id: int) -> ReportRow:
        baseline = spiking[issue_id][1] if issue_id in spiking else baseline_totals.get(issue_id, 0) / 7
        count = counts.get(issue_id, 0)
        return ReportRow(issues[issue_id], count, round(baseline, 2), round(count - baseline, 2))

    return DailyReport(
        day=day,
        tickets=total,
        top_by_volume=[row(i) for i in volume_ids if i in issues],
        top_by_growth=[row(i) for i in growth_ids if i in issues],
        new=[row(i) for i in new_ids if i in issues],
        spiking=sorted((row(i) for i in spiking if i in issues), key=lambda r: -r.count),
        resolved=resolved,
    )


def department_list_with_counts() -> QuerySet[Department]:
    """Every department with its open, spiking, overdue and unacknowledged issue counts (one query)."""
    open_issues = Q(issues__status__in=OPEN_STATUSES)
    return Department.objects.order_by("id").annotate(
        open_count=Count("issues", filter=open_issues),
        spiking_count=Count("issues", filter=open_issues & Q(issues__is_spiking=True)),
        overdue_count=Count("issues", filter=open_issues & Q(issues__is_overdue=True)),
        unacknowledged_count=Count("issues", filter=Q(issues__status__in=UNACKNOWLEDGED_STATUSES)),
    )


def department_team(*, department: Department | int) -> list:
    """Return a department's active members, leads first then by name: who can be assigned its issues."""
    from django.contrib.auth import get_user_model
    from django.db.models import Case, IntegerField, Value, When

    from accounts.models import Role

    department_id = department.pk if isinstance(department, Department) else department
    return list(
        get_user_model().objects.filter(department_id=department_id, is_active=True)
        .annotate(lead_first=Case(When(role=Role.LEAD, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("lead_first", "username")
        .only("id", "username", "first_name", "last_name", "role", "department_id")
    )


def department_team_with_load(*, department: Department) -> list:
    """Return the department's team (as ``department_team``), each with ``open_assigned``: open issues they hold."""
    from django.contrib.auth import get_user_model

    team = department_team(department=department)
    held = dict(
        get_user_model().objects.filter(pk__in=[member.pk for member in team])
        .annotate(held=Count("assigned_issues", filter=Q(assigned_issues__status__in=OPEN_STATUSES)))
        .values_list("pk", "held")
    )
    for member in team:
        member.open_assigned = held.get(member.pk, 0)
    return team


def team_candidates() -> list:
    """Return the active agents in no department: whom a lead may add to their team."""
    from django.contrib.auth import get_user_model

    from accounts.models import Role

    return list(
        get_user_model().objects.filter(is_active=True, role=Role.AGENT, department__isnull=True)
        .order_by("username").only("id", "username", "first_name", "last_name")
    )


def allowed_transitions(issue: Issue) -> list[str]:
    """Return the statuses ``issue`` may move to next, in workflow order."""
    order = [IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS, IssueStatus.RESOLVED, IssueStatus.CLOSED,
             IssueStatus.IGNORED, IssueStatus.NEW]
    allowed = TRANSITIONS.get(issue.status, frozenset())
    return [status for status in order if status in allowed]


def spiking_issue_ids(*, day: date) -> dict[int, tuple[int, float]]:
    """Return {issue id: (count on day, trailing 7-day mean)} for issues spiking on ``day``."""
    ratio = issue_setting("ISSUE_SPIKE_RATIO")
    minimum = issue_setting("ISSUE_SPIKE_MIN_TICKETS")
    counts = dict(IssueDaily.objects.filter(day=day, count__gte=minimum).values_list("issue_id", "count"))
    if not counts:
        return {}
    baseline = dict(
        IssueDaily.objects.filter(issue_id__in=list(counts), day__gte=day - timedelta(days=7), day__lt=day)
        .order_by()
        .values("issue_id")
        .annotate(total=Sum("count"))
        .values_list("issue_id", "total")
    )
    result = {}
    for issue_id, count in counts.items():
        mean = (baseline.get(issue_id) or 0) / 7
        if count >= ratio * mean:
            result[issue_id] = (count, mean)
    return result
