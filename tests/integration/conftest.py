"""Real services for the reliability tests: PostgreSQL, Redis and Celery worker processes.

``celery_worker_process`` starts ``celery -A tests.integration.worker_app worker``
as a subprocess on a queue of its own, against the pytest test database, and
points this process's Celery app at the same queue. Tests that use it need
``@pytest.mark.django_db(transaction=True, serialized_rollback=True)`` (the
worker only sees committed rows; serialized_rollback restores the seeded
taxonomy for the tests that follow) and are skipped unless the database is
PostgreSQL and the broker is Redis.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"


def services_available() -> tuple[bool, str]:
    if connection.vendor != "postgresql":
        return False, "needs PostgreSQL (set DATABASE_URL=postgres://...)"
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        return False, "needs a Redis broker (set CELERY_BROKER_URL=redis://...)"
    try:
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1).ping()
    except Exception as error:  # noqa: BLE001 - any failure means "not available"
        return False, f"Redis not reachable: {error}"
    return True, ""


def _reset_producer(app) -> None:
    """Forget cached connections, queues and router so conf changes take effect in this process."""
    app._pool = None
    amqp = app.amqp
    amqp._producer_pool = None
    for name in ("queues", "default_queue", "router", "routes"):
        amqp.__dict__.pop(name, None)
    amqp._rtable = None  # the prepared task_routes, rebuilt from conf on next use


@dataclass
class WorkerProcess:
    queue: str
    env: dict[str, str]
    log_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def bulk_queue(self) -> str:
        return f"{self.queue}-bulk"

    def start(self, *, queues: str = "both", **extra_env: str) -> subprocess.Popen:
        """Start one worker (concurrency 1); extra_env adds test hooks.

        ``queues``: "both" (this test's triage and bulk queues), "triage" or "bulk".
        """
        consumed = {"both": f"{self.queue},{self.bulk_queue}", "triage": self.queue, "bulk": self.bulk_queue}[queues]
        number = len(self.processes) + 1
        path = self.log_dir / f"worker-{number}.log"
        log = path.open("w")
        process = subprocess.Popen(
            [str(CELERY), "-A", "tests.integration.worker_app", "worker", "-Q", consumed, "--concurrency", "1",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"{self.queue}-{number}@%h"],
            cwd=ROOT, env={**self.env, **extra_env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes.append(process)
        # Wait until it consumes, and fail with its log if it dies while starting.
        deadline = time.monotonic() + 90
        while "ready." not in path.read_text(errors="replace"):
            if process.poll() is not None:
                raise AssertionError(f"worker exited with {process.returncode}:\n{path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker not ready after 90 s:\n{path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool children at once: no chance to ack or clean up."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(process)

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.log_dir.glob("worker-*.log")))


def wait_for(condition: Callable[[], bool], *, timeout: float, interval: float = 0.25, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}")


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path, settings):
    """Yield a WorkerProcess factory bound to a fresh queue and the test database; stop its workers after."""
    available, reason = services_available()
    if not available:
        pytest.skip(reason)
    from config.celery import app

    queue = f"test-{uuid.uuid4().hex[:10]}"
    database = connection.settings_dict
    url = f"postgres://{database['USER'] or 'postgres'}"
    if database.get("PASSWORD"):
        url += f":{database['PASSWORD']}"
    url += f"@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "TEST_CELERY_QUEUE": queue,
        "CELERY_BULK_QUEUE": f"{queue}-bulk",
        "TEST_STUB_CLASSIFIER": os.environ.get("TEST_STUB_CLASSIFIER", "1"),
        "FEEDBACK_MODEL_DIR": str(settings.FEEDBACK_MODEL_DIR),
        "PYTHONPATH": str(ROOT),
    }
    previous = (app.conf.task_default_queue, app.conf.broker_url, app.conf.task_routes)
    app.conf.task_default_queue = queue
    app.conf.task_routes = {name: {"queue": f"{queue}-bulk"} for name in settings.CELERY_BULK_TASKS}
    _reset_producer(app)
    workers = WorkerProcess(queue=queue, env=env, log_dir=tmp_path)
    try:
        yield workers
    finally:
        workers.stop_all()
        app.conf.task_default_queue, app.conf.broker_url, app.conf.task_routes = previous
        _reset_producer(app)
        try:
            import redis

            redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue, f"{queue}-bulk")
        except Exception:  # noqa: BLE001
            pass


@pytest.fixture
def broker_down():
    """Point this process's Celery app at a closed port for the duration of a block."""
    from contextlib import contextmanager

    from config.celery import app

    closed = "redis://127.0.0.1:1/15"

    @contextmanager
    def down():
        # Celery reads CELERY_BROKER_URL from the environment before its own conf.
        original, original_env = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
        app.conf.broker_url = closed
        os.environ["CELERY_BROKER_URL"] = closed
        _reset_producer(app)
        try:
            yield
        finally:
            app.conf.broker_url = original
            if original_env is None:
                os.environ.pop("CELERY_BROKER_URL", None)
            else:
                os.environ["CELERY_BROKER_URL"] = original_env
            _reset_producer(app)

    return down
