"""Query-string filters for /api/tickets/ (django-filter)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field

from feedback.dates import date_out_of_range_message
from feedback.models import Category, Channel, Ticket, TriageStatus
from feedback.selectors import ticket_search_condition


class DateOrDateTimeField(forms.Field):
    """Accept ``2024-05-01`` (a whole day) or an ISO 8601 date-time; naive times are local (TIME_ZONE)."""

    def to_python(self, value: str | None) -> date | datetime | None:
        if value in self.empty_values:
            return None
        value = value.strip()
        try:
            # The date first: parse_datetime would also read "2024-05-01" as midnight, losing "the whole day".
            day = parse_date(value)
            moment = None if day else parse_datetime(value)
        except ValueError:  # well-formed but impossible, e.g. 2024-02-30
            day = moment = None
        candidate = day if day is not None else moment.date() if moment is not None else None
        if candidate is not None and (problem := date_out_of_range_message(candidate)):
            raise forms.ValidationError(problem, code="out_of_range")
        if day is not None:
            return day
        if moment is not None:
            return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        raise forms.ValidationError(
            gettext("日期格式无效，请使用 YYYY-MM-DD 或 ISO 8601 时间"),
            code="invalid",
        )


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@extend_schema_field(
    {
        "type": "string",
        "example": "2024-05-01",
        "description": "YYYY-MM-DD (the whole day, local time) or an ISO 8601 date-time; the bound is inclusive.",
    }
)
class ReceivedAtFilter(django_filters.Filter):
    """Bound ``received_at`` from one side. A bare date covers the whole day on both sides."""

    field_class = DateOrDateTimeField

    def __init__(self, *, after: bool, **kwargs):
        self.after = after
        super().__init__(field_name="received_at", **kwargs)

    def filter(self, qs: QuerySet, value: date | datetime | None) -> QuerySet:
        if value is None:
            return qs
        if isinstance(value, datetime):
            return qs.filter(received_at__gte=value) if self.after else qs.filter(received_at__lte=value)
        if self.after:
            return qs.filter(received_at__gte=_start_of_day(value))
        return qs.filter(received_at__lt=_start_of_day(value + timedelta(days=1)))


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**31 - 1})
class IdFilter(django_filters.NumberFilter):
    """A database id: a whole number that fits the column, so a bad value is a 400 naming the field, never a 500."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**31 - 1)
        super().__init__(*args, **kwargs)


class TicketFilter(django_filters.FilterSet):
    received_after = ReceivedAtFilter(
        after=True, help_text="Received on or after this date (YYYY-MM-DD) or ISO 8601 date-time."
    )
    received_before = ReceivedAtFilter(
        after=False, help_text="Received on or before this date (the whole day) or ISO 8601 date-time."
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    product = django_filters.CharFilter(field_name="product__sku", help_text="Product SKU (exact).")
    product_category = django_filters.CharFilter(
        field_name="product__product_category", help_text="Product category such as 水果, 服饰, 数码."
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), to_field_name="code", help_text="Category code, e.g. damaged."
    )
    also_category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), to_field_name="code",
        help_text="Category code: only the tickets an agent marked as also about it (they count under `category`).",
    )
    triage_status = django_filters.ChoiceFilter(choices=TriageStatus.choices)
    issue = IdFilter(field_name="issue_id", help_text="Issue id: only the tickets grouped under this issue.")
    q = django_filters.CharFilter(
        method="filter_q", max_length=200,
        help_text="Words that must all appear (Chinese is split with jieba: `牛奶 酸` or `牛奶酸了`), each in the "
                  "ticket text as you may read it (masked phone numbers stay masked), order number, SKU, product "
                  "name or external id; a number also finds the ticket with that id.",
    )

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(ticket_search_condition(q=value, user=getattr(self.request, "user", None)))

    class Meta:
        model = Ticket
        fields: list[str] = []
