"""Single tickets are triaged in micro-batches by a real worker, and a lone ticket still within 2 s."""
from __future__ import annotations

import re
import time

import pytest

from feedback.models import Ticket, TriageStatus
from feedback.services import TicketInput, ticket_create
from tests.integration.conftest import wait_for
from tests.integration.test_reliability import assert_counts_exact

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TEXTS = ["洗发水漏液了，瓶子裂开", "快递太慢了，一周才到", "用了两天就坏了", "尺码偏小，要换大一码", "客服态度很差"]
BURST = 60


def pending(ids: list[int]) -> int:
    return Ticket.objects.filter(pk__in=ids, triage_status=TriageStatus.PENDING).count()


def runs(log: str) -> list[int]:
    """How many tickets each triage_pending run took, from the worker's log."""
    return [int(n) for n in re.findall(r"triage_pending: (\d+) waiting tickets triaged", log)]


def test_tickets_filed_one_by_one_are_triaged_in_few_runs_and_a_lone_one_within_2_s(celery_worker_process, settings):
    settings.TRIAGE_COALESCE_SECONDS = 0.5
    # The real pipeline (model, UPDATE, grouping), not the keyword stub: the cost per ticket is the point.
    # A visibility timeout longer than the first run (which loads the model): the fixture's 3 s would
    # redeliver that run, and the copy would triage the lone ticket early and spoil its timing.
    celery_worker_process.start(queues="triage", TEST_STUB_CLASSIFIER="0", CELERY_VISIBILITY_TIMEOUT="120")
    warm = ticket_create(data=TicketInput(text="洗发水漏液了"))
    wait_for(lambda: pending([warm.pk]) == 0, timeout=180,
             message=f"first ticket (model load) never triaged:\n{celery_worker_process.log()}")

    filed = time.monotonic()
    lone = ticket_create(data=TicketInput(text="快递太慢了，一周才到"))
    wait_for(lambda: pending([lone.pk]) == 0, timeout=10, interval=0.05,
             message=f"lone ticket not triaged:\n{celery_worker_process.log()}")
    lone_seconds = time.monotonic() - filed
    assert lone_seconds < 2.0, f"a lone ticket took {lone_seconds:.2f} s"
    runs_before = len(runs(celery_worker_process.log()))

    started = time.monotonic()
    burst = [ticket_create(data=TicketInput(text=f"{TEXTS[i % 5]} #{i}")).pk for i in range(BURST)]
    filed_seconds = time.monotonic() - started
    wait_for(lambda: pending(burst) == 0, timeout=60, interval=0.1,
             message=f"burst not triaged:\n{celery_worker_process.log()}")

    time.sleep(1.5)  # let a run scheduled by the last tickets finish, so it is counted too
    burst_runs = runs(celery_worker_process.log())[runs_before:]
    print(f"\nlone ticket triaged in {lone_seconds:.2f} s; {BURST} tickets filed one by one in "
          f"{filed_seconds:.2f} s took {len(burst_runs)} runs of {burst_runs} tickets")
    assert sum(burst_runs) >= BURST
    assert len(burst_runs) <= BURST / 10, f"{BURST} tickets took {len(burst_runs)} runs: {burst_runs}"
    assert Ticket.objects.filter(triage_status=TriageStatus.PENDING).count() == 0
    assert Ticket.objects.filter(classified_at__isnull=False).count() == BURST + 2
    assert_counts_exact(BURST + 2 - Ticket.objects.filter(category__isnull=True).count())
