"""Classify, group and route tickets in-process, in batches (triage_pending, backfills, benchmarks)."""
from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass
from typing import Callable

from .services.grouping import routing_inline, tickets_attach

logger = logging.getLogger(__name__)

# Names a batch classification service may have in feedback.classification, most specific first.
BATCH_NAMES = ("tickets_classify", "tickets_classify_batch", "ticket_classify_batch", "tickets_classify_many")


@dataclass
class TriageResult:
    classified: int = 0
    attached: int = 0
    created_issues: int = 0


def classifier_functions() -> tuple[Callable | None, Callable | None]:
    """Return (batch classify, single classify) from feedback.classification, each None if absent."""
    try:
        classification = importlib.import_module("feedback.classification")
    except ImportError:
        return None, None
    batch = next((getattr(classification, n) for n in BATCH_NAMES if hasattr(classification, n)), None)
    return batch, getattr(classification, "ticket_classify", None)


def _call_batch(batch: Callable, ticket_ids: list[int]):
    parameters = inspect.signature(batch).parameters
    # Grouping runs once for the whole batch right after, so the classifier need not attach.
    extra = {"attach": False} if "attach" in parameters else {}
    if "ticket_ids" in parameters:
        return batch(ticket_ids=ticket_ids, **extra)
    if "tickets" in parameters:
        from feedback.models import Ticket

        return batch(tickets=list(Ticket.objects.filter(pk__in=ticket_ids).select_related("product")), **extra)
    return batch(ticket_ids)


def tickets_triage(*, ticket_ids: list[int]) -> TriageResult:
    """Classify a batch (batch prediction when the classifier offers it), then group and route it.

    Issues created on the way are routed in-process, so this works with no
    broker. Grouping is idempotent, so re-running a batch changes nothing.
    """
    result = TriageResult()
    if not ticket_ids:
        return result
    batch, single = classifier_functions()
    with routing_inline():
        if batch is not None:
            _call_batch(batch, ticket_ids)
            result.classified = len(ticket_ids)
        elif single is not None:
            for ticket_id in ticket_ids:
                try:
                    single(ticket_id=ticket_id)
                    result.classified += 1
                except Exception:  # one bad ticket must not stop a backfill
                    logger.exception("classifying ticket %s failed", ticket_id)
        attach = tickets_attach(ticket_ids=ticket_ids)
    result.attached = attach.attached
    result.created_issues = len(attach.created_issue_ids)
    return result
