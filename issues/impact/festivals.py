"""The festival calendar: shopping festivals whose order surge and return wave move every product.

A verdict whose windows straddle one says so ("窗口跨越双11"): with controls
the festival is in both the treated scope and its controls and cancels out;
without controls the verdict warns that the change may be the festival's.

Configured by ``IMPACT_FESTIVALS`` (settings, from the environment as JSON);
each entry has ``name_zh``, ``name_en``, ``start`` and ``end`` (inclusive),
either "MM-DD" (every year) or "YYYY-MM-DD" (one year: 春节 moves with the
lunar calendar). An end before its start in MM-DD form wraps over New Year.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .conf import impact_setting


@dataclass(frozen=True)
class Festival:
    name_zh: str
    name_en: str
    start: date
    end: date

    def name(self, language: str = "zh") -> str:
        return self.name_en if language.startswith("en") else self.name_zh


def _spring_festival(day: str) -> dict[str, str]:
    """春节 shuts logistics down for about ten days before and sends returns back after it."""
    center = date.fromisoformat(day)
    return {"name_zh": "春节", "name_en": "Spring Festival",
            "start": (center - timedelta(days=10)).isoformat(), "end": (center + timedelta(days=10)).isoformat()}


DEFAULT_FESTIVALS: list[dict[str, str]] = [
    # Pre-sales from about 20 October, the surge up to 11 November, returns until the end of the month.
    {"name_zh": "双11", "name_en": "Singles' Day (11.11)", "start": "10-20", "end": "11-30"},
    {"name_zh": "618", "name_en": "618 sale", "start": "06-01", "end": "06-30"},
    *[_spring_festival(day) for day in ("2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26",
                                        "2029-02-13", "2030-02-03")],
]


def _dates(entry: dict[str, str], year: int) -> tuple[date, date]:
    start, end = entry["start"], entry["end"]
    if len(start) == 10:
        return date.fromisoformat(start), date.fromisoformat(end)
    first = date.fromisoformat(f"{year}-{start}")
    last = date.fromisoformat(f"{year}-{end}")
    if last < first:  # wraps over New Year
        last = date.fromisoformat(f"{year + 1}-{end}")
    return first, last


def festivals_between(*, start: date, end: date, calendar: list[dict[str, str]] | None = None) -> list[Festival]:
    """Festivals of the calendar overlapping [start, end], in date order, each once."""
    entries = calendar if calendar is not None else (impact_setting("IMPACT_FESTIVALS") or DEFAULT_FESTIVALS)
    found: dict[tuple, Festival] = {}
    for entry in entries:
        for year in range(start.year - 1, end.year + 1):
            first, last = _dates(entry, year)
            if first <= end and last >= start:
                found[(entry["name_zh"], first)] = Festival(entry["name_zh"], entry.get("name_en", entry["name_zh"]),
                                                           first, last)
            if len(entry["start"]) == 10:
                break
    return sorted(found.values(), key=lambda f: f.start)
