"""Return reasons -> complaint categories (plain Python, no database)."""
import pytest

from issues.impact.reasons import ReasonCountError, reason_category, reasons_parse, reasons_to_categories


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("尺码偏小", "description_mismatch"), ("色差太大", "description_mismatch"), ("size too small", "description_mismatch"),
        ("洗发水漏液", "damaged"), ("坏果", "damaged"), ("发错货", "wrong_or_missing"), ("疑似假货", "counterfeit"),
        ("质量问题", "quality_defect"), ("七天无理由", "other"), ("物流太慢", "logistics_delay"), ("不知道", ""),
    ],
)
def test_keyword_map(text, code):
    assert reason_category(text) == code


def test_fallback_names_unrecognised_reasons_only():
    assert reason_category("奇怪的理由", fallback=lambda text: "service") == "service"
    assert reason_category("尺码偏小", fallback=lambda text: "service") == "description_mismatch"


def test_parse_counts_in_every_notation():
    assert reasons_parse("尺码偏小×3；色差x2;破损*1、漏液:4|发错（2）/七天无理由") == [
        ("尺码偏小", 3), ("色差", 2), ("破损", 1), ("漏液", 4), ("发错", 2), ("七天无理由", None),
    ]


def test_uncounted_reasons_share_what_the_counted_leave():
    # 10 returns: 3 counted as 尺码偏小; the other 7 split between two uncounted reasons, 4 + 3.
    counts = reasons_to_categories("尺码偏小×3；七天无理由；质量问题", 10)
    assert counts == {"description_mismatch": 3, "other": 4, "quality_defect": 3}
    assert reasons_to_categories("尺码偏小", 12) == {"description_mismatch": 12}
    assert reasons_to_categories("", 12) == {}


def test_counts_above_returns_raise():
    with pytest.raises(ReasonCountError):
        reasons_to_categories("尺码偏小×3；色差×3", 5)
