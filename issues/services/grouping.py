"""Grouping: attach classified tickets to their issues and keep the counts right.

Idempotency: a ticket's row is locked, its target issue computed, and the
counts move only together with ``Ticket.issue`` in one transaction. Attaching a
ticket that already points at its issue changes nothing, so a redelivered task
never counts a ticket twice, and a ticket whose category is corrected moves
with -1 on the old issue and +1 on the new one (daily series included).
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterator

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from feedback.bulk_sql import in_values, rows_table
from feedback.models import Category, Ticket

from ..conf import issue_setting
from ..models import (
    ALL_PRODUCTS_ZH,
    DONE_STATUSES,
    ActivityVerb,
    DepartmentSource,
    Issue,
    IssueActivity,
    IssueDaily,
    IssueStatus,
    ScopeType,
)
from ..scoping import TICKET_FIELDS, IssueKey, issue_key_for, scope_rules

logger = logging.getLogger(__name__)

# When set (triage_pending, benchmarks), new issues are routed in-process instead of by a Celery task.
_route_inline: contextvars.ContextVar[bool] = contextvars.ContextVar("issues_route_inline", default=False)


@contextlib.contextmanager
def routing_inline() -> Iterator[None]:
    """Route issues created inside this block in-process (no broker needed)."""
    token = _route_inline.set(True)
    try:
        yield
    finally:
        _route_inline.reset(token)


class AttachConflict(RuntimeError):
    """A ticket changed issue under us; the caller (a Celery task) retries."""


@dataclass
class AttachResult:
    attached: int = 0
    moved: int = 0
    detached: int = 0
    unchanged: int = 0
    created_issue_ids: list[int] = field(default_factory=list)
    touched_issue_ids: set[int] = field(default_factory=set)


@dataclass
class _Delta:
    total: int = 0
    count_24h: int = 0
    count_7d: int = 0
    count_30d: int = 0
    count_prev_7d: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def add(self, sign: int, received_at: datetime, now: datetime) -> None:
        self.total += sign
        age = now - received_at
        if age < timedelta(hours=24):
            self.count_24h += sign
        if age < timedelta(days=7):
            self.count_7d += sign
        elif age < timedelta(days=14):
            self.count_prev_7d += sign
        if age < timedelta(days=30):
            self.count_30d += sign
        if sign > 0:
            self.first_seen = received_at if self.first_seen is None else min(self.first_seen, received_at)
            self.last_seen = received_at if self.last_seen is None else max(self.last_seen, received_at)


def local_day(moment: datetime) -> date:
    """Return the calendar day of a moment in the project's time zone (the daily series' day)."""
    return timezone.localtime(moment).date()


def ticket_attach(*, ticket: Ticket) -> Issue | None:
    """Attach one ticket to the issue of its (saved) category, creating the issue on first sight.

    Call after the ticket's category was applied or corrected and saved. Safe to
    repeat: a ticket already on its issue changes nothing. A ticket whose
    category was removed is detached. Returns the ticket's issue, if any, and
    sets ``ticket.issue_id`` so a later ``ticket.save()`` keeps it.
    Raises AttachConflict if the ticket moved concurrently (retry).
    """
    tickets_attach(ticket_ids=[ticket.pk])
    issue_id = Ticket.objects.filter(pk=ticket.pk).values_list("issue_id", flat=True).first()
    ticket.issue_id = issue_id
    return Issue.objects.filter(pk=issue_id).first() if issue_id else None


def tickets_attach(*, ticket_ids: list[int], now: datetime | None = None) -> AttachResult:
    """Attach (or move, or detach) many tickets in one transaction; the batch form of ticket_attach."""
    result = AttachResult()
    if not ticket_ids:
        return result
    now = now or timezone.now()
    rules = scope_rules()
    with transaction.atomic():
        rows = list(
            Ticket.objects.filter(in_values("pk", ticket_ids))
            .order_by("pk")
            .select_for_update(of=("self",))
            .values(*TICKET_FIELDS)
        )
        keys = {row["id"]: issue_key_for(row, rules) for row in rows}
        issue_ids = _issues_for_keys(rows, keys, result)

        moves: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
        deltas: dict[int, _Delta] = defaultdict(_Delta)
        daily: Counter[tuple[int, date]] = Counter()
        for row in rows:
            key = keys[row["id"]]
            target = issue_ids[key] if key else None
            old = row["issue_id"]
            if old == target:
                result.unchanged += 1
                continue
            moves[(old, target)].append(row["id"])
            day = local_day(row["received_at"])
            if old:
                deltas[old].add(-1, row["received_at"], now)
                daily[(old, day)] -= 1
                result.moved += 1 if target else 0
                result.detached += 0 if target else 1
            if target:
                deltas[target].add(+1, row["received_at"], now)
                daily[(target, day)] += 1
                result.attached += 1

        _move_tickets(moves)
        _apply_deltas(deltas, now)
        _upsert_daily(daily)
        result.touched_issue_ids = set(deltas)

        left = sorted({old for old, _ in moves if old})
        if left:
            _refresh_seen_range(left)
            IssueDaily.objects.filter(issue_id__in=left, count__lte=0).delete()

        gained = sorted({target for _, target in moves if target})
        if gained:
            from .workflow import issues_regression_check

            done = list(Issue.objects.filter(in_values("pk", gained), status__in=DONE_STATUSES).values_list("id", flat=True))
            if done:
                issues_regression_check(issue_ids=done, now=now)

        if result.created_issue_ids:
            _route_new_issues(result.created_issue_ids)

        from .priority import issues_prioritize

        # Priority, its explanation and the SLA start follow the counts just written.
        issues_prioritize(issue_ids=sorted(set(deltas) | set(result.created_issue_ids)), now=now)
    return result


def _issues_for_keys(
    rows: list[dict[str, Any]], keys: dict[int, IssueKey | None], result: AttachResult
) -> dict[IssueKey, int]:
    """Map each issue key to the id of its live issue, creating missing issues and following merges."""
    wanted = {key for key in keys.values() if key}
    if not wanted:
        return {}
    found: dict[IssueKey, tuple[int, str, int | None]] = {}
    existing = Issue.objects.filter(
        in_values("scope_key", {k.scope_key for k in wanted}, pg_type="text"),
        category_id__in={k.category_id for k in wanted},
    ).values_list("id", "category_id", "scope_type", "scope_key", "status", "merged_into_id")
    for issue_id, category_id, scope_type, scope_key, status, merged_into_id in existing:
        key = IssueKey(category_id, scope_type, scope_key)
        if key in wanted:
            found[key] = (issue_id, status, merged_into_id)

    missing = wanted - set(found)
    if missing:
        example = {}
        for row in rows:
            key = keys[row["id"]]
            if key in missing and key not in example:
                example[key] = row
        categories = {c.id: c for c in Category.objects.filter(pk__in={k.category_id for k in missing})}
        # Sorted, so two batches creating the same new issues wait on each other instead of deadlocking.
        ordered = sorted(missing, key=lambda k: (k.category_id, k.scope_type, k.scope_key))
        created = _insert_issues(
            [_new_issue(key, example[key], categories[key.category_id]) for key in ordered]
        )
        IssueActivity.objects.bulk_create(
            [IssueActivity(issue_id=issue_id, verb=ActivityVerb.CREATED, to_value=IssueStatus.NEW)
             for issue_id in created.values()]
        )
        result.created_issue_ids.extend(sorted(created.values()))
        for key in ordered:
            if key in created:
                found[key] = (created[key], IssueStatus.NEW, None)
        # Keys another worker created a moment ago (ON CONFLICT DO NOTHING skipped them).
        lost = [key for key in ordered if key not in created]
        if lost:
            for issue_id, category_id, scope_type, scope_key, status, merged_into_id in Issue.objects.filter(
                category_id__in={k.category_id for k in lost}, scope_key__in={k.scope_key for k in lost}
            ).values_list("id", "category_id", "scope_type", "scope_key", "status", "merged_into_id"):
                key = IssueKey(category_id, scope_type, scope_key)
                if key in missing:
                    found[key] = (issue_id, status, merged_into_id)

    ids: dict[IssueKey, int] = {}
    for key, (issue_id, status, merged_into_id) in found.items():
        ids[key] = _follow_merges(issue_id) if status == IssueStatus.MERGED and merged_into_id else issue_id
    return ids


def _new_issue(key: IssueKey, row: dict[str, Any], category: Category) -> Issue:
    # No SLA yet: it starts when the issue reaches ISSUE_HIGH_FREQUENCY_MIN_TICKETS (services.priority).
    priority = issue_setting("ISSUE_DEFAULT_PRIORITY")
    return Issue(
        category_id=key.category_id,
        scope_type=key.scope_type,
        scope_key=key.scope_key,
        product_id=row["product_id"] if key.scope_type == ScopeType.SKU else None,
        product_category=row.get("product__product_category") or "",
        title=_issue_title(key, row, category),
        department_id=category.default_department_id,
        department_source=DepartmentSource.DEFAULT,
        priority=priority,
    )


def _insert_issues(issues: list[Issue]) -> dict[IssueKey, int]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: create the issues no one else created; return their ids.

    One statement for the whole batch, and it tells exactly which rows this
    transaction created (bulk_create with ignore_conflicts cannot).
    """
    if not issues:
        return {}
    fields = [f for f in Issue._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    table = quote(Issue._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    created: dict[IssueKey, int] = {}
    for start in range(0, len(issues), 200):
        chunk = issues[start : start + 200]
        params: list[Any] = []
        for issue in chunk:
            params.extend(f.get_db_prep_save(f.pre_save(issue, True), connection) for f in fields)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(chunk))} "
                f"ON CONFLICT (category_id, scope_type, scope_key) DO NOTHING "
                f"RETURNING id, category_id, scope_type, scope_key",
                params,
            )
            for issue_id, category_id, scope_type, scope_key in cursor.fetchall():
                created[IssueKey(category_id, scope_type, scope_key)] = issue_id
    return created


def _issue_title(key: IssueKey, row: dict[str, Any], category: Category) -> str:
    if key.scope_type == ScopeType.SKU:
        name = row.get("product__name") or ""
        scope = f"{name}（{key.scope_key}）" if name else key.scope_key
    elif key.scope_type == ScopeType.CATEGORY:
        scope = ALL_PRODUCTS_ZH
    else:
        scope = key.scope_key
    return f"{scope} · {category.name_zh}"[:200]


def _follow_merges(issue_id: int) -> int:
    seen = {issue_id}
    current = issue_id
    for _ in range(20):
        status, merged_into = Issue.objects.filter(pk=current).values_list("status", "merged_into_id").get()
        if status != IssueStatus.MERGED or not merged_into or merged_into in seen:
            return current
        seen.add(merged_into)
        current = merged_into
    return current


def _move_tickets(moves: dict[tuple[int | None, int | None], list[int]]) -> None:
    """Point the (locked) tickets at their new issues with one UPDATE per 1,000 tickets."""
    rows = [(ticket_id, old, new) for (old, new), ids in moves.items() for ticket_id in ids]
    table = connection.ops.quote_name(Ticket._meta.db_table)
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        source, params = rows_table(["id", "old", "new"], ["bigint"] * 3, chunk)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET issue_id = v.new FROM {source} WHERE {table}.id = v.id AND {table}.issue_id {same} v.old",
                params,
            )
            if cursor.rowcount != len(chunk):
                raise AttachConflict(f"{len(chunk) - cursor.rowcount} of {len(chunk)} tickets changed issue concurrently")


DELTA_COLUMNS = ("ticket_count", "count_24h", "count_7d", "count_30d", "count_prev_7d")


def _apply_deltas(deltas: dict[int, _Delta], now: datetime) -> None:
    """Add each issue's count deltas with one UPDATE ... FROM (VALUES ...), rows locked in id order first."""
    if not deltas:
        return
    ids = sorted(deltas)
    # Lock order by id everywhere, so two batches never deadlock on the same issues.
    list(Issue.objects.filter(in_values("pk", ids)).order_by("pk").select_for_update().values_list("pk", flat=True))
    postgres = connection.vendor == "postgresql"
    greatest, least = ("GREATEST", "LEAST") if postgres else ("MAX", "MIN")
    table = connection.ops.quote_name(Issue._meta.db_table)
    assignments = [f"{c} = {greatest}({table}.{c} + v.{c}, 0)" for c in DELTA_COLUMNS]
    assignments += [
        f"growth_7d = {table}.growth_7d + v.count_7d - v.count_prev_7d",
        f"first_seen_at = CASE WHEN v.first_seen IS NULL THEN {table}.first_seen_at "
        f"ELSE {least}(COALESCE({table}.first_seen_at, v.first_seen), v.first_seen) END",
        f"last_seen_at = CASE WHEN v.last_seen IS NULL THEN {table}.last_seen_at "
        f"ELSE {greatest}(COALESCE({table}.last_seen_at, v.last_seen), v.last_seen) END",
        "updated_at = %s",
    ]
    adapt = connection.ops.adapt_datetimefield_value
    names = ["id", *DELTA_COLUMNS, "first_seen", "last_seen"]
    types = ["bigint"] + ["integer"] * len(DELTA_COLUMNS) + ["timestamptz", "timestamptz"]
    for start in range(0, len(ids), 1000):
        rows = []
        for issue_id in ids[start : start + 1000]:
            delta = deltas[issue_id]
            rows.append((issue_id, delta.total, delta.count_24h, delta.count_7d, delta.count_30d, delta.count_prev_7d,
                         adapt(delta.first_seen), adapt(delta.last_seen)))
        source, params = rows_table(names, types, rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} FROM {source} WHERE {table}.id = v.id",
                [adapt(now), *params],
            )


def _upsert_daily(daily: Counter[tuple[int, date]]) -> None:
    """Add counts to the daily series in one statement (INSERT ... ON CONFLICT DO UPDATE), in key order."""
    items = sorted((key, value) for key, value in daily.items() if value)
    if not items:
        return
    table = connection.ops.quote_name(IssueDaily._meta.db_table)
    adapt = connection.ops.adapt_datefield_value
    for start in range(0, len(items), 1000):
        rows = [(issue_id, adapt(day), count) for (issue_id, day), count in items[start : start + 1000]]
        source, params = rows_table(["issue_id", "day", "count"], ["bigint", "date", "integer"], rows)
        with connection.cursor() as cursor:
            # "WHERE true" lets SQLite parse ON CONFLICT after INSERT ... SELECT.
            cursor.execute(
                f"INSERT INTO {table} (issue_id, day, count) SELECT v.issue_id, v.day, v.count FROM {source} "
                f"WHERE true ORDER BY v.issue_id, v.day "
                f"ON CONFLICT (issue_id, day) DO UPDATE SET count = {table}.count + excluded.count",
                params,
            )


def _refresh_seen_range(issue_ids: list[int]) -> None:
    ranges = {
        row["issue_id"]: row
        for row in Ticket.objects.filter(issue_id__in=issue_ids)
        .values("issue_id")
        .annotate(first=Min("received_at"), last=Max("received_at"))
    }
    for issue_id in issue_ids:
        row = ranges.get(issue_id)
        Issue.objects.filter(pk=issue_id).update(
            first_seen_at=row["first"] if row else None, last_seen_at=row["last"] if row else None
        )


def _route_new_issues(issue_ids: list[int]) -> None:
    from .routing import issues_route_many

    if _route_inline.get():
        issues_route_many(issue_ids=issue_ids)
        return

    def send() -> None:
        from ..tasks import route_issue

        for issue_id in issue_ids:
            try:
                route_issue.apply_async(args=[issue_id], retry=False)
            except Exception as error:  # broker down: the issue keeps its default department until a reroute
                logger.warning("could not enqueue routing of issue %s: %s", issue_id, error)
                return

    transaction.on_commit(send)


# --- exact recomputation ---


def issue_recount(*, issue_id: int) -> None:
    """Recompute one issue's total, first/last seen and whole daily series from its tickets."""
    now = timezone.now()
    with transaction.atomic():
        Issue.objects.select_for_update().filter(pk=issue_id).first()
        tickets = Ticket.objects.filter(issue_id=issue_id)
        summary = tickets.aggregate(
            total=Count("id"),
            first=Min("received_at"),
            last=Max("received_at"),
            **_window_aggregates(now),
        )
        count_7d, count_prev_7d = summary["count_7d"], summary["count_prev_7d"]
        Issue.objects.filter(pk=issue_id).update(
            ticket_count=summary["total"],
            first_seen_at=summary["first"],
            last_seen_at=summary["last"],
            count_24h=summary["count_24h"],
            count_7d=count_7d,
            count_30d=summary["count_30d"],
            count_prev_7d=count_prev_7d,
            growth_7d=count_7d - count_prev_7d,
            counts_refreshed_at=now,
        )
        series = (
            tickets.annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
            .values("day")
            .annotate(n=Count("id"))
        )
        IssueDaily.objects.filter(issue_id=issue_id).delete()
        IssueDaily.objects.bulk_create([IssueDaily(issue_id=issue_id, day=row["day"], count=row["n"]) for row in series])


def _window_aggregates(now: datetime) -> dict[str, Count]:
    # A ticket exactly 7 days old is in the previous week, as in _Delta.add: age < window counts.
    return {
        "count_24h": Count("id", filter=Q(received_at__gt=now - timedelta(hours=24))),
        "count_7d": Count("id", filter=Q(received_at__gt=now - timedelta(days=7))),
        "count_30d": Count("id", filter=Q(received_at__gt=now - timedelta(days=30))),
        "count_prev_7d": Count(
            "id", filter=Q(received_at__gt=now - timedelta(days=14), received_at__lte=now - timedelta(days=7))
        ),
    }


WINDOW_FIELDS = ("count_24h", "count_7d", "count_30d", "count_prev_7d")


def issues_counts_refresh(*, now: datetime | None = None) -> int:
    """Recompute every issue's 24h/7d/30d/previous-7d counts with one aggregate; return issues changed."""
    now = now or timezone.now()
    fresh = {
        row.pop("issue_id"): row
        for row in Ticket.objects.filter(issue__isnull=False, received_at__gt=now - timedelta(days=30))
        .order_by()
        .values("issue_id")
        .annotate(**_window_aggregates(now))
    }
    candidates = Issue.objects.all()
    if len(fresh) < 5000:
        # Only issues with recent tickets, or with windows still to be zeroed, can change.
        stale = Q(pk__in=list(fresh))
        for name in WINDOW_FIELDS:
            stale |= Q(**{f"{name}__gt": 0})
        candidates = candidates.filter(stale)
    changed: list[Issue] = []
    zero = dict.fromkeys(WINDOW_FIELDS, 0)
    for issue in candidates.only("id", *WINDOW_FIELDS, "growth_7d").iterator(chunk_size=2000):
        counts = fresh.get(issue.pk, zero)
        growth = counts["count_7d"] - counts["count_prev_7d"]
        if any(getattr(issue, name) != counts[name] for name in WINDOW_FIELDS) or issue.growth_7d != growth:
            for name in WINDOW_FIELDS:
                setattr(issue, name, counts[name])
            issue.growth_7d = growth
            issue.counts_refreshed_at = now
            changed.append(issue)
    _write_windows(changed, now)
    return len(changed)


def _write_windows(issues: list[Issue], now: datetime) -> None:
    """Write many issues' window counts with one UPDATE ... FROM (VALUES ...) per 1,000 rows.

    bulk_update's CASE WHEN per row grows quadratically; a joined VALUES list does not.
    """
    table = connection.ops.quote_name(Issue._meta.db_table)
    columns = [*WINDOW_FIELDS, "growth_7d"]
    assignments = ", ".join(f"{name} = v.{name}" for name in columns)
    for start in range(0, len(issues), 1000):
        rows = [(issue.pk, *(getattr(issue, name) for name in columns)) for issue in issues[start : start + 1000]]
        source, params = rows_table(["id", *columns], ["bigint"] + ["integer"] * len(columns), rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments}, counts_refreshed_at = %s FROM {source} WHERE {table}.id = v.id",
                [connection.ops.adapt_datetimefield_value(now), *params],
            )


def issues_reconcile(*, days: int = 35) -> int:
    """Repair totals and the recent daily series from the tickets themselves; return issues repaired.

    Attaching keeps both exact; this is the nightly safety net (e.g. after a
    manual database edit or a ticket deleted outside the services).
    """
    repaired: set[int] = set()
    totals = dict(
        Ticket.objects.filter(issue__isnull=False).order_by().values("issue_id").annotate(n=Count("id")).values_list(
            "issue_id", "n"
        )
    )
    stored = dict(Issue.objects.values_list("id", "ticket_count"))
    for issue_id, count in stored.items():
        if totals.get(issue_id, 0) != count:
            Issue.objects.filter(pk=issue_id).update(ticket_count=totals.get(issue_id, 0))
            repaired.add(issue_id)

    start = timezone.localdate() - timedelta(days=days)
    start_moment = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    actual = {
        (row["issue_id"], row["day"]): row["n"]
        for row in Ticket.objects.filter(issue__isnull=False, received_at__gte=start_moment)
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("issue_id", "day")
        .annotate(n=Count("id"))
    }
    recorded = {(row[0], row[1]): row[2] for row in IssueDaily.objects.filter(day__gte=start).values_list("issue_id", "day", "count")}
    fix: Counter[tuple[int, date]] = Counter()
    for key in set(actual) | set(recorded):
        difference = actual.get(key, 0) - recorded.get(key, 0)
        if difference:
            fix[key] = difference
            repaired.add(key[0])
    with transaction.atomic():
        _upsert_daily(fix)
        IssueDaily.objects.filter(day__gte=start, count__lte=0).delete()
    if repaired:
        logger.warning("reconcile repaired counts of %d issues", len(repaired))
    return len(repaired)
