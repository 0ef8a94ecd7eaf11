"""Writes for the demo data: accounts, products, tickets, reset and in-process triage.

Demo tickets are the tickets filed by the demo accounts (agents file chat,
phone and e-mail complaints; the admin's imports bring platform, review and
app tickets). That is how a second run recognises them, and what ``--reset``
deletes, together with the demo products.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from feedback.models import Category, Product, Ticket, TriageStatus
from feedback.services import TicketInput, ticket_validate, tickets_bulk_create
from issues.models import Department

from .catalog import DEMO_SKUS, DEMO_USERNAMES, DEMO_USERS, PRODUCTS, DemoUser
from .plan import PlannedTicket

logger = logging.getLogger(__name__)
User = get_user_model()


@dataclass
class DemoUserResult:
    spec: DemoUser
    created: bool
    password_set: bool


def demo_users_ensure(*, reset_passwords: bool = False) -> list[DemoUserResult]:
    """Create or update one account per role; set the documented password on new accounts.

    An existing account keeps its password unless ``reset_passwords`` is true,
    so re-running the demo never silently reverts a password someone changed.
    Raises Department.DoesNotExist when the taxonomy migration has not run.
    """
    results = []
    for spec in DEMO_USERS:
        department = Department.objects.get(code=spec.department) if spec.department else None
        user, created = User.objects.get_or_create(username=spec.username)
        user.role = spec.role
        user.department = department
        user.first_name = spec.first_name
        user.email = user.email or spec.email
        user.is_staff = spec.is_staff
        user.is_superuser = spec.is_superuser
        user.is_active = True
        password_set = created or reset_passwords
        if password_set:
            user.set_password(spec.password)
        user.save()
        results.append(DemoUserResult(spec=spec, created=created, password_set=password_set))
    return results


def demo_products_ensure() -> tuple[dict[str, Product], int]:
    """Create or update the demo products; return them by SKU and how many were new."""
    existing = {p.sku: p for p in Product.objects.filter(sku__in=DEMO_SKUS)}
    created = 0
    for spec in PRODUCTS:
        product = existing.get(spec.sku)
        if product is None:
            existing[spec.sku] = Product.objects.create(
                sku=spec.sku, name=spec.name, product_category=spec.product_category
            )
            created += 1
        elif (product.name, product.product_category) != (spec.name, spec.product_category):
            product.name, product.product_category = spec.name, spec.product_category
            product.save(update_fields=["name", "product_category"])
    return existing, created


def demo_tickets() -> QuerySet[Ticket]:
    """The tickets the demo accounts filed."""
    return Ticket.objects.filter(filed_by__username__in=DEMO_USERNAMES)


def demo_reset() -> tuple[int, int]:
    """Delete the demo tickets and demo products; return (tickets, products) deleted."""
    with transaction.atomic():
        tickets = demo_tickets().delete()[1].get(Ticket._meta.label, 0)
        products = Product.objects.filter(sku__in=DEMO_SKUS).delete()[1].get(Product._meta.label, 0)
    return tickets, products


def demo_tickets_create(*, plan: Iterable[PlannedTicket], products: dict[str, Product]) -> list[int]:
    """Save the planned tickets in bulk, without enqueueing triage; return the new ids.

    Each ticket goes through ``ticket_validate`` like any import, so demo rows
    obey the same rules as real ones.
    """
    filers = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    by_filer: dict[str, list[TicketInput]] = {}
    for planned in plan:
        item = TicketInput(
            text=planned.text,
            channel=planned.channel,
            sku=planned.sku,
            product=products.get(planned.sku) if planned.sku else None,
            order_number=planned.order_number,
            external_source=planned.external_source,
            external_id=planned.external_id,
            received_at=planned.received_at,
        )
        by_filer.setdefault(planned.filed_by, []).append(ticket_validate(item))
    ids: list[int] = []
    with transaction.atomic():
        for username, items in by_filer.items():
            created, _duplicates = tickets_bulk_create(items=items, filed_by=filers[username], enqueue=False)
            ids.extend(t.pk for t in created)
    if any(pk is None for pk in ids):  # a backend without RETURNING on bulk insert
        ids = list(demo_tickets().values_list("id", flat=True))
    return sorted(ids)


@dataclass
class TriageResult:
    available: bool
    attempted: int = 0
    failed: int = 0
    first_error: str = ""
    stopped_early: bool = False
    statuses: dict[str, int] | None = None


TRIAGE_BATCH = 200
# Consecutive failing batches, with none succeeding, after which the model itself is taken as broken.
MAX_FAILED_BATCHES = 3


def _classifier() -> Callable[..., object]:
    from feedback.classification import tickets_triage

    return tickets_triage


def demo_tickets_triage(
    *, ticket_ids: list[int], progress: Callable[[Iterable[int]], Iterable[int]] | None = None
) -> TriageResult:
    """Classify, group and route the given tickets in-process, a batch at a time (one model call per batch).

    A batch that fails is logged and left pending (the sweeper or
    ``triage_pending`` retries it); after a few failing batches with none
    succeeding the rest are skipped, since the model itself is then broken.
    """
    classify = _classifier()
    result = TriageResult(available=True)
    succeeded = failed_batches = 0
    batch: list[int] = []

    def run(ids: list[int]) -> bool:
        nonlocal succeeded, failed_batches
        try:
            classify(ticket_ids=ids)
            succeeded += len(ids)
            return True
        except Exception as exc:  # one bad batch must not stop the demo
            result.failed += len(ids)
            failed_batches += 1
            result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
            logger.warning("demo triage of %d tickets failed: %s", len(ids), exc)
            if succeeded == 0 and failed_batches >= MAX_FAILED_BATCHES:
                result.stopped_early = True
                return False
            return True

    for ticket_id in progress(ticket_ids) if progress else ticket_ids:
        result.attempted += 1
        batch.append(ticket_id)
        if len(batch) >= TRIAGE_BATCH:
            keep_going, batch = run(batch), []
            if not keep_going:
                break
    if batch and not result.stopped_early:
        run(batch)
    result.statuses = dict(ticket_counts_by("triage_status"))
    return result


REVIEWING_AGENT = "agent"


def demo_review_queue_work(*, plan: Iterable[PlannedTicket], before: date) -> int:
    """Do what agents did on the days before ``before``: confirm every ticket in the review queue.

    Each ticket is confirmed as the category its text was written for, through the
    same service as the review page. Today's review queue is left for the agent
    who logs in. Returns how many tickets were confirmed.
    """
    from feedback.classification import tickets_confirm_categories

    written_for = {(p.text, p.received_at): p.category for p in plan}
    categories = {c.code: c for c in Category.objects.filter(is_active=True)}
    queue = demo_tickets().filter(triage_status=TriageStatus.NEEDS_REVIEW).values_list("pk", "text", "received_at")
    confirmations = {}
    for ticket_id, text, received_at in queue:
        code = written_for.get((text, received_at))
        if code in categories and timezone.localdate(received_at) < before:
            confirmations[ticket_id] = categories[code]
    agent = User.objects.get(username=REVIEWING_AGENT)
    return tickets_confirm_categories(confirmations=confirmations, user=agent)


def ticket_counts_by(field: str) -> Counter:
    """Demo tickets counted by one field (channel, triage_status ...)."""
    return Counter({row[field]: row["n"] for row in demo_tickets().values(field).annotate(n=Count("id"))})


TEAM_ASSIGNMENTS_PER_DEPARTMENT = 2


def demo_team_assign() -> int:
    """Each department's lead hands its agent the largest open issues that are not spiking, as a lead does
    on a normal morning (the spike stays unassigned at the top of the lead's queue). Returns how many were
    assigned; safe to run again (an issue that already has someone is left alone)."""
    from issues.models import OPEN_STATUSES, Issue
    from issues.services.workflow import issue_assign

    assigned = 0
    team = User.objects.filter(username__in=DEMO_USERNAMES, is_active=True, department__isnull=False)
    leads = {u.department_id: u for u in team if u.role == "lead"}
    agents = {u.department_id: u for u in team.order_by("username") if u.role == "agent"}
    for department_id, agent in agents.items():
        lead = leads.get(department_id)
        if lead is None or Issue.objects.filter(assignee=agent).exists():
            continue
        issues = (Issue.objects.filter(department_id=department_id, status__in=OPEN_STATUSES, assignee__isnull=True,
                                       is_spiking=False)
                  .order_by("-count_7d", "-id")[:TEAM_ASSIGNMENTS_PER_DEPARTMENT])
        for issue in issues:
            issue_assign(issue=issue, assignee=agent, actor=lead, note="演示数据 (demo)")
            assigned += 1
    return assigned
