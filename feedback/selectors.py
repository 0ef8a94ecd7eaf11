"""Reads for tickets and products: the pages call these, never the ORM directly."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, models
from django.db.models import Case, Count, F, FloatField, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
import numpy as np

from issues.models import Issue

from .classifiers.model import also_labels
from .masking import mask_phone_numbers
from .models import Category, CategoryLabel, Channel, ImportJob, Product, SavedView, Ticket, TrainingRun, TriageStatus
from .search import search_terms, ticket_number

PRODUCT_SEARCH_LIMIT = 10
SUGGESTION_LIMIT = 3


# The columns the list can be sorted by; received_at and id break ties so pages never overlap.
TICKET_SORTS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "received_at": ("received_at", "id"),
    "channel": ("channel", "received_at", "id"),
    "category": ("category__sort_order", "received_at", "id"),
    "status": ("triage_status", "received_at", "id"),
    "product": ("product__name", "received_at", "id"),
    "issue": ("issue_id", "received_at", "id"),
}


def ticket_ordering(sort: str) -> list[str]:
    """Return the ORDER BY for ``sort`` (``"-received_at"`` newest first when empty or unknown)."""
    key = sort.removeprefix("-")
    if key not in TICKET_SORTS:
        return ["-received_at", "-id"]
    prefix = "-" if sort.startswith("-") else ""
    return [prefix + field for field in TICKET_SORTS[key]]


@dataclass(frozen=True)
class TicketFilters:
    """What the ticket list can be narrowed by; every field is optional."""

    q: str = ""
    channel: str = ""
    category: str = ""  # a Category code
    also_category: str = ""  # a Category code: tickets that are also about it (Ticket.also_category)
    triage_status: str = ""
    received_from: date | None = None
    received_to: date | None = None  # inclusive
    filed_by: object | None = None  # a User
    import_job: int | None = None  # an ImportJob id: the tickets that import created
    issue: int | None = None  # an Issue id
    sort: str = ""  # a key of TICKET_SORTS, "-" in front for descending


@dataclass(frozen=True)
class Suggestion:
    """One of the model's candidate categories for a ticket."""

    category: Category
    confidence: float | None


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _imported_by(tickets: QuerySet[Ticket], job_id: int) -> QuerySet[Ticket]:
    """The tickets an import job created: its source and uploader, saved while it ran.

    Tickets carry no job id; an import is the only writer that files tickets
    under an external source for its uploader, so this window is the job's own.
    """
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return tickets.none()
    window = Q(created_at__gte=job.created_at)
    if job.finished_at is not None:
        window &= Q(created_at__lte=job.finished_at)
    return tickets.filter(window, external_source=job.source, filed_by_id=job.created_by_id)


def ticket_list(*, user, filters: TicketFilters) -> QuerySet[Ticket]:
    """Return the tickets ``user`` may see, narrowed by ``filters``, newest first.

    Every role sees every ticket for now; ``user`` is taken so that department
    queues can narrow this later without changing the callers. Search
    (``ticket_search_condition``) is a case-insensitive substring match of every
    term, served on PostgreSQL by a GIN index of character pairs.
    """
    # The issue and its department come in one extra query, not two more joins: with them the
    # page's query joins eight tables and PostgreSQL spent 80-110 ms planning it at 1,000,000
    # tickets, against 15 ms without (benchmarks/search_bench.py).
    tickets = Ticket.objects.select_related("product", "category", "predicted_category", "filed_by").prefetch_related(
        Prefetch("issue", queryset=Issue.objects.select_related("department")), "also_category",
    )
    q = filters.q.strip()
    if q:
        tickets = tickets.filter(ticket_search_condition(q=q, user=user))
    if filters.channel:
        tickets = tickets.filter(channel=filters.channel)
    if filters.category:
        tickets = tickets.filter(category__code=filters.category)
    if filters.also_category:
        tickets = tickets.filter(also_category__code=filters.also_category)
    if filters.triage_status:
        tickets = tickets.filter(triage_status=filters.triage_status)
    if filters.filed_by is not None:
        tickets = tickets.filter(filed_by=filters.filed_by)
    if filters.import_job is not None:
        tickets = _imported_by(tickets, filters.import_job)
    if filters.issue is not None:
        tickets = tickets.filter(issue_id=filters.issue)
    # Compare with day boundaries in the current time zone so the received_at index is used.
    if filters.received_from:
        tickets = tickets.filter(received_at__gte=_start_of_day(filters.received_from))
    if filters.received_to:
        tickets = tickets.filter(received_at__lt=_start_of_day(filters.received_to + timedelta(days=1)))
    return tickets.order_by(*ticket_ordering(filters.sort))


# Characters that masking removes, inserts or replaces (digits, the separators it drops, "+", "*"):
# a term without any of them is in the full text exactly when it is in the masked text.
_MASK_CHANGES_RE = re.compile(r"[0-9０-９ \-　－+＋*]")
# A term naming more products than this is not narrowed by product (it would list most tickets anyway).
PRODUCT_MATCH_LIMIT = 500


class _SearchGrams(models.Expression):
    """The ticket's ``search_grams`` column (PostgreSQL only, see migration 0006; the model does not declare it).

    Rendered against the query's own alias for the ticket table, so it also works in subqueries.
    """

    output_field = models.JSONField()  # a text[]; only ever compared, never read back

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return f"{compiler.quote_name_unless_alias(alias)}.{connection.ops.quote_name('search_grams')}", []


class _TermGrams(models.Func):
    function = "feedback_search_term_grams"
    output_field = models.JSONField()


class _Contains(models.Func):
    """``left @> right``: every gram of the term is among the ticket's."""

    arg_joiner = " @> "
    template = "(%(expressions)s)"
    output_field = models.BooleanField()


def _grams_hold(term: str) -> Q:
    """Return "every character pair of ``term`` is in the ticket's searched fields", served by the GIN index.

    For a longer term necessary, not sufficient (the pairs may be scattered): callers AND it with
    the substring test.
    """
    return Q(_Contains(_SearchGrams(), _TermGrams(Value(term, output_field=models.TextField()))))


def _term_condition(term: str, user) -> Q:
    """Return "``term`` appears in the ticket", over the text ``user`` may read and the other searched fields."""
    unmasked = user is not None and user.is_authenticated and user.can_see_unmasked
    own = user is not None and user.is_authenticated and not unmasked
    if connection.vendor != "postgresql":
        # SQLite and friends: the same rule as a LIKE over the table (slow, but correct).
        if unmasked:
            text = Q(text__icontains=term)
        elif own:
            text = Q(text_masked__icontains=term) | Q(filed_by=user, text__icontains=term)
        else:
            text = Q(text_masked__icontains=term)
        return (
            text
            | Q(order_number__icontains=term)
            | Q(sku_raw__icontains=term)
            | Q(product__sku__icontains=term)
            | Q(product__name__icontains=term)
            | Q(external_id__icontains=term)
        )
    fields = (
        Q(order_number__icontains=term) | Q(sku_raw__icontains=term) | Q(external_id__icontains=term)
    )
    masking_may_differ = bool(_MASK_CHANGES_RE.search(term))
    if unmasked and masking_may_differ:
        # A term with digits may lie inside a phone number only the full text holds: no index for it.
        condition = (_grams_hold(term) & fields) | Q(text__icontains=term)
    else:
        # The grams are the masked text's; for this reader and term that is the text they search.
        fields |= Q(text__icontains=term) if unmasked else Q(text_masked__icontains=term)
        # The pairs of a term of one or two characters are the term itself: holding them is containing it.
        condition = _grams_hold(term) if len(term) <= 2 else _grams_hold(term) & fields
        if own and masking_may_differ:
            condition |= Q(filed_by=user, text__icontains=term)
    # Product names change on import: looked up in the (small) product table, then matched by id,
    # so PostgreSQL can OR the product_id index with the gram index.
    product_ids = list(
        Product.objects.filter(Q(sku__icontains=term) | Q(name__icontains=term))
        .values_list("pk", flat=True)[: PRODUCT_MATCH_LIMIT + 1]
    )
    if len(product_ids) > PRODUCT_MATCH_LIMIT:
        condition |= Q(product__sku__icontains=term) | Q(product__name__icontains=term)
    elif product_ids:
        condition |= Q(product_id__in=product_ids)
    return condition


def ticket_search_condition(*, q: str, user) -> Q:
    """Return the condition "every term of ``q`` appears in the ticket", over the text ``user`` may read.

    Terms come from feedback.search (jieba for Chinese, so `牛奶 酸` finds 牛奶收到就酸了); each may
    match the text, order number, SKU, product name or external id. Someone who sees masked text
    searches the masked copy (and the full text only of tickets they filed themselves), so
    ``?q=1381234`` cannot reveal a number the page shows as 138****5678. A number that is a
    ticket id also finds that ticket.
    """
    terms = search_terms(q)
    condition = Q()
    for term in terms:
        condition &= _term_condition(term, user)
    if not terms:
        condition = Q(pk__in=[])
    number = ticket_number(q)
    if number is not None:
        condition |= Q(pk=number)
    return condition


def ticket_search_target(*, q: str) -> int | None:
    """Return the one ticket a bare number or an exact order number names, so the page can jump to it.

    ``#3001`` is always ticket 3001. ``3001`` is ticket 3001 unless an order number 3001 names another
    ticket (then the list shows both); an exact order number held by one ticket is that ticket.
    """
    q = (q or "").strip()
    if not q or len(q) > 64:
        return None
    number = ticket_number(q)
    id_exists = number is not None and Ticket.objects.filter(pk=number).exists()
    if q.startswith("#"):
        return number if id_exists else None
    by_order = list(Ticket.objects.filter(order_number=q).values_list("pk", flat=True)[:2])
    if len(by_order) > 1:
        return None
    if id_exists:
        return number if not by_order or by_order[0] == number else None
    return by_order[0] if by_order else None


@dataclass(frozen=True)
class SavedViewLink:
    """A saved view as the sidebar shows it: its name and the list URL's query string for today."""

    pk: int
    name: str
    query: str
    is_current: bool


# The ticket-list filters a saved view keeps; paging and import links are not views.
SAVED_VIEW_FIELDS = ("q", "channel", "category", "also_category", "triage_status", "issue", "sort")
SAVED_VIEW_DATES = ("received_from", "received_to")


def saved_view_filters(*, filters: dict, today: date) -> dict[str, object]:
    """Return what a view keeps of ``filters`` (a TicketFilterForm's cleaned data): dates as days before ``today``."""
    kept: dict[str, object] = {key: filters[key] for key in SAVED_VIEW_FIELDS if filters.get(key)}
    for key in SAVED_VIEW_DATES:
        if filters.get(key):
            kept[f"{key}_days_ago"] = (today - filters[key]).days
    return kept


def saved_view_params(*, view: SavedView, today: date) -> dict[str, str]:
    """Return the ticket-list query parameters ``view`` stands for on ``today``."""
    params: dict[str, str] = {}
    for key, value in view.filters.items():
        if key.endswith("_days_ago"):
            params[key.removesuffix("_days_ago")] = (today - timedelta(days=int(value))).isoformat()
        else:
            params[key] = str(value)
    return params


def saved_view_links(*, owner, current: dict[str, str], today: date) -> list[SavedViewLink]:
    """Return ``owner``'s saved views (only theirs), marking the one ``current`` (the list's GET) shows."""
    from urllib.parse import urlencode

    shown = {key: value for key, value in current.items() if value and key != "page"}
    links = []
    for view in SavedView.objects.filter(owner=owner):
        params = saved_view_params(view=view, today=today)
        links.append(SavedViewLink(pk=view.pk, name=view.name, query=urlencode(params), is_current=params == shown))
    return links


def _days_label(days_from: int | None, days_to: int | None) -> str:
    if days_from == 0 and days_to in (0, None):
        return str(_("今天"))
    if days_from == 1 and days_to == 1:
        return str(_("昨天"))
    if days_from is not None and days_to in (0, None):
        return str(_("近 %(days)s 天") % {"days": days_from + 1})
    if days_from is None:
        return str(_("%(days)s 天前及更早") % {"days": days_to})
    return str(_("%(first)s–%(last)s 天前") % {"first": days_to, "last": days_from})


def saved_view_describe(*, filters: dict) -> str:
    """Return a name for stored ``filters`` as an agent would say it: "在线客服 · 今天 · 破损变质"."""
    from django.utils.translation import get_language

    parts: list[str] = []
    if filters.get("channel") in Channel.values:
        parts.append(str(Channel(filters["channel"]).label))
    if "received_from_days_ago" in filters or "received_to_days_ago" in filters:
        parts.append(_days_label(filters.get("received_from_days_ago"), filters.get("received_to_days_ago")))
    if filters.get("category"):
        category = Category.objects.filter(code=filters["category"]).first()
        parts.append(category.display_name(get_language() or "zh-hans") if category else filters["category"])
    if filters.get("also_category"):
        category = Category.objects.filter(code=filters["also_category"]).first()
        name = category.display_name(get_language() or "zh-hans") if category else filters["also_category"]
        parts.append(str(_("也涉及%(category)s") % {"category": name}))
    if filters.get("triage_status") in TriageStatus.values:
        parts.append(str(TriageStatus(filters["triage_status"]).label))
    if filters.get("issue"):
        parts.append(f"#{filters['issue']}")
    if filters.get("q"):
        parts.append(f"“{filters['q']}”")
    return " · ".join(parts) or str(_("全部工单"))


def ticket_get(*, user, pk: int) -> Ticket:
    """Return one ticket with what its detail page shows; raise Ticket.DoesNotExist."""
    return Ticket.objects.select_related(
        "product", "category", "predicted_category", "confirmed_category", "confirmed_by", "filed_by",
        "issue", "issue__department", "also_category", "also_category_set_by",
    ).get(pk=pk)


def ticket_text_for(*, ticket: Ticket, user) -> str:
    """Return the ticket's text as ``user`` may read it: masked unless they filed it or are an admin."""
    if user.is_authenticated and (user.can_see_unmasked or ticket.filed_by_id == user.pk):
        return ticket.text
    return mask_phone_numbers(ticket.text)


def _as_pair(entry) -> tuple[str | None, float | None]:
    """Read one ``prediction_top`` entry, stored as ``[code, confidence]`` or as a dict."""
    if isinstance(entry, dict):
        code = entry.get("code") or entry.get("category") or entry.get("label")
        confidence = next((entry[k] for k in ("confidence", "score", "probability") if k in entry), None)
    elif isinstance(entry, (list, tuple)) and entry:
        code, confidence = entry[0], entry[1] if len(entry) > 1 else None
    else:
        code, confidence = entry, None
    try:
        confidence = float(confidence) if confidence is not None else None
    except (TypeError, ValueError):
        confidence = None
    return (str(code) if code else None), confidence


def ticket_suggestions(*, ticket: Ticket) -> list[Suggestion]:
    """Return the model's top candidate categories for ``ticket``, best first."""
    pairs = [_as_pair(entry) for entry in (ticket.prediction_top or [])]
    pairs = [(code, confidence) for code, confidence in pairs if code][:SUGGESTION_LIMIT]
    if not pairs and ticket.predicted_category_id:
        return [Suggestion(ticket.predicted_category, ticket.prediction_confidence)]
    by_code = Category.objects.in_bulk([code for code, _ in pairs], field_name="code")
    return [Suggestion(by_code[code], confidence) for code, confidence in pairs if code in by_code]


def ticket_also_suggestion(*, ticket: Ticket, suggestions: list[Suggestion] | None = None) -> Suggestion | None:
    """Return the second complaint the model proposes for ``ticket`` for an agent to confirm, or None.

    Close is the model's own rule (``feedback.classifiers.model.also_labels``: the runner-up at least
    ALSO_RATIO x the first), applied to the stored top three. Of those two categories the one that is
    not the ticket's category is proposed: the runner-up, or the first when an agent made the runner-up
    the category. Nothing when the ticket's category is neither (the model was wrong about both), when
    the proposal is already the second category, or when it is no longer an active category.
    ``suggestions`` (ticket_suggestions of the same ticket) saves a query.
    """
    pairs = sorted(
        ((code, confidence) for code, confidence in map(_as_pair, ticket.prediction_top or [])
         if code and confidence is not None),
        key=lambda pair: -pair[1],
    )
    if len(pairs) < 2:
        return None
    runner_up = also_labels(np.array([[confidence for _, confidence in pairs]]), [code for code, _ in pairs])[0]
    if runner_up is None:
        return None
    first = next(code for code, _ in pairs if code != runner_up)  # on a tie the runner-up may come first
    main = ticket.category.code if ticket.category_id and ticket.category else first
    proposed = {first: runner_up, runner_up: first}.get(main)
    if proposed is None:
        return None
    known = {suggestion.category.code: suggestion.category for suggestion in suggestions or []}
    category = known[proposed] if proposed in known else Category.objects.filter(code=proposed).first()
    if category is None or not category.is_active or category.pk == ticket.also_category_id:
        return None
    return Suggestion(category, dict(pairs)[proposed])


def ticket_terms(*, ticket: Ticket) -> list[tuple[str, float]]:
    """Return the terms that pushed the prediction, as ``(term, weight)``, strongest first."""
    terms: list[tuple[str, float]] = []
    for entry in ticket.prediction_terms or []:
        if isinstance(entry, dict):
            term, weight = entry.get("term"), entry.get("weight", 0)
        elif isinstance(entry, (list, tuple)) and len(entry) >= 2:
            term, weight = entry[0], entry[1]
        else:
            continue
        try:
            terms.append((str(term), float(weight)))
        except (TypeError, ValueError):
            continue
    return sorted(terms, key=lambda pair: abs(pair[1]), reverse=True)


def ticket_labels(*, ticket: Ticket) -> QuerySet[CategoryLabel]:
    """Return the confirmations and corrections of ``ticket``, newest first."""
    return ticket.labels.select_related("category", "previous_category", "labelled_by").order_by("-created_at", "-id")


def product_search(*, q: str, limit: int = PRODUCT_SEARCH_LIMIT) -> QuerySet[Product]:
    """Return up to ``limit`` products whose SKU or name contains ``q``; exact SKU matches first."""
    q = q.strip()
    if not q:
        return Product.objects.none()
    products = Product.objects.filter(Q(sku__icontains=q) | Q(name__icontains=q))
    # Exact SKU first, then SKUs that start with the query, then the rest by SKU.
    rank = Case(
        When(sku__iexact=q, then=Value(0)),
        When(sku__istartswith=q, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return products.annotate(rank=rank).order_by("rank", "sku")[:limit]


def product_for_input(*, value: str) -> Product | None:
    """Return the product an agent meant by ``value``: an exact SKU, else a unique exact name."""
    value = value.strip()
    if not value:
        return None
    product = Product.objects.filter(sku=value).first()
    if product is not None:
        return product
    named = list(Product.objects.filter(name__iexact=value)[:2])
    return named[0] if len(named) == 1 else None


def ticket_counts(*, user) -> dict[str, int]:
    """Return the counts the home page shows: today, waiting for review, pending, filed by ``user`` today."""
    today = _start_of_day(timezone.localdate())
    return Ticket.objects.aggregate(
        today=Count("id", filter=Q(received_at__gte=today)),
        needs_review=Count("id", filter=Q(triage_status=TriageStatus.NEEDS_REVIEW)),
        pending=Count("id", filter=Q(triage_status=TriageStatus.PENDING)),
        mine_today=Count("id", filter=Q(received_at__gte=today, filed_by=user)),
    )


def needs_review_count() -> int:
    """Return how many tickets wait in the review queue (shown as a badge in the navigation)."""
    return Ticket.objects.filter(triage_status=TriageStatus.NEEDS_REVIEW).count()


def ticket_ids_pending(*, limit: int) -> list[int]:
    """Return the ids of up to ``limit`` tickets waiting for triage, newest first (index on status, created_at)."""
    return list(
        Ticket.objects.filter(triage_status=TriageStatus.PENDING)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)[:limit]
    )
class ReviewOrder(models.TextChoices):
    """How the review stream orders the tickets waiting for an agent."""

    # Uncertainty sampling: the smallest gap between the model's first and second choice teaches
    # the model most per label, so it is the default.
    MARGIN = "margin", _("最难区分优先")
    LEAST_CONFIDENT = "least_confident", _("置信度最低优先")
    NEWEST = "newest", _("最新优先")


REVIEW_BATCH_LIMIT = 50


def _top_probability(index: int):
    """The probability of the model's ``index``-th choice, read from ``prediction_top`` ([[code, p], ...])."""
    return Cast(KeyTextTransform("1", KeyTransform(str(index), "prediction_top")), FloatField())


def review_queue(*, user, order: str = ReviewOrder.MARGIN) -> QuerySet[Ticket]:
    """Return the tickets waiting for an agent's confirmation, in the review stream's ``order``.

    The margin is computed in the database from the stored ``prediction_top`` so the
    order holds over the whole queue, not one page of it. A ticket without a second choice
    counts its margin against 0. When the classifier offers its own "most informative first"
    ordering (issue 13's ``review_order``), this is the one place to call it.
    """
    tickets = Ticket.objects.filter(triage_status=TriageStatus.NEEDS_REVIEW).select_related(
        "product", "predicted_category"
    )
    if order == ReviewOrder.NEWEST:
        return tickets.order_by("-received_at", "-id")
    if order == ReviewOrder.LEAST_CONFIDENT:
        return tickets.order_by(F("prediction_confidence").asc(nulls_first=True), "-received_at", "-id")
    margin = Coalesce(_top_probability(0), Value(0.0)) - Coalesce(_top_probability(1), Value(0.0))
    return tickets.annotate(review_margin=margin).order_by(
        F("review_margin").asc(nulls_first=True), "-received_at", "-id"
    )


def review_bulk_candidates(*, category_code: str, min_confidence: float) -> QuerySet[Ticket]:
    """Return the waiting tickets the model put in ``category_code`` with confidence >= ``min_confidence``."""
    return Ticket.objects.filter(
        triage_status=TriageStatus.NEEDS_REVIEW,
        predicted_category__code=category_code,
        prediction_confidence__gte=min_confidence,
    )


def text_segments(*, text: str, terms: Iterable[str]) -> list[tuple[str, bool]]:
    """Split ``text`` into ``(piece, is_term)`` pieces, marking every occurrence of one of ``terms``.

    Longer terms win where terms overlap. The pieces are plain text: whoever renders them
    escapes them (templates do; the review stream sets ``textContent``).
    """
    wanted = sorted({term for term in terms if term and term.strip()}, key=len, reverse=True)
    if not wanted or not text:
        return [(text, False)] if text else []
    pattern = re.compile("|".join(re.escape(term) for term in wanted), re.IGNORECASE)
    segments: list[tuple[str, bool]] = []
    position = 0
    for match in pattern.finditer(text):
        if match.start() > position:
            segments.append((text[position:match.start()], False))
        segments.append((match.group(0), True))
        position = match.end()
    if position < len(text):
        segments.append((text[position:], False))
    return segments


@dataclass(frozen=True)
class AutoApplyShare:
    """How many of one model version's predictions were confident enough to be applied without review."""

    version: str
    applied: int
    total: int

    @property
    def share(self) -> float:
        return self.applied / self.total if self.total else 0.0


def auto_apply_shares(*, thresholds: dict[str, float], default_threshold: float, versions: int = 2) -> list[AutoApplyShare]:
    """Return the auto-apply share of the ``versions`` most recently used model versions, newest first.

    Whether a prediction was applied is recomputed from its confidence and today's thresholds
    (``>=``, as triage decides), because a later confirmation overwrites the triage status.
    """
    threshold = Case(
        *[When(predicted_category__code=code, then=Value(value)) for code, value in thresholds.items()],
        default=Value(default_threshold), output_field=FloatField(),
    )
    rows = (
        Ticket.objects.exclude(model_version="").filter(prediction_confidence__isnull=False)
        .annotate(threshold=threshold)
        .values("model_version")
        .annotate(
            total=Count("id"),
            applied=Count("id", filter=Q(prediction_confidence__gte=F("threshold"))),
            last=models.Max("classified_at"),
        )
        .order_by(F("last").desc(nulls_last=True))[:versions]
    )
    return [AutoApplyShare(row["model_version"], row["applied"], row["total"]) for row in rows]


# The model page's sample of recent agent decisions: confirmed in the last this many days, newest first, capped.
CONFIRMED_SAMPLE_DAYS = 90
CONFIRMED_SAMPLE_LIMIT = 5000


@dataclass(frozen=True)
class ThresholdPoint:
    """At one threshold: of ``predicted`` tickets, ``applied`` clear it and ``correct`` of those are right."""

    threshold: float
    predicted: int
    applied: int
    correct: int

    @property
    def share(self) -> float | None:
        return self.applied / self.predicted if self.predicted else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.applied if self.applied else None


@dataclass
class CategoryThreshold:
    """One category's threshold, where it comes from, and what candidate thresholds would do."""

    category: Category
    threshold: float
    source: str  # "database", "environment" or "default"
    recent: ThresholdPoint  # at the current threshold, on the recent confirmed tickets
    # One row per candidate threshold: (threshold, recent confirmed tickets, held-out split or None).
    tradeoff: list[tuple[float, ThresholdPoint, ThresholdPoint | None]]


@dataclass
class ThresholdReport:
    """Auto-apply share and precision at the current thresholds, overall and per category."""

    since: datetime
    days: int
    limit: int
    overall: ThresholdPoint  # the threshold field is meaningless here (each category has its own)
    categories: list[CategoryThreshold]
    heldout_version: str | None  # the active version whose held-out curve is shown, if it has one

    @property
    def sample_size(self) -> int:
        return self.overall.predicted


def _points(rows: list[tuple[str, float, str]], grid: list[float]) -> dict[str, dict[float, ThresholdPoint]]:
    from .classifiers import threshold_curve

    return {
        code: {p["threshold"]: ThresholdPoint(p["threshold"], entry["predicted"], p["applied"], p["correct"]) for p in entry["points"]}
        for code, entry in threshold_curve(rows, grid).items()
    }


def model_threshold_report(
    *, heldout_curve: dict | None = None, heldout_version: str | None = None,
    days: int = CONFIRMED_SAMPLE_DAYS, limit: int = CONFIRMED_SAMPLE_LIMIT,
) -> ThresholdReport:
    """Measure auto-apply share and precision on tickets agents confirmed or corrected recently.

    The sample is the last ``days`` days' confirmed tickets that carry a prediction, newest
    ``limit`` first; "correct" means the predicted category is the confirmed one. It is biased:
    tickets below their threshold go to the review queue and are all confirmed, while tickets
    applied automatically are confirmed only when someone checks them. ``heldout_curve`` (the
    active version's metadata["threshold_curve"], unbiased) adds the held-out column.
    """
    from .classification import category_threshold, category_threshold_source
    from .classifiers import THRESHOLD_GRID

    since = timezone.now() - timedelta(days=days)
    rows = list(
        Ticket.objects.filter(
            confirmed_at__isnull=False, confirmed_at__gte=since, confirmed_category__isnull=False,
            predicted_category__isnull=False, prediction_confidence__isnull=False,
        )
        .order_by("-confirmed_at", "-pk")
        .values_list("predicted_category__code", "prediction_confidence", "confirmed_category__code")[:limit]
    )
    categories = list(Category.objects.filter(is_active=True).select_related("threshold_changed_by"))
    thresholds = {c.code: category_threshold(c.code) for c in categories}
    grid = sorted(set(THRESHOLD_GRID) | set(thresholds.values()))
    recent = _points(rows, grid)
    heldout: dict[str, dict[float, ThresholdPoint]] = {}
    for code, entry in ((heldout_curve or {}).get("per_category") or {}).items():
        heldout[code] = {
            round(p["threshold"], 4): ThresholdPoint(p["threshold"], entry["predicted"], p["applied"], p["correct"])
            for p in entry["points"]
        }
    overall_applied = overall_correct = 0
    report_rows = []
    for category in categories:
        threshold = thresholds[category.code]
        own = recent.get(category.code, {})
        at_current = own.get(threshold, ThresholdPoint(threshold, 0, 0, 0))
        overall_applied += at_current.applied
        overall_correct += at_current.correct
        # The candidate thresholds, and the current one where it is off the grid (held-out: not measured there).
        tradeoff = [
            (t, own.get(t, ThresholdPoint(t, 0, 0, 0)), heldout.get(category.code, {}).get(round(t, 4)))
            for t in sorted(set(THRESHOLD_GRID) | {threshold})
        ]
        report_rows.append(CategoryThreshold(category, threshold, category_threshold_source(category.code), at_current, tradeoff))
    # Tickets predicted as a category no longer active count in the sample, never as applied.
    overall = ThresholdPoint(0.0, len(rows), overall_applied, overall_correct)
    return ThresholdReport(
        since=since, days=days, limit=limit, overall=overall, categories=report_rows,
        heldout_version=heldout_version if heldout_curve else None,
    )


def training_run_latest() -> TrainingRun | None:
    """Return the newest training run (the one in progress, if any), or None."""
    return TrainingRun.objects.select_related("started_by").order_by("-created_at", "-id").first()
