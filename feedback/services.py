"""Writes for tickets. The web form, the REST API and the importer all call these,
so the rules (validation, SKU lookup, triage enqueueing) cannot drift apart."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .dates import EARLIEST_DATE
from .masking import mask_phone_numbers
from .models import Channel, Product, Ticket

logger = logging.getLogger(__name__)
_CHANNELS = frozenset(Channel.values)
# Tickets per triage message for bulk work: one model call per batch instead of one message per ticket.
TRIAGE_BATCH_SIZE = 200


class TicketValidationError(ValueError):
    """Raised with ``errors``: a mapping of field name to a human-readable message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class DuplicateTicket(Exception):
    """A ticket with the same external source and id already exists."""

    def __init__(self, ticket: Ticket):
        self.ticket = ticket
        super().__init__(f"duplicate of ticket #{ticket.pk}")


@dataclass
class TicketInput:
    """Everything needed to file one ticket, already parsed into Python types."""

    text: str
    channel: str = Channel.CHAT
    sku: str = ""
    product: Product | None = None
    order_number: str = ""
    external_source: str = ""
    external_id: str | None = None
    received_at: datetime | None = None
    warnings: list[str] = field(default_factory=list)


def ticket_validate(data: TicketInput, *, product_cache: dict[str, Product | None] | None = None) -> TicketInput:
    """Normalise and check one ticket's fields; raise TicketValidationError naming each bad field.

    An unknown SKU is not an error: the ticket is saved with the SKU kept in
    ``sku_raw`` and no product, and a warning is added (agents cannot fix a
    platform's product list mid-shift, and refusing would lose the complaint).
    """
    errors: dict[str, str] = {}
    text = (data.text or "").strip()
    if not text:
        errors["text"] = "投诉内容不能为空 (text is empty)"
    elif len(text) > settings.TICKET_TEXT_MAX_LENGTH:
        errors["text"] = (
            f"投诉内容过长：{len(text)} 字，最多 {settings.TICKET_TEXT_MAX_LENGTH} 字 "
            f"(text is {len(text)} characters, the limit is {settings.TICKET_TEXT_MAX_LENGTH})"
        )
    data.text = text
    if data.channel not in _CHANNELS:
        errors["channel"] = f"未知渠道 '{data.channel}' (unknown channel; use one of {', '.join(Channel.values)})"
    data.sku = (data.sku or "").strip()
    if len(data.sku) > 64:
        errors["sku"] = "SKU 过长，最多 64 个字符 (SKU longer than 64 characters)"
    data.order_number = (data.order_number or "").strip()
    if len(data.order_number) > 64:
        errors["order_number"] = "订单号过长，最多 64 个字符 (order number longer than 64 characters)"
    if data.external_id is not None:
        data.external_id = str(data.external_id).strip() or None
    if data.external_id and len(data.external_id) > 100:
        errors["external_id"] = "外部工单号过长 (external id longer than 100 characters)"
    data.external_source = (data.external_source or "").strip()[:40]
    if data.received_at is not None and timezone.is_naive(data.received_at):
        data.received_at = timezone.make_aware(data.received_at)
    if data.received_at is not None and data.received_at > timezone.now() + timezone.timedelta(days=1):
        errors["received_at"] = "接收时间在未来 (received_at is in the future)"
    elif data.received_at is not None and data.received_at.year < EARLIEST_DATE.year:
        errors["received_at"] = (f"接收时间早于 {EARLIEST_DATE.isoformat()} "
                                 f"(received_at is before {EARLIEST_DATE.isoformat()})")
    if errors:
        raise TicketValidationError(errors)
    if data.product is None and data.sku:
        if product_cache is not None and data.sku in product_cache:
            data.product = product_cache[data.sku]
        else:
            data.product = Product.objects.filter(sku=data.sku).first()
            if product_cache is not None:
                product_cache[data.sku] = data.product
        if data.product is None:
            data.warnings.append(f"未知 SKU '{data.sku}'：工单已保存，未关联商品 (unknown SKU, saved without a product)")
    if data.product is not None and not data.sku:
        data.sku = data.product.sku
    return data


def _build(data: TicketInput, filed_by) -> Ticket:
    return Ticket(
        text=data.text,
        text_masked=mask_phone_numbers(data.text),
        channel=data.channel,
        product=data.product,
        sku_raw=data.sku,
        order_number=data.order_number,
        external_source=data.external_source,
        external_id=data.external_id,
        filed_by=filed_by,
        received_at=data.received_at or timezone.now(),
    )


def ticket_create(*, data: TicketInput, filed_by=None, enqueue: bool = True) -> Ticket:
    """Validate and save one ticket, then enqueue its triage once the transaction commits.

    Raises TicketValidationError for bad fields and DuplicateTicket when the
    external (source, id) pair was already imported.
    """
    ticket_validate(data)
    if data.external_id:
        existing = Ticket.objects.filter(external_source=data.external_source, external_id=data.external_id).first()
        if existing:
            raise DuplicateTicket(existing)
    ticket = _build(data, filed_by)
    try:
        with transaction.atomic():
            ticket.save()
    except IntegrityError:
        # Lost a race with a concurrent import of the same external id.
        existing = Ticket.objects.get(external_source=data.external_source, external_id=data.external_id)
        raise DuplicateTicket(existing) from None
    if enqueue:
        tickets_enqueue_triage(ticket_ids=[ticket.pk])
    return ticket


def tickets_bulk_create(*, items: list[TicketInput], filed_by=None, enqueue: bool = True) -> tuple[list[Ticket], list[Ticket]]:
    """Save already-validated tickets in one go; return (created, duplicates).

    Duplicates are detected against the database and within ``items`` (the
    first occurrence wins). The caller validates first, so nothing is half-written:
    either every new row of the batch is saved or none is.
    """
    keyed = [(i.external_source, i.external_id) for i in items if i.external_id]
    existing: dict[tuple[str, str], Ticket] = {}
    if keyed:
        sources = {s for s, _ in keyed}
        ids = [e for _, e in keyed]
        for t in Ticket.objects.filter(external_source__in=sources, external_id__in=ids):
            existing[(t.external_source, t.external_id)] = t
    seen: set[tuple[str, str]] = set()
    to_create: list[Ticket] = []
    duplicates: list[Ticket] = []
    for item in items:
        if item.external_id:
            key = (item.external_source, item.external_id)
            if key in existing:
                duplicates.append(existing[key])
                continue
            if key in seen:
                continue
            seen.add(key)
        to_create.append(_build(item, filed_by))
    with transaction.atomic():
        # ignore_conflicts would hide races silently; the unique constraint is the backstop.
        created = Ticket.objects.bulk_create(to_create, batch_size=500)
    if enqueue and created:
        tickets_enqueue_triage(ticket_ids=[t.pk for t in created if t.pk])
    return created, duplicates


def tickets_enqueue_triage(*, ticket_ids: list[int]) -> None:
    """Send tickets to the triage task after commit; a broker outage never loses the ticket.

    If the broker is unreachable the ticket stays ``pending`` and the periodic
    sweeper (``feedback.sweep_untriaged``) enqueues it once the broker is back.
    """
    if not ticket_ids:
        return

    def send() -> None:
        from .tasks import triage_ticket, triage_tickets

        try:
            if len(ticket_ids) == 1:
                triage_ticket.apply_async(args=[ticket_ids[0]], retry=False)
                return
            for start in range(0, len(ticket_ids), TRIAGE_BATCH_SIZE):
                triage_tickets.apply_async(args=[ticket_ids[start : start + TRIAGE_BATCH_SIZE]], retry=False)
        except Exception as exc:  # kombu raises several types for an unreachable broker
            logger.warning("broker unavailable, %d tickets left for the sweeper: %s", len(ticket_ids), exc)

    transaction.on_commit(send)
