"""Benchmark: the app's ticket intake against a minimal Django + DRF create endpoint, side by side in one run.

    .venv/bin/python benchmarks/intake_bench.py [--duration 10] [--connections 8] [--batch 100] [--rounds 2]

Both run under gunicorn with 2 sync workers on 127.0.0.1 only, each on a scratch
PostgreSQL database created here and dropped at the end (``bench_intake_app``,
``bench_intake_ref``; --keep keeps them), both publishing to the same Redis broker
(queues of their own, emptied at the end; no worker consumes them). The reference
is ``benchmarks/reference``: token auth, one model, an on-commit Celery publish,
nothing else (no middleware). The load comes from wrk (Debian package ``wrk``:
``apt-get install -y wrk``), one thread, a bounded --duration per run, and runs
alternate app, reference, app, reference, so both see the same machine. Printed:
tickets/s (201 responses × tickets per request), latency p50/p95/p99 and the ratio
app/reference per round, the load average before and after, and a check that the
number of rows saved equals the number of tickets acknowledged.

``--before DIR`` adds a third column: the app as it was in an older checkout, e.g.
``git archive e355ee4 | tar -x -C /tmp/before`` (then link .venv into it), on its own
scratch database, so "before" and "after" are measured in the same run too.

Targets (issue 16): single POST at 8 connections >= 50 % of the reference with
p95 <= 50 ms; batches of 100 >= 40 % of the reference's tickets/s.

Needs PostgreSQL and Redis: --database-url (default postgres://postgres@127.0.0.1:5432)
and --broker (default $CELERY_BROKER_URL or redis://127.0.0.1:6379/15).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
APP_PORT, REF_PORT, BEFORE_PORT = 8461, 8462, 8463
APP_QUEUE, REF_QUEUE = "bench-intake-app", "bench-intake-ref"
TEXTS = ["快递太慢了，一周才到，包装也破了", "洗发水漏液了，瓶子裂开", "尺码偏小，要换大一码", "用了两天就坏了，质量太差"]

LUA = """
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token %(token)s"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class Run:
    target: str
    kind: str
    requests: int
    seconds: float
    bad_status: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    per_request: int

    @property
    def tickets_per_second(self) -> float:
        return (self.requests - self.bad_status) * self.per_request / self.seconds


def _wrk_or_exit() -> str:
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk is not installed. Install it from Debian's package: apt-get install -y wrk")
    return wrk


def _database_url(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{name}"


def _psql(base: str, sql: str, database: str = "postgres") -> str:
    import psycopg

    with psycopg.connect(_database_url(base, database), autocommit=True) as connection:
        cursor = connection.execute(sql)
        return str(cursor.fetchone()[0]) if cursor.description else ""


def _environment(kind: str, database_url: str, broker: str, var_dir: Path, root: Path = ROOT) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "PYTHONPATH": str(root),
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(var_dir),
    }
    if kind != "ref":
        env.update(DJANGO_SETTINGS_MODULE="config.settings", CELERY_TRIAGE_QUEUE=APP_QUEUE)
    else:
        env.update(DJANGO_SETTINGS_MODULE="benchmarks.reference.settings", REFERENCE_QUEUE=REF_QUEUE)
    return env


SETUP = """
from rest_framework.authtoken.models import Token
from django.contrib.auth import get_user_model
User = get_user_model()
extra = {"role": "agent"} if hasattr(User, "role") else {}
user, _ = User.objects.get_or_create(username="bench", defaults=extra)
if %(products)r:
    from feedback.models import Product
    for i in range(20):
        Product.objects.get_or_create(sku=f"BENCH-{i}", defaults={"name": f"商品 {i}", "product_category": "洗发水"})
print(Token.objects.get_or_create(user=user)[0].key)
"""


def _prepare(kind: str, env: dict[str, str], root: Path = ROOT) -> str:
    """Migrate the scratch database and return the benchmark user's token."""
    manage = [str(PYTHON), "-m", "django"]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=root, check=True)
    out = subprocess.run(
        [*manage, "shell", "-c", SETUP % {"products": kind != "ref"}], env=env, cwd=root, check=True,
        capture_output=True, text=True,
    ).stdout
    return out.strip().splitlines()[-1]


def _start(kind: str, env: dict[str, str], port: int, log: Path, root: Path = ROOT) -> subprocess.Popen:
    wsgi = "benchmarks.reference.wsgi:application" if kind == "ref" else "config.wsgi:application"
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", wsgi],
        env=env, cwd=root, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn for {kind} exited:\n{log.read_text()}")
            time.sleep(0.2)
    raise SystemExit(f"gunicorn for {kind} not listening after 60 s")


def _body(kind: str, per_request: int) -> str:
    def item(i: int) -> dict:
        return {"text": TEXTS[i % len(TEXTS)], "sku": f"BENCH-{i % 20}", "channel": "app", "order_number": f"9{i:011d}"}

    return json.dumps(item(0) if kind == "single" else {"tickets": [item(i) for i in range(per_request)]},
                      ensure_ascii=False)


def _wrk(wrk: str, port: int, path: str, body: str, token: str, *, connections: int, seconds: float,
         workdir: Path) -> tuple[int, float, int, int, float, float, float]:
    script = workdir / "post.lua"
    script.write_text(LUA % {"body": body, "token": token})
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s", "-s", str(script),
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, timeout=seconds + 60,
    ).stdout
    line = next((l for l in out.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{out}")
    requests, duration_us, bad, errors, p50, p95, p99 = (int(x) for x in line.split()[1:])
    return requests, duration_us / 1e6, bad, errors, p50 / 1000, p95 / 1000, p99 / 1000


def _saved(base: str, database: str, table: str) -> int:
    return int(_psql(base, f"SELECT count(*) FROM {table}", database))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per run (bounded)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100, help="tickets per batch request")
    parser.add_argument("--rounds", type=int, default=2, help="alternating app/reference rounds per kind")
    parser.add_argument("--kinds", default="single,batch")
    parser.add_argument("--warm-up", type=int, default=5, help="seconds of unmeasured load per target and kind")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--before", type=Path, help="also run the app from this older checkout (e.g. git archive "
                        "of an earlier commit into a directory): a third column, 'before'")
    args = parser.parse_args()
    if args.duration > 120 or args.connections > 64:
        sys.exit("bounded benchmark: --duration <= 120 and --connections <= 64")
    wrk = _wrk_or_exit()

    databases = {"app": "bench_intake_app", "ref": "bench_intake_ref"}
    tables = {"app": "feedback_ticket", "ref": "reference_ticket", "before": "feedback_ticket"}
    ports = {"app": APP_PORT, "ref": REF_PORT, "before": BEFORE_PORT}
    roots = {"app": ROOT, "ref": ROOT, "before": args.before.resolve() if args.before else None}
    if args.before:
        databases["before"] = "bench_intake_before"
    servers: list[subprocess.Popen] = []
    workdir = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        tokens, envs = {}, {}
        for kind, database in databases.items():
            _psql(args.database_url, f"DROP DATABASE IF EXISTS {database}")
            _psql(args.database_url, f"CREATE DATABASE {database}")
            envs[kind] = _environment(kind, _database_url(args.database_url, database), args.broker, workdir / kind,
                                      roots[kind])
            (workdir / kind).mkdir()
            tokens[kind] = _prepare(kind, envs[kind], roots[kind])
        for kind in databases:
            servers.append(_start(kind, envs[kind], ports[kind], workdir / f"gunicorn-{kind}.log", roots[kind]))

        print(f"gunicorn 2 sync workers per app on 127.0.0.1; wrk -t1 -c{args.connections}, {args.duration:.0f} s a run; "
              f"{os.cpu_count()} CPUs; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        results: list[Run] = []
        for kind in args.kinds.split(","):
            per_request = 1 if kind == "single" else args.batch
            path = "/api/tickets/" if kind == "single" else "/api/tickets/batch/"
            body = _body(kind, per_request)
            for target in databases:  # warm-up: imports, connections, translation catalogs, fresh tables
                _wrk(wrk, ports[target], path, body, tokens[target], connections=args.connections,
                     seconds=args.warm_up, workdir=workdir)
            # Flush the WAL of the migrations and warm-ups now, so a checkpoint does not stall whichever runs first.
            _psql(args.database_url, "CHECKPOINT")
            for _ in range(args.rounds):
                for target in databases:
                    figures = _wrk(wrk, ports[target], path, body, tokens[target], connections=args.connections,
                                   seconds=args.duration, workdir=workdir)
                    results.append(Run(target, kind, *figures, per_request=per_request))
                    run = results[-1]
                    print(f"  {kind:6} {target:3}: {run.tickets_per_second:9.0f} tickets/s  p50 {run.p50_ms:6.1f} ms  "
                          f"p95 {run.p95_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  ({run.requests} requests, "
                          f"{run.bad_status} non-2xx, {run.socket_errors} socket errors)", flush=True)
        load_after = os.getloadavg()

        before_head = " before (--before) | ratio |" if args.before else ""
        print(f"\n| {args.connections} connections | the app | minimal DRF | ratio | target |{before_head}")
        print("|---|---|---|---|---|" + ("---|---|" if args.before else ""))
        for kind in args.kinds.split(","):
            app = [r for r in results if r.kind == kind and r.target == "app"]
            ref = [r for r in results if r.kind == kind and r.target == "ref"]
            app_rate = statistics.median(r.tickets_per_second for r in app)
            ref_rate = statistics.median(r.tickets_per_second for r in ref)
            app_p95 = statistics.median(r.p95_ms for r in app)
            ref_p95 = statistics.median(r.p95_ms for r in ref)
            label = "single POST" if kind == "single" else f"batch of {args.batch}"
            target = "ratio >= 0.50, p95 <= 50 ms" if kind == "single" else "ratio >= 0.40"
            met = (app_rate / ref_rate >= 0.5 and app_p95 <= 50) if kind == "single" else app_rate / ref_rate >= 0.4
            before = ""
            if args.before:
                old = [r for r in results if r.kind == kind and r.target == "before"]
                old_rate = statistics.median(r.tickets_per_second for r in old)
                before = (f" {old_rate:,.0f}/s, p95 {statistics.median(r.p95_ms for r in old):.1f} ms "
                          f"| {old_rate / ref_rate:.2f} |")
            print(f"| {label} | {app_rate:,.0f} tickets/s, p95 {app_p95:.1f} ms | {ref_rate:,.0f}/s, p95 {ref_p95:.1f} ms "
                  f"| {app_rate / ref_rate:.2f} | {target}: {'met' if met else 'NOT met'} |{before}")
        print(f"(medians of {args.rounds} alternating rounds; load average after: "
              f"{' '.join(f'{x:.2f}' for x in load_after)})")

        for target in databases:
            acknowledged = sum((r.requests - r.bad_status) * r.per_request for r in results if r.target == target)
            saved = _saved(args.database_url, databases[target], tables[target])
            # Warm-up requests are saved too; measured ones must all be there.
            print(f"{target}: {saved} rows saved, {acknowledged} tickets acknowledged in measured runs "
                  f"({'ok' if saved >= acknowledged else 'MISSING ROWS'})")
    finally:
        for server in servers:
            try:
                os.killpg(server.pid, 15)
                server.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(server.pid, 9)
        try:
            import redis

            redis.Redis.from_url(args.broker).delete(APP_QUEUE, REF_QUEUE)
        except Exception as error:  # noqa: BLE001 - cleaning up only
            print(f"could not empty the benchmark queues: {error}")
        if not args.keep:
            for database in databases.values():
                try:
                    _psql(args.database_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
                except Exception as error:  # noqa: BLE001
                    print(f"could not drop {database}: {error}")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
