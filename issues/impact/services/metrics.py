"""Materialised daily metrics, recomputed set-based in the database.

Each scope is recomputed for a day range in one transaction: DELETE the range,
then one ``INSERT ... SELECT`` builds every row from the source tables, so the
work stays in the database whatever the volume. A full recompute on PostgreSQL
builds a fresh table and swaps it in instead (see ``_rebuild_postgresql``).
Order matters and is fixed: SKU rows first, product categories are built from
them, departments from the ALL rows.

* sku: orders and returns of the product; tickets naming the product.
* product_category: the sum of its SKUs' rows.
* all: every order and return; every ticket (with or without a product).
* issues have no rows of their own: see ``issues.impact.scopes`` (their scope's
  rows plus the issue library's daily series, read when needed).
* department: the whole shop's orders; returns whose reason maps to a
  category the department owns by default; tickets of the issues routed to it.

Ticket days are local calendar days (``TIME_ZONE``), as in the issue library.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from feedback.models import Category, Product, Ticket
from issues.models import Department, Issue, IssueDaily

from ..models import DailyMetric, DailySales, MetricScope, ReturnReasonDaily

logger = logging.getLogger(__name__)

# Above this many products a partial recompute rebuilds every SKU of the range instead.
PARTIAL_LIMIT = 500
# ... and when such a recompute also spans more days than this, the whole table is rebuilt.
REBUILD_AFTER_DAYS = 62


@dataclass
class MetricsResult:
    start: date | None = None
    end: date | None = None
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _day(value: date):
    return connection.ops.adapt_datefield_value(value)


def data_range() -> tuple[date | None, date | None]:
    """First and last day with sales or tickets."""
    sales = DailySales.objects.aggregate(first=Min("day"), last=Max("day"))
    tickets = Ticket.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    days = [d for d in (sales["first"], sales["last"]) if d]
    days += [timezone.localtime(t).date() for t in (tickets["first"], tickets["last"]) if t]
    if not days:
        return None, None
    return min(days), max(days)


def _ticket_counts_sql(start: date, end: date, *, by_product: bool, product_ids: list[int] | None) -> tuple[str, list]:
    """SQL (and params) of tickets per local day (and product) in [start, end], compiled by the ORM.

    The ORM writes the time-zone conversion for the backend in use
    (AT TIME ZONE on PostgreSQL, Django's registered function on SQLite).
    """
    tz = timezone.get_current_timezone()
    begin = timezone.make_aware(datetime.combine(start, datetime.min.time()), tz)
    finish = timezone.make_aware(datetime.combine(end + timedelta(days=1), datetime.min.time()), tz)
    tickets = Ticket.objects.filter(received_at__gte=begin, received_at__lt=finish)
    if by_product:
        tickets = tickets.filter(product__isnull=False)
        if product_ids is not None:
            tickets = tickets.filter(product_id__in=product_ids)
        grouped = tickets.annotate(day=TruncDate("received_at", tzinfo=tz)).order_by().values("product_id", "day")
    else:
        grouped = tickets.annotate(day=TruncDate("received_at", tzinfo=tz)).order_by().values("day")
    query = grouped.annotate(n=Count("id")).query
    sql, params = query.sql_with_params()
    return sql, list(params)


def _in_list(column: str, values: list) -> tuple[str, list]:
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _delete(table: str, scope: str, start: date, end: date, keys: list[str] | None) -> None:
    metric = table
    sql = f"DELETE FROM {metric} WHERE scope_type = %s AND day >= %s AND day <= %s"
    params: list = [scope, _day(start), _day(end)]
    if keys is not None:
        clause, extra = _in_list("scope_key", keys)
        sql += f" AND {clause}"
        params += extra
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Enough memory for the hash joins and aggregates of a full year: without it PostgreSQL
            # sorts millions of rows on disk. LOCAL: only for this transaction.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql, params)
        return cursor.rowcount


def _recompute_sku(table: str, fresh: bool, start: date, end: date, product_ids: list[int] | None) -> int:
    metric, sales, product = table, _table(DailySales), _table(Product)
    if product_ids is not None:
        skus = list(Product.objects.filter(pk__in=product_ids).values_list("sku", flat=True))
        if not skus:
            return 0
        _delete(table, MetricScope.SKU, start, end, skus)
    elif not fresh:
        _delete(table, MetricScope.SKU, start, end, None)
    tickets_sql, tickets_params = _ticket_counts_sql(start, end, by_product=True, product_ids=product_ids)
    sales_filter, sales_params = "s.day >= %s AND s.day <= %s", [_day(start), _day(end)]
    if product_ids is not None:
        clause, extra = _in_list("s.product_id", product_ids)
        sales_filter += f" AND {clause}"
        sales_params += extra
    # Sales rows are already one per (product, day): a full join with the ticket counts
    # avoids hashing every row into a GROUP BY.
    sql = f"""
        INSERT INTO {metric} (scope_type, scope_key, day, orders, returns, tickets)
        SELECT %s, p.sku, COALESCE(s.day, t.day), COALESCE(s.orders, 0), COALESCE(s.returns, 0), COALESCE(t.n, 0)
        FROM (SELECT s.product_id, s.day, s.orders, s.returns FROM {sales} s WHERE {sales_filter}) s
        FULL OUTER JOIN ({tickets_sql}) t ON t.product_id = s.product_id AND t.day = s.day
        JOIN {product} p ON p.id = COALESCE(s.product_id, t.product_id)
    """
    return _execute(sql, [MetricScope.SKU, *sales_params, *tickets_params])


def _recompute_product_category(table: str, fresh: bool, start: date, end: date, categories: list[str] | None) -> int:
    metric, product = table, _table(Product)
    if not fresh:
        _delete(table, MetricScope.PRODUCT_CATEGORY, start, end, categories)
    category_filter, extra = "", []
    if categories is not None:
        if not categories:
            return 0
        clause, extra = _in_list("p.product_category", categories)
        category_filter = f" AND {clause}"
    sql = f"""
        INSERT INTO {metric} (scope_type, scope_key, day, orders, returns, tickets)
        SELECT %s, p.product_category, m.day, SUM(m.orders), SUM(m.returns), SUM(m.tickets)
        FROM {metric} m JOIN {product} p ON p.sku = m.scope_key
        WHERE m.scope_type = %s AND m.day >= %s AND m.day <= %s{category_filter}
        GROUP BY p.product_category, m.day
    """
    return _execute(sql, [MetricScope.PRODUCT_CATEGORY, MetricScope.SKU, _day(start), _day(end), *extra])


def _recompute_all(table: str, fresh: bool, start: date, end: date) -> int:
    metric, sales = table, _table(DailySales)
    if not fresh:
        _delete(table, MetricScope.ALL, start, end, None)
    tickets_sql, tickets_params = _ticket_counts_sql(start, end, by_product=False, product_ids=None)
    sql = f"""
        INSERT INTO {metric} (scope_type, scope_key, day, orders, returns, tickets)
        SELECT %s, '', u.day, SUM(u.orders), SUM(u.returns), SUM(u.tickets)
        FROM (
            SELECT s.day AS day, SUM(s.orders) AS orders, SUM(s.returns) AS returns, 0 AS tickets
            FROM {sales} s WHERE s.day >= %s AND s.day <= %s GROUP BY s.day
            UNION ALL
            SELECT t.day, 0, 0, t.n FROM ({tickets_sql}) t
        ) u
        GROUP BY u.day
    """
    return _execute(sql, [MetricScope.ALL, _day(start), _day(end), *tickets_params])


def _recompute_department(table: str, fresh: bool, start: date, end: date) -> int:
    metric, department, category = table, _table(Department), _table(Category)
    reasons, issue, daily = _table(ReturnReasonDaily), _table(Issue), _table(IssueDaily)
    if not fresh:
        _delete(table, MetricScope.DEPARTMENT, start, end, None)
    sql = f"""
        INSERT INTO {metric} (scope_type, scope_key, day, orders, returns, tickets)
        SELECT %s, u.code, u.day, SUM(u.orders), SUM(u.returns), SUM(u.tickets)
        FROM (
            SELECT dep.code AS code, m.day AS day, m.orders AS orders, 0 AS returns, 0 AS tickets
            FROM {department} dep CROSS JOIN {metric} m
            WHERE m.scope_type = %s AND m.day >= %s AND m.day <= %s
            UNION ALL
            SELECT dep.code, r.day, 0, SUM(r.count), 0
            FROM {reasons} r JOIN {category} c ON c.code = r.category_code
            JOIN {department} dep ON dep.id = c.default_department_id
            WHERE r.day >= %s AND r.day <= %s GROUP BY dep.code, r.day
            UNION ALL
            SELECT dep.code, d.day, 0, 0, SUM(d.count)
            FROM {daily} d JOIN {issue} i ON i.id = d.issue_id JOIN {department} dep ON dep.id = i.department_id
            WHERE d.day >= %s AND d.day <= %s GROUP BY dep.code, d.day
        ) u
        GROUP BY u.code, u.day
    """
    params = [
        MetricScope.DEPARTMENT, MetricScope.ALL, _day(start), _day(end),
        _day(start), _day(end), _day(start), _day(end),
    ]
    return _execute(sql, params)


def _analyze(table: str) -> None:
    """Refresh the planner's statistics after millions of rows changed (PostgreSQL), so the next
    step joins with hashes instead of nested loops planned for an empty table."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")


def _steps(table: str, fresh: bool, start: date, end: date, ids: list[int] | None, categories: list[str] | None):
    return (
        (MetricScope.SKU, lambda: _recompute_sku(table, fresh, start, end, ids)),
        (MetricScope.PRODUCT_CATEGORY, lambda: _recompute_product_category(table, fresh, start, end, categories)),
        (MetricScope.ALL, lambda: _recompute_all(table, fresh, start, end)),
        (MetricScope.DEPARTMENT, lambda: _recompute_department(table, fresh, start, end)),
    )


def _run(steps, result: MetricsResult, *, table: str, analyze_after: int) -> None:
    for scope, step in steps:
        began = time.perf_counter()
        with transaction.atomic():
            result.rows[str(scope)] = step()
        if result.rows[str(scope)] >= analyze_after and scope in (MetricScope.SKU, MetricScope.ALL):
            _analyze(table)
        result.seconds[str(scope)] = time.perf_counter() - began


def _rebuild_postgresql(start: date, end: date, result: MetricsResult) -> None:
    """Build every metric row into a new table and swap it in (PostgreSQL, full recompute).

    Inserting millions of rows into an indexed table costs most of the time in
    index maintenance (and, after a DELETE, in uniqueness checks against the dead
    rows). A table without indexes takes them at copy speed, the primary key is
    then built in one sort, and the swap holds its exclusive lock for
    milliseconds: readers see the old table until the new one is complete.
    """
    live = DailyMetric._meta.db_table
    build = f"{live}_build"
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quote(build)}")
        # Columns, NOT NULL and CHECK constraints; no indexes (the primary key comes after the load).
        cursor.execute(f"CREATE TABLE {quote(build)} (LIKE {quote(live)} INCLUDING ALL EXCLUDING INDEXES)")
    _run(_steps(quote(build), True, start, end, None, None), result, table=quote(build), analyze_after=0)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(f"ALTER TABLE {quote(build)} ADD CONSTRAINT {quote(build + '_pkey')} "
                       "PRIMARY KEY (scope_type, scope_key, day)")
        cursor.execute("RESET maintenance_work_mem")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {quote(live)} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"DROP TABLE {quote(live)}")
        cursor.execute(f"ALTER TABLE {quote(build)} RENAME TO {quote(live)}")
        cursor.execute(f"ALTER TABLE {quote(live)} RENAME CONSTRAINT {quote(build + '_pkey')} TO {quote(live + '_pkey')}")
    _analyze(quote(live))
    result.seconds["index_and_swap"] = time.perf_counter() - began


def _lock_key() -> int:
    return 0x1A9AC7  # any constant shared by every recompute of this app


def metrics_recompute(
    *, start: date | None = None, end: date | None = None, product_ids: Iterable[int] | None = None
) -> MetricsResult:
    """Recompute the daily metrics of every scope for [start, end]; return rows written per scope.

    Without arguments, everything: every day with sales or tickets (on
    PostgreSQL the table is rebuilt and swapped in, see ``_rebuild_postgresql``).
    With dates, the rows of that range are replaced; with ``product_ids`` too,
    only those SKUs and their product categories (the ALL and department rows
    of the range always are, as they sum over everything). Recomputes are
    serialised by an advisory lock on PostgreSQL, so a partial refresh never
    interleaves with a rebuild. Never divides: rates are computed when read.
    """
    full = start is None and end is None and product_ids is None
    if start is None or end is None:
        first, last = data_range()
        start = start or first
        end = end or last
    result = MetricsResult(start=start, end=end)
    if start is None or end is None or start > end:
        return result
    ids = sorted(set(product_ids)) if product_ids is not None else None
    if ids is not None and len(ids) > PARTIAL_LIMIT:
        # Much of the catalogue: every SKU of the range, without a long IN list. A daily import
        # replaces a few days; a backfill of months is cheaper rebuilt as a whole.
        ids = None
        if (end - start).days > REBUILD_AFTER_DAYS:
            full = True
            first, last = data_range()
            start, end = min(start, first or start), max(end, last or end)
            result.start, result.end = start, end
    categories = (
        sorted(set(Product.objects.filter(pk__in=ids).values_list("product_category", flat=True)))
        if ids is not None else None
    )
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key()])
    try:
        if full and postgresql:
            _rebuild_postgresql(start, end, result)
        else:
            _run(_steps(_table(DailyMetric), False, start, end, ids, categories), result,
                 table=_table(DailyMetric), analyze_after=200_000)
    finally:
        if postgresql:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key()])
            except DatabaseError:  # an aborted transaction: the lock ends with the session
                logger.warning("could not release the metrics advisory lock")
    logger.info("metrics recomputed %s .. %s: %s", start, end, result.rows)
    return result
