"""Writes for tickets. The web form, the REST API and the importer all call these,
so the rules (validation, SKU lookup, triage enqueueing) cannot drift apart."""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts.permissions import Action, user_can

from .dates import EARLIEST_DATE
from .masking import mask_phone_numbers
from .models import Category, Channel, Product, SavedView, Ticket, TrainingRun

if TYPE_CHECKING:
    from .classifiers.training import TrainingResult

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


def ticket_validate(
    data: TicketInput, *, product_cache: dict[str, Product | None] | None = None, resolve_product: bool = True
) -> TicketInput:
    """Normalise and check one ticket's fields; raise TicketValidationError naming each bad field.

    An unknown SKU is not an error: the ticket is saved with the SKU kept in
    ``sku_raw`` and no product, and a warning is added (agents cannot fix a
    platform's product list mid-shift, and refusing would lose the complaint).
    With ``resolve_product=False`` the SKU is left for the caller to look up
    (``ticket_create`` does it inside its INSERT, saving a round trip).
    """
    errors: dict[str, str] = {}
    text = (data.text or "").strip()
    if not text:
        errors["text"] = gettext("投诉内容不能为空")
    elif len(text) > settings.TICKET_TEXT_MAX_LENGTH:
        errors["text"] = (
            gettext("投诉内容过长：%(count)s 字，最多 %(limit)s 字") % {
                "count": len(text), "limit": settings.TICKET_TEXT_MAX_LENGTH}
        )
    data.text = text
    if data.channel not in _CHANNELS:
        errors["channel"] = gettext("未知渠道 '%(channel)s'，可用：%(values)s") % {"channel": data.channel, "values": ', '.join(Channel.values)}
    data.sku = (data.sku or "").strip()
    if len(data.sku) > 64:
        errors["sku"] = gettext("SKU 过长，最多 64 个字符")
    data.order_number = (data.order_number or "").strip()
    if len(data.order_number) > 64:
        errors["order_number"] = gettext("订单号过长，最多 64 个字符")
    if data.external_id is not None:
        data.external_id = str(data.external_id).strip() or None
    if data.external_id and len(data.external_id) > 100:
        errors["external_id"] = gettext("外部工单号过长")
    data.external_source = (data.external_source or "").strip()[:40]
    if data.received_at is not None and timezone.is_naive(data.received_at):
        data.received_at = timezone.make_aware(data.received_at)
    if data.received_at is not None and data.received_at > timezone.now() + timezone.timedelta(days=1):
        errors["received_at"] = gettext("接收时间在未来")
    elif data.received_at is not None and data.received_at.year < EARLIEST_DATE.year:
        errors["received_at"] = gettext("接收时间早于 %(date)s") % {"date": EARLIEST_DATE.isoformat()}
    if errors:
        raise TicketValidationError(errors)
    if data.product is None and data.sku and resolve_product:
        if product_cache is not None and data.sku in product_cache:
            data.product = product_cache[data.sku]
        else:
            data.product = Product.objects.filter(sku=data.sku).first()
            if product_cache is not None:
                product_cache[data.sku] = data.product
        if data.product is None:
            _warn_unknown_sku(data)
    if data.product is not None and not data.sku:
        data.sku = data.product.sku
    return data


def _warn_unknown_sku(data: TicketInput) -> None:
    data.warnings.append(gettext("未知 SKU '%(sku)s'：工单已保存，未关联商品") % {"sku": data.sku})


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
    lookup_sku = data.product is None and bool((data.sku or "").strip())
    ticket_validate(data, resolve_product=False)
    ticket = _build(data, filed_by)
    try:
        # Outside a transaction the INSERT is atomic by itself: BEGIN/COMMIT would add two round
        # trips. Inside one, a savepoint keeps a duplicate from aborting the caller's transaction.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            _ticket_insert(ticket, sku=data.sku if lookup_sku else None)
    except IntegrityError:
        # The unique (external_source, external_id) constraint is the duplicate check: asking
        # first cost a round trip on every keyed ticket and still lost races with imports.
        existing = (
            Ticket.objects.filter(external_source=data.external_source, external_id=data.external_id).first()
            if data.external_id
            else None
        )
        if existing is None:
            raise
        raise DuplicateTicket(existing) from None
    if lookup_sku and ticket.product is None:
        _warn_unknown_sku(data)
    data.product = ticket.product
    if enqueue:
        tickets_enqueue_triage(ticket_ids=[ticket.pk])
    return ticket


_PRODUCT_COLUMNS = ("id", "sku", "name", "product_category", "created_at")


def _ticket_insert(ticket: Ticket, *, sku: str | None) -> None:
    """INSERT one ticket in one round trip, looking its product up by ``sku`` in the same statement.

    Sets ``ticket.pk`` and ``ticket.product`` (None for an unknown SKU). On
    PostgreSQL the product's columns come back with the new id; elsewhere (SQLite,
    a local file) a second query reads them when the SKU was known.
    """
    meta = Ticket._meta
    product_table = Product._meta.db_table
    quote = connection.ops.quote_name
    columns, placeholders, params = [], [], []
    for model_field in meta.concrete_fields:
        if model_field.primary_key:
            continue
        value = model_field.pre_save(ticket, add=True)  # auto_now_add and friends, as Model.save would
        columns.append(quote(model_field.column))
        if model_field.attname == "product_id" and sku is not None:
            placeholders.append(f"(SELECT {quote('id')} FROM {quote(product_table)} WHERE {quote('sku')} = %s)")
            params.append(sku)
        else:
            placeholders.append("%s")
            params.append(model_field.get_db_prep_save(value, connection))
    insert = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) VALUES ({', '.join(placeholders)}) "
        f"RETURNING {quote(meta.pk.column)}, {quote('product_id')}"
    )
    product_columns = ", ".join(f"p.{quote(column)}" for column in _PRODUCT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH t AS ({insert}) SELECT t.{quote(meta.pk.column)}, {product_columns} "
                f"FROM t LEFT JOIN {quote(product_table)} p ON p.{quote('id')} = t.{quote('product_id')}",
                params,
            )
            ticket_id, *product_row = cursor.fetchone()
        else:
            cursor.execute(insert, params)
            ticket_id, product_id = cursor.fetchone()
            product_row = [None]
            if product_id is not None:
                cursor.execute(
                    f"SELECT {', '.join(quote(c) for c in _PRODUCT_COLUMNS)} FROM {quote(product_table)} WHERE id = %s",
                    [product_id],
                )
                product_row = list(cursor.fetchone())
    ticket.pk = ticket_id
    ticket._state.adding = False
    ticket._state.db = connection.alias
    if sku is not None:
        ticket.product = Product.from_db(connection.alias, list(_PRODUCT_COLUMNS), _converted(product_row)) if product_row[0] is not None else None


def _converted(row: list) -> list:
    """Apply the database's converters (SQLite returns datetimes as text) to a raw product row."""
    created_at = Product._meta.get_field("created_at")
    value = row[-1]
    for converter in connection.ops.get_db_converters(created_at.get_col(Product._meta.db_table)):
        value = converter(value, created_at.get_col(Product._meta.db_table), connection)
    return [*row[:-1], value]


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
    # One transaction, opened by bulk_create itself (a savepoint inside a caller's transaction would
    # cost two more round trips). ignore_conflicts would hide races silently; the unique constraint
    # is the backstop.
    created = Ticket.objects.bulk_create(to_create, batch_size=500)
    if enqueue and created:
        tickets_enqueue_triage(ticket_ids=[t.pk for t in created if t.pk])
    return created, duplicates


SAVED_VIEWS_PER_USER = 30


class SavedViewError(Exception):
    """A view that cannot be saved (no filters, too many views); ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def saved_view_save(*, owner, name: str, filters: dict, today: date) -> SavedView:
    """Save ``owner``'s current list filters (a TicketFilterForm's cleaned data) under ``name``.

    Dates are stored as days before ``today`` so a view saved as "today" shows today's tickets
    tomorrow too. A name ``owner`` already uses is overwritten. Raises SavedViewError.
    """
    from .selectors import saved_view_describe, saved_view_filters

    kept = saved_view_filters(filters=filters, today=today)
    if not kept:
        raise SavedViewError(_("先设置筛选条件，再保存为视图。"))
    name = " ".join((name or "").split())[:60] or saved_view_describe(filters=kept)[:60]
    existing = SavedView.objects.filter(owner=owner, name=name).first()
    if existing is None and SavedView.objects.filter(owner=owner).count() >= SAVED_VIEWS_PER_USER:
        raise SavedViewError(_("最多保存 %(limit)s 个视图，请先删除不用的。") % {"limit": SAVED_VIEWS_PER_USER})
    view, _created = SavedView.objects.update_or_create(owner=owner, name=name, defaults={"filters": kept})
    return view


def saved_view_delete(*, owner, pk: int) -> bool:
    """Delete ``owner``'s view ``pk``; False when they have no such view (someone else's included)."""
    deleted, _by_model = SavedView.objects.filter(owner=owner, pk=pk).delete()
    return deleted > 0


def tickets_enqueue_triage(*, ticket_ids: list[int]) -> None:
    """Send tickets to triage after commit; a broker outage never loses the ticket.

    A batch goes out as ``triage_tickets`` messages of TRIAGE_BATCH_SIZE ids. A single
    ticket only makes sure a ``triage_pending`` run is due within
    TRIAGE_COALESCE_SECONDS: that run takes every ticket waiting, so tickets filed
    one by one are classified in micro-batches (one model call, one UPDATE, one
    grouping transaction for all of them) instead of one task each.
    If the broker is unreachable the ticket stays ``pending`` and the periodic
    sweeper (``feedback.sweep_untriaged``) enqueues it once the broker is back.
    """
    if not ticket_ids:
        return
    if len(ticket_ids) == 1:
        transaction.on_commit(triage_pending_schedule)
        return

    def send() -> None:
        from .tasks import triage_tickets

        try:
            for start in range(0, len(ticket_ids), TRIAGE_BATCH_SIZE):
                triage_tickets.apply_async(args=[ticket_ids[start : start + TRIAGE_BATCH_SIZE]], retry=False)
        except Exception as exc:  # kombu raises several types for an unreachable broker
            logger.warning("broker unavailable, %d tickets left for the sweeper: %s", len(ticket_ids), exc)

    transaction.on_commit(send)


# Claimed (cache.add) by the first ticket of a coalescing window and dropped by the run it scheduled.
TRIAGE_PENDING_KEY = "feedback:triage-pending-scheduled"


def triage_pending_schedule() -> None:
    """Make sure a ``triage_pending`` run is due within the window; publish at most one per window.

    Call after the ticket's row is committed. The cache key is claimed with
    ``add`` (atomic in every Django cache backend): the first ticket of a window
    publishes a run delayed by the window, the others find the key and return.
    The key expires after half the window, before the run starts, and the run also
    deletes it as it starts, so a ticket committed after the run looked for work
    always claims a new one (a key that outlived the run stranded such tickets
    until the sweeper, with the per-process cache). This assumes the web's and the workers'
    clocks agree within half the window (the run's countdown is an ETA on the worker's clock);
    NTP keeps them far closer, and the sweeper catches whatever a larger skew strands. With
    a cache shared by every web process (Redis) there is one run per window; with
    the default per-process cache, one per web process and window.
    The publish happens on a background thread, so a slow or unreachable broker
    never delays the response; the ticket is saved either way and the sweeper is
    the safety net.
    """
    from .tasks import triage_pending

    window = settings.TRIAGE_COALESCE_SECONDS
    if triage_pending.app.conf.task_always_eager:
        # No worker and no window: run now, in this process (development without a broker).
        _publish_triage_pending(countdown=0)
        return
    try:
        # The key lives half the window: a ticket that finds it was committed before the run it
        # points to starts looking for work, even when the run's release cannot reach this
        # process's cache (the default per-process cache). Later tickets claim a new run.
        claimed = caches[settings.TRIAGE_COALESCE_CACHE].add(TRIAGE_PENDING_KEY, 1, timeout=window / 2)
    except Exception as exc:  # a cache outage must not cost the ticket its triage: publish anyway
        logger.warning("coalescing cache unavailable, publishing a triage run anyway: %s", exc)
        claimed = True
    if claimed:
        _publisher().submit(_publish_triage_pending, countdown=window)


def triage_pending_release() -> None:
    """Drop the window's key (the scheduled run calls this as it starts looking for work)."""
    try:
        caches[settings.TRIAGE_COALESCE_CACHE].delete(TRIAGE_PENDING_KEY)
    except Exception as exc:  # the key also expires by itself
        logger.warning("coalescing cache unavailable: %s", exc)


def _publish_triage_pending(*, countdown: float) -> None:
    from .tasks import triage_pending

    try:
        triage_pending.apply_async(countdown=countdown, retry=False)
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning("broker unavailable, pending tickets left for the sweeper: %s", exc)


def triage_publisher_drain(*, timeout: float = 10.0) -> None:
    """Wait until this process's scheduled publishes have been attempted (tests, benchmarks, shutdown)."""
    _publisher().submit(lambda: None).result(timeout=timeout)


_publisher_lock = threading.Lock()
_publisher_state: tuple[int, ThreadPoolExecutor] | None = None


def _publisher() -> ThreadPoolExecutor:
    """One publishing thread per process (created after a fork, never inherited from the parent)."""
    global _publisher_state
    with _publisher_lock:
        if _publisher_state is None or _publisher_state[0] != os.getpid():
            _publisher_state = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-publish"))
        return _publisher_state[1]


class ThresholdError(ValueError):
    """A confidence threshold outside 0 < t < 1; ``message`` says so in words an admin understands."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def category_threshold_set(*, category: Category, threshold: float | None, user) -> Category:
    """Set an admin's confidence threshold for ``category`` (None clears it), recording who and when.

    The override applies to new classifications: at once in this process, within
    TRIAGE_THRESHOLD_CACHE_SECONDS in the workers. Raises ThresholdError unless 0 < threshold < 1.
    """
    import math

    from .classification import threshold_cache_clear

    if threshold is not None and not (math.isfinite(threshold) and 0 < threshold < 1):
        raise ThresholdError(_("阈值必须是大于 0 且小于 1 的数字，例如 0.7。"))
    category.confidence_threshold = threshold
    category.threshold_changed_by = user if getattr(user, "is_authenticated", False) else None
    category.threshold_changed_at = timezone.now()
    category.save(update_fields=["confidence_threshold", "threshold_changed_by", "threshold_changed_at"])
    threshold_cache_clear()
    logger.warning("confidence threshold of %s set to %s by %s", category.code, threshold, user)
    return category


class AlsoCategoryError(ValueError):
    """The second category cannot be set; ``field`` names the input, ``message`` says why."""

    def __init__(self, message: str, field: str = "also_category"):
        super().__init__(message)
        self.message = message
        self.field = field


def ticket_also_category_set(*, ticket_id: int, code: str | None, user) -> Ticket:
    """Set (or, with an empty ``code``, clear) the second category of a ticket, recording who and when.

    The agent confirms what the model proposes: only those who may confirm categories may do it
    (PermissionDenied otherwise). Raises Ticket.DoesNotExist, and AlsoCategoryError for a code that
    names no active category or names the ticket's own category. The ticket is neither regrouped
    nor recounted: the issue library only filters by the second category.
    """
    if not user_can(user, Action.CORRECT_TICKETS):
        raise PermissionDenied(_("只有可以确认类别的人才能设置“也涉及”。"))
    category = None
    if code:
        category = Category.objects.filter(code=code, is_active=True).first() if isinstance(code, str) else None
        if category is None:
            raise AlsoCategoryError(_("没有这个类别：%(code)s") % {"code": code})
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket_id)
        if category is not None and category.pk == ticket.category_id:
            raise AlsoCategoryError(_("“也涉及”不能与工单本身的类别相同。"))
        if ticket.also_category_id == (category.pk if category else None):
            return ticket
        ticket.also_category = category
        ticket.also_category_set_by = user
        ticket.also_category_set_at = timezone.now()
        ticket.save(update_fields=["also_category", "also_category_set_by", "also_category_set_at"])
    logger.info("ticket %s also concerns %s (set by %s)", ticket.pk, category.code if category else None, user)
    return ticket


# A run not updated for longer than the training task's hard time limit has lost its worker.
TRAINING_STALE_SECONDS = 1900 + 60


def training_runs_expire() -> int:
    """Mark runs in progress that stopped reporting (their worker died) as failed; return how many."""
    cutoff = timezone.now() - timedelta(seconds=TRAINING_STALE_SECONDS)
    return TrainingRun.objects.filter(in_progress=True, updated_at__lt=cutoff).update(
        status=TrainingRun.Status.FAILED, in_progress=None, finished_at=timezone.now(),
        reason="no progress reported for over half an hour: the worker stopped",
    )


def training_run_start(*, user, enqueue: bool = True) -> tuple[TrainingRun, bool]:
    """Queue a retrain unless one is in progress; return (the run, whether it is new).

    At most one run is in progress (a unique constraint), so two clicks start one training.
    With ``enqueue`` the task is sent on commit; when the broker is down the run is marked
    failed at once (the caller reads its status).
    """
    training_runs_expire()
    started_by = user if getattr(user, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            run = TrainingRun.objects.create(started_by=started_by)
    except IntegrityError:
        return TrainingRun.objects.get(in_progress=True), False
    if enqueue:
        transaction.on_commit(lambda: _training_run_enqueue(run))
    return run, True


def _training_run_enqueue(run: TrainingRun) -> None:
    from .tasks import train_model

    try:
        train_model.delay(run.pk)
    except Exception:  # noqa: BLE001 - the broker is down: the run says so instead of waiting forever
        logger.exception("could not enqueue feedback.train_model for run %s", run.pk)
        TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
            status=TrainingRun.Status.FAILED, in_progress=None, finished_at=timezone.now(), updated_at=timezone.now(),
            reason="the message broker is unavailable: the training was not submitted",
        )
        run.refresh_from_db()


class _RunProgress:
    """The classifier's progress(done, total, stage) protocol, written onto a TrainingRun row.

    train_version's stages read "<phase>: <step>" (feedback.classifiers.training.TRAINING_PHASES);
    each phase owns a slice of the bar. The row is written only when the stage or the whole
    percentage changes (about a hundred small UPDATEs a run).
    """

    # phase -> (stage shown, first percent, last percent). The slices follow two measured runs on the
    # seed corpus with 20,000 unlabelled tickets (benchmarks/model_page_bench.py --train, README):
    # collecting 2-5 %, preparing the unlabelled texts 7-16 %, the candidate's fit (calibration,
    # self-training) 63-68 %, the final fit 13-21 %, the rest about 1 % each.
    PHASES = {
        "preparing examples": ("training", 3, 4),
        "preparing unlabelled": ("training", 4, 15),
        "training candidate": ("training", 15, 80),
        "evaluating": ("evaluating", 80, 81),
        "training final": ("final", 81, 97),
        "gate": ("gate", 97, 98),
        "saving": ("gate", 98, 99),
    }

    def __init__(self, run_id: int, also=None):
        self.run_id = run_id
        self.also = also
        # What training_run_execute wrote when it claimed the run.
        self.stage = TrainingRun.Stage.COLLECTING.value
        self.percent = 1

    def __call__(self, done: int, total: int, stage: str) -> None:
        if self.also is not None:
            self.also(done, total, stage)
        phase = stage.split(":", 1)[0]
        shown, first, last = self.PHASES.get(phase, (self.stage or "training", self.percent, self.percent))
        fraction = min(1.0, done / total) if total else 1.0
        percent = max(self.percent, int(first + (last - first) * fraction))
        if shown == self.stage and percent == self.percent:
            return
        self.stage, self.percent = shown, percent
        TrainingRun.objects.filter(pk=self.run_id).update(stage=shown, percent=percent, updated_at=timezone.now())


def training_run_execute(*, run_id: int, progress=None, extra=None, force: bool = False) -> TrainingResult | None:
    """Claim a queued run and train (feedback.classification.model_train), reporting progress on the row.

    Returns what training did, or None when the run was not queued (a redelivered task, or a
    run already taken or expired): nothing is trained twice. Errors mark the run failed and re-raise.
    ``progress`` also receives every step (the command's terminal bar); ``extra`` and ``force``
    go to model_train.
    """
    from .classification import model_train

    now = timezone.now()
    claimed = TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.RUNNING, stage=TrainingRun.Stage.COLLECTING, percent=1, updated_at=now
    )
    if not claimed:
        logger.info("training run %s not queued any more: nothing to do", run_id)
        return None
    try:
        result = model_train(extra=extra, force=force, progress=_RunProgress(run_id, also=progress))
    except Exception as error:
        TrainingRun.objects.filter(pk=run_id).update(
            status=TrainingRun.Status.FAILED, in_progress=None, finished_at=timezone.now(), updated_at=timezone.now(),
            reason=f"{type(error).__name__}: {error}"[:2000],
        )
        raise
    TrainingRun.objects.filter(pk=run_id).update(
        status=TrainingRun.Status.DONE, stage=TrainingRun.Stage.FINISHED, percent=100, in_progress=None,
        finished_at=timezone.now(), updated_at=timezone.now(),
        version=result.version, activated=result.activated, reason=result.reason,
    )
    return result
