"""Routing: send each issue to the department that can fix it (policy in issues.models.routing)."""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from feedback.bulk_sql import in_values
from feedback.models import Category, Ticket

from ..conf import issue_setting
from ..models import OPEN_STATUSES, ActivityVerb, DepartmentSource, Issue, IssueActivity, RerouteState, RoutingRule

logger = logging.getLogger(__name__)

ROUTING_TICKET_FIELDS = ("id", "text", "channel", "category_id", "sku_raw", "product__sku", "product__product_category")


def routing_rule_matches(rule: RoutingRule, ticket: dict[str, Any]) -> bool:
    """Tell whether every non-empty condition of ``rule`` matches one ticket row."""
    if rule.category_id and rule.category_id != ticket.get("category_id"):
        return False
    if rule.product_category and rule.product_category != (ticket.get("product__product_category") or ""):
        return False
    if rule.sku and rule.sku not in (ticket.get("product__sku"), ticket.get("sku_raw")):
        return False
    if rule.channel and rule.channel != ticket.get("channel"):
        return False
    keywords = rule.keyword_list
    if keywords:
        text = (ticket.get("text") or "").lower()
        if not any(keyword in text for keyword in keywords):
            return False
    return True


def active_rules() -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(is_active=True).order_by("order", "id"))


def ticket_route(ticket: dict[str, Any], rules: list[RoutingRule], default_department_id: int | None
                 ) -> tuple[int | None, RoutingRule | None]:
    """Return (department id, the rule that decided or None) for one ticket row: first match wins."""
    for rule in rules:
        if routing_rule_matches(rule, ticket):
            return rule.department_id, rule
    return default_department_id, None


@dataclass
class RouteDecision:
    department_id: int | None
    rule: RoutingRule | None
    votes: dict[int | None, int]


def issue_route_decide(issue: Issue, rules: list[RoutingRule] | None = None) -> RouteDecision:
    """Decide an issue's department: the one most of its recent tickets route to."""
    rules = [rule for rule in (active_rules() if rules is None else rules) if rule.applies_to(issue)]
    default_department_id = (
        Category.objects.filter(pk=issue.category_id).values_list("default_department_id", flat=True).first()
    )
    if not rules:
        return RouteDecision(default_department_id, None, {})
    sample = list(
        Ticket.objects.filter(issue=issue)
        .order_by("-received_at", "-id")
        .values(*ROUTING_TICKET_FIELDS)[: issue_setting("ISSUE_ROUTING_SAMPLE")]
    )
    if not sample:
        # No ticket yet (or all moved away): decide on the issue's own attributes.
        sample = [{
            "category_id": issue.category_id,
            "product__product_category": issue.product_category,
            "product__sku": issue.scope_key if issue.scope_type == "sku" else None,
            "text": "",
            "channel": None,
        }]
    votes: Counter[int | None] = Counter()
    best_rule: dict[int | None, RoutingRule | None] = {}
    for ticket in sample:
        department_id, rule = ticket_route(ticket, rules, default_department_id)
        votes[department_id] += 1
        current = best_rule.get(department_id)
        if department_id not in best_rule or (rule is not None and (current is None or rule.order < current.order)):
            best_rule[department_id] = rule

    def rank(department_id: int | None) -> tuple[int, int]:
        rule = best_rule[department_id]
        return (-votes[department_id], rule.order if rule else 10**9)

    winner = min(votes, key=rank)
    return RouteDecision(winner, best_rule[winner], dict(votes))


def issue_route(*, issue_id: int, rules: list[RoutingRule] | None = None) -> bool:
    """Route one issue by the active rules; return True if its department changed.

    Issues whose department was set by hand, and merged issues, are left alone.
    """
    with transaction.atomic():
        issue = Issue.objects.select_for_update().filter(pk=issue_id).first()
        if issue is None or issue.department_source == DepartmentSource.MANUAL or issue.status == "merged":
            return False
        decision = issue_route_decide(issue, rules)
        source = DepartmentSource.RULE if decision.rule else DepartmentSource.DEFAULT
        changed = decision.department_id != issue.department_id
        previous_department_id = issue.department_id
        issue.department_id = decision.department_id
        issue.routing_rule = decision.rule
        issue.department_source = source
        issue.routed_at = timezone.now()
        issue.save(update_fields=["department", "routing_rule", "department_source", "routed_at", "updated_at"])
        if changed:
            IssueActivity.objects.create(
                issue=issue,
                verb=ActivityVerb.ROUTED,
                from_value=str(previous_department_id or ""),
                to_value=str(decision.department_id or ""),
                note=f"路由规则：{decision.rule.name}" if decision.rule else "类别默认部门",
                payload={"rule": decision.rule.pk if decision.rule else None,
                         "votes": {str(k): v for k, v in decision.votes.items()}},
            )
            issue_move_notify(issue=issue, previous_department_id=previous_department_id,
                              reason=f"路由规则：{decision.rule.name}" if decision.rule else "类别默认部门",
                              source="rule" if decision.rule else "default",
                              detail=decision.rule.name if decision.rule else "")
    return changed


def issue_move_notify(*, issue: Issue, previous_department_id: int | None, reason: str = "", source: str = "manual",
                      detail: str = "") -> None:
    """Tell the new department, the old one and the assignee that an issue changed department.

    A move can take an issue away from the person working it; nobody should learn that by
    finding it gone from their queue. The stored title and body are Chinese (e-mail, webhooks);
    the payload says who, from where, to where and why (``source``: rule, default or manual, with
    ``detail`` the rule's name or the person's note), so the app shows them in the reader's language
    (issue_tags.notification_text).
    """
    from ..models import Department, NotificationKind
    from .notifications import notification_create

    departments = Department.objects.in_bulk([d for d in (previous_department_id, issue.department_id) if d])
    new = departments.get(issue.department_id)
    old = departments.get(previous_department_id)
    body = (f"问题 #{issue.pk} 由{old.name_zh if old else '未分配'}转给{new.name_zh if new else '未分配'}。"
            f"{reason}")
    payload = {"from": previous_department_id, "to": issue.department_id, "source": source, "detail": detail}
    if new is not None:
        notification_create(kind=NotificationKind.ROUTED, title=f"问题转入{new.name_zh}：{issue.title}", body=body,
                            department=new, issue=issue, payload={**payload, "audience": "new"})
    if old is not None:
        notification_create(kind=NotificationKind.ROUTED,
                            title=f"问题已转出{old.name_zh}：{issue.title}", body=body,
                            department=old, issue=issue, payload={**payload, "audience": "old"})
    if issue.assignee_id:
        notification_create(kind=NotificationKind.ROUTED, title=f"你负责的问题已转部门：{issue.title}", body=body,
                            recipient=issue.assignee, issue=issue, payload={**payload, "audience": "assignee"})


def department_has_active_lead(department_id: int | None) -> bool:
    from django.contrib.auth import get_user_model

    from accounts.models import Role

    if department_id is None:
        return False
    return get_user_model().objects.filter(department_id=department_id, role=Role.LEAD, is_active=True).exists()


def issues_route_many(*, issue_ids: list[int]) -> int:
    """Route many issues with a fixed number of queries (new issues of a batch); return how many changed.

    Same policy as issue_route; the ticket sample is the issues' most recent tickets.
    """
    if not issue_ids:
        return 0
    rules = active_rules()
    now = timezone.now()
    with transaction.atomic():
        issues = list(
            Issue.objects.select_for_update()
            .filter(in_values("pk", issue_ids))
            .exclude(department_source=DepartmentSource.MANUAL)
            .exclude(status="merged")
            .order_by("pk")
        )
        defaults = dict(Category.objects.values_list("pk", "default_department_id"))
        samples: dict[int, list[dict[str, Any]]] = {issue.pk: [] for issue in issues}
        if rules:
            limit = issue_setting("ISSUE_ROUTING_SAMPLE")
            for ticket in Ticket.objects.filter(in_values("issue_id", list(samples))).order_by("-received_at", "-id").values(
                "issue_id", *ROUTING_TICKET_FIELDS
            )[: limit * len(samples)]:
                if len(samples[ticket["issue_id"]]) < limit:
                    samples[ticket["issue_id"]].append(ticket)
        changed: list[Issue] = []
        activities: list[IssueActivity] = []
        all_rules = rules
        for issue in issues:
            default = defaults.get(issue.category_id)
            rules = [rule for rule in all_rules if rule.applies_to(issue)]
            if rules and samples[issue.pk]:
                votes: Counter[int | None] = Counter()
                best: dict[int | None, RoutingRule | None] = {}
                for ticket in samples[issue.pk]:
                    department_id, rule = ticket_route(ticket, rules, default)
                    votes[department_id] += 1
                    if department_id not in best or (rule and (best[department_id] is None or rule.order < best[department_id].order)):
                        best[department_id] = rule
                winner = min(votes, key=lambda d: (-votes[d], best[d].order if best[d] else 10**9))
                decision = RouteDecision(winner, best[winner], dict(votes))
            elif rules:
                decision = issue_route_decide(issue, rules)
            else:
                decision = RouteDecision(default, None, {})
            previous = issue.department_id
            issue.department_id = decision.department_id
            issue.routing_rule = decision.rule
            issue.department_source = DepartmentSource.RULE if decision.rule else DepartmentSource.DEFAULT
            issue.routed_at = now
            issue.updated_at = now
            changed.append(issue)
            if previous != decision.department_id:
                activities.append(IssueActivity(
                    issue=issue, verb=ActivityVerb.ROUTED, from_value=str(previous or ""),
                    to_value=str(decision.department_id or ""),
                    note=f"路由规则：{decision.rule.name}" if decision.rule else "类别默认部门",
                    payload={"rule": decision.rule.pk if decision.rule else None},
                ))
        # One UPDATE per distinct decision (about one per department), not a CASE per row.
        groups: dict[tuple, list[int]] = defaultdict(list)
        for issue in changed:
            groups[(issue.department_id, issue.routing_rule_id, issue.department_source)].append(issue.pk)
        for (department_id, rule_id, source), ids in groups.items():
            Issue.objects.filter(pk__in=ids).update(
                department_id=department_id, routing_rule_id=rule_id, department_source=source, routed_at=now,
                updated_at=now,
            )
        IssueActivity.objects.bulk_create(activities)
    return len(activities)


# A pending re-route whose task never started (lost by a broker that went away) stops blocking new
# requests after this long.
REROUTE_PENDING_STALE = timedelta(minutes=15)


def _reroute_state() -> RerouteState:
    state, _created = RerouteState.objects.get_or_create(pk=1)
    return state


def reroute_claim_request() -> bool:
    """Mark a re-route pending; False when one already is (the caller's change joins that one)."""
    _reroute_state()
    now = timezone.now()
    return bool(
        RerouteState.objects.filter(Q(pending=False) | Q(requested_at__lt=now - REROUTE_PENDING_STALE), pk=1)
        .update(pending=True, requested_at=now)
    )


def reroute_release_request() -> None:
    """Forget the pending mark after its task could not be sent, so the next change tries again."""
    RerouteState.objects.filter(pk=1, pending=True).update(pending=False)


def reroute_pass_start() -> int | None:
    """Start a re-route pass for the pending request: return its generation, or None if nothing is pending."""
    with transaction.atomic():
        state = RerouteState.objects.select_for_update().filter(pk=1).first()
        if state is None or not state.pending:
            return None  # a duplicate message, or a request a pass already started for
        state.pending = False
        state.generation += 1
        state.started_at = timezone.now()
        state.save(update_fields=["pending", "generation", "started_at"])
        return state.generation


def reroute_pass_current(*, generation: int) -> bool:
    """True while no newer pass has started (an older pass then stops walking its chunks)."""
    return RerouteState.objects.filter(pk=1, generation=generation).exists()


def reroute_send() -> bool:
    """Send the re-route task for a pending request now; False (request released) if the broker is down."""
    from ..tasks import reroute_open_issues

    try:
        reroute_open_issues.apply_async(retry=False)
    except Exception as error:  # kombu raises several types for an unreachable broker
        logger.warning("could not enqueue re-routing after a rule change: %s", error)
        reroute_release_request()
        return False
    return True


def issues_open_reroute(*, chunk: int = 500, after_id: int = 0) -> tuple[int, int | None]:
    """Re-route a chunk of open issues after a rule change; return (changed, cursor for the next chunk or None)."""
    rules = active_rules()
    ids = list(
        Issue.objects.filter(status__in=OPEN_STATUSES, pk__gt=after_id)
        .exclude(department_source=DepartmentSource.MANUAL)
        .order_by("pk")
        .values_list("pk", flat=True)[:chunk]
    )
    changed = sum(1 for issue_id in ids if issue_route(issue_id=issue_id, rules=rules))
    return changed, (ids[-1] if len(ids) == chunk else None)


def reroute_enqueue() -> None:
    """Re-route open issues by Celery once the rule change commits, coalesced: at most one pass waits.

    The task (``issues.reroute_open``) runs on the ``bulk`` queue, so a burst of rule saves never
    delays live triage.
    """

    def send() -> None:
        if reroute_claim_request():
            reroute_send()
        else:
            logger.info("re-route already pending; this rule change joins it")

    transaction.on_commit(send)


class RoutingConfirmationNeeded(ValidationError):
    """Saving the rule would move issues someone is working, or into a department nobody leads."""


def routing_rule_save(
    *, rule: RoutingRule, actor=None, reroute: bool = True, confirm_moves: bool = False,
) -> RoutingRule:
    """Save a rule (admins edit them) and re-route open issues by Celery afterwards.

    When the rule would move open issues that are in progress or assigned, or move issues to a
    department without an active lead, it is saved only with ``confirm_moves=True``
    (RoutingConfirmationNeeded otherwise): the editor shows those issues and asks.
    """
    rule.full_clean()
    if not confirm_moves:
        moves = routing_rule_moves(rule=rule)
        problems = []
        taken = [move for move in moves if move["taken"]]
        if taken:
            problems.append(gettext("将移动 %(count)d 个正在处理或已指派的问题：%(ids)s") % {
                "count": len(taken), "ids": ", ".join(f"#{move['issue'].pk}" for move in taken[:10])})
        leadless = [move for move in moves if not move["target_has_lead"]]
        if leadless:
            problems.append(gettext("将把 %(count)d 个问题移到没有负责人的部门") % {"count": len(leadless)})
        if problems:
            raise RoutingConfirmationNeeded(
                gettext("；").join(problems) + gettext("。请勾选“确认移动这些问题”后再保存。"), code="confirm_moves")
    rule.updated_by = actor
    rule.save()
    if reroute:
        reroute_enqueue()
    return rule


def routing_rule_delete(*, rule: RoutingRule, reroute: bool = True) -> None:
    rule.delete()
    if reroute:
        reroute_enqueue()


def routing_rule_queryset(rule: RoutingRule, *, days: int = 30) -> QuerySet[Ticket]:
    """Return the recent categorised tickets one rule's conditions match (saved or not)."""
    tickets = Ticket.objects.filter(received_at__gte=timezone.now() - timedelta(days=days), category__isnull=False)
    if rule.category_id:
        tickets = tickets.filter(category_id=rule.category_id)
    if rule.product_category:
        tickets = tickets.filter(product__product_category=rule.product_category)
    if rule.sku:
        tickets = tickets.filter(Q(product__sku=rule.sku) | Q(sku_raw=rule.sku))
    if rule.channel:
        tickets = tickets.filter(channel=rule.channel)
    keywords = rule.keyword_list
    if keywords:
        any_keyword = Q()
        for keyword in keywords:
            any_keyword |= Q(text__icontains=keyword)
        tickets = tickets.filter(any_keyword)
    return tickets


def routing_rule_moves(*, rule: RoutingRule, limit: int = 500) -> list[dict[str, Any]]:
    """Return the open issues saving ``rule`` (saved or not) would move to another department.

    Each: {"issue", "from_id", "to_id", "taken" (in progress or assigned), "target_has_lead"}.
    Only issues with a ticket the rule matches can move (rules only add or change matches), so
    those are the ones re-decided, with the rule in place among the active ones.
    """
    rules = [r for r in active_rules() if r.pk != rule.pk or rule.pk is None]
    if rule.is_active:
        rules.append(rule)
    rules.sort(key=lambda r: (r.order, r.pk or 10**12))
    matched_issue_ids = routing_rule_queryset(rule, days=3650).exclude(issue__isnull=True).values("issue_id")
    # An edited rule may also stop matching: its current issues are re-decided too.
    candidates = Issue.objects.filter(
        Q(pk__in=matched_issue_ids) | (Q(routing_rule_id=rule.pk) if rule.pk else Q(pk__in=[])),
        status__in=OPEN_STATUSES,
    ).exclude(department_source=DepartmentSource.MANUAL).select_related("department", "assignee").order_by("pk")
    moves = []
    leads: dict[int | None, bool] = {}
    for issue in candidates[:limit]:
        decision = issue_route_decide(issue, rules)
        if decision.department_id == issue.department_id:
            continue
        if decision.department_id not in leads:
            leads[decision.department_id] = department_has_active_lead(decision.department_id)
        moves.append({
            "issue": issue, "from_id": issue.department_id, "to_id": decision.department_id,
            "taken": issue.status == "in_progress" or issue.assignee_id is not None,
            "target_has_lead": leads[decision.department_id],
        })
    # Those someone is working first: they are what the admin must look at.
    moves.sort(key=lambda move: (not move["taken"], move["issue"].pk))
    return moves


def routing_rule_preview(*, rule: RoutingRule, days: int = 30, limit: int = 20) -> dict[str, Any]:
    """Show what a rule would match among recent tickets: the count, a sample, and how many an earlier rule takes.

    Returns {"count", "tickets" (newest first, up to ``limit``), "shadowed" (matches an
    earlier-ordered active rule already takes), "issues" (distinct issues touched)}.
    """
    matched = routing_rule_queryset(rule, days=days)
    sample = list(
        matched.select_related("category", "product").order_by("-received_at", "-id")[:limit]
    )
    earlier = [
        r for r in active_rules()
        if r.pk != rule.pk and (r.order, r.pk) < (rule.order, rule.pk or 10**12)
    ]
    shadowed = 0
    if earlier:
        for ticket in matched.values(*ROUTING_TICKET_FIELDS)[:2000]:
            if any(routing_rule_matches(r, ticket) for r in earlier):
                shadowed += 1
    return {
        "count": matched.count(),
        "tickets": sample,
        "shadowed": shadowed,
        "issues": matched.exclude(issue__isnull=True).values("issue_id").distinct().count(),
        "days": days,
        "moves": routing_rule_moves(rule=rule),
    }
