"""Benchmark: department queue and library overview with 1,000,000 tickets and 10,000 issues.

    .venv/bin/python benchmarks/queue_bench.py [--tickets 1000000] [--issues 10000] [--repeat 40]

Creates a scratch PostgreSQL database ``bench_queue`` (dropped afterwards unless
--keep), generates tickets, issues and their daily series server-side
(generate_series, seconds), recomputes the count windows with the real
periodic service, then times the selectors and the API pages a lead and the
library use, for several page sizes: p50/p95 in ms and the query count per
request (which must not grow with the page size). Target: p95 <= 300 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEXTS = ["洗发水漏液了，瓶子裂开", "快递太慢了，一周才到", "衣服尺码偏小，色差严重", "牛奶胀包了", "用两天就坏了",
         "客服不回复", "买完就降价，保价被拒", "发错颜色了", "怀疑是假货", "退货退款太慢"]


def generate(tickets: int, issues: int) -> None:
    from django.db import connection

    from feedback.models import Category, Ticket
    from issues.models import Issue, IssueDaily

    categories = list(Category.objects.order_by("pk").values_list("pk", "default_department_id"))
    ticket_table, issue_table, daily_table = Ticket._meta.db_table, Issue._meta.db_table, IssueDaily._meta.db_table
    category_ids = "ARRAY[" + ",".join(str(c) for c, _ in categories) + "]"
    department_ids = "ARRAY[" + ",".join(str(d or "NULL") for _, d in categories) + "]"
    texts = "ARRAY[" + ",".join(f"'{t}'" for t in TEXTS) + "]"
    statuses = "ARRAY['new','new','new','acknowledged','in_progress','in_progress','resolved','closed','ignored','regressed']"
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {issue_table} (category_id, scope_type, scope_key, product_category, title, department_id,
                department_source, status, priority, ticket_count, count_24h, count_7d, count_30d, count_prev_7d,
                growth_7d, is_spiking, keywords, representative_ticket_ids, regression_count, is_overdue,
                action_taken, priority_manual, priority_signals, created_at, updated_at)
            SELECT ({category_ids})[1 + g % {len(categories)}], 'sku', 'Q-' || g, '品类' || (g % 12),
                   'SKU Q-' || g || ' 问题', ({department_ids})[1 + g % {len(categories)}], 'default',
                   ({statuses})[1 + (g / 10) % 10], 'P' || (1 + g % 4), 0, 0, 0, 0, 0, 0,
                   g % 97 = 0, '["关键词", "示例"]', '[]', 0, g % 13 = 0, '', false, '[]', now() - interval '90 days', now()
            FROM generate_series(1, {issues}) AS g
        """)
        cursor.execute(f"SELECT min(id) FROM {issue_table}")
        first_issue = cursor.fetchone()[0]
        # Skewed volumes: a few issues get most tickets, as in real queues.
        cursor.execute(f"""
            INSERT INTO {ticket_table} (text, text_masked, channel, sku_raw, order_number, external_source, received_at,
                created_at, triage_status, prediction_top, prediction_terms, model_version, issue_id, category_id)
            WITH picks AS MATERIALIZED (
                SELECT g, {first_issue} + floor({issues} * power(random(), 2.5))::int AS issue_id,
                       now() - random() * interval '90 days' AS received_at
                FROM generate_series(1, {tickets}) AS g
            )
            SELECT ({texts})[1 + p.g % 10], ({texts})[1 + p.g % 10], 'chat', '', '', '', p.received_at, now(),
                   'classified', '[]', '[]', 'bench', i.id, i.category_id
            FROM picks p JOIN {issue_table} i ON i.id = p.issue_id
        """)
        cursor.execute(f"""
            INSERT INTO {daily_table} (issue_id, day, count)
            SELECT issue_id, (received_at AT TIME ZONE 'Asia/Shanghai')::date, count(*)
            FROM {ticket_table} GROUP BY 1, 2
        """)
        cursor.execute(f"""
            UPDATE {issue_table} i SET ticket_count = t.n, first_seen_at = t.first, last_seen_at = t.last
            FROM (SELECT issue_id, count(*) n, min(received_at) first, max(received_at) last
                  FROM {ticket_table} GROUP BY issue_id) t WHERE t.issue_id = i.id
        """)
        for table in (ticket_table, issue_table, daily_table):
            cursor.execute(f"ANALYZE {table}")


def measure(label: str, function, repeat: int) -> tuple[float, float, int]:
    from django.db import connection, reset_queries

    timings = []
    queries = 0
    for _ in range(repeat):
        reset_queries()
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
        queries = len(connection.queries)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[min(len(timings) - 1, int(round(0.95 * len(timings))) - 1)]
    print(f"  {label:<58} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {queries:2d} queries")
    return p50, p95, queries


def scratch_arguments(description: str, *, database: str, repeat: int) -> argparse.Namespace:
    """Parse the options every 1,000,000-ticket benchmark takes; refuse a shared database name."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default=database)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="reuse a database kept by an earlier --keep run")
    args = parser.parse_args()
    if args.database in ("test", "postgres", "template0", "template1"):
        parser.error("refusing to use a shared database; pick a scratch name")
    return args


def scratch_database_use(args: argparse.Namespace) -> None:
    """(Re)create the scratch database unless --reuse, and point Django at it (before django.setup())."""
    from benchmarks.triage_bench import recreate_database

    if not args.reuse:
        recreate_database(args.postgres, args.database)
    os.environ.update({"DATABASE_URL": f"{args.postgres.rstrip('/')}/{args.database}",
                       "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING",
                       "DJANGO_ALLOWED_HOSTS": "testserver,localhost"})


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress lines show up even when redirected
    args = scratch_arguments(__doc__, database="bench_queue", repeat=40)
    scratch_database_use(args)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import Role, User
    from issues.models import Department
    from issues.selectors import department_queue, issue_list, issue_sparklines
    from issues.services import issues_counts_refresh

    try:
        call_command("migrate", verbosity=0)
        if not args.reuse:
            started = time.perf_counter()
            generate(args.tickets, args.issues)
            print(f"generated {args.tickets:,} tickets, {args.issues:,} issues and their daily series in "
                  f"{time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        changed = issues_counts_refresh()
        print(f"issues_counts_refresh (periodic 24h/7d/30d recount over 1M tickets): {time.perf_counter() - started:.2f} s, "
              f"{changed:,} issues updated")

        settings.DEBUG = True  # record queries
        setup_test_environment()
        settings.ALLOWED_HOSTS = ["testserver"]
        lead, _ = User.objects.get_or_create(username="bench_lead", defaults={
            "role": Role.LEAD, "department": Department.objects.get(code="warehouse")})
        client = Client()
        client.force_login(lead)
        # The lead has work assigned, as on a real team (the 分配给我 view).
        from issues.models import OPEN_STATUSES, Issue

        mine = list(Issue.objects.filter(department__code="warehouse", status__in=OPEN_STATUSES)
                    .order_by("pk").values_list("pk", flat=True)[:200])
        Issue.objects.filter(pk__in=mine).update(assignee=lead)
        departments = list(Department.objects.all())
        print("department queue sizes: " + ", ".join(
            f"{d.code} {department_queue(department=d).count():,}" for d in departments))
        results = []
        for size in (25, 50, 100):
            print(f"page size {size}:")

            def queue_page(size=size):
                for department in departments[:1]:
                    page = list(department_queue(department=department)[:size])
                    issue_sparklines(issue_ids=[i.pk for i in page])
                    [(i.category.code, i.department.code, i.assignee) for i in page]

            def library_page(size=size):
                issues = issue_list(filters={})
                issues.count()
                page = list(issues[:size])
                issue_sparklines(issue_ids=[i.pk for i in page])
                [(i.category.code, i.department and i.department.code, i.assignee) for i in page]

            def library_filtered(size=size):
                issues = issue_list(filters={"category": "damaged", "status": "open", "ordering": "growth"})
                issues.count()
                page = list(issues[:size])
                issue_sparklines(issue_ids=[i.pk for i in page])

            def api_queue(size=size):
                response = client.get("/api/issues/queue/", {"page_size": size})
                assert response.status_code == 200, response.status_code

            def api_library(size=size):
                response = client.get("/api/issues/", {"page_size": size})
                assert response.status_code == 200, response.status_code

            results.append(measure("selector: department_queue + sparklines", queue_page, args.repeat))
            results.append(measure("selector: issue_list (library overview) + count + sparklines", library_page, args.repeat))
            results.append(measure("selector: issue_list filtered (category, open, by growth)", library_filtered, args.repeat))
            results.append(measure("API page: GET /api/issues/queue/ (lead's queue)", api_queue, args.repeat))
            results.append(measure("API page: GET /api/issues/ (library overview)", api_library, args.repeat))
            from django.urls import NoReverseMatch, reverse

            for name, arguments, label, extra in (
                    ("department-queue", ["warehouse"], "HTML page: department queue", {}),
                    ("department-queue", ["warehouse"], "HTML page: 分配给我", {"view": "mine"}),
                    ("issue-library", [], "HTML page: library overview", {})):
                try:
                    url = reverse(name, args=arguments)
                except NoReverseMatch:  # the pages are built separately; skip them if absent
                    continue

                def page(url=url, size=size, extra=extra):
                    response = client.get(url, {"page_size": size, "per_page": size, **extra})
                    assert response.status_code == 200, response.status_code

                shown = f"{url}?view={extra['view']}" if extra else url
                results.append(measure(f"{label} {shown}", page, args.repeat))
        worst = max(p95 for _, p95, _ in results)
        print(f"worst p95: {worst:.1f} ms — target 300 ms: {'PASS' if worst <= 300 else 'FAIL'}")
    finally:
        connection.close()
        if not args.keep:
            from benchmarks.triage_bench import recreate_database

            recreate_database(args.postgres, args.database, drop_only=True)


if __name__ == "__main__":
    main()
