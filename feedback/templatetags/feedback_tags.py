"""Template helpers for ticket pages. None of them marks user text safe: autoescaping stays on."""
from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from feedback.masking import mask_phone_numbers
from feedback.model_text import gate_reason_text
from feedback.selectors import needs_review_count, text_segments

register = template.Library()


@register.filter
def gate_reason(reason: str | None) -> str:
    """The model gate's decision or a training run's outcome, in the reader's language."""
    return gate_reason_text(reason)


@register.filter
def masked_text(text: str | None) -> str:
    """Mask phone numbers in ``text``; the result is still escaped by the template."""
    return mask_phone_numbers(text or "")


@register.filter(needs_autoescape=True)
def highlight(text: str | None, terms, autoescape: bool = True) -> str:
    """Wrap each occurrence of one of ``terms`` in <mark>; every piece of ``text`` is escaped first."""
    escape = conditional_escape if autoescape else (lambda piece: piece)
    pieces = text_segments(text=str(text or ""), terms=terms or [])
    return mark_safe("".join(
        f'<mark class="search-hit">{escape(piece)}</mark>' if hit else str(escape(piece)) for piece, hit in pieces
    ))


@register.filter
def localized_name(obj) -> str:
    """Show a Category or Department in the active language (name_zh / name_en)."""
    if obj is None:
        return ""
    return obj.display_name(get_language() or "zh-hans")


@register.filter
def localized_description(category) -> str:
    """Show what a Category covers in the active language (description / description_en)."""
    if category is None:
        return ""
    return category.display_description(get_language() or "zh-hans")


@register.filter
def percent(value: float | None) -> str:
    """0.834 -> '83%'; empty for a missing value."""
    if value is None:
        return ""
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def confidence_level(value: float | None) -> str:
    """A CSS modifier for a confidence: high, medium, or low (below the triage threshold)."""
    if value is None:
        return "none"
    if value >= 0.8:
        return "high"
    if value >= settings.TRIAGE_CONFIDENCE_THRESHOLD:
        return "medium"
    return "low"


@register.simple_tag
def review_queue_size() -> int:
    """How many tickets wait for an agent to confirm their category."""
    return needs_review_count()


@register.simple_tag(takes_context=True)
def sort_link(context, key: str, label: str) -> str:
    """A column header that sorts the list by ``key``, and reverses it when clicked again."""
    request = context["request"]
    current = request.GET.get("sort") or "-received_at"
    next_sort = f"-{key}" if current == key else key
    params = request.GET.copy()
    params["sort"] = next_sort
    params.pop("page", None)
    arrow = "↑" if current == key else "↓" if current == f"-{key}" else ""
    return format_html('<a class="sort-link" href="?{}">{}<span aria-hidden="true">{}</span></a>', params.urlencode(), label, arrow)
