"""The bulk importer: encodings, headers, dates, bad rows, deduplication and unreadable files.

Every file is written by the test itself into tmp_path.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from feedback.imports import columns, framework, service
from feedback.imports.readers import ImportFileError, NotTextCSVError, UnsupportedFormatError, table_open
from feedback.imports.service import import_file, import_job_run
from feedback.models import Channel, ImportJob, Ticket
from tests.factories import ProductFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN_HEADER = ["工单号", "内容", "商品", "订单号", "渠道", "创建时间"]


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with open(path, "w", encoding=encoding, newline="") as stream:
        csv.writer(stream, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "工单导出"
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def run(path: Path, **kwargs) -> service.ImportResult:
    kwargs.setdefault("source", "taobao")
    kwargs.setdefault("enqueue", False)
    return import_file(path=path, **kwargs)


def errors_by_row(result: service.ImportResult) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for error in result.errors:
        found.setdefault(error["row"], set()).add(error["field"])
    return found


# --- encodings ---


@pytest.mark.parametrize("encoding, detected", [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("gb18030", "gb18030"),
    ("gbk", "gb18030"),
])
def test_reads_chinese_csv_in_each_encoding(db, tmp_path, encoding, detected):
    path = write_csv(tmp_path / "export.csv", [
        CN_HEADER,
        ["T-1", "洗发水漏液了，瓶子裂开", "", "O-1", "电话", "2026-05-01"],
        ["T-2", "快递三天还没到，物流太慢", "", "O-2", "在线客服", "2026-05-02"],
    ], encoding=encoding)
    raw = path.read_bytes()
    if encoding == "utf-8-sig":
        assert raw.startswith(b"\xef\xbb\xbf")
    if encoding in ("gb18030", "gbk"):
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")

    result = run(path)

    assert result.encoding == detected
    assert (result.imported, result.failed) == (2, 0)
    assert Ticket.objects.get(external_id="T-1").text == "洗发水漏液了，瓶子裂开"
    assert Ticket.objects.get(external_id="T-2").channel == Channel.CHAT


def test_gb18030_is_detected_when_the_first_chinese_byte_is_far_into_the_file(db, tmp_path):
    rows = [["id", "text"]] + [[f"A{i}", "plain ascii complaint " * 20] for i in range(700)] + [["Z", "最后一行才有中文"]]
    path = write_csv(tmp_path / "late.csv", rows, encoding="gb18030")
    assert path.stat().st_size > 256 * 1024  # beyond the sample the first guess looks at

    result = run(path)

    assert result.encoding == "gb18030"
    assert Ticket.objects.get(external_id="Z").text == "最后一行才有中文"


def test_reads_excel_unicode_text_utf16_tab_separated(db, tmp_path):
    path = write_csv(tmp_path / "unicode.txt", [["工单号", "内容"], ["U-1", "收到就碎了"]], encoding="utf-16", delimiter="\t")

    result = run(path)

    assert result.imported == 1
    assert Ticket.objects.get(external_id="U-1").text == "收到就碎了"


def test_utf8_export_with_one_damaged_byte_is_read_with_a_warning(db, tmp_path):
    good = "工单号,内容\nA,洗发水漏液了\nB,".encode() + "物流".encode() + b"\xff" + "太慢\nC,包装破了\n".encode()
    path = tmp_path / "damaged.csv"
    path.write_bytes(good)

    result = run(path)

    assert (result.encoding, result.imported) == ("utf-8", 3)
    assert Ticket.objects.get(external_id="A").text == "洗发水漏液了"  # not misread as GB18030
    assert Ticket.objects.get(external_id="B").text == "物流\ufffd太慢"
    assert any("第 3 行" in w["message"] and w["row"] is None for w in result.warnings)


def test_binary_file_disguised_as_csv_is_refused(db, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(bytes(range(256)) * 64)

    with pytest.raises(NotTextCSVError, match="文件不是有效的 CSV 文本"):
        run(path)
    assert Ticket.objects.count() == 0


def test_undecodable_bytes_without_nul_are_refused(db, tmp_path):
    path = tmp_path / "noise.csv"
    path.write_bytes(b"id,text\n" + b"\xff\xfe\xfd\x80\x81" * 500)

    with pytest.raises(ImportFileError, match="CSV"):
        run(path)


@pytest.mark.parametrize("name, payload, what", [
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
    ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
    ("legacy.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "XLSX"),
    ("export.html.xls", "<html><body><table><tr><td>内容</td></tr></table></body></html>".encode(), "HTML"),
])
def test_unsupported_formats_are_refused_naming_the_supported_ones(db, tmp_path, name, payload, what):
    path = tmp_path / name
    path.write_bytes(payload)

    with pytest.raises(UnsupportedFormatError) as caught:
        run(path)

    message = str(caught.value)
    assert what in message
    assert "CSV" in message and "XLSX" in message


def test_docx_is_refused_although_it_is_a_zip(db, tmp_path):
    path = tmp_path / "notes.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")

    with pytest.raises(UnsupportedFormatError, match="Word"):
        run(path)


def test_format_is_decided_by_content_not_extension(db, tmp_path):
    xlsx_named_csv = write_xlsx(tmp_path / "really-an-xlsx.csv", [["内容"], ["包装破了"]])
    csv_named_xlsx = write_csv(tmp_path / "really-a-csv.xlsx", [["内容"], ["少发了一件"]])

    assert run(xlsx_named_csv).format == "xlsx"
    assert run(csv_named_xlsx).format == "csv"
    assert Ticket.objects.count() == 2


def test_empty_file_is_refused(db, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportFileError, match="空"):
        run(path)


def test_missing_file_is_refused(db, tmp_path):
    with pytest.raises(ImportFileError, match="不存在"):
        run(tmp_path / "nope.csv")


# --- headers ---


def test_chinese_headers_fill_every_field(db, tmp_path):
    product = ProductFactory(sku="SKU-100")
    path = write_csv(tmp_path / "cn.csv", [
        CN_HEADER,
        ["T-1", "洗发水漏液了", "SKU-100", "O-9", "商品评价", "2026-05-01 13:45:00"],
    ])

    run(path)

    ticket = Ticket.objects.get()
    assert ticket.external_source == "taobao"
    assert ticket.external_id == "T-1"
    assert ticket.product == product
    assert ticket.sku_raw == "SKU-100"
    assert ticket.order_number == "O-9"
    assert ticket.channel == Channel.REVIEW
    assert ticket.received_at == datetime(2026, 5, 1, 13, 45, tzinfo=SHANGHAI)


@pytest.mark.parametrize("header", [
    ["external_id", "text", "sku", "order_number", "channel", "received_at"],
    ["ticket_id", "Content", "Product", "Order", "CHANNEL", "created_at"],
    ["\ufeff ID ", "  description ", "SKU", "Order Number", " channel", "Date"],
    ["外部工单号", "问题描述", "商品编码", "订单编号", "来源渠道", "提交时间"],
    ["单号", "投诉内容", "商家编码", "订单号", "渠道", "日期"],
    ["工单号", "评价内容", "商品", "订单号", "渠道", "时间"],
])
def test_header_variants_are_recognised(db, tmp_path, header):
    ProductFactory(sku="SKU-7")
    path = write_csv(tmp_path / "h.csv", [header, ["E-1", "物流太慢", "SKU-7", "O-1", "email", "2026/5/1"]], encoding="utf-8-sig")

    result = run(path)

    assert result.imported == 1, result.errors
    ticket = Ticket.objects.get()
    assert (ticket.external_id, ticket.text, ticket.product.sku, ticket.order_number, ticket.channel) == (
        "E-1", "物流太慢", "SKU-7", "O-1", Channel.EMAIL,
    )
    assert ticket.received_at.astimezone(SHANGHAI).date() == date(2026, 5, 1)


def test_specific_header_wins_over_a_generic_one(db, tmp_path):
    ProductFactory(sku="P-1")
    path = write_csv(tmp_path / "two.csv", [["商品", "商品编码", "内容"], ["好看的连衣裙", "P-1", "颜色和图片不一样"]])

    run(path)

    assert Ticket.objects.get().product.sku == "P-1"


def test_explicit_mapping_overrides_headers(db, tmp_path):
    ProductFactory(sku="B-1")
    path = write_csv(tmp_path / "m.csv", [["评价正文", "宝贝ID", "内容"], ["衣服起球了", "B-1", "这一列是别的东西"]])

    result = run(path, column_mapping={"评价正文": "text", "宝贝ID": "sku", "内容": "ignore"})

    assert result.imported == 1
    ticket = Ticket.objects.get()
    assert (ticket.text, ticket.product.sku) == ("衣服起球了", "B-1")


def test_mapping_to_a_column_that_is_not_there_is_a_file_error(db, tmp_path):
    path = write_csv(tmp_path / "m.csv", [["内容"], ["x"]])
    with pytest.raises(ImportFileError, match="评价正文"):
        run(path, column_mapping={"评价正文": "text"})


def test_missing_text_column_lists_the_headers_found(db, tmp_path):
    path = write_csv(tmp_path / "no-text.csv", [["工单号", "买家昵称", "订单号"], ["1", "小王", "O-1"]])

    with pytest.raises(ImportFileError) as caught:
        run(path)

    message = str(caught.value)
    assert "内容" in message
    for header in ("工单号", "买家昵称", "订单号"):
        assert header in message
    assert Ticket.objects.count() == 0


def test_title_row_above_the_header_is_skipped_and_row_numbers_stay_true(db, tmp_path):
    path = write_csv(tmp_path / "title.csv", [["订单评价导出 2026-05"], [], CN_HEADER, ["T-1", "", "", "", "", ""]])

    result = run(path)

    assert errors_by_row(result) == {4: {"text"}}
    assert any("第 3 行" in w["message"] for w in result.warnings)


@pytest.mark.parametrize("line, expected", [
    ("评价正文=text\n宝贝ID=sku", {"评价正文": "text", "宝贝ID": "sku"}),
    ("评价正文 ＝ 内容\n\n# comment\n备注=ignore", {"评价正文": "text", "备注": "ignore"}),
    ("a=b=external_id", {"a=b": "external_id"}),
])
def test_column_mapping_lines_parse(line, expected):
    assert columns.column_mapping_parse(line) == expected


@pytest.mark.parametrize("line", ["评价正文", "=text", "评价正文=正文"])
def test_bad_column_mapping_lines_name_the_line(line):
    with pytest.raises(ValueError, match="第 1 行"):
        columns.column_mapping_parse(line)


# --- dates ---


@pytest.mark.parametrize("value, expected", [
    ("2026-05-01", datetime(2026, 5, 1, tzinfo=SHANGHAI)),
    ("2026/5/1", datetime(2026, 5, 1, tzinfo=SHANGHAI)),
    ("20260501", datetime(2026, 5, 1, tzinfo=SHANGHAI)),
    ("2026-05-01 13:45:00", datetime(2026, 5, 1, 13, 45, tzinfo=SHANGHAI)),
    ("2026/5/1 9:05", datetime(2026, 5, 1, 9, 5, tzinfo=SHANGHAI)),
    ("2026年5月1日 9:05", datetime(2026, 5, 1, 9, 5, tzinfo=SHANGHAI)),
    ("2026-05-01T13:45:00+08:00", datetime(2026, 5, 1, 13, 45, tzinfo=SHANGHAI)),
    ("2026-05-01T05:45:00Z", datetime(2026, 5, 1, 13, 45, tzinfo=SHANGHAI)),
    ("2026-05-01T13:45:00.250+0800", datetime(2026, 5, 1, 13, 45, 0, 250000, tzinfo=SHANGHAI)),
    ("46143", datetime(2026, 5, 1, tzinfo=SHANGHAI)),  # Excel serial day
    ("46143.5", datetime(2026, 5, 1, 12, tzinfo=SHANGHAI)),
    ("1777614300", datetime(2026, 5, 1, 13, 45, tzinfo=SHANGHAI)),  # Unix seconds
    (46143, datetime(2026, 5, 1, tzinfo=SHANGHAI)),
    (20260501, datetime(2026, 5, 1, tzinfo=SHANGHAI)),
    (datetime(2026, 5, 1, 13, 45), datetime(2026, 5, 1, 13, 45, tzinfo=SHANGHAI)),
    (date(2026, 5, 1), datetime(2026, 5, 1, tzinfo=SHANGHAI)),
    ("", None),
    (None, None),
])
def test_date_formats(value, expected):
    parsed = columns.datetime_parse(value, tz=SHANGHAI)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


@pytest.mark.parametrize("value", ["2026-13-01", "2026-02-30", "明天", "5/1/2026 extra", "12", "2026-05-01 25:00", True])
def test_unparseable_dates_raise(value):
    with pytest.raises(ValueError, match="无法识别的日期"):
        columns.datetime_parse(value, tz=SHANGHAI)


def test_naive_times_are_in_the_configured_time_zone(db, tmp_path, settings):
    settings.TIME_ZONE = "UTC"
    path = write_csv(tmp_path / "tz.csv", [["内容", "创建时间"], ["x", "2026-05-01 08:00"]])

    run(path)

    assert Ticket.objects.get().received_at == datetime(2026, 5, 1, 8, tzinfo=UTC)


def test_each_date_format_imports_from_csv(db, tmp_path):
    values = ["2026-05-01", "2026/5/1", "20260501", "2026-05-01 13:45:00", "2026/5/1 9:05", "2026-05-01T13:45:00+08:00", "46143"]
    path = write_csv(tmp_path / "dates.csv", [["工单号", "内容", "创建时间"]] + [[f"D{i}", "x", v] for i, v in enumerate(values)])

    result = run(path)

    assert (result.imported, result.failed) == (len(values), 0), result.errors
    assert all(t.received_at.astimezone(SHANGHAI).date() == date(2026, 5, 1) for t in Ticket.objects.all())


def test_xlsx_native_datetimes_serials_and_numbers(db, tmp_path):
    path = write_xlsx(tmp_path / "native.xlsx", [
        ["工单号", "内容", "订单号", "创建时间"],
        [1001, "少发了一件", 123456789012.0, datetime(2026, 5, 1, 13, 45)],
        [1002, "外包装压扁", "O-2", 46143],
        [1003, "坏了", "O-3", date(2026, 5, 2)],
    ])

    result = run(path)

    assert result.imported == 3, result.errors
    first = Ticket.objects.get(external_id="1001")
    assert first.order_number == "123456789012"
    assert first.received_at == datetime(2026, 5, 1, 13, 45, tzinfo=SHANGHAI)
    assert Ticket.objects.get(external_id="1002").received_at == datetime(2026, 5, 1, tzinfo=SHANGHAI)
    assert Ticket.objects.get(external_id="1003").received_at == datetime(2026, 5, 2, tzinfo=SHANGHAI)


def test_missing_date_means_received_now(db, tmp_path):
    path = write_csv(tmp_path / "nodate.csv", [["内容"], ["x"]])
    before = datetime.now(tz=UTC)

    run(path)

    assert Ticket.objects.get().received_at >= before - timedelta(seconds=1)


# --- bad rows ---


def test_bad_rows_are_reported_with_spreadsheet_row_numbers_and_good_rows_import(db, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [
        CN_HEADER,                                                  # row 1
        ["G-1", "物流太慢", "", "", "电话", "2026-05-01"],            # row 2: good
        ["B-1", "", "", "", "", ""],                                  # row 3: empty text
        ["B-2", " \u3000 \t", "", "", "", ""],                        # row 4: whitespace only
        ["B-3", "长" * 5001, "", "", "", ""],                         # row 5: too long
        ["W-4", "坏了", "", "", "", "下周三"],                        # row 6: bad date: kept, warned
        ["W-5", "坏了", "", "", "飞鸽传书", ""],                      # row 7: unknown channel: kept, warned
        ["G-2", "长" * 5000, "", "", "App", "2026/5/2"],              # row 8: good, at the limit
    ], encoding="gb18030")

    result = run(path)

    assert (result.total, result.imported, result.failed, result.duplicates) == (7, 4, 3, 0)
    assert errors_by_row(result) == {3: {"text"}, 4: {"text"}, 5: {"text"}}
    by_row = {e["row"]: e for e in result.errors}
    assert by_row[3]["column"] == "内容"
    assert "5001" in by_row[5]["message"]
    assert by_row[5]["value"] is None  # ticket text is never echoed into reports
    warned = {w["row"]: w for w in result.warnings if w["row"] is not None}
    assert warned[6]["column"] == "创建时间" and warned[6]["value"] == "下周三"
    assert warned[7]["column"] == "渠道" and "飞鸽传书" in warned[7]["message"]
    assert set(Ticket.objects.values_list("external_id", flat=True)) == {"G-1", "G-2", "W-4", "W-5"}
    assert Ticket.objects.get(external_id="W-5").channel == Channel.PLATFORM  # --source taobao: its default channel


def test_a_row_with_several_problems_reports_each_field_once(db, tmp_path):
    path = write_csv(tmp_path / "multi.csv", [["内容", "渠道", "创建时间"], ["", "fax", "yesterday"]])

    result = run(path)

    assert result.failed == 1
    assert errors_by_row(result) == {2: {"text"}}
    assert sorted(w["field"] for w in result.warnings if w["row"] == 2) == ["channel", "received_at"]


def test_row_numbers_count_records_not_lines_when_a_cell_spans_lines(db, tmp_path):
    path = write_csv(tmp_path / "multiline.csv", [["内容"], ["第一行\n第二行\n第三行"], [""]])

    result = run(path)

    assert result.imported == 1
    assert Ticket.objects.get().text == "第一行\n第二行\n第三行"
    assert errors_by_row(result) == {} and result.total == 1  # the blank record is skipped, not failed


def test_row_with_fewer_cells_than_the_header_still_imports(db, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("内容,渠道,创建时间\n只有内容\n", encoding="utf-8")

    assert run(path).imported == 1


def test_unknown_sku_is_saved_with_a_warning(db, tmp_path):
    path = write_csv(tmp_path / "sku.csv", [["内容", "SKU"], ["x", "NOPE-1"]])

    result = run(path)

    ticket = Ticket.objects.get()
    assert (ticket.product, ticket.sku_raw) == (None, "NOPE-1")
    assert any(w["row"] == 2 and w["field"] == "sku" for w in result.warnings)


def test_errors_are_capped_with_a_count_of_the_rest(db, tmp_path, monkeypatch):
    monkeypatch.setattr(framework, "MAX_LISTED_ERRORS", 5)
    path = write_csv(tmp_path / "many.csv", [["工单号", "内容"]] + [[f"E{i}", ""] for i in range(12)] + [["OK", "ok"]])

    result = run(path)

    assert (result.failed, len(result.errors), result.errors_omitted) == (12, 5, 7)
    assert "7" in result.note
    assert result.imported == 1


# --- duplicates ---


def test_duplicate_ids_inside_one_file_skip_the_later_row(db, tmp_path):
    path = write_csv(tmp_path / "dup.csv", [
        ["工单号", "内容"], ["A", "第一次"], ["B", "别的"], ["A", "第二次"],
    ])

    result = run(path)

    assert (result.imported, result.duplicates, result.failed) == (2, 1, 0)
    assert Ticket.objects.get(external_id="A").text == "第一次"
    assert [w["row"] for w in result.warnings if w["field"] == "external_id"] == [4]


def test_duplicate_of_a_failed_row_is_not_a_duplicate(db, tmp_path):
    path = write_csv(tmp_path / "dup.csv", [["工单号", "内容"], ["A", ""], ["A", "补上的内容"]])

    result = run(path)

    assert (result.imported, result.duplicates, result.failed) == (1, 0, 1)


def test_duplicates_across_batches_are_caught(db, tmp_path):
    path = write_csv(tmp_path / "dup.csv", [["工单号", "内容"], ["A", "1"], ["B", "2"], ["C", "3"], ["A", "4"], ["B", "5"]])

    result = run(path, batch_size=2)

    assert (result.imported, result.duplicates) == (3, 2)


def test_reimport_of_same_file_creates_no_duplicates(db, tmp_path):
    path = write_csv(tmp_path / "again.csv", [["工单号", "内容"]] + [[f"R-{i}", f"内容 {i}"] for i in range(25)], encoding="utf-8-sig")

    first = run(path, batch_size=10)
    second = run(path, batch_size=10)

    assert (first.imported, first.duplicates) == (25, 0)
    assert (second.imported, second.duplicates, second.failed) == (0, 25, 0)
    assert Ticket.objects.count() == 25


def test_same_id_from_another_source_is_a_different_ticket(db, tmp_path):
    path = write_csv(tmp_path / "src.csv", [["工单号", "内容"], ["1", "x"]])

    run(path, source="taobao")
    run(path, source="jd")

    assert sorted(Ticket.objects.values_list("external_source", flat=True)) == ["jd", "taobao"]


def test_rows_without_an_id_are_imported_as_they_are_with_a_warning(db, tmp_path):
    path = write_csv(tmp_path / "noid.csv", [["内容"], ["物流太慢了"], ["物流太慢了"]])

    result = run(path)

    assert result.imported == 2
    assert Ticket.objects.filter(external_id__isnull=True).count() == 2
    assert any("无法去重" in w["message"] for w in result.warnings if w["row"] is None)


def test_default_source_is_import(db, tmp_path):
    path = write_csv(tmp_path / "s.csv", [["工单号", "内容"], ["1", "x"]])
    import_file(path=path, enqueue=False)
    assert Ticket.objects.get().external_source == "import"


# --- performance shape ---


def test_product_lookups_are_batched_not_per_row(db, tmp_path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(20):
        ProductFactory(sku=f"P-{i}")
    rows = [["工单号", "内容", "SKU"]] + [[f"Q{i}", "坏了", f"P-{i % 25}"] for i in range(1500)]
    path = write_csv(tmp_path / "skus.csv", rows)

    with CaptureQueriesContext(connection) as captured:
        result = run(path)

    selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert result.imported == 1500
    assert Ticket.objects.filter(product__isnull=False).count() == 1200
    # Two batches of at most 1,000 rows: at most one product query (SKUs not yet cached) and one
    # duplicate query each; the second batch names no new SKU, so it needs no product query at all.
    assert sum('FROM "feedback_product"' in sql for sql in selects) == 1
    assert len(selects) == 3


def test_triage_is_enqueued_for_imported_tickets_only_when_asked(db, tmp_path, monkeypatch):
    sent: list[list[int]] = []
    monkeypatch.setattr("feedback.services.tickets_enqueue_triage", lambda *, ticket_ids: sent.append(ticket_ids))
    path = write_csv(tmp_path / "t.csv", [["工单号", "内容"], ["1", "x"], ["2", "y"]])

    run(path, enqueue=False)
    assert sent == []
    run(path.rename(tmp_path / "t2.csv"), source="other", enqueue=True)
    assert len(sent) == 1 and len(sent[0]) == 2


# --- readers ---


def test_xlsx_rows_beyond_a_wrong_declared_dimension_are_read(db, tmp_path):
    source = write_xlsx(tmp_path / "src.xlsx", [["内容"], ["一"], ["二"], ["三"]])
    broken = tmp_path / "wrong-dimension.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b'<dimension ref="A1:A4" />', b'<dimension ref="A1:A1" />')
                assert b'ref="A1:A1"' in data
            dst.writestr(item, data)

    assert run(broken).imported == 3


def test_csv_row_count_is_estimated_for_the_progress_bar(tmp_path):
    path = write_csv(tmp_path / "count.csv", [["内容"]] + [["x"] for _ in range(10)])
    with table_open(path) as table:
        assert table.estimated_rows == 11


def test_blank_rows_are_skipped_silently(db, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("内容\n\n,\n真的内容\n\n", encoding="utf-8")

    result = run(path)

    assert (result.total, result.imported, result.failed) == (1, 1, 0)


# --- jobs ---


def _job(tmp_path: Path, settings, rows: list[list], **fields) -> ImportJob:
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path / "media"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    job = ImportJob(original_name="export.csv", source="taobao", **fields)
    job.file.save("export.csv", ContentFile(buffer.getvalue().encode("gb18030")), save=True)
    return job


def test_job_run_records_progress_and_finishes(db, tmp_path, settings):
    job = _job(tmp_path, settings, [CN_HEADER, ["1", "物流太慢", "", "", "", ""], ["2", "", "", "", "", ""]])

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows, job.imported, job.failed) == (2, 2, 1, 1)
    assert job.errors[0]["row"] == 3 and job.finished_at is not None
    assert job.percent == 100


def test_redelivered_job_does_not_run_twice(db, tmp_path, settings):
    job = _job(tmp_path, settings, [["内容"], ["x"]])

    assert import_job_run(job_id=job.pk) is not None
    assert import_job_run(job_id=job.pk) is None
    assert Ticket.objects.count() == 1


def test_job_with_unreadable_file_fails_with_the_reason(db, tmp_path, settings):
    job = _job(tmp_path, settings, [["买家昵称"], ["小王"]])

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "买家昵称" in job.message


def test_failure_mid_file_keeps_committed_batches_whole(db, tmp_path, settings, monkeypatch):
    job = _job(tmp_path, settings, [["工单号", "内容"]] + [[f"F{i}", "x"] for i in range(25)])
    monkeypatch.setattr(service, "BATCH_SIZE", 10)
    real = service.tickets_bulk_create
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            real(**kwargs)  # the rows are written ... then the batch blows up before commit
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(service, "tickets_bulk_create", flaky)

    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert Ticket.objects.count() == 10  # the first batch; none of the second
    assert (job.processed_rows, job.imported) == (10, 10)


def test_progress_callback_sees_growing_counts(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", [["内容"]] + [["x"] for _ in range(25)])
    seen: list[tuple[int, int | None]] = []

    run(path, progress=lambda r: seen.append((r.total, r.expected_total)), batch_size=10)

    assert seen[0] == (0, 25)
    assert [total for total, _ in seen] == [0, 10, 20, 25]


def test_offsets_in_iso_dates_are_kept(db, tmp_path):
    path = write_csv(tmp_path / "iso.csv", [["内容", "created_at"], ["x", "2026-05-01T13:45:00-05:00"]])
    run(path)
    assert Ticket.objects.get().received_at == datetime(2026, 5, 1, 13, 45, tzinfo=dt_timezone(timedelta(hours=-5)))
