"""Profile the intake path in-process: single POST, batch POST and the worker's per-ticket cost.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/SCRATCH CELERY_BROKER_URL=redis://127.0.0.1:6379/N \\
        .venv/bin/python benchmarks/intake_profile.py [--singles 300] [--batches 20] [--top 25]

Runs the real URLconf through Django's test client with token auth (no HTTP server,
so the figures are the view's CPU and its SQL round trips), against the database and
broker in the environment: use a scratch database, it files tickets there. Prints
SQL statements per request, ms per request, and the top lines of cProfile (by
cumulative time) for each part. The worker part times the services the triage
tasks call (``ticket_classify`` per ticket against ``tickets_triage`` per batch),
after a warm-up so the model load is not counted.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TEXTS = ["洗发水漏液了，瓶子裂开", "快递太慢了，一周才到", "用了两天就坏了，质量太差", "尺码偏小，要换大一码", "客服态度很差"]


def _top(profile: cProfile.Profile, lines: int, sort: str = "cumulative") -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats(sort).print_stats(lines)
    text = out.getvalue()
    # Drop pstats' preamble up to the header row.
    return text[text.find("   ncalls") :] if "   ncalls" in text else text


class _Statements:
    """Record every SQL statement (an execute wrapper: the test client's request_started resets connection.queries)."""

    def __init__(self) -> None:
        self.captured: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.captured.append(sql)
        return execute(sql, params, many, context)

    def __len__(self) -> int:
        return len(self.captured)


def _capture(connection):
    from contextlib import contextmanager

    @contextmanager
    def capture():
        statements = _Statements()
        with connection.execute_wrapper(statements):
            yield statements

    return capture()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--worker-tickets", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--parts", default="single,batch,worker")
    parser.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"])
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from accounts.models import Role, User
    from feedback.models import Product

    user, _ = User.objects.get_or_create(username="intake-profile", defaults={"role": Role.AGENT})
    token, _ = Token.objects.get_or_create(user=user)
    for index in range(20):
        Product.objects.get_or_create(sku=f"PROF-{index}", defaults={"name": f"商品 {index}", "product_category": "洗发水"})
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    parts = set(args.parts.split(","))
    print(f"database {connection.vendor} {connection.settings_dict['NAME']}, broker {os.environ.get('CELERY_BROKER_URL', '(default)')}")

    def single(index: int):
        body = {"text": f"{TEXTS[index % 5]} #{index}", "sku": f"PROF-{index % 20}", "channel": "app"}
        response = client.post("/api/tickets/", json.dumps(body), content_type="application/json")
        assert response.status_code == 201, response.content
        return response

    def batch(index: int):
        body = {"tickets": [
            {"text": f"{TEXTS[i % 5]} #{index}-{i}", "sku": f"PROF-{i % 20}", "channel": "app"} for i in range(args.batch_size)
        ]}
        response = client.post("/api/tickets/batch/", json.dumps(body), content_type="application/json")
        assert response.status_code == 201, response.content
        return response

    for name, call, count in (("single", single, args.singles), ("batch", batch, args.batches)):
        if name not in parts:
            continue
        for i in range(5):  # warm-up: imports, the broker connection, URL resolver
            call(-1 - i)
        with _capture(connection) as queries:
            call(10**6)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for i in range(count):
            call(i)
        profile.disable()
        elapsed = time.perf_counter() - started
        print(f"\n== {name} POST: {count} requests, {elapsed / count * 1000:.2f} ms per request (under cProfile), "
              f"{len(queries)} SQL statements per request:")
        for sql in queries.captured:
            print("   ", sql[:150])
        print(_top(profile, args.top, args.sort))

    if "worker" in parts:
        from feedback.classification import get_predictor, ticket_classify, tickets_triage
        from feedback.models import Ticket, TriageStatus

        get_predictor()
        ids = list(Ticket.objects.filter(triage_status=TriageStatus.PENDING).order_by("pk").values_list("pk", flat=True)[: 2 * args.worker_tickets])
        singles, batched = ids[: len(ids) // 2], ids[len(ids) // 2 :]
        ticket_classify(ticket_id=singles.pop())  # warm-up
        with _capture(connection) as queries:
            ticket_classify(ticket_id=singles.pop())
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for ticket_id in singles:
            ticket_classify(ticket_id=ticket_id)
        profile.disable()
        per_single = (time.perf_counter() - started) / len(singles)
        print(f"\n== worker, one ticket per task (ticket_classify): {per_single * 1000:.2f} ms per ticket, "
              f"{len(queries)} SQL statements per ticket")
        print(_top(profile, args.top, args.sort))
        started = time.perf_counter()
        tickets_triage(ticket_ids=batched)
        per_batched = (time.perf_counter() - started) / len(batched)
        print(f"== worker, one batch of {len(batched)} (tickets_triage): {per_batched * 1000:.2f} ms per ticket")
        # The path single tickets take now: triage_pending runs that take whatever is waiting.
        from feedback.classification import tickets_triage_pending
        from feedback.services import TicketInput, ticket_create

        for size in (1, 10, 50):
            runs = max(3, 100 // size)
            elapsed = 0.0
            for _ in range(runs):
                for i in range(size):
                    ticket_create(data=TicketInput(text=f"{TEXTS[i % 5]} run", sku=f"PROF-{i % 20}"), enqueue=False)
                started = time.perf_counter()
                taken = tickets_triage_pending(limit=size).ticket_ids
                elapsed += time.perf_counter() - started
                assert len(taken) == size, taken
            print(f"== worker, triage_pending runs of {size:2} waiting tickets: "
                  f"{elapsed / (runs * size) * 1000:.2f} ms per ticket ({runs} runs)")
        started = time.perf_counter()
        for _ in range(20):
            connection.close()
            connection.ensure_connection()
        print(f"== a new PostgreSQL connection (what the Celery fixup costs per task): "
              f"{(time.perf_counter() - started) / 20 * 1000:.2f} ms")
    reset_queries()


if __name__ == "__main__":
    main()
