"""The festival calendar the verdicts name: defaults, boundaries, configuration."""
from datetime import date

import pytest

from issues.impact.festivals import festivals_between


@pytest.mark.parametrize("start, end, names", [
    # 双11 runs 20 October - 30 November every year; a window touching either end day straddles it.
    (date(2026, 10, 6), date(2026, 10, 19), []),
    (date(2026, 10, 6), date(2026, 10, 20), ["双11"]),
    (date(2026, 11, 30), date(2026, 12, 13), ["双11"]),
    (date(2026, 12, 1), date(2026, 12, 14), []),
    # 春节 2026 is 17 February: 7-27 February.
    (date(2026, 1, 24), date(2026, 2, 6), []),
    (date(2026, 1, 24), date(2026, 2, 7), ["春节"]),
    # A long window can straddle two.
    (date(2026, 5, 20), date(2026, 11, 1), ["618", "双11"]),
])
def test_default_calendar_at_its_boundaries(start, end, names):
    assert [f.name_zh for f in festivals_between(start=start, end=end)] == names


def test_calendar_comes_from_the_setting(settings):
    settings.IMPACT_FESTIVALS = [
        {"name_zh": "年货节", "name_en": "New Year goods fair", "start": "12-20", "end": "01-10"},
        {"name_zh": "店庆", "name_en": "Shop anniversary", "start": "2026-03-08", "end": "2026-03-10"},
    ]
    # An MM-DD period ending before it starts wraps over New Year.
    found = festivals_between(start=date(2027, 1, 5), end=date(2027, 1, 18))
    assert [(f.name_zh, f.start, f.end) for f in found] == [("年货节", date(2026, 12, 20), date(2027, 1, 10))]
    assert [f.name("en") for f in festivals_between(start=date(2026, 3, 1), end=date(2026, 3, 8))] == [
        "Shop anniversary"]
    assert festivals_between(start=date(2026, 11, 1), end=date(2026, 11, 14)) == []  # 双11 no longer listed
