"""Set-based SQL for the hot paths (triage, grouping): one statement per batch, not one per row.

PostgreSQL gets arrays (``unnest(%s::bigint[], ...)``, ``= ANY(%s)``): a handful of
parameters however big the batch, which keeps psycopg's client-side query
parsing and the server's planning cheap. SQLite (the zero-setup default) gets
the equivalent VALUES lists.
"""
from __future__ import annotations

from typing import Any, Sequence

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def in_values(field: str, values: Sequence[Any], *, pg_type: str = "bigint") -> Q:
    """Return Q(field__in=values), as ``= ANY(array)`` on PostgreSQL."""
    values = list(values)
    if is_postgres() and len(values) > 20:
        return Q(**{f"{field}__in": RawSQL(f"SELECT unnest(%s::{pg_type}[])", [values])})
    return Q(**{f"{field}__in": values})


def rows_table(names: list[str], types: list[str], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """Return (FROM item aliased ``v`` with columns ``names``, params) holding ``rows``.

    ``types`` are PostgreSQL types (bigint, integer, timestamptz, text, float8);
    SQLite ignores them.
    """
    if is_postgres():
        columns = [[row[i] for row in rows] for i in range(len(names))]
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        return f"unnest({arrays}) AS v ({', '.join(names)})", columns
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    selected = ", ".join(f"column{i} AS {name}" for i, name in enumerate(names, start=1))
    params = [value for row in rows for value in row]
    return f"(SELECT {selected} FROM (VALUES {', '.join([one] * len(rows))}) AS x) AS v", params
