"""What customers say: issue keywords, representative tickets, sub-themes and candidate new categories."""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from feedback.masking import mask_phone_numbers
from feedback.models import Category, Ticket, TriageStatus

from ..clustering import cluster_texts, tokenize, top_terms
from ..conf import issue_setting
from ..labels import is_label_word, label_words, theme_label
from ..models import Issue, SubTheme, SubThemeStatus
from ..permissions import user_can_decide_subthemes

logger = logging.getLogger(__name__)

TICKETS_PER_ISSUE = 200
# A sub-theme's label phrase is looked for in this many of its tickets, nearest the centre first.
PHRASE_CANDIDATE_TICKETS = 10


def _label_terms(terms: list[str]) -> list[str]:
    # Stop words, fillers, bare numbers and single characters say nothing as labels (issues/labels.py).
    return label_words(terms)


def _content_tokens(texts: list[str]) -> list[list[str]]:
    """The words of each text that can carry a theme: what keywords and sub-themes are computed from."""
    return [[word for word in words if is_label_word(word)] for words in tokenize(texts)]


def issues_keywords_refresh(*, limit: int = 500, issue_ids: list[int] | None = None) -> int:
    """Recompute keywords and representative tickets of issues with new tickets; return issues done.

    Keywords are the top terms of the mean TF-IDF vector of an issue's recent
    tickets (IDF from its category's sample); representatives are the tickets
    nearest that centroid. Works in chunks of ``limit`` (the task re-enqueues).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    if issue_ids is None:
        dirty = Issue.objects.filter(ticket_count__gt=0).filter(
            Q(keywords_refreshed_at__isnull=True) | Q(last_seen_at__gt=F("keywords_refreshed_at"))
        )
        issue_ids = list(dirty.order_by("-count_7d").values_list("pk", flat=True)[:limit])
    if not issue_ids:
        return 0
    now = timezone.now()
    per_keyword = issue_setting("ISSUE_KEYWORDS_PER_ISSUE")
    per_representative = issue_setting("ISSUE_REPRESENTATIVE_TICKETS")
    by_category: dict[int, list[int]] = defaultdict(list)
    for issue_id, category_id in Issue.objects.filter(pk__in=issue_ids).values_list("pk", "category_id"):
        by_category[category_id].append(issue_id)
    updated: list[Issue] = []
    for category_id, ids in by_category.items():
        rows: list[tuple[int, int, str]] = []  # (issue, ticket, text)
        for issue_id in ids:
            rows.extend(
                (issue_id, ticket_id, text)
                for ticket_id, text in Ticket.objects.filter(issue_id=issue_id)
                .order_by("-received_at", "-id")
                .values_list("id", "text")[:TICKETS_PER_ISSUE]
            )
        if not rows:
            continue
        tokens = _content_tokens([text for _, _, text in rows])
        vectorizer = TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True)
        try:
            matrix = normalize(vectorizer.fit_transform(tokens))
        except ValueError:
            continue
        vocabulary = vectorizer.get_feature_names_out()
        positions: dict[int, list[int]] = defaultdict(list)
        for position, (issue_id, _, _) in enumerate(rows):
            positions[issue_id].append(position)
        for issue_id in ids:
            members = positions.get(issue_id, [])
            if not members:
                continue
            terms = _label_terms(top_terms(matrix, members, vocabulary, per_keyword * 2))[:per_keyword]
            centroid = np.asarray(matrix[members].mean(axis=0)).ravel()
            similarity = matrix[members] @ centroid
            order = np.argsort(-np.asarray(similarity).ravel())[:per_representative]
            representatives = [rows[members[i]][1] for i in order]
            updated.append(
                Issue(pk=issue_id, keywords=terms, representative_ticket_ids=representatives, keywords_refreshed_at=now)
            )
    Issue.objects.bulk_update(updated, ["keywords", "representative_ticket_ids", "keywords_refreshed_at"], batch_size=500)
    return len(updated)


def _subthemes_from(texts_by_id: dict[int, str], **kwargs) -> list[dict]:
    ids = list(texts_by_id)
    texts = [texts_by_id[i] for i in ids]
    clustering = cluster_texts(texts, tokens=_content_tokens(texts), min_size=issue_setting("ISSUE_CLUSTER_MIN_SIZE"),
                               keywords=12, **kwargs)
    result = []
    for cluster in clustering.clusters:
        keywords = _label_terms(cluster.keywords)
        # The phrase comes from the tickets nearest the centre, with phone numbers masked as on every page.
        central = [mask_phone_numbers(texts[i]) for i in cluster.members[:PHRASE_CANDIDATE_TICKETS]]
        result.append(
            {
                "label": theme_label(keywords, central) or "—",
                "keywords": keywords[:6],
                "size": len(cluster.members),
                "cohesion": round(cluster.cohesion, 4),
                "example_ticket_ids": [ids[i] for i in cluster.examples],
                "ticket_ids": [ids[i] for i in cluster.members],
            }
        )
    outside = clustering.outside_share()
    return result, outside


def _window_tickets(window: Q, now: datetime) -> dict[int, str]:
    since = now - timedelta(days=issue_setting("ISSUE_CLUSTER_WINDOW_DAYS"))
    rows = (
        Ticket.objects.filter(window, received_at__gte=since)
        .order_by("-received_at", "-id")
        .values_list("id", "text")[: issue_setting("ISSUE_CLUSTER_MAX_TICKETS")]
    )
    return dict(rows)


def subthemes_refresh(*, category_id: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Re-cluster each category's recent tickets (and its biggest issues') into sub-themes.

    Replaces the active sub-themes of each category; promoted/merged history stays.
    Returns {category code: sub-themes written}.
    """
    now = now or timezone.now()
    written: dict[str, int] = {}
    categories = Category.objects.filter(is_active=True)
    if category_id:
        categories = categories.filter(pk=category_id)
    for category in categories:
        texts = _window_tickets(Q(category=category), now)
        themes, outside = _subthemes_from(texts) if len(texts) >= 10 else ([], 0.0)
        issue_themes: list[tuple[int, list[dict]]] = []
        # Big issues, and spiking ones as soon as they have enough tickets to split: a spike is when
        # a lead most needs to know what exactly customers say.
        big_issues = (
            Issue.objects.filter(Q(count_30d__gte=issue_setting("ISSUE_SUBTHEME_MIN_ISSUE_TICKETS"))
                                 | Q(is_spiking=True, count_30d__gte=issue_setting("ISSUE_SUBTHEME_MIN_SPIKING_TICKETS")),
                                 category=category)
            .exclude(status="merged")
            .order_by("-count_30d")
            .values_list("pk", flat=True)[:50]
        )
        for issue_id in big_issues:
            issue_texts = _window_tickets(Q(issue_id=issue_id), now)
            issue_themes.append((issue_id, _subthemes_from(issue_texts, target_size=15, max_clusters=8)[0]))
        with transaction.atomic():
            SubTheme.objects.filter(category=category, status=SubThemeStatus.ACTIVE, is_candidate=False).delete()
            objects = [SubTheme(category=category, **theme) for theme in themes]
            for issue_id, per_issue in issue_themes:
                objects.extend(SubTheme(category=category, issue_id=issue_id, **theme) for theme in per_issue)
            SubTheme.objects.bulk_create(objects)
        written[category.code] = len(objects)
        logger.info("sub-themes of %s: %d (%.0f%% of tickets outside every cluster)", category.code, len(themes),
                    outside * 100)
    return written


def candidates_refresh(*, now: datetime | None = None) -> int:
    """Cluster ``other`` and low-confidence (needs review) tickets into candidate new issue types."""
    now = now or timezone.now()
    texts = _window_tickets(Q(category__code="other") | Q(triage_status=TriageStatus.NEEDS_REVIEW), now)
    themes, outside = _subthemes_from(texts) if len(texts) >= 10 else ([], 0.0)
    with transaction.atomic():
        SubTheme.objects.filter(is_candidate=True, status=SubThemeStatus.CANDIDATE).delete()
        SubTheme.objects.bulk_create(
            [SubTheme(is_candidate=True, status=SubThemeStatus.CANDIDATE, **theme) for theme in themes]
        )
    logger.info("candidate themes: %d from %d tickets (%.0f%% outside)", len(themes), len(texts), outside * 100)
    return len(themes)


def _relabel(ticket_ids: list[int], category: Category, actor) -> int:
    """Confirm tickets as ``category`` (training labels for the next model) and move them to their issues."""
    from feedback.classification import tickets_confirm_categories

    ids = Ticket.objects.filter(pk__in=ticket_ids).exclude(confirmed_category=category).values_list("pk", flat=True)
    return tickets_confirm_categories(confirmations={pk: category for pk in ids}, user=actor)


def subtheme_promote(
    *, subtheme: SubTheme, code: str, name_zh: str, name_en: str = "", department=None, description: str = "",
    actor=None, ticket_ids: list[int] | None = None,
) -> Category:
    """Turn a candidate sub-theme into a new category; its tickets become labels for the next training."""
    if actor is not None and not user_can_decide_subthemes(actor):
        raise PermissionDenied(gettext("只有负责人或管理员可以新建类别"))
    from .workflow import IssueActionError

    if subtheme.status != SubThemeStatus.CANDIDATE:
        raise IssueActionError({"subtheme": gettext("只能升级候选子主题")})
    if Category.objects.filter(code=code).exists():
        raise IssueActionError({"code": gettext("类别代码 %(code)s 已存在") % {"code": code}})
    with transaction.atomic():
        category = Category.objects.create(
            code=code, name_zh=name_zh, name_en=name_en or code, description=description or subtheme.label,
            default_department=department, sort_order=Category.objects.count() + 1,
        )
        _relabel(ticket_ids if ticket_ids is not None else subtheme.ticket_ids, category, actor)
        SubTheme.objects.filter(pk=subtheme.pk).update(
            status=SubThemeStatus.PROMOTED, resulting_category=category, decided_by=actor, decided_at=timezone.now()
        )
    return category


def subtheme_merge(*, subtheme: SubTheme, category: Category, actor=None, ticket_ids: list[int] | None = None) -> int:
    """Label a candidate sub-theme's tickets as an existing category; return tickets relabelled."""
    if actor is not None and not user_can_decide_subthemes(actor):
        raise PermissionDenied(gettext("只有负责人或管理员可以合并子主题"))
    with transaction.atomic():
        count = _relabel(ticket_ids if ticket_ids is not None else subtheme.ticket_ids, category, actor)
        SubTheme.objects.filter(pk=subtheme.pk).update(
            status=SubThemeStatus.MERGED, resulting_category=category, decided_by=actor, decided_at=timezone.now()
        )
    return count


def subtheme_dismiss(*, subtheme: SubTheme, actor=None) -> None:
    if actor is not None and not user_can_decide_subthemes(actor):
        raise PermissionDenied
    SubTheme.objects.filter(pk=subtheme.pk).update(
        status=SubThemeStatus.DISMISSED, decided_by=actor, decided_at=timezone.now()
    )
