"""Platform exports imported as they are: one hand-made file per platform, in that platform's shape.

Every file is written here by the test (headers follow each preset's notes in
feedback/imports/presets/*.json; rows are invented). None is passed --map or
--source: the platform must be recognised from the headers.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from openpyxl import Workbook

from feedback.imports import columns, readers
from feedback.imports.readers import ImportFileError
from feedback.imports.service import import_file
from feedback.models import Channel, Ticket
from tests.factories import ProductFactory


# The hand-made exports are dated early December 2026; a ticket more than a day in the future is
# refused, so the tests run at a fixed moment after them (CI also runs the suite on 11-11).
@pytest.fixture(autouse=True)
def _after_the_exports_were_made():
    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield

SHANGHAI = ZoneInfo("Asia/Shanghai")


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def run(path: Path, **kwargs):
    kwargs.setdefault("enqueue", False)
    return import_file(path=path, **kwargs)


def file_warnings(result) -> str:
    return "\n".join(w["message"] for w in result.warnings if w["row"] is None)


def test_every_preset_file_loads_and_explains_itself():
    presets = columns.presets_load()
    assert set(presets) == {"taobao", "jd", "pdd", "douyin", "kuaishou"}
    for name in presets:
        data = (columns.PRESETS_DIR / f"{name}.json").read_text(encoding="utf-8")
        assert '"notes"' in data
    # The platform's own item ids are never the merchant SKU.
    for preset in presets.values():
        skus = {columns.header_normalise(h) for h in preset.aliases["sku"]}
        assert not skus & {"商品id", "商品编号", "宝贝id"}, preset.name


# --- one file per platform ---


def test_taobao_refund_export_gbk_csv(db, tmp_path):
    ProductFactory(sku="TB-CUP-01")
    header = [
        "订单编号", "退款编号", "支付宝交易号", "订单付款时间", "商家编码", "退款完结时间", "买家会员名称",
        "买家实际支付金额", "宝贝标题", "买家退款金额", "手工退款/系统退款", "是否需要退货", "退款的申请时间",
        "超时时间", "退款状态", "货物状态", "买家退款原因", "买家退款说明", "商家备注",
    ]
    def row(order, refund, sku, applied, reason, note):
        return [
            f'="{order}"', f'="{refund}"', "2026120122001", "2026-11-28 10:00:00", sku, "", "买家甲", "59.00",
            "陶瓷马克杯 350ml", "59.00", "系统退款", "是", applied, "", "退款成功", "已收到货", reason, note, "",
        ]
    path = write_csv(tmp_path / "退款导出.csv", [
        header,
        row("3271849200112233445", "182736450011223344", "TB-CUP-01", "2026-12-01 14:03:00", "收到商品破损", "杯口有裂纹，外箱也压扁了"),
        row("3271849200112233446", "182736450011223345", "TB-CUP-01", "2026-12-02 09:30:00", "七天无理由退换货", ""),
        row("3271849200112233447", "182736450011223346", "TB-UNKNOWN", "2026-12-03 20:15:00", "", "颜色和图片不一样"),
    ], encoding="gbk")

    result = run(path)

    assert (result.imported, result.failed, result.preset, result.preset_detected, result.source) == (3, 0, "taobao", True, "taobao")
    assert "淘宝" in file_warnings(result)
    first = Ticket.objects.get(external_id="182736450011223344")
    assert first.external_source == "taobao"
    assert first.order_number == "3271849200112233445"  # ="…" unwrapped
    assert first.sku_raw == "TB-CUP-01" and first.product.sku == "TB-CUP-01"
    assert first.received_at == datetime(2026, 12, 1, 14, 3, tzinfo=SHANGHAI)
    assert first.text == "买家退款原因：收到商品破损\n买家退款说明：杯口有裂纹，外箱也压扁了"
    assert first.channel == Channel.PLATFORM
    # An empty note keeps the reason, bare; an empty reason keeps the note.
    assert Ticket.objects.get(external_id="182736450011223345").text == "七天无理由退换货"
    third = Ticket.objects.get(external_id="182736450011223346")
    assert third.text == "颜色和图片不一样" and third.product is None and third.sku_raw == "TB-UNKNOWN"


@pytest.mark.parametrize(("language", "expected", "foreign"), [
    ("zh-hans", "投诉内容由这些列合并而成：「买家退款原因」、「买家退款说明」", "combines"),
    ("en", "combines these columns: 「买家退款原因」, 「买家退款说明」", "合并"),
])
def test_combined_text_columns_are_named_in_the_readers_language_only(db, tmp_path, language, expected, foreign):
    from django.utils import translation

    path = write_csv(tmp_path / "退款.csv", [
        ["退款编号", "买家退款原因", "买家退款说明", "退款的申请时间"],
        ["100200300", "收到商品破损", "杯口有裂纹", "2026-12-01 14:03:00"],
    ])
    with translation.override(language):
        notes = file_warnings(run(path))

    (line,) = [note for note in notes.splitlines() if "「买家退款说明」" in note]
    assert expected in line and foreign not in line


def test_jd_service_workbook_with_title_row_on_the_second_sheet(db, tmp_path):
    ProductFactory(sku="JD-KETTLE-2")
    workbook = Workbook()
    notes = workbook.active
    notes.title = "导出说明"
    notes.append(["本文件由商家后台导出，请勿修改表头"])
    notes.append(["导出时间", "2026-12-05"])
    sheet = workbook.create_sheet("服务单")
    sheet.append(["京东服务单导出（2026-12-01 至 2026-12-05）"])
    sheet.append([])
    sheet.append(["服务单号", "订单号", "商品编号", "商家编码", "商品名称", "服务单类型", "问题描述", "申请时间", "服务单状态"])
    sheet.append(["1890012345", "289001234567", "100012345678", "JD-KETTLE-2", "电热水壶 1.7L", "退货", "烧水有塑料味", "2026年12月1日 14时03分", "待审核"])
    sheet.append(["1890012346", "289001234568", "100012345678", "JD-KETTLE-2", "电热水壶 1.7L", "换货", "底座接触不良，时好时坏", "２０２６－１２－０２　０９：１５", "处理中"])
    workbook.active = 0
    path = tmp_path / "服务单.xlsx"
    workbook.save(path)

    result = run(path)

    assert (result.imported, result.preset, result.sheet) == (2, "jd", "服务单")
    assert "第 3 行" in file_warnings(result)  # the title lines are named as skipped
    first = Ticket.objects.get(external_id="1890012345")
    assert first.external_source == "jd"
    assert first.sku_raw == "JD-KETTLE-2"  # 商家编码, not JD's own 商品编号
    assert first.order_number == "289001234567"
    assert first.text == "烧水有塑料味"
    assert first.received_at == datetime(2026, 12, 1, 14, 3, tzinfo=SHANGHAI)
    assert Ticket.objects.get(external_id="1890012346").received_at == datetime(2026, 12, 2, 9, 15, tzinfo=SHANGHAI)


def test_pdd_after_sales_list_with_a_title_line(db, tmp_path):
    path = write_csv(tmp_path / "pdd.csv", [
        ["拼多多售后列表 导出时间：2026-12-06 08:00"],
        ["售后编号", "订单号", "商品ID", "商品名称", "商家编码-SKU维度", "售后类型", "售后原因", "申请说明", "申请时间", "售后状态"],
        ["AS2612010001", "261201-123456789012345", "556677889900", "加厚保温杯", "PDD-MUG-9", "退货退款", "质量问题", "盖子拧不紧漏水", "2026/12/01 下午2:03", "待商家处理"],
        ["AS2612010002", "261201-123456789012346", "556677889900", "加厚保温杯", "PDD-MUG-9", "仅退款", "未收到货", "", "2026/12/01 上午9:05", "退款成功"],
    ], encoding="utf-8-sig")

    result = run(path)

    assert (result.imported, result.preset, result.source) == (2, "pdd", "pdd")
    first = Ticket.objects.get(external_id="AS2612010001")
    assert first.order_number == "261201-123456789012345"
    assert first.sku_raw == "PDD-MUG-9"
    assert first.text == "售后原因：质量问题\n申请说明：盖子拧不紧漏水"
    assert first.received_at == datetime(2026, 12, 1, 14, 3, tzinfo=SHANGHAI)
    second = Ticket.objects.get(external_id="AS2612010002")
    assert second.text == "未收到货"
    assert second.received_at == datetime(2026, 12, 1, 9, 5, tzinfo=SHANGHAI)


def test_douyin_sheet_with_two_row_merged_header_and_total_row(db, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "售后单"
    sheet.append(["售后单号", "订单信息", None, "商品信息", None, "售后信息", None, "申请时间"])
    sheet.append([None, "主订单号", "商品单号", "商家编码", "商品名称", "售后原因", "买家留言", None])
    for column in ("A", "H"):
        sheet.merge_cells(f"{column}1:{column}2")
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("D1:E1")
    sheet.merge_cells("F1:G1")
    sheet.append(["7301000000000000001", "6930000000000000001", "6930000000000000002", "DY-TEE-L", "纯棉T恤 L", "尺码不合适", "平时穿L，这件偏小一码", datetime(2026, 12, 3, 21, 40)])
    sheet.append(["7301000000000000002", "6930000000000000003", "6930000000000000004", "DY-TEE-M", "纯棉T恤 M", "做工问题", "", datetime(2026, 12, 4, 8, 0)])
    sheet.append(["合计", None, None, None, None, None, "2 单", None])
    path = tmp_path / "抖店售后.xlsx"
    workbook.save(path)

    result = run(path)

    assert (result.imported, result.failed, result.summary_rows, result.preset) == (2, 0, 1, "douyin")
    assert "两行" in file_warnings(result) and "合计" in file_warnings(result)
    first = Ticket.objects.get(external_id="7301000000000000001")  # a text cell: all 19 digits kept
    assert first.order_number == "6930000000000000001"  # the main order, not the sub-order
    assert first.sku_raw == "DY-TEE-L"
    assert first.text == "买家留言：平时穿L，这件偏小一码\n售后原因：尺码不合适"  # the buyer's own words first
    assert first.received_at == datetime(2026, 12, 3, 21, 40, tzinfo=SHANGHAI)
    assert Ticket.objects.get(external_id="7301000000000000002").text == "做工问题"


def test_kuaishou_export_in_big5_with_traditional_headers(db, tmp_path):
    path = write_csv(tmp_path / "ks.csv", [
        ["退款單號", "訂單號", "商品ID", "商家編碼", "商品名稱", "退款原因", "退款說明", "申請時間"],
        ["KS900001", "2612019999000001", "40001", "KS-BAG-1", "帆布包", "商品破損", "收到時背帶斷了，請盡快處理", "2026-12-01 10:20"],
        ["KS900002", "2612019999000002", "40001", "KS-BAG-1", "帆布包", "與描述不符", "顏色和圖片差很多", "2026-12-02 11:30"],
    ], encoding="big5")

    result = run(path)

    assert (result.imported, result.preset, result.encoding) == (2, "kuaishou", "big5hkscs")
    first = Ticket.objects.get(external_id="KS900001")
    assert first.external_source == "kuaishou"
    assert first.sku_raw == "KS-BAG-1" and first.order_number == "2612019999000001"
    assert first.text == "退款原因：商品破損\n退款說明：收到時背帶斷了，請盡快處理"
    assert first.received_at == datetime(2026, 12, 1, 10, 20, tzinfo=SHANGHAI)


def test_source_option_chooses_the_preset_and_namespace(db, tmp_path):
    path = write_csv(tmp_path / "x.csv", [["售后单号", "订单号", "售后原因", "申请时间"], ["S1", "O1", "漏发", "2026-12-01"]])

    result = run(path, source="douyin")

    assert (result.preset, result.preset_detected, result.source) == ("douyin", False, "douyin")
    assert Ticket.objects.get().external_source == "douyin"


def test_cli_says_which_platform_was_assumed(db, tmp_path):
    path = write_csv(tmp_path / "tb.csv", [
        ["退款编号", "订单编号", "买家退款原因", "退款的申请时间"], ["R1", "O1", "破损", "2026-12-01"],
    ])
    out = io.StringIO()

    call_command("import_tickets", str(path), "--no-progress", "--no-triage", stdout=out)

    assert "平台格式：taobao（自动识别）" in out.getvalue()


# --- ids that spreadsheets mangled ---


def test_scientific_notation_ids_are_not_collapsed_into_one(db, tmp_path):
    rows = [["退款编号", "订单编号", "买家退款原因"]]
    rows += [["2.69014E+17", "3.27185E+18", f"第 {i} 个买家：杯子碎了"] for i in range(100)]
    path = write_csv(tmp_path / "excel.csv", rows)

    result = run(path)

    assert (result.imported, result.duplicates, result.failed) == (100, 0, 0)
    assert Ticket.objects.filter(external_id__isnull=True).count() == 100
    assert set(Ticket.objects.values_list("order_number", flat=True)) == {"≈3.27185E+18"}
    notes = [w["message"] for w in result.warnings if w["row"] is None and "科学计数法" in w["message"]]
    assert len(notes) == 2  # once per column, not once per row
    assert any("「退款编号」列有 100 行" in n for n in notes)
    assert any("「订单编号」列有 100 行" in n for n in notes)


def test_xlsx_number_cells_longer_than_15_digits_are_not_stored_as_exact(db, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["售后单号", "订单编号", "售后原因"])
    sheet.append([269014123456789012, 3271849200112233445, "少件"])  # what LibreOffice keeps as a number
    sheet.append([2.6901412345678902e17, 123456789012345, "破损"])  # what Excel keeps: a float
    sheet.append(["269014123456789012", "3271849200112233445", "漏液"])  # typed as text: exact
    path = tmp_path / "numbers.xlsx"
    workbook.save(path)

    result = run(path, source="douyin")

    assert result.imported == 3
    assert list(Ticket.objects.exclude(external_id=None).values_list("external_id", flat=True)) == ["269014123456789012"]
    orders = set(Ticket.objects.values_list("order_number", flat=True))
    assert "123456789012345" in orders  # 15 digits: exact
    assert "3271849200112233445" in orders  # the text cell
    # The number cells come back rounded (a float holds ~16 digits): kept, but marked as inexact.
    assert len([o for o in orders if o.startswith("≈")]) == 1
    assert any("「售后单号」列有 2 行" in w["message"] for w in result.warnings)


@pytest.mark.parametrize("cell, expected", [
    ('="3271849200112233445"', ("3271849200112233445", True)),
    ("\t3271849200112233445", ("3271849200112233445", True)),
    ("'3271849200112233445", ("3271849200112233445", True)),
    ("2.69014E+17", ("2.69014E+17", False)),
    ("2,69014E+17", ("2,69014E+17", False)),
    (123456789012345, ("123456789012345", True)),
    (1234567890123456, ("1234567890123456", False)),
    (12345.0, ("12345", True)),
    ("AS-001", ("AS-001", True)),
])
def test_id_clean(cell, expected):
    assert columns.id_clean(cell) == expected


# --- text, mapping, headers ---


def test_two_columns_mapped_to_text_are_combined_and_an_empty_note_keeps_the_reason(db, tmp_path):
    path = write_csv(tmp_path / "m.csv", [
        ["编号", "留言", "原因"], ["1", "盒子是破的", "破损"], ["2", "", "少件"], ["3", "", ""],
    ])

    result = run(path, source="crm", column_mapping={"编号": "external_id", "留言": "text", "原因": "text"})

    texts = dict(Ticket.objects.values_list("external_id", "text"))
    assert texts == {"1": "留言：盒子是破的\n原因：破损", "2": "少件"}
    assert [e["row"] for e in result.errors] == [4]  # only the row with no text at all


def test_two_columns_mapped_to_one_other_field_is_refused(db, tmp_path):
    path = write_csv(tmp_path / "m.csv", [["a", "b", "内容"], ["1", "2", "x"]])
    with pytest.raises(ImportFileError, match="只能选一列"):
        run(path, column_mapping={"a": "external_id", "b": "external_id"})


def test_duplicate_header_names_are_reported(db, tmp_path):
    path = write_csv(tmp_path / "d.csv", [["工单号", "内容", "内容"], ["1", "漏发", "补发了吗"]])

    result = run(path)

    assert "重名" in file_warnings(result)
    assert Ticket.objects.get().text == "内容：漏发\n内容：补发了吗"


def test_header_only_file_imports_nothing_and_says_so(db, tmp_path):
    path = write_csv(tmp_path / "h.csv", [["售后单号", "订单号", "售后原因", "申请时间"]])

    result = run(path)

    assert (result.total, result.imported, result.failed) == (0, 0, 0)
    assert Ticket.objects.count() == 0


def test_csv_with_ten_thousand_columns(db, tmp_path):
    header = ["内容"] + [f"列{i}" for i in range(9999)]
    path = write_csv(tmp_path / "wide.csv", [header, ["漏发"] + [""] * 9999])

    result = run(path)

    assert result.imported == 1
    assert all(len(w["message"]) < 2000 for w in result.warnings)  # the unused-column list is capped


def test_missing_date_column_is_one_clear_warning(db, tmp_path):
    path = write_csv(tmp_path / "nodate.csv", [["工单号", "内容"], ["1", "a"], ["2", "b"]])

    result = run(path)

    dated = [w for w in result.warnings if "导入时刻" in w["message"]]
    assert len(dated) == 1 and dated[0]["row"] is None


@pytest.mark.parametrize("value, expected", [
    ("2026年12月1日 14时03分", datetime(2026, 12, 1, 14, 3)),
    ("2026年12月1日14点03分20秒", datetime(2026, 12, 1, 14, 3, 20)),
    ("2026/12/01 下午2:03", datetime(2026, 12, 1, 14, 3)),
    ("2026/12/01 上午12:10", datetime(2026, 12, 1, 0, 10)),
    ("2026/12/01 下午12:10", datetime(2026, 12, 1, 12, 10)),
    ("2026-12-01 02:03 PM", datetime(2026, 12, 1, 14, 3)),
    ("２０２６年１２月１日", datetime(2026, 12, 1)),
    ("2026.12.01 14:03", datetime(2026, 12, 1, 14, 3)),
    ("46357.5", datetime(2026, 12, 1, 12, 0)),
])
def test_chinese_and_spreadsheet_dates(value, expected):
    assert columns.datetime_parse(value, tz=SHANGHAI) == expected.replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize("value", ["下午", "2026/12/01 下午13:03", "下周三", "2026-13-01"])
def test_unreadable_dates_raise(value):
    with pytest.raises(ValueError):
        columns.datetime_parse(value, tz=SHANGHAI)


def test_unknown_channel_keeps_the_row_with_a_warning_quoting_it(db, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["工单号", "内容", "渠道"], ["1", "漏发", "微信"]])

    result = run(path)

    assert result.imported == 1
    (warning,) = [w for w in result.warnings if w["row"] == 2]
    assert warning["field"] == "channel" and warning["value"] == "微信"


# --- encodings ---


def test_shift_jis_is_detected_not_read_as_gbk(db, tmp_path):
    path = write_csv(tmp_path / "jp.csv", [["ID", "内容"], ["1", "商品が破損していました。返金してください。"]], encoding="cp932")

    result = run(path)

    assert result.encoding == "cp932"
    assert Ticket.objects.get().text == "商品が破損していました。返金してください。"


def test_gbk_with_traditional_characters_stays_gbk(db, tmp_path):
    path = write_csv(tmp_path / "t.csv", [["工单号", "内容"], ["1", "顏色和圖片差很多，尺寸也偏小，想要退貨退款。"]], encoding="gbk")

    result = run(path)

    assert result.encoding == "gb18030"
    assert Ticket.objects.get().text == "顏色和圖片差很多，尺寸也偏小，想要退貨退款。"


def test_mojibake_is_refused_not_imported(db, tmp_path, monkeypatch):
    # Big5 text that Big5 is not allowed to read: GB18030 alone is left, and its text is garbled.
    monkeypatch.setattr(readers, "FALLBACK_ENCODINGS", ())
    path = write_csv(tmp_path / "b5.csv", [["工單號", "內容"], ["1", "收到時背帶斷了，請盡快處理退款，謝謝"]], encoding="big5")

    with pytest.raises(ImportFileError, match="乱码"):
        run(path)
    assert Ticket.objects.count() == 0


# --- workbooks that are not what they seem ---


def test_corrupt_zip_is_refused_clearly(db, tmp_path):
    workbook = Workbook()
    workbook.active.append(["内容"])
    good = tmp_path / "good.xlsx"
    workbook.save(good)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])

    with pytest.raises(ImportFileError, match="损坏"):
        run(broken)


def _padded_xlsx(path: Path, padding: int) -> Path:
    workbook = Workbook()
    workbook.active.append(["内容"])
    workbook.active.append(["漏发"])
    plain = io.BytesIO()
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * padding)
            target.writestr(info.filename, data)
    return path


def test_whitespace_bomb_xlsx_is_refused_before_openpyxl(db, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "XLSX_RATIO_FLOOR_BYTES", 1024 * 1024)
    path = _padded_xlsx(tmp_path / "bomb.xlsx", 8 * 1024 * 1024)
    assert path.stat().st_size < 100 * 1024  # 8 MiB of spaces in a few KiB

    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not open a bomb")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    with pytest.raises(ImportFileError, match="压缩炸弹"):
        run(path)


def test_member_size_cap_is_enforced_while_inflating(db, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "XLSX_MAX_MEMBER_BYTES", 2 * 1024 * 1024)
    monkeypatch.setattr(readers, "XLSX_RATIO_FLOOR_BYTES", 10**12)
    path = _padded_xlsx(tmp_path / "big.xlsx", 3 * 1024 * 1024)

    with pytest.raises(ImportFileError, match="sheet1.xml"):
        run(path)


def test_ordinary_xlsx_passes_the_inflation_check(db, tmp_path):
    path = _padded_xlsx(tmp_path / "fine.xlsx", 0)

    assert run(path).imported == 1


def test_sheet_option_picks_the_named_sheet_and_lists_sheets_when_wrong(db, tmp_path):
    workbook = Workbook()
    workbook.active.title = "A"
    workbook.active.append(["内容"])
    workbook.active.append(["第一张表"])
    other = workbook.create_sheet("B")
    other.append(["内容"])
    other.append(["第二张表"])
    path = tmp_path / "two.xlsx"
    workbook.save(path)

    assert run(path, sheet="B").sheet == "B"
    assert Ticket.objects.get().text == "第二张表"
    with pytest.raises(ImportFileError, match="「A」、「B」"):
        run(path, sheet="C")


def test_gbk_whose_first_characters_are_valid_utf8_is_still_read_as_gbk(db, tmp_path):
    # 拼 in GBK is C6 B4, a valid two-byte UTF-8 sequence (ƴ): the file must not pass as damaged UTF-8.
    path = tmp_path / "pdd.csv"
    path.write_bytes("拼多多售后列表\n售后编号,售后原因\nAS1,质量问题\n".encode("gbk"))

    result = run(path)

    assert result.encoding == "gb18030"
    assert Ticket.objects.get().text == "质量问题"


def test_a_title_line_is_not_mistaken_for_the_top_of_a_two_row_header(db, tmp_path):
    path = write_csv(tmp_path / "t.csv", [["售后导出 2026-12"], ["售后编号", "售后原因", "申请时间"], ["AS1", "破损", "2026-12-01"]])

    result = run(path)

    notes = file_warnings(result)
    assert "第 2 行" in notes and "两行" not in notes
    assert Ticket.objects.get().external_id == "AS1"


@pytest.mark.parametrize("target, expected", [("-", "ignore"), ("忽略", "ignore"), ("内容", "text"), ("买家留言", "text")])
def test_mapping_targets(target, expected):
    assert columns.field_name_resolve(target) == expected
