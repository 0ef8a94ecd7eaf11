"""The one bridge between the triage model (feedback.classifiers) and tickets in the database.

Gate for each ticket, with a logged reason for every outcome: a confirmed ticket
is never touched; empty text, an unknown label or low confidence sends it to
the review queue; otherwise the predicted category is applied.
"""
from __future__ import annotations

import gc
import json
import logging
import threading
import time
from contextlib import nullcontext
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from issues.services import routing_inline, ticket_attach, tickets_attach

from .bulk_sql import in_values, rows_table
from .classifiers import (
    LabelledExample,
    ModelLoadError,
    ModelStore,
    Prediction,
    TriageModel,
    UnknownVersionError,
    load_seed,
    mask_phone_numbers,
    train_version,
)
from .classifiers.model import Progress
from .classifiers.training import TrainingResult
from .models import Category, CategoryLabel, Ticket, TriageStatus
from .taxonomy import CATEGORY_CODES

logger = logging.getLogger(__name__)

# Self-training reads at most this many recent unconfirmed tickets (memory and time stay bounded).
UNLABELLED_LIMIT = 20_000
# Rows per UPDATE statement when a batch of predictions is written.
UPDATE_CHUNK = 1000


def model_store() -> ModelStore:
    """Return the store at settings.FEEDBACK_MODEL_DIR."""
    return ModelStore(Path(settings.FEEDBACK_MODEL_DIR))


@dataclass
class _Loaded:
    root: Path
    version: str
    model: TriageModel


_cache: _Loaded | None = None
_cache_lock = threading.Lock()


def get_predictor() -> TriageModel:
    """Return the active model (its id in .version), loaded once per process and again when it changes.

    With no active model the seed model is trained first. A missing or corrupt
    model file is logged and the seed model retrained, so classification goes on.
    """
    global _cache
    store = model_store()
    active = store.active_version()
    cached = _cache
    if cached is not None and cached.root == store.root and cached.version == active and active is not None:
        return cached.model
    with _cache_lock:
        model = _load_or_recover(store)
        _cache = _Loaded(store.root, model.version, model)
        _freeze_long_lived_objects()
        return model


def _freeze_long_lived_objects() -> None:
    """Move everything alive now (Django, the model, jieba) out of the cyclic collector's sight.

    Each batch prediction allocates many short-lived lists; without this the full
    collections they trigger re-scan every long-lived object in the process, which
    cost about a tenth of batch throughput (benchmarks/classifier_bench.py). Frozen
    objects are still freed by reference counting when a new model replaces them.
    """
    gc.unfreeze()  # what an earlier freeze kept and has since become garbage is collected now
    gc.collect()
    gc.freeze()


def _load_or_recover(store: ModelStore) -> TriageModel:
    """Load the active model; a damaged one falls back to the newest loadable version (admins are told).

    Only when no stored version loads at all is a model trained, and then on the seed corpus
    and every agent label, never on the seed alone while labels exist.
    """
    active = store.active_version()
    try:
        loaded = store.load_active()
    except UnknownVersionError:
        pass
    except ModelLoadError as error:
        logger.error("active model %s cannot be loaded, nor any earlier version (%s)", active, error)
    else:
        if loaded.fell_back:
            from .model_alerts import model_fallback_notify

            model_fallback_notify(unreadable=loaded.unreadable, active=loaded.version, errors=loaded.errors)
        return loaded.model
    # One process trains; the others wait on the lock and then load what it stored.
    with store.lock():
        current = store.active_version()
        if current is not None and current != active:
            try:
                return store.load(current)
            except ModelLoadError as error:
                logger.error("model %s cannot be loaded either (%s)", current, error)
        reason = "no active model" if active is None else f"model {active} unreadable"
        labels = labelled_examples()
        logger.warning("training the seed model with %d agent labels: %s", len(labels), reason)
        # The unlabelled tickets calibrate a seed-only model (word/char agreement) and self-train it.
        result = train_version(
            store, load_seed() + labels, unlabelled=unlabelled_texts(), force=True, labels=model_labels(),
            note=f"seed model ({reason})",
        )
        if active is not None:
            from .model_alerts import model_fallback_notify

            model_fallback_notify(unreadable=[active], active=result.version, errors=[reason], retrained=True)
        return store.load(result.version)


def clear_predictor_cache() -> None:
    """Forget the loaded model (tests, or after moving FEEDBACK_MODEL_DIR)."""
    global _cache
    with _cache_lock:
        _cache = None


# Admins' per-category overrides (Category.confidence_threshold), read once per process and again
# after TRIAGE_THRESHOLD_CACHE_SECONDS: one query at most that often instead of one per ticket. The
# process that saves an override forgets its copy at once (threshold_cache_clear); other processes
# (the workers) follow within the TTL.
_overrides: tuple[float, dict[str, float]] | None = None


def _threshold_overrides() -> dict[str, float]:
    global _overrides
    cached = _overrides
    now = time.monotonic()
    if cached is not None and now - cached[0] < settings.TRIAGE_THRESHOLD_CACHE_SECONDS:
        return cached[1]
    overrides = dict(
        Category.objects.filter(confidence_threshold__isnull=False).values_list("code", "confidence_threshold")
    )
    _overrides = (now, overrides)
    return overrides


def threshold_cache_clear() -> None:
    """Forget this process's copy of the per-category overrides (after a save, and between tests)."""
    global _overrides
    _overrides = None


def category_threshold(code: str) -> float:
    """Return the confidence needed to apply a category automatically.

    Precedence: the admin's override in the database, then TRIAGE_CATEGORY_THRESHOLDS
    from the environment, then TRIAGE_CONFIDENCE_THRESHOLD.
    """
    override = _threshold_overrides().get(code)
    if override is not None:
        return override
    return float(settings.TRIAGE_CATEGORY_THRESHOLDS.get(code, settings.TRIAGE_CONFIDENCE_THRESHOLD))


def category_threshold_source(code: str) -> str:
    """Tell where category_threshold(code) comes from: "database", "environment" or "default"."""
    if code in _threshold_overrides():
        return "database"
    return "environment" if code in settings.TRIAGE_CATEGORY_THRESHOLDS else "default"


def _product_category(ticket: Ticket) -> str | None:
    return ticket.product.product_category if ticket.product_id and ticket.product else None


_PREDICTION_FIELDS = [
    "predicted_category", "prediction_confidence", "prediction_top", "prediction_terms",
    "model_version", "classified_at", "triage_status", "category", "also_category",
]


def _outcome(prediction: Prediction, categories: dict[str, Category]) -> tuple[Category | None, str, str]:
    """Decide what a prediction does to a ticket: (predicted category, triage status, logged reason)."""
    predicted = categories.get(prediction.label)
    threshold = category_threshold(prediction.label)
    if predicted is None:
        return None, TriageStatus.NEEDS_REVIEW, f"predicted code {prediction.label!r} is not an active category"
    if prediction.empty:
        return predicted, TriageStatus.NEEDS_REVIEW, "nothing to classify after normalisation (empty, emoji or punctuation)"
    if prediction.confidence >= threshold:
        return predicted, TriageStatus.CLASSIFIED, f"{prediction.label} at {prediction.confidence:.2f} >= {threshold:.2f}"
    return predicted, TriageStatus.NEEDS_REVIEW, f"{prediction.label} at {prediction.confidence:.2f} < {threshold:.2f}"


def _apply(ticket: Ticket, prediction: Prediction, version: str, categories: dict[str, Category]) -> str:
    """Write a prediction onto a (locked) ticket, save it and return the logged reason."""
    predicted, outcome, reason = _outcome(prediction, categories)
    ticket.predicted_category = predicted
    ticket.prediction_confidence = prediction.confidence
    ticket.prediction_top = [[code, probability] for code, probability in prediction.top]
    ticket.prediction_terms = [[term, weight] for term, weight in prediction.terms]
    ticket.model_version = version
    ticket.classified_at = timezone.now()
    ticket.triage_status = outcome
    ticket.category = predicted if outcome == TriageStatus.CLASSIFIED else None
    if ticket.also_category_id is not None and ticket.also_category_id == ticket.category_id:
        ticket.also_category = None  # the second category became the first: it is no longer a second one
    ticket.save(update_fields=_PREDICTION_FIELDS)
    return reason


def _active_categories() -> dict[str, Category]:
    return {category.code: category for category in Category.objects.filter(is_active=True)}


def ticket_classify(*, ticket_id: int) -> Ticket:
    """Classify one ticket (idempotent); apply the category above its threshold, else queue it for review.

    A confirmed ticket is returned unchanged. Raises Ticket.DoesNotExist.
    """
    ticket = Ticket.objects.select_related("product").get(pk=ticket_id)
    if ticket.triage_status == TriageStatus.CONFIRMED:
        logger.info("ticket %s not classified: already confirmed by an agent", ticket_id)
        return ticket
    model = get_predictor()
    version = model.version
    prediction = model.predict([mask_phone_numbers(ticket.text)], [_product_category(ticket)])[0]
    categories = _active_categories()
    with transaction.atomic():
        # Re-read under a row lock: an agent may have confirmed the ticket while we predicted.
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related("product").get(pk=ticket_id)
        if ticket.triage_status == TriageStatus.CONFIRMED:
            logger.info("ticket %s not classified: confirmed while predicting", ticket_id)
            return ticket
        reason = _apply(ticket, prediction, version, categories)
    logger.info("ticket %s -> %s (%s; model %s)", ticket_id, ticket.triage_status, reason, version)
    _after_category_change(ticket)
    return ticket


def tickets_classify(*, ticket_ids: Sequence[int], attach: bool = True) -> int:
    """Classify many tickets with one batch prediction and one UPDATE; return how many were updated.

    Confirmed tickets are skipped, also when an agent confirms one while the
    batch is being predicted: the UPDATE re-checks the status row by row.
    """
    rows = list(
        Ticket.objects.filter(in_values("pk", list(ticket_ids)))
        .exclude(triage_status=TriageStatus.CONFIRMED)
        .order_by("pk")
        .values_list("pk", "text", "product__product_category")
    )
    if not rows:
        return 0
    model = get_predictor()
    version = model.version
    predictions = model.predict([mask_phone_numbers(text) for _, text, _ in rows], [product for _, _, product in rows])
    categories = _active_categories()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    values = []
    for (ticket_id, _, _), prediction in zip(rows, predictions):
        predicted, outcome, reason = _outcome(prediction, categories)
        logger.debug("ticket %s -> %s (%s)", ticket_id, outcome, reason)
        predicted_id = predicted.pk if predicted else None
        values.append((
            ticket_id,
            predicted_id,
            prediction.confidence,
            json.dumps([[code, probability] for code, probability in prediction.top], ensure_ascii=False),
            json.dumps([[term, weight] for term, weight in prediction.terms], ensure_ascii=False),
            str(outcome),
            predicted_id if outcome == TriageStatus.CLASSIFIED else None,
        ))
    table = Ticket._meta.db_table
    json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
    updated: list[int] = []
    # Django's bulk_update builds a CASE per field and row: it cost ~80 % of a triage batch
    # (cProfile of benchmarks/triage_bench.py). One UPDATE ... FROM costs a few milliseconds.
    with transaction.atomic(), connection.cursor() as cursor:
        # Lock in id order first, as grouping and confirmation do: an UPDATE alone locks rows in
        # the plan's order, and two batches locking in different orders can deadlock.
        list(Ticket.objects.select_for_update().filter(in_values("pk", [v[0] for v in values])).order_by("pk").values_list("pk"))
        # Chunks keep SQLite under its limit on query parameters (7 a row here).
        for start in range(0, len(values), UPDATE_CHUNK):
            source, params = rows_table(
                ["id", "predicted", "confidence", "top", "terms", "status", "category"],
                ["bigint", "bigint", "float8", "text", "text", "text", "bigint"],
                values[start : start + UPDATE_CHUNK],
            )
            cursor.execute(
                f"UPDATE {table} SET predicted_category_id = v.predicted, prediction_confidence = v.confidence, "
                f"prediction_top = v.top{json_cast}, prediction_terms = v.terms{json_cast}, model_version = %s, "
                f"classified_at = %s, triage_status = v.status, category_id = v.category, "
                # A second category the new category now equals is cleared (ticket_also_not_category).
                f"also_category_id = CASE WHEN {table}.also_category_id = v.category THEN NULL "
                f"ELSE {table}.also_category_id END "
                f"FROM {source} WHERE {table}.id = v.id AND {table}.triage_status <> %s RETURNING {table}.id",
                [version, now, *params, TriageStatus.CONFIRMED.value],
            )
            updated += [row[0] for row in cursor.fetchall()]
    updated.sort()
    logger.info("classified %d tickets with model %s", len(updated), version)
    if attach and updated:
        _after_categories_change(updated)
    return len(updated)


_CONFIRM_FIELDS = (
    "confirmed_category", "confirmed_by", "confirmed_at", "category", "triage_status", "issue", "also_category",
)


def ticket_confirm_category(*, ticket: Ticket, category: Category, user: Any = None) -> Ticket:
    """Record an agent's confirmation or correction: the ticket's category and a training label."""
    tickets_confirm_categories(confirmations={ticket.pk: category}, user=user)
    ticket.refresh_from_db(fields=_CONFIRM_FIELDS)
    return ticket


def tickets_confirm_categories(*, confirmations: Mapping[int, Category], user: Any = None) -> int:
    """Confirm or correct many tickets at once (one transaction, one regrouping); return how many.

    Each ticket gets its category, the CONFIRMED status and a training label
    that remembers the category it had before.
    """
    if not confirmations:
        return 0
    labelled_by = user if getattr(user, "is_authenticated", False) else None
    now = timezone.now()
    with transaction.atomic():
        previous = dict(
            Ticket.objects.select_for_update()
            .filter(in_values("pk", list(confirmations)))
            .order_by("pk")
            .values_list("pk", "category_id")
        )
        by_category: dict[int, list[int]] = defaultdict(list)
        for ticket_id in previous:
            by_category[confirmations[ticket_id].pk].append(ticket_id)
        for category_id, ticket_ids in by_category.items():
            # A second category that becomes the first is no longer a second one (ticket_also_not_category).
            Ticket.objects.filter(in_values("pk", ticket_ids), also_category_id=category_id).update(
                also_category=None, also_category_set_by=labelled_by, also_category_set_at=now,
            )
            Ticket.objects.filter(in_values("pk", ticket_ids)).update(
                confirmed_category_id=category_id, confirmed_by=labelled_by, confirmed_at=now,
                category_id=category_id, triage_status=TriageStatus.CONFIRMED,
            )
        CategoryLabel.objects.bulk_create(
            [
                CategoryLabel(
                    ticket_id=ticket_id, category=confirmations[ticket_id],
                    previous_category_id=previous_id, labelled_by=labelled_by,
                )
                for ticket_id, previous_id in previous.items()
            ],
            batch_size=500,
        )
    for ticket_id, previous_id in previous.items():
        logger.debug("ticket %s confirmed as %s (was category id %s)", ticket_id, confirmations[ticket_id].code, previous_id)
    if len(previous) == 1:
        ((ticket_id, previous_id),) = previous.items()
        logger.info("ticket %s confirmed as %s (was category id %s)", ticket_id, confirmations[ticket_id].code, previous_id)
    elif previous:
        logger.info("%d tickets confirmed by %s", len(previous), labelled_by or "the system")
    if previous:
        _after_categories_change(sorted(previous))
    return len(previous)


class UndoRefused(Exception):
    """The confirmation cannot be undone; ``reason`` says why in words an agent understands."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def ticket_confirmation_undo(*, ticket_id: int, user: Any) -> Ticket:
    """Put a ticket confirmed from the review queue back into it; raise UndoRefused otherwise.

    Only the ticket's latest label can be undone, only by the agent who gave it, and only
    when the ticket had no category before (it came from the review queue): undoing then
    restores exactly what was there, and the label is deleted so it never trains the model.
    """
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
        if ticket is None:
            raise UndoRefused(gettext("工单不存在。"))
        label = ticket.labels.order_by("-created_at", "-id").first()
        if ticket.triage_status != TriageStatus.CONFIRMED or label is None:
            raise UndoRefused(gettext("这张工单没有可撤销的确认。"))
        if label.labelled_by_id != getattr(user, "pk", None):
            raise UndoRefused(gettext("只能撤销自己最近的确认。"))
        if label.previous_category_id is not None:
            raise UndoRefused(gettext("这张工单确认前已有类别，不能在这里撤销。"))
        label.delete()
        Ticket.objects.filter(pk=ticket.pk).update(
            confirmed_category=None, confirmed_by=None, confirmed_at=None,
            category=None, triage_status=TriageStatus.NEEDS_REVIEW,
        )
    logger.info("ticket %s confirmation undone by %s", ticket_id, user)
    _after_categories_change([ticket_id])
    ticket.refresh_from_db()
    return ticket


def _after_category_change(ticket: Ticket) -> None:
    """Group the ticket under its new category (and route a new issue) in the issue library."""
    ticket_attach(ticket=ticket)


def _after_categories_change(ticket_ids: list[int]) -> None:
    tickets_attach(ticket_ids=ticket_ids)


@dataclass
class TriageResult:
    """What one triage batch did: tickets whose prediction was written, attached, issues created."""

    classified: int = 0
    attached: int = 0
    created_issues: int = 0


def tickets_triage(*, ticket_ids: Sequence[int], route_inline: bool = False) -> TriageResult:
    """Classify a batch with one model call, then group it and route the issues it created.

    The one triage pipeline: the Celery task ``feedback.triage_tickets``, the
    ``triage_pending`` command and the demo all come here. Grouping is idempotent,
    so re-running a batch changes nothing. With ``route_inline`` new issues are
    routed in this process (no broker needed) instead of by a task on commit.
    """
    ids = sorted(set(ticket_ids))
    if not ids:
        return TriageResult()
    classified = tickets_classify(ticket_ids=ids, attach=False)
    # Attach every ticket of the batch, not only the ones just classified: a ticket
    # confirmed by an agent meanwhile is grouped under its confirmed category.
    with routing_inline() if route_inline else nullcontext():
        attach = tickets_attach(ticket_ids=ids)
    return TriageResult(classified=classified, attached=attach.attached, created_issues=len(attach.created_issue_ids))


@dataclass
class PendingTriageResult:
    """What one ``triage_pending`` run did: the batch it took and whether a full batch was left."""

    ticket_ids: list[int]
    triage: TriageResult
    more_waiting: bool


def tickets_triage_pending(*, limit: int) -> PendingTriageResult:
    """Triage up to ``limit`` pending tickets, newest first, through ``tickets_triage``.

    The worker's side of coalescing single tickets (feedback.services.triage_pending_schedule):
    it releases the window's key before looking, so a ticket committed after the query
    schedules another run. Newest first, so live tickets are not stuck behind the
    pending rows of an import (which have their own batch tasks). Two runs that take
    the same tickets change nothing twice: classification and grouping are idempotent.
    """
    from .selectors import ticket_ids_pending
    from .services import triage_pending_release

    triage_pending_release()
    ids = ticket_ids_pending(limit=limit)
    result = tickets_triage(ticket_ids=ids)
    logger.info("triage_pending: %d waiting tickets triaged (%d classified)", len(ids), result.classified)
    return PendingTriageResult(ticket_ids=ids, triage=result, more_waiting=len(ids) >= limit)


def labelled_examples() -> list[LabelledExample]:
    """Return agents' confirmed labels as training examples (text, product category, code)."""
    rows = (
        Ticket.objects.filter(confirmed_category__isnull=False)
        .order_by("confirmed_at", "pk")
        .values_list("text", "product__product_category", "confirmed_category__code")
    )
    return [
        LabelledExample(text=mask_phone_numbers(text), category=code, product=product or "")
        for text, product, code in rows
        if text and text.strip()
    ]


def unlabelled_texts(limit: int = UNLABELLED_LIMIT) -> list[tuple[str, str | None]]:
    """Return recent unconfirmed tickets as (text, product category) for self-training."""
    rows = (
        Ticket.objects.filter(confirmed_category__isnull=True)
        .order_by("-created_at")
        .values_list("text", "product__product_category")[:limit]
    )
    return [(mask_phone_numbers(text), product) for text, product in rows if text and text.strip()]


def model_train(
    *, extra: Iterable[LabelledExample] | None = None, force: bool = False, progress: Progress | None = None
) -> TrainingResult:
    """Train a version on the seed corpus, confirmed labels and `extra`; activate it if it passes the gate."""
    examples = load_seed() + labelled_examples() + list(extra or [])
    store = model_store()
    with store.lock():
        result = train_version(
            store, examples, unlabelled=unlabelled_texts(), force=force, progress=progress, labels=model_labels()
        )
    logger.info("model_train: %s", result.reason)
    return result


def model_labels() -> list[str]:
    """Return the codes the model predicts: the default taxonomy plus categories added in the database."""
    codes = list(CATEGORY_CODES)
    codes += [code for code in Category.objects.filter(is_active=True).values_list("code", flat=True) if code not in codes]
    return codes


def model_rollback(*, version: str | None = None) -> str:
    """Re-activate the previous active model (or the named version); return the now active id."""
    active = model_store().rollback(version)
    logger.warning("model rolled back to %s", active)
    return active


def model_activate(*, version: str) -> str:
    """Make a stored version the active one (the current one stays in the history for rollback)."""
    model_store().activate(version)
    logger.warning("model version %s activated by hand", version)
    return version


def model_versions() -> list[dict[str, Any]]:
    """Return every stored version's metadata (metrics, confusion matrix), newest first."""
    return model_store().versions()
