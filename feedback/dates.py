"""The calendar range the app accepts from users.

Filters and reports add or subtract days from the date they are given; at the edges of Python's
calendar (0001-01-01, 9999-12-31) that overflows, so input outside this range is refused up front
with an error naming the field, instead of failing deep inside a query.
"""
from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def date_out_of_range_message(day: date) -> str | None:
    """Return why ``day`` is refused, or None when it is inside the supported range."""
    if EARLIEST_DATE <= day <= LATEST_DATE:
        return None
    return _("日期须在 %(earliest)s 与 %(latest)s 之间。") % {
        "earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()}
