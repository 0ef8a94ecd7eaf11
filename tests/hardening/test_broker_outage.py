"""Item 7 of the hardening issue: with the broker down, requests do not stall and nothing is lost.

A real Redis is started by the test on a free port of its own, a real Celery worker consumes from
it, and the Redis process is stopped in the middle: ticket requests and an upload are answered
within 300 ms each while it is down (they used to wait about 2 s for kombu's connection retries),
and once it is back the sweepers send everything and the worker triages every ticket and runs the
upload.
"""
from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from feedback.models import ImportJob, Ticket, TriageStatus
from tests.factories import UserFactory
from tests.integration.conftest import _reset_producer, celery_worker_process, wait_for  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Typical answer while the broker is down (the median), and the worst any single request may take:
# before the fix every one of them waited about 2 s for kombu's connection retries. The worst case has
# headroom because this machine's two cores are shared with other test runs, which slows any request.
LIMIT_SECONDS = 0.3
WORST_SECONDS = 1.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class OwnRedis:
    directory: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=(self.directory / "redis.log").open("a"), stderr=subprocess.STDOUT,
        )
        wait_for(self.answers, timeout=20, message="redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        assert not self.answers()

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False


@pytest.fixture
def own_redis(tmp_path, settings):
    """A Redis of this test's own, and this process's Celery app pointed at it."""
    from config.celery import app

    server = OwnRedis(tmp_path)
    server.start()
    original = (app.conf.broker_url, os.environ.get("CELERY_BROKER_URL"), settings.CELERY_BROKER_URL)
    settings.CELERY_BROKER_URL = app.conf.broker_url = os.environ["CELERY_BROKER_URL"] = server.url
    _reset_producer(app)
    try:
        yield server
    finally:
        server.stop()
        app.conf.broker_url, environment, settings.CELERY_BROKER_URL = original
        if environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = environment
        _reset_producer(app)


def _csv(rows: list[list[str]]) -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile("outage.csv", buffer.getvalue().encode("utf-8"), content_type="text/csv")


def _timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_requests_stay_fast_while_the_broker_is_down_and_everything_is_triaged_after(own_redis, request, settings):
    from feedback.tasks import sweep_queued_imports, sweep_untriaged

    workers = request.getfixturevalue("celery_worker_process")
    workers.start()
    agent = UserFactory(username="outage-agent", role=Role.AGENT)
    api = APIClient()
    api.force_authenticate(agent)
    page = Client()
    page.force_login(agent)

    before, baseline = _timed(lambda: api.post("/api/tickets/", {"text": "快递太慢了，一周还没到"}, format="json"))
    assert before.status_code == 201
    wait_for(lambda: Ticket.objects.filter(pk=before.json()["id"]).exclude(triage_status=TriageStatus.PENDING)
             .exists(), timeout=90, message=f"baseline ticket never triaged:\n{workers.log()}")

    own_redis.stop()
    timings: list[float] = []
    for number in range(10):
        response, seconds = _timed(lambda n=number: api.post(
            "/api/tickets/", {"text": f"洗发水漏液了，瓶子破了 {n}"}, format="json"))
        assert response.status_code == 201
        timings.append(seconds)
    listed, seconds = _timed(lambda: api.get("/api/tickets/"))
    assert listed.status_code == 200
    timings.append(seconds)
    uploaded, seconds = _timed(lambda: page.post(reverse("import-create"), {
        "file": _csv([["内容"], ["快递盒子破了"], ["物流太慢"]]), "source": "outage", "column_mapping": ""}))
    assert uploaded.status_code == 302
    timings.append(seconds)

    median = sorted(timings)[len(timings) // 2]
    print(f"\nrequests while the broker was down: {len(timings)}, median {median * 1000:.0f} ms, "
          f"slowest {max(timings) * 1000:.0f} ms, mean {sum(timings) / len(timings) * 1000:.0f} ms "
          f"(the first request, broker up, process warming up: {baseline * 1000:.0f} ms)")
    assert median < LIMIT_SECONDS, [round(t, 3) for t in timings]
    assert max(timings) < WORST_SECONDS, [round(t, 3) for t in timings]
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.QUEUED and "无需重新上传" in job.message
    assert Ticket.objects.filter(triage_status=TriageStatus.PENDING).count() == 10

    own_redis.start()
    settings.TRIAGE_SWEEP_AFTER_SECONDS = 0
    settings.IMPORT_SWEEP_AFTER_SECONDS = 0
    # Beat would run these every two minutes; here they run once the broker answers again.
    assert sweep_untriaged() == 10
    assert sweep_queued_imports() == 1

    wait_for(lambda: ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.DONE).exists(), timeout=120,
             message=f"upload never imported:\n{workers.log()}")
    wait_for(lambda: not Ticket.objects.filter(triage_status=TriageStatus.PENDING).exists(), timeout=120,
             message=f"tickets left untriaged:\n{workers.log()}")
    assert Ticket.objects.count() == 1 + 10 + 2
    # Triaged: classified (and attached to an issue), or sent to the agents' review queue by the model.
    triaged = Ticket.objects.filter(triage_status__in=[TriageStatus.CLASSIFIED, TriageStatus.NEEDS_REVIEW])
    assert triaged.count() == 13
    assert not triaged.filter(triage_status=TriageStatus.CLASSIFIED, issue__isnull=True).exists()
