"""Reliability of triage against real PostgreSQL, Redis and Celery worker processes."""
from __future__ import annotations

import pytest
from django.db.models import Sum

from feedback.models import Ticket, TriageStatus
from feedback.services import TicketInput, ticket_create, triage_pending_release, triage_publisher_drain
from issues.models import Issue, IssueDaily
from tests.factories import ProductFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TEXTS = ["洗发水漏液了，瓶子裂开", "快递太慢了，一周才到", "用了两天就坏了", "瓶子破了一个洞", "物流慢得离谱"]


def file_tickets(count: int) -> list[Ticket]:
    products = [ProductFactory(sku=f"REL-{i}", product_category="洗发水") for i in range(3)]
    return [
        ticket_create(data=TicketInput(text=f"{TEXTS[i % len(TEXTS)]} #{i}", sku=products[i % 3].sku))
        for i in range(count)
    ]


def assert_counts_exact(expected_tickets: int) -> None:
    """Every ticket is on an issue and every issue's counts equal its actual tickets."""
    assert Ticket.objects.filter(issue__isnull=False).count() == expected_tickets
    for issue in Issue.objects.all():
        actual = Ticket.objects.filter(issue=issue).count()
        daily = IssueDaily.objects.filter(issue=issue).aggregate(total=Sum("count"))["total"] or 0
        assert (issue.ticket_count, daily) == (actual, actual), f"issue {issue.pk} counts drifted"
    assert Issue.objects.aggregate(total=Sum("ticket_count"))["total"] == expected_tickets


def test_a_ticket_filed_while_the_broker_is_down_is_saved_and_triaged_after_it_returns(
    celery_worker_process, broker_down, settings, caplog
):
    triage_pending_release()  # no triage run already scheduled from this process's earlier tests
    with broker_down():
        ticket = ticket_create(data=TicketInput(text="洗发水漏液了，瓶子裂开", sku=""))
        triage_publisher_drain()  # the publish runs on a background thread, never in the request
    ticket.refresh_from_db()
    assert ticket.pk and ticket.triage_status == TriageStatus.PENDING
    assert "left for the sweeper" in caplog.text

    # The broker is back: the periodic sweeper (run here as beat would) enqueues it for a real worker.
    from feedback.tasks import sweep_untriaged

    settings.TRIAGE_SWEEP_AFTER_SECONDS = 0
    celery_worker_process.start()
    assert sweep_untriaged() == 1
    wait_for(lambda: Ticket.objects.filter(pk=ticket.pk, issue__isnull=False).exists(), timeout=90,
             message=f"ticket never triaged; worker log:\n{celery_worker_process.log()}")
    ticket.refresh_from_db()
    assert ticket.triage_status == TriageStatus.CLASSIFIED and ticket.category.code == "damaged"
    assert_counts_exact(1)


@pytest.mark.parametrize("stage", ["before_commit", "after_commit"])
def test_killing_a_worker_mid_task_loses_nothing_and_double_counts_nothing(celery_worker_process, tmp_path, stage):
    marker = tmp_path / "hung"
    first = celery_worker_process.start(TEST_HANG=stage, TEST_HANG_MARKER=str(marker))
    tickets = file_tickets(12)
    wait_for(marker.exists, timeout=90, message=f"worker never reached the hang; log:\n{celery_worker_process.log()}")
    # SIGKILL while the first task is inside its transaction (rolled back by PostgreSQL)
    # or after its commit but before the ack (redelivered, and attaching again is a no-op).
    celery_worker_process.kill(first)
    celery_worker_process.start()
    wait_for(
        lambda: Ticket.objects.filter(pk__in=[t.pk for t in tickets], issue__isnull=False).count() == len(tickets),
        timeout=120,
        message=f"tickets lost after the kill; log:\n{celery_worker_process.log()}",
    )
    assert_counts_exact(len(tickets))
