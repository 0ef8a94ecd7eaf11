"""Benchmark: classify, group and route 100,000 real complaints with two Celery worker processes.

    .venv/bin/python benchmarks/triage_bench.py [--tickets 100000] [--workers 2] [--batch 500]

Needs PostgreSQL and Redis (defaults: postgres://postgres@127.0.0.1:5432, redis://127.0.0.1:6379/15).
It creates a scratch database ``bench_triage`` (dropped at the end unless --keep),
loads the 22,869 texts of ../shared/data/complaints_unlabeled.jsonl repeated to
--tickets tickets over 90 days and ~20 SKUs per product category (COPY), starts
--workers ``celery worker`` processes (concurrency 1 each) on a private queue,
enqueues ``feedback.triage_tickets`` tasks of --batch ticket ids (the task that
imports, API batches and the sweeper enqueue in production), and times until
every ticket is classified and every categorised one attached to an issue.
The target is 120 s.

The workers run the production code path unchanged: feedback.classification's
tickets_triage with the real model (trained on the seed corpus into a private
model directory before the clock starts).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone as dt_timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

# --- worker side: `celery -A benchmarks.triage_bench worker` imports this module ---

if os.environ.get("BENCH_WORKER") == "1":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from config.celery import app  # noqa: E402

    app.conf.task_default_queue = os.environ["BENCH_QUEUE"]

    from celery.signals import worker_process_init

    @worker_process_init.connect
    def _warm(**_kwargs):
        """Load jieba and the model before the clock starts, as a long-running worker has."""
        from feedback.classification import get_predictor
        from feedback.classifiers.text import prepare

        prepare("预热分词器")
        get_predictor()


# --- driver side ---


def admin_url(base: str) -> str:
    return base.rstrip("/") + "/postgres"


def recreate_database(base: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url(base), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def load_tickets(count: int, skus_per_category: int, seed: int) -> tuple[int, int]:
    """COPY ``count`` tickets (texts repeated) and the products they name; return (tickets, products)."""
    from django.db import connection

    from feedback.masking import mask_phone_numbers
    from feedback.models import Product, Ticket

    rows = [json.loads(line) for line in (DATA / "complaints_unlabeled.jsonl").open(encoding="utf-8")]
    categories = sorted({row["product"] for row in rows})
    products = Product.objects.bulk_create(
        [Product(sku=f"B{c:02d}-{i:03d}", name=f"{name} {i}", product_category=name)
         for c, name in enumerate(categories) for i in range(skus_per_category)]
    )
    by_category: dict[str, list[Product]] = {}
    for product in products:
        by_category.setdefault(product.product_category, []).append(product)
    rng = random.Random(seed)
    now = datetime.now(dt_timezone.utc)
    buffer = io.StringIO()
    for i in range(count):
        row = rows[i % len(rows)]
        product = rng.choice(by_category[row["product"]])
        received = now - timedelta(seconds=rng.randrange(90 * 86400))
        text = row["text"].replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace("\r", " ")
        masked = mask_phone_numbers(text)  # what search matches for people who see masked text
        buffer.write(f"{text}\t{masked}\tchat\t{product.pk}\t{product.sku}\t\t\t\\N\t{received.isoformat()}"
                     f"\t{now.isoformat()}\tpending\t[]\t[]\t\n")
    buffer.seek(0)
    table = Ticket._meta.db_table
    columns = ("text, text_masked, channel, product_id, sku_raw, order_number, external_source, external_id, received_at, "
               "created_at, triage_status, prediction_top, prediction_terms, model_version")
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT text, NULL '\\N')") as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        cursor.execute(f"ANALYZE {table}")
    return count, len(products)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress lines show up even when redirected
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--skus-per-category", type=int, default=20)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--database", default="bench_triage")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args()
    if args.database in ("test", "postgres", "template0", "template1"):
        parser.error("refusing to use a shared database; pick a scratch name")

    recreate_database(args.postgres, args.database)
    database_url = f"{args.postgres.rstrip('/')}/{args.database}"
    os.environ.update({"DATABASE_URL": database_url, "CELERY_BROKER_URL": args.broker,
                       "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Sum

    from feedback.models import Ticket, TriageStatus
    from issues.models import Issue, IssueDaily

    workers: list[subprocess.Popen] = []
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        tickets, products = load_tickets(args.tickets, args.skus_per_category, seed=4)
        print(f"loaded {tickets:,} tickets for {products} SKUs in {time.perf_counter() - started:.1f} s (COPY)")

        env = {**os.environ, "BENCH_WORKER": "1", "BENCH_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
               "DATABASE_CONN_MAX_AGE": "600", "PYTHONPATH": str(ROOT)}
        import tempfile

        # A private model directory: the developer's var/models is never touched.
        env["FEEDBACK_MODEL_DIR"] = os.environ["FEEDBACK_MODEL_DIR"] = tempfile.mkdtemp(prefix="bench-models-")
        from django.conf import settings

        settings.FEEDBACK_MODEL_DIR = Path(env["FEEDBACK_MODEL_DIR"])
        from feedback.classification import get_predictor

        started = time.perf_counter()
        model = get_predictor()
        print(f"classifier: feedback.classification, model {model.version} ready in "
              f"{time.perf_counter() - started:.1f} s (trained on its seed corpus)")

        from celery import Celery

        client = Celery(broker=args.broker)
        client.conf.task_default_queue = env["BENCH_QUEUE"]
        for number in range(args.workers):
            workers.append(subprocess.Popen(
                [str(ROOT / ".venv/bin/celery"), "-A", "benchmarks.triage_bench", "worker", "-Q", env["BENCH_QUEUE"],
                 "--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "-n", f"bench{number}@%h"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(f"/tmp/bench-worker-{number}.log", "w"),
                start_new_session=True,
            ))
        # Let the workers boot (imports, jieba, model) before the clock starts.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            replies = client.control.ping(timeout=1.0) or []
            if len([r for r in replies if any(k.startswith("bench") for k in r)]) >= args.workers:
                break
        time.sleep(3)

        ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
        started = time.perf_counter()
        for start in range(0, len(ids), args.batch):
            client.send_task("feedback.triage_tickets", args=[ids[start : start + args.batch]])
        enqueued = time.perf_counter() - started
        remaining, last_progress = len(ids), time.perf_counter()
        while remaining:
            time.sleep(0.5)
            now_pending = Ticket.objects.filter(triage_status=TriageStatus.PENDING).count()
            if now_pending < remaining:
                remaining, last_progress = now_pending, time.perf_counter()
            if time.perf_counter() - last_progress > 120:
                raise SystemExit(f"gave up: no progress for 120 s, {remaining} tickets pending; "
                                 f"see /tmp/bench-worker-*.log")
        # Classified tickets are attached in the same task, after classification: wait for the last batch.
        while True:
            attached = Ticket.objects.filter(category__isnull=False, issue__isnull=True).count()
            if not attached:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started

        categorised = Ticket.objects.filter(category__isnull=False).count()
        issues = Issue.objects.count()
        total = Issue.objects.aggregate(total=Sum("ticket_count"))["total"] or 0
        daily = IssueDaily.objects.aggregate(total=Sum("count"))["total"] or 0
        status = dict(Ticket.objects.values_list("triage_status").annotate(n=Count("id")).values_list("triage_status", "n"))
        print(f"enqueued {len(ids) // args.batch + bool(len(ids) % args.batch)} batch tasks in {enqueued:.1f} s")
        print(f"triaged {len(ids):,} tickets with {args.workers} worker processes in {elapsed:.1f} s "
              f"({len(ids) / elapsed:,.0f} tickets/s) — target 120 s: {'PASS' if elapsed <= 120 else 'FAIL'}")
        print(f"  triage status: {status}")
        print(f"  {categorised:,} categorised tickets grouped into {issues:,} issues; "
              f"sum of issue counts {total:,}, sum of daily series {daily:,} "
              f"({'exact' if total == daily == categorised else 'MISMATCH'})")
        routed = Issue.objects.filter(routed_at__isnull=False).count()
        print(f"  issues routed: {routed:,} of {issues:,}")
    finally:
        for process in workers:
            try:
                os.killpg(process.pid, 15)
                process.wait(timeout=20)
            except Exception:  # noqa: BLE001
                os.killpg(process.pid, 9)
        connection.close()
        if not args.keep:
            recreate_database(args.postgres, args.database, drop_only=True)


if __name__ == "__main__":
    main()
