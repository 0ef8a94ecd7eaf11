"""Benchmark: sustained single-ticket load on gunicorn + a Celery triage worker; nothing lost, nothing counted twice.

    .venv/bin/python benchmarks/intake_sustained.py [--rate 300] [--duration 60] [--worker-concurrency 1]

Starts the app under gunicorn (2 sync workers, 127.0.0.1 only) and one Celery
worker on the triage queue (``--concurrency`` --worker-concurrency, the real model
and pipeline), on a scratch PostgreSQL database ``bench_intake_sustained`` (dropped
at the end unless --keep) and a private queue on the Redis broker. An open-loop
load generator (asyncio, one new connection per request like gunicorn's sync
workers want, at most --max-in-flight outstanding) sends --rate single tickets a
second for --duration seconds (bounded: rate <= 1000/s, duration <= 120 s).

Printed: tickets sent and accepted (201) and accepted/s; latency p50/p95/p99 from
each request's scheduled send time (so a server that falls behind is not hidden
by the generator waiting for it); the triage backlog (tickets still pending)
every second; the time from the end of the load until the backlog is empty
(target <= 10 s); how many triage runs the worker made and how many tickets they
took; and the exactly-once checks: every accepted ticket saved, none pending, every
ticket classified, and every issue's count equal to the tickets on it (total and
daily series).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.intake_bench import (  # noqa: E402
    APP_PORT,
    ROOT,
    TEXTS,
    _database_url,
    _environment,
    _prepare,
    _psql,
    _start,
)

CELERY = ROOT / ".venv" / "bin" / "celery"
DATABASE = "bench_intake_sustained"
QUEUE = "bench-intake-sustained"

CHECKS = {
    "tickets saved": "SELECT count(*) FROM feedback_ticket",
    "still pending": "SELECT count(*) FROM feedback_ticket WHERE triage_status = 'pending'",
    "never classified": "SELECT count(*) FROM feedback_ticket WHERE classified_at IS NULL",
    "tickets on an issue": "SELECT count(*) FROM feedback_ticket WHERE issue_id IS NOT NULL",
    "sum of issue counts": "SELECT coalesce(sum(ticket_count), 0) FROM issues_issue",
    "issues whose count differs from their tickets": (
        "SELECT count(*) FROM issues_issue i WHERE i.ticket_count <> "
        "(SELECT count(*) FROM feedback_ticket t WHERE t.issue_id = i.id)"
    ),
    "issues whose daily series differs from their tickets": (
        "SELECT count(*) FROM issues_issue i WHERE (SELECT coalesce(sum(d.count), 0) FROM issues_issuedaily d "
        "WHERE d.issue_id = i.id) <> (SELECT count(*) FROM feedback_ticket t WHERE t.issue_id = i.id)"
    ),
}


async def _post(body: bytes, token: str) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", APP_PORT)
    writer.write(
        b"POST /api/tickets/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Token {token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()  # until the server closes
    writer.close()
    return int(status_line.split()[1]) if status_line else 0


async def _load(rate: float, duration: float, token: str, max_in_flight: int) -> tuple[list[float], list[int], float]:
    """Send rate*duration requests on schedule; return latencies (ms, from schedule), statuses, seconds taken."""
    total = int(rate * duration)
    latencies: list[float] = []
    statuses: list[int] = []
    slots = asyncio.Semaphore(max_in_flight)
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def one(index: int, scheduled: float) -> None:
        body = json.dumps({"text": f"{TEXTS[index % len(TEXTS)]} #{index}", "sku": f"BENCH-{index % 20}",
                           "channel": "app"}, ensure_ascii=False).encode()
        async with slots:
            try:
                status = await asyncio.wait_for(_post(body, token), timeout=30)
            except (OSError, asyncio.TimeoutError):
                status = 0
        statuses.append(status)
        latencies.append((loop.time() - scheduled) * 1000)

    tasks = []
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, scheduled)))
    await asyncio.gather(*tasks)
    return latencies, statuses, loop.time() - start


def _pending(base: str) -> int:
    return int(_psql(base, CHECKS["still pending"], DATABASE))


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=300.0, help="single tickets a second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.rate > 1000 or args.duration > 120:
        sys.exit("bounded benchmark: --rate <= 1000 and --duration <= 120")

    workdir = Path(tempfile.mkdtemp(prefix="intake-sustained-"))
    processes: list[subprocess.Popen] = []
    try:
        _psql(args.database_url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        _psql(args.database_url, f"CREATE DATABASE {DATABASE}")
        env = _environment("app", _database_url(args.database_url, DATABASE), args.broker, workdir)
        env.update(CELERY_TRIAGE_QUEUE=QUEUE, CELERY_BULK_QUEUE=f"{QUEUE}-bulk", LOG_LEVEL="INFO")
        token = _prepare("app", env)
        processes.append(_start("app", env, APP_PORT, workdir / "gunicorn.log"))
        worker_log = workdir / "worker.log"
        processes.append(subprocess.Popen(
            [str(CELERY), "-A", "config.celery", "worker", "-Q", QUEUE, "--concurrency", str(args.worker_concurrency),
             "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{QUEUE}@%h"],
            env=env, cwd=ROOT, stdout=worker_log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        ))
        # Warm up: the first ticket makes the worker load (or train) the model before the clock starts.
        asyncio.run(_load(1, 1, token, 1))
        deadline = time.monotonic() + 300
        while _pending(args.database_url):
            if time.monotonic() > deadline or processes[-1].poll() is not None:
                sys.exit(f"the worker never triaged the warm-up ticket:\n{worker_log.read_text()[-3000:]}")
            time.sleep(0.5)
        runs_before = len(re.findall(r"triage_pending: \d+ waiting", worker_log.read_text()))

        print(f"{args.rate:.0f} single tickets/s for {args.duration:.0f} s to gunicorn (2 sync workers, 127.0.0.1) + "
              f"1 Celery worker (concurrency {args.worker_concurrency}) on the triage queue; {os.cpu_count()} CPUs; "
              f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        backlog: list[tuple[float, int]] = []
        started = time.monotonic()
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                backlog.append((time.monotonic() - started, await asyncio.to_thread(_pending, args.database_url)))
                await asyncio.sleep(1.0)

        async def run() -> tuple[list[float], list[int], float]:
            sampler = asyncio.create_task(sample())
            result = await _load(args.rate, args.duration, token, args.max_in_flight)
            stop.set()
            await sampler
            return result

        latencies, statuses, seconds = asyncio.run(run())
        load_ended = time.monotonic()
        while (waiting := _pending(args.database_url)) and time.monotonic() - load_ended < args.drain_timeout:
            backlog.append((time.monotonic() - started, waiting))
            time.sleep(0.25)
        drained = time.monotonic() - load_ended
        time.sleep(2)  # a run scheduled by the last tickets may still be finishing its grouping
        load_after = os.getloadavg()

        accepted = statuses.count(201)
        print(f"sent {len(statuses)} in {seconds:.1f} s; accepted (201) {accepted} = {accepted / seconds:.0f}/s; "
              f"other statuses: {sorted({s for s in statuses if s != 201}) or 'none'}")
        print(f"latency from the scheduled send: p50 {_percentile(latencies, 50):.0f} ms, "
              f"p95 {_percentile(latencies, 95):.0f} ms, p99 {_percentile(latencies, 99):.0f} ms")
        print("backlog (tickets pending) over time: " + ", ".join(f"{t:.0f}s:{n}" for t, n in backlog[:: max(1, len(backlog) // 40)]))
        print(f"backlog empty {drained:.1f} s after the load stopped "
              f"({'target <= 10 s met' if drained <= 10 and not waiting else 'target <= 10 s NOT met'})")
        taken = [int(n) for n in re.findall(r"triage_pending: (\d+) waiting", worker_log.read_text())][runs_before:]
        print(f"worker: {len(taken)} triage_pending runs took {sum(taken)} tickets "
              f"(median {statistics.median(taken) if taken else 0:.0f} per run, max {max(taken, default=0)})")
        figures = {name: int(_psql(args.database_url, sql, DATABASE)) for name, sql in CHECKS.items()}
        for name, value in figures.items():
            print(f"  {name}: {value}")
        unclassified_ok = figures["still pending"] == 0 and figures["never classified"] == 0
        counted_ok = (figures["issues whose count differs from their tickets"] == 0
                      and figures["issues whose daily series differs from their tickets"] == 0
                      and figures["sum of issue counts"] == figures["tickets on an issue"])
        saved_ok = figures["tickets saved"] == accepted + 1  # + the warm-up ticket
        print(f"every accepted ticket saved: {'yes' if saved_ok else 'NO'}; every ticket classified: "
              f"{'yes' if unclassified_ok else 'NO'}; counted exactly once: {'yes' if counted_ok else 'NO'}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}")
    finally:
        for process in reversed(processes):
            try:
                os.killpg(process.pid, 15)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, 9)
                except ProcessLookupError:
                    pass
        try:
            import redis

            redis.Redis.from_url(args.broker).delete(QUEUE, f"{QUEUE}-bulk")
        except Exception as error:  # noqa: BLE001 - cleaning up only
            print(f"could not empty the benchmark queue: {error}")
        if not args.keep:
            try:
                _psql(args.database_url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            except Exception as error:  # noqa: BLE001
                print(f"could not drop {DATABASE}: {error}")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
