"""Importing orders and returns: encodings, every kind of bad input, idempotent re-import."""
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from feedback.imports.readers import ImportFileError
from issues.impact.models import DailySales, ReturnReasonDaily
from issues.impact.services import sales_import_file
from issues.impact.services.sales import count_parse

from .helpers import product

pytestmark = pytest.mark.django_db
HEADER = "日期,SKU,订单数,退货数,退货原因\n"


@pytest.fixture
def shirt():
    return product("CL-2001", "衣服")


def write(tmp_path, text: str, *, encoding: str = "utf-8", name: str = "orders.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def stored(sku: str = "CL-2001", day: date = date(2026, 5, 1)) -> tuple[int, int]:
    row = DailySales.objects.get(product__sku=sku, day=day)
    return row.orders, row.returns


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_chinese_headers_in_every_supported_encoding(tmp_path, shirt, encoding):
    path = write(tmp_path, HEADER + "2026-05-01,CL-2001,640,77,尺码偏小×50；七天无理由\n", encoding=encoding)
    result = sales_import_file(path=path, refresh=False)
    assert (result.created, result.failed, result.errors) == (1, 0, [])
    assert stored() == (640, 77)
    reasons = dict(ReturnReasonDaily.objects.values_list("category_code", "count"))
    assert reasons == {"description_mismatch": 50, "other": 27}


def test_english_headers_and_xlsx(tmp_path, shirt):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["date", "sku", "orders", "returns", "return_reason"])
    sheet.append([date(2026, 5, 1), "CL-2001", 640, 77, "size too small"])
    sheet.append(["2026/5/2", "CL-2001", 600.0, 70, None])
    path = tmp_path / "orders.xlsx"
    workbook.save(path)
    result = sales_import_file(path=path, refresh=False)
    assert (result.created, result.failed) == (2, 0)
    assert result.format == "xlsx"
    assert stored() == (640, 77)
    assert stored(day=date(2026, 5, 2)) == (600, 70)


@pytest.mark.parametrize("cell", ["2026-05-01", "2026/5/1", "20260501", "2026年5月1日"])
def test_date_formats(tmp_path, shirt, cell):
    result = sales_import_file(path=write(tmp_path, HEADER + f"{cell},CL-2001,10,1,\n"), refresh=False)
    assert result.failed == 0
    assert stored() == (10, 1)


@pytest.mark.parametrize(
    ("orders", "returns", "field", "message"),
    [
        ("-5", "1", "orders", "订单数不能为负数"),
        ("10", "-1", "returns", "退货数不能为负数"),
        ("12.5", "1", "orders", "订单数不是整数"),
        ("abc", "1", "orders", "订单数不是数字"),
        ("10", "", "returns", "退货数为空"),
    ],
)
def test_bad_counts_are_row_errors_with_row_numbers(tmp_path, shirt, orders, returns, field, message):
    text = HEADER + "2026-05-01,CL-2001,10,1,\n" + f"2026-05-02,CL-2001,{orders},{returns},\n"
    result = sales_import_file(path=write(tmp_path, text), refresh=False)
    assert (result.created, result.failed) == (1, 1)
    [error] = result.errors
    assert error["row"] == 3 and error["field"] == field and message in error["message"]
    assert not DailySales.objects.filter(day=date(2026, 5, 2)).exists()


def test_more_returns_than_orders_is_accepted_with_a_warning(tmp_path, shirt):
    result = sales_import_file(path=write(tmp_path, HEADER + "2026-05-01,CL-2001,3,8,\n"), refresh=False)
    assert (result.created, result.failed) == (1, 0)
    assert stored() == (3, 8)
    assert any(w["row"] == 2 and "退货数 8 大于订单数 3" in w["message"] for w in result.warnings)


def test_unknown_sku_is_a_row_error_naming_it(tmp_path, shirt):
    result = sales_import_file(path=write(tmp_path, HEADER + "2026-05-01,NO-SUCH,10,1,\n"), refresh=False)
    assert result.failed == 1
    assert "未知 SKU「NO-SUCH」" in result.errors[0]["message"]
    assert not DailySales.objects.exists()


@pytest.mark.parametrize("cell", ["2026-13-01", "昨天", ""])
def test_bad_dates_are_row_errors(tmp_path, shirt, cell):
    result = sales_import_file(path=write(tmp_path, HEADER + f"{cell},CL-2001,10,1,\n"), refresh=False)
    assert result.failed == 1 and result.errors[0]["field"] == "day"


def test_future_date_is_a_row_error(tmp_path, shirt):
    result = sales_import_file(path=write(tmp_path, HEADER + "2099-01-01,CL-2001,10,1,\n"), refresh=False)
    assert "日期在未来" in result.errors[0]["message"]


def test_reason_counts_above_returns_are_a_row_error(tmp_path, shirt):
    result = sales_import_file(path=write(tmp_path, HEADER + "2026-05-01,CL-2001,10,3,尺码偏小×2；色差×2\n"), refresh=False)
    assert result.failed == 1 and result.errors[0]["field"] == "return_reason"


def test_duplicate_rows_in_one_file_later_row_wins_with_a_warning(tmp_path, shirt):
    text = HEADER + "2026-05-01,CL-2001,10,1,\n2026-05-01,CL-2001,20,2,\n"
    result = sales_import_file(path=write(tmp_path, text), refresh=False)
    assert result.failed == 0
    assert stored() == (20, 2)
    assert DailySales.objects.count() == 1
    assert any(w["row"] == 3 and "第 2 行" in w["message"] for w in result.warnings)


def test_reimport_of_same_file_creates_no_duplicates_and_replaces_values(tmp_path, shirt):
    path = write(tmp_path, HEADER + "2026-05-01,CL-2001,640,77,尺码偏小×50\n2026-05-02,CL-2001,600,70,\n")
    first = sales_import_file(path=path, refresh=False)
    second = sales_import_file(path=path, refresh=False)
    assert (first.created, first.updated) == (2, 0)
    assert (second.created, second.updated) == (0, 2)
    assert DailySales.objects.count() == 2
    assert ReturnReasonDaily.objects.get().count == 50

    corrected = write(tmp_path, HEADER + "2026-05-01,CL-2001,650,80,\n", name="fix.csv")
    sales_import_file(path=corrected, refresh=False)
    assert stored() == (650, 80)  # replaced, not added
    assert not ReturnReasonDaily.objects.exists()  # the corrected row gave no reasons


def test_missing_column_refuses_the_file(tmp_path, shirt):
    with pytest.raises(ImportFileError, match="找不到必需的列"):
        sales_import_file(path=write(tmp_path, "日期,SKU,订单数\n2026-05-01,CL-2001,10\n"), refresh=False)
    assert not DailySales.objects.exists()


@pytest.mark.parametrize(("value", "expected"), [(12, 12), (12.0, 12), ("1,234", 1234), (" 7 ", 7), ("0", 0)])
def test_count_parse_accepts_whole_numbers(value, expected):
    assert count_parse(value, "订单数") == expected


@pytest.mark.parametrize("value", [True, "1e3", "12.5", 3.5, "-1", None])
def test_count_parse_refuses_the_rest(value):
    with pytest.raises(ValueError):
        count_parse(value, "订单数")


def test_import_orders_command_prints_a_summary(tmp_path, shirt, capsys):
    path = write(tmp_path, HEADER + "2026-05-01,CL-2001,640,77,\n2026-05-02,NOPE,1,0,\n")
    call_command("import_orders", str(path))
    out = capsys.readouterr().out
    assert "2 rows" in out and "1 new" in out and "1 failed" in out and "未知 SKU" in out
    assert "Metrics recomputed for 2026-05-01 .. 2026-05-01" in out
    with pytest.raises(CommandError):
        call_command("import_orders", str(tmp_path / "missing.csv"))


# --- the shared framework: platform-style headers, --map, workbook layout ---


@pytest.fixture
def frozen_clock():
    import time_machine

    with time_machine.travel("2026-12-07 10:00:00+08:00", tick=False):
        yield


def test_merchant_code_and_platform_style_headers_are_recognised(tmp_path, shirt, frozen_clock):
    text = "统计日期,商家编码,商品ID,支付订单数,退款订单数,退款原因\n2026-05-01,CL-2001,556677,640,77,尺码偏小×50\n"
    result = sales_import_file(path=write(tmp_path, text), refresh=False)
    assert (result.created, result.failed) == (1, 0), result.errors
    assert stored() == (640, 77)


def test_map_names_columns_the_aliases_do_not_know(tmp_path, shirt, frozen_clock):
    text = "业务日,货品编号,成交单量,退回件数\n2026/5/1,CL-2001,30,2\n"
    with pytest.raises(ImportFileError, match="找不到必需的列"):
        sales_import_file(path=write(tmp_path, text), refresh=False)

    result = sales_import_file(
        path=write(tmp_path, text), refresh=False,
        column_mapping={"业务日": "day", "货品编号": "sku", "成交单量": "orders", "退回件数": "returns"},
    )
    assert (result.created, result.failed) == (1, 0)
    assert stored() == (30, 2)


def test_sales_workbook_title_row_second_sheet_and_total_row(tmp_path, shirt, frozen_clock):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "封面"
    workbook.active.append(["店铺日报"])
    sheet = workbook.create_sheet("明细")
    sheet.append(["2026年5月 商品日报"])
    sheet.append(["日期", "商家编码", "订单数", "退货数"])
    sheet.append(["2026年5月1日", "CL-2001", 12, 1])
    sheet.append(["合计", None, 12, 1])
    path = tmp_path / "daily.xlsx"
    workbook.save(path)

    result = sales_import_file(path=path, refresh=False)

    assert (result.created, result.failed, result.summary_rows, result.sheet) == (1, 0, 1, "明细")
    assert stored() == (12, 1)


def test_import_orders_map_option(tmp_path, shirt, frozen_clock, capsys):
    path = write(tmp_path, "业务日,货品编号,成交单量,退回件数\n2026-05-01,CL-2001,30,2\n")
    call_command("import_orders", str(path), "--no-refresh", "--map", "业务日=day", "--map", "货品编号=sku",
                 "--map", "成交单量=orders", "--map", "退回件数=退货数")
    assert stored() == (30, 2)
    assert "1 new" in capsys.readouterr().out
    # An unknown field name is a clear command error, not a silent skip.
    with pytest.raises(CommandError, match="--map"):
        call_command("import_orders", str(path), "--map", "业务日=天")
