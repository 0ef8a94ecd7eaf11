"""Measuring a change against controls through the database, and the measure_fix command."""
import json
import math
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from issues.impact.measurement import Target, change_measure
from issues.impact.services import metrics_recompute

from .helpers import issue_for, product, resolve, sales

pytestmark = pytest.mark.django_db
ACTION = date(2026, 4, 15)  # windows 1-14 and 16-29 April: no festival of the default calendar
START = ACTION - timedelta(days=14)
DAYS = 29
# Day-to-day variation of the return rate, the same for every product (shared by the controls).
WIGGLE = [1.0, 1.2, 0.8, 1.1, 0.9, 1.0, 1.3]


def _returns(base: int, *, after_factor: float):
    def returns(day):
        factor = after_factor if day > ACTION else 1.0
        return round(base * factor * WIGGLE[day.toordinal() % 7])
    return returns


@pytest.fixture
def clothing():
    """CL-2001 (treated) and four other clothing SKUs at 300 orders a day; a fruit SKU elsewhere."""
    shirt = product("CL-2001", "衣服")
    peers = [product(f"CL-20{n:02d}", "衣服") for n in range(2, 6)]
    product("FR-1001", "水果")
    return shirt, peers


def _load(shirt, peers, *, shirt_after: float, peers_after: float):
    sales(shirt, START, DAYS, orders=600, returns=_returns(60, after_factor=shirt_after))
    for peer in peers:
        sales(peer, START, DAYS, orders=300, returns=_returns(30, after_factor=peers_after))
    metrics_recompute()


def test_a_change_the_whole_category_shares_is_no_effect(clothing):
    shirt, peers = clothing
    _load(shirt, peers, shirt_after=0.7, peers_after=0.7)
    measurement = change_measure(target=Target(skus=("CL-2001",)), action_date=ACTION, window_days=14)
    returns = measurement.returns
    # The plain before/after test sees a 30 % fall and calls it significant ...
    assert returns.plain.relative_change == pytest.approx(-0.30, abs=0.01)
    assert returns.plain.significant
    # ... the controls fell as much: net of them nothing changed.
    assert returns.estimate.method == "did_quasi_binomial"
    assert returns.estimate.relative_change == pytest.approx(0.0, abs=0.01)
    assert not returns.estimate.significant
    assert measurement.controls.kind == "same_category" and measurement.controls.count == 4
    verdict = measurement.verdict("zh")
    assert "无显著变化" in verdict and "对照：同类目 4 个商品" in verdict
    assert "以当前销量，小于" in verdict
    assert "Controls: 4 products of the same category" in measurement.verdict("en")


def test_a_change_of_the_treated_product_only_is_found_with_its_size(clothing):
    shirt, peers = clothing
    _load(shirt, peers, shirt_after=0.7, peers_after=1.0)
    estimate = change_measure(target=Target(skus=("CL-2001",)), action_date=ACTION, window_days=14).returns.estimate
    # Every day the treated share of the day's returns is the same function of the wiggle, so the fit is
    # exact up to rounding: (sum after treated / sum after controls) / (sum before ... ) - 1 = -0.30.
    assert estimate.relative_change == pytest.approx(-0.30, abs=0.01)
    assert estimate.significant
    assert estimate.ci_low < -0.30 < estimate.ci_high < 0


def test_products_with_their_own_fix_are_left_out_of_the_controls(clothing):
    shirt, peers = clothing
    _load(shirt, peers, shirt_after=1.0, peers_after=1.0)
    resolve(issue_for(peers[0]), ACTION + timedelta(days=3))  # CL-2002 was fixed inside the windows
    resolve(issue_for(peers[1]), ACTION + timedelta(days=40))  # CL-2003's fix is long after: still a control
    measurement = change_measure(target=Target(skus=("CL-2001",)), action_date=ACTION, window_days=14)
    assert measurement.controls.count == 3
    assert measurement.controls.excluded_fixed == 1
    assert ("sku", "CL-2002") in measurement.controls.subtract


def test_a_category_is_compared_with_the_other_categories(clothing):
    shirt, peers = clothing
    _load(shirt, peers, shirt_after=1.0, peers_after=1.0)
    measurement = change_measure(target=Target(categories=("衣服",)), action_date=ACTION, window_days=14)
    assert measurement.controls.kind == "other_categories" and measurement.controls.count == 1
    assert "其他品类 1 个商品" in measurement.verdict("zh")


def test_measure_fix_json_has_the_documented_keys(clothing, capsys):
    shirt, peers = clothing
    _load(shirt, peers, shirt_after=0.7, peers_after=1.0)
    call_command("measure_fix", "--sku", "CL-2001", "--action-date", ACTION.isoformat())
    [row] = json.loads(capsys.readouterr().out)
    for key in ("sku", "action_date", "window_days", "method", "controls", "return_rate_before",
                "return_rate_after", "return_rate_change", "return_rate_ci", "return_rate_p_value",
                "return_rate_significant", "complaint_rate_before", "complaint_rate_after", "complaint_rate_change",
                "complaint_rate_ci", "complaint_rate_p_value", "complaint_rate_significant", "verdict"):
        assert key in row, key
    assert row["sku"] == "CL-2001" and row["action_date"] == "2026-04-15" and row["window_days"] == 14
    assert row["return_rate_change"] == pytest.approx(-0.30, abs=0.01)
    assert row["return_rate_significant"] is True
    assert row["controls"]["count"] == 4
    # No tickets at all: the complaint rate is 0‰ and there is nothing to judge.
    assert row["complaint_rate_significant"] is False and row["complaint_rate_ci"] is None


def test_measure_fix_input_file_keeps_input_order_and_names_bad_lines(clothing, tmp_path, capsys):
    shirt, peers = clothing
    _load(shirt, peers, shirt_after=0.7, peers_after=1.0)
    lines = [
        json.dumps({"sku": "CL-2003", "action_date": "2026-04-15", "note": "new supplier"}),
        "",
        json.dumps({"sku": "CL-2001", "action_date": "2026-04-15", "window_days": 7}),
        json.dumps({"sku": "NOPE-1", "action_date": "2026-04-15"}),
        json.dumps({"sku": "CL-2001", "action_date": "15/04/2026"}),
        "{not json",
        json.dumps({"action_date": "2026-04-15"}),
        json.dumps({"sku": "CL-2001", "action_date": "2026-05-20"}),  # after window past the data
    ]
    path = tmp_path / "changes.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CommandError, match="4 of 7 changes could not be measured"):
        call_command("measure_fix", "--input", str(path))
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert [row.get("sku") for row in rows] == ["CL-2003", "CL-2001", "NOPE-1", "CL-2001", None, None, "CL-2001"]
    assert rows[0]["return_rate_significant"] is False and "note" not in rows[0]
    assert rows[1]["window_days"] == 7
    assert rows[2]["error"] == "line 4: sku: no product with SKU 'NOPE-1'"
    assert rows[3]["error"] == "line 5: action_date: '15/04/2026' is not a date YYYY-MM-DD"
    assert rows[4]["error"].startswith("line 6: not valid JSON")
    assert rows[5]["error"] == "line 7: sku: missing"
    assert rows[6]["verdict"] == "数据不完整：措施后窗口到 2026-06-03，订单数据只到 2026-04-29"
    assert rows[6]["return_rate_change"] is None
    assert "line 4: sku: no product" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("arguments, message", [
    (["--sku", "CL-2001"], "give --sku SKU"),
    (["--sku", "CL-2001", "--action-date", "2026-13-01"], "--action_date: '2026-13-01' is not a date"),
    (["--input", "/nonexistent/changes.jsonl"], "--input: no such file"),
])
def test_measure_fix_bad_arguments_are_clear_errors(clothing, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("measure_fix", *arguments)


def test_measure_fix_table(clothing, capsys):
    shirt, peers = clothing
    _load(shirt, peers, shirt_after=0.7, peers_after=1.0)
    call_command("measure_fix", "--sku", "CL-2001", "--action-date", "2026-04-15", "--format", "table",
                 "--language", "en")
    out = capsys.readouterr().out
    assert "CL-2001" in out and "Controls: 4 products of the same category" in out
    assert re.search(r"-(29\.[5-9]|30\.[0-4])%", out), out


def test_a_category_wide_fix_sends_its_skus_to_the_shop_as_controls(clothing):
    shirt, peers = clothing
    _load(shirt, peers, shirt_after=1.0, peers_after=1.0)
    # The whole clothing category was fixed inside the windows: none of its SKUs is an untouched control.
    resolve(issue_for(peers[0], scope_type="product_category", scope_key="衣服"), ACTION + timedelta(days=2))
    controls = change_measure(target=Target(skus=("CL-2001",)), action_date=ACTION, window_days=14).controls
    assert controls.kind == "shop" and controls.count == 1  # FR-1001 only
    assert ("product_category", "衣服") in controls.subtract


def test_a_sku_alone_in_its_category_is_compared_with_the_rest_of_the_shop(clothing):
    product("BK-6001", "书籍")
    controls = change_measure(target=Target(skus=("BK-6001",)), action_date=ACTION, window_days=14).controls
    assert controls.kind == "shop" and controls.count == 6
    assert "全店其他 6 个商品" in controls.label("zh")


def _drifting_shop(*, clothing_after: float, history_days: int = 120):
    """Five clothing and five fruit SKUs with ``history_days`` of sales before the windows. Clothing's return
    rate wanders (a seeded random walk, 1.5 % a day) while fruit's stays put: their drifts differ."""
    import numpy as np

    rng = np.random.default_rng(5)
    first = START - timedelta(days=history_days)
    total = history_days + DAYS
    level = dict(zip([first + timedelta(days=i) for i in range(total)], np.cumsum(rng.normal(0, 0.015, total))))
    noise = {day: float(np.exp(rng.normal(0, 0.05))) for day in level}
    for n in range(5):
        sales(product(f"CL-30{n:02d}", "衣服"), first, total, orders=400,
              returns=lambda d: round(40 * math.exp(level[d]) * noise[d] * (clothing_after if d > ACTION else 1)))
        sales(product(f"FR-30{n:02d}", "水果"), first, total, orders=400, returns=lambda d: round(20 * noise[d]))
    metrics_recompute()


def test_a_category_wide_fix_counts_the_other_categories_drift():
    _drifting_shop(clothing_after=0.7)
    measurement = change_measure(target=Target(categories=("衣服",)), action_date=ACTION, window_days=14)
    returns = measurement.returns.estimate
    assert measurement.controls.kind == "other_categories" and measurement.controls.count == 5
    assert returns.method == "did_quasi_binomial"
    # The drift, estimated from the 120 days of history there are (180 are read), is part of the interval
    # and said in the verdict.
    # A level step sd of 1.5 % a day over two 14-day windows: sqrt(0.015^2 * 10.36) = 4.8 %, give or take.
    assert returns.drift_sd is not None and 0.02 < returns.drift_sd < 0.09
    assert not returns.drift_unknown
    verdict = measurement.verdict("zh")
    assert "对照：其他品类 5 个商品。对照来自其他品类，不随本品类自己的走势变化：区间已计入历史上两者走势的差异（约 ±" in verdict
    assert "the interval counts how far the two drifted apart in the past" in measurement.verdict("en")
    # The 30 % fall is still found (net of whatever the walk did in these very windows).
    assert returns.significant and returns.ci_high < 0
    assert returns.relative_change == pytest.approx(-0.30, abs=0.1)


def test_a_category_wide_fix_without_history_says_the_drift_is_not_counted():
    _drifting_shop(clothing_after=1.0, history_days=0)
    measurement = change_measure(target=Target(categories=("衣服",)), action_date=ACTION, window_days=14)
    assert measurement.returns.estimate.drift_unknown
    assert "历史数据不足以估计两者走势的差异，区间未计入，结论需谨慎" in measurement.verdict("zh")
    assert "the history is too short to estimate it" in measurement.verdict("en")
