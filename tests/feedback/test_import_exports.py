"""feedback.exports: every CSV/XLSX the app hands out is safe from formula injection."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from feedback.exports import csv_response, csv_write, safe_cell, xlsx_response, xlsx_write


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"),
    ('=HYPERLINK("http://evil","点我")', '\'=HYPERLINK("http://evil","点我")'),
    ("+86 138", "'+86 138"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("＝1+1", "'＝1+1"),
    ("＠SUM(A1)", "'＠SUM(A1)"),
    ("物流太慢 =1", "物流太慢 =1"),
    ("", ""),
    (None, ""),
    (-5, -5),
    (3.5, 3.5),
    (True, True),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_safe_cell_checks_lazy_strings_too():
    from django.utils.functional import lazy

    assert safe_cell(lazy(lambda: "=cmd", str)()) == "'=cmd"


def test_csv_write_has_a_bom_and_neutralised_cells():
    buffer = io.StringIO()
    csv_write(buffer, header=["=header", "内容"], rows=[["@x", "收到就碎了"], [1, "-1"]])

    text = buffer.getvalue()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["'=header", "内容"], ["'@x", "收到就碎了"], ["1", "'-1"]]


def test_xlsx_write_keeps_formulas_as_text(tmp_path):
    path = tmp_path / "out.xlsx"
    received = datetime(2026, 5, 1, 13, 45, tzinfo=ZoneInfo("Asia/Shanghai"))
    xlsx_write(str(path), header=["内容", "时间"], rows=[["=1+1", received], ["+SUM(A1:A2)", None]], title="问题")

    sheet = load_workbook(path).active
    assert sheet.title == "问题"
    assert sheet["A2"].value == "'=1+1" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "'+SUM(A1:A2)" and sheet["A3"].data_type == "s"
    assert sheet["B2"].value == datetime(2026, 5, 1, 13, 45)


def test_responses_are_downloads(settings):
    response = csv_response(filename="错误报告.csv", header=["a"], rows=[["=b"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and "filename*=" in response["Content-Disposition"]
    assert response.content.decode("utf-8-sig").splitlines()[1] == "'=b"

    response = xlsx_response(filename="report.xlsx", header=["a"], rows=[["=b"]])
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A2"].value == "'=b"
