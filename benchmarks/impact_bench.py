"""Benchmark the impact metrics on PostgreSQL: 10,000 SKUs x 365 days.

    .venv/bin/python benchmarks/impact_bench.py [--skus 10000] [--days 365] [--keep]

Creates a scratch database ``bench_impact`` on the server of BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/bench_impact), migrates it, loads
with COPY: the SKUs, a year of daily orders and returns per SKU, return
reasons, tickets and one issue per SKU with its daily series; then times

1. ``metrics_recompute()`` of every scope over the whole year (target <= 60 s),
   on the freshly loaded database and again on the filled metric table (the nightly case);
2. one issue's impact report, measured and read the way ``impact_report
   --issue ID --format json`` does it (target <= 200 ms; median of 20 runs).

The database is dropped at the end unless --keep is given. It never touches
the ``test`` database or the app's own.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCRATCH = "bench_impact"
RESERVED = {"test", "postgres", "template0", "template1"}


def admin_url(url: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path="/postgres"))


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def recreate(url: str, *, drop_only: bool = False) -> None:
    import psycopg

    name = database_name(url)
    if name in RESERVED or not name.startswith("bench"):
        raise SystemExit(f"refusing to (re)create database {name!r}: the benchmark only uses scratch databases named bench*")
    with psycopg.connect(admin_url(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def load(*, skus: int, days: int, seed: int) -> dict[str, int]:
    """Fill the scratch database with set-based SQL (seconds, not minutes); return row counts."""
    from django.conf import settings
    from django.db import connection

    from feedback.models import Category

    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    category_ids = list(Category.objects.order_by("id").values_list("id", flat=True))
    statements = [
        ("SELECT setseed(%s)", [((seed % 1000) / 1000)]),
        # 10,000 SKUs in 50 product categories.
        ("""INSERT INTO feedback_product (sku, name, product_category, created_at)
            SELECT 'B-' || lpad(n::text, 6, '0'), '商品 ' || n, '品类' || lpad((n %% 50)::text, 2, '0'), now()
            FROM generate_series(0, %s - 1) n""", [skus]),
        # A year of orders per SKU (5 to 400 a day, +-20 %), returns 1 % to 15 % of them.
        ("""INSERT INTO impact_dailysales (day, product_id, orders, returns, return_reason, source, updated_at)
            SELECT d::date, p.id, o.orders, (o.orders * (0.01 + (p.id %% 15) / 100.0))::int, '', 'bench', now()
            FROM feedback_product p
            CROSS JOIN generate_series(%s::date, %s::date, interval '1 day') d
            CROSS JOIN LATERAL (SELECT ((5 + (p.id * 7919) %% 395) * (0.8 + random() * 0.4))::int AS orders) o""",
         [start, end]),
        # Return reasons on every third day for every tenth SKU.
        ("""INSERT INTO impact_returnreasondaily (day, product_id, category_code, count)
            SELECT d::date, p.id, c.code, 1 + (random() * 4)::int
            FROM feedback_product p
            JOIN feedback_category c ON c.id = (SELECT id FROM feedback_category ORDER BY id OFFSET p.id %% 10 LIMIT 1)
            CROSS JOIN generate_series(%s::date, %s::date, interval '3 day') d
            WHERE p.id %% 10 = 0""", [start, end]),
        # One issue per SKU, its category cycling through the taxonomy.
        ("""INSERT INTO issues_issue (category_id, scope_type, scope_key, product_id, product_category, title,
                department_id, department_source, status, priority, priority_manual, priority_signals, ticket_count,
                count_24h, count_7d, count_30d, count_prev_7d, growth_7d, regression_count, is_spiking, is_overdue,
                keywords, representative_ticket_ids, action_taken, created_at, updated_at)
            SELECT c.id, 'sku', p.sku, p.id, p.product_category, '问题 ' || p.sku, c.default_department_id, 'default',
                'new', 'P3', false, '[]', 0, 0, 0, 0, 0, 0, 0, false, false, '[]', '[]', '', now(), now()
            FROM feedback_product p
            JOIN feedback_category c ON c.id = (%s::bigint[])[1 + p.id %% %s]""",
         [category_ids, len(category_ids)]),
        # 50 tickets per SKU over the year, attached to the SKU's issue.
        ("""INSERT INTO feedback_ticket (text, text_masked, channel, product_id, sku_raw, order_number, external_source,
                triage_status, prediction_top, prediction_terms, model_version, received_at, created_at, issue_id)
            SELECT '投诉', '投诉', 'chat', i.product_id, i.scope_key, '', '', 'pending', '[]', '[]', '', g.at, now(), i.id
            FROM (
                SELECT (random() * (%s - 1))::int AS k,
                       %s::timestamptz + random() * (%s::timestamptz - %s::timestamptz) AS at
                FROM generate_series(1, %s * 50)
            ) g
            JOIN (SELECT id, product_id, scope_key, (row_number() OVER (ORDER BY id) - 1)::int AS k FROM issues_issue) i
              ON i.k = g.k""",
         [skus, start, end + timedelta(days=1), start, skus]),
        # The issues' daily series, as the issue library keeps it.
        ("""INSERT INTO issues_issuedaily (issue_id, day, count)
            SELECT issue_id, (received_at AT TIME ZONE %s)::date, count(*) FROM feedback_ticket
            GROUP BY 1, 2""", [settings.TIME_ZONE]),
    ]
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ANALYZE")
        counts = {}
        for table in ("feedback_product", "impact_dailysales", "impact_returnreasondaily", "issues_issue",
                      "feedback_ticket", "issues_issuedaily"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    counts["start"], counts["end"] = start.toordinal(), end.toordinal()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench_impact database afterwards")
    parser.add_argument("--reuse", action="store_true", help="time again on a database kept by --keep (no reload)")
    options = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{SCRATCH}")
    if not options.reuse:
        recreate(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from issues.impact.models import DailyMetric
    from issues.impact.selectors import impact_report_rows
    from issues.impact.services import impact_measure, metrics_recompute
    from issues.models import Issue, IssueStatus

    try:
        if options.reuse:
            from issues.impact.models import DailySales

            start = DailySales.objects.order_by("day").values_list("day", flat=True).first()
            Issue.objects.filter(status=IssueStatus.RESOLVED).update(status=IssueStatus.NEW, action_date=None)
        else:
            began = time.perf_counter()
            call_command("migrate", verbosity=0)
            print(f"migrated {database_name(url)} in {time.perf_counter() - began:.1f} s")
            began = time.perf_counter()
            counts = load(skus=options.skus, days=options.days, seed=options.seed)
            start = date.fromordinal(counts.pop("start"))
            counts.pop("end")
            print(f"loaded in {time.perf_counter() - began:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))

        runs = ["metric table filled (nightly case)"] if options.reuse else [
            "metric table empty", "metric table filled (nightly case)"]
        for label in runs:
            connection.close()
            began = time.perf_counter()
            result = metrics_recompute()
            elapsed = time.perf_counter() - began
            print(f"metrics_recompute {result.start} .. {result.end}, {label}: {elapsed:.1f} s ({result.total_rows:,} rows; "
                  + ", ".join(f"{k} {v:,} in {result.seconds[k]:.1f} s" for k, v in result.rows.items())
                  + (f", primary key and swap {result.seconds['index_and_swap']:.1f} s" if "index_and_swap" in result.seconds else "")
                  + ")")
            print(f"  target <= 60 s: {'PASS' if elapsed <= 60 else 'FAIL'}")
            assert DailyMetric.objects.count() == result.total_rows

        from feedback.models import Product

        from issues.impact.models import DailySales

        last = DailySales.objects.order_by("-day").values_list("day", flat=True).first()
        began = time.perf_counter()
        result = metrics_recompute(start=last, end=last, product_ids=Product.objects.values_list("id", flat=True))
        print(f"metrics_recompute of one day for every SKU (a daily import): {time.perf_counter() - began:.1f} s "
              f"({result.total_rows:,} rows)")

        issue = Issue.objects.order_by("id")[options.skus // 2]
        action_date = start + timedelta(days=options.days // 2)
        Issue.objects.filter(pk=issue.pk).update(
            status=IssueStatus.RESOLVED, action_taken="bench fix", action_date=action_date, resolved_at=timezone.now()
        )
        timings = []
        for _ in range(20):
            began = time.perf_counter()
            impact_measure(issue_id=issue.pk)
            rows = impact_report_rows(issue_id=issue.pk)
            timings.append((time.perf_counter() - began) * 1000)
        median = statistics.median(timings)
        print(f"one issue's impact report (measure + read, issue #{issue.pk}): median {median:.1f} ms, "
              f"max {max(timings):.1f} ms over 20 runs; verdict: {rows[0]['verdict']}")
        buffer = io.StringIO()
        began = time.perf_counter()
        call_command("impact_report", "--issue", str(issue.pk), "--format", "json", stdout=buffer)
        command_ms = (time.perf_counter() - began) * 1000
        print(f"  impact_report --issue {issue.pk} --format json (in-process): {command_ms:.1f} ms")
        print(f"  target <= 200 ms: {'PASS' if median <= 200 and command_ms <= 200 else 'FAIL'}")
    finally:
        connection.close()
        if not options.keep:
            recreate(url, drop_only=True)
            print(f"dropped {database_name(url)}")


if __name__ == "__main__":
    main()
