"""The product catalogue import: CLI, upload page, upsert by SKU, bad rows."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from feedback.imports.products import UNCATEGORISED, products_import_file
from feedback.imports.readers import ImportFileError
from feedback.models import Product
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def catalogue() -> dict[str, tuple[str, str]]:
    return {p.sku: (p.name, p.product_category) for p in Product.objects.all()}


def test_creates_then_updates_by_sku_and_a_second_run_changes_nothing(tmp_path):
    ProductFactory(sku="CUP-1", name="旧名字", product_category="家居")
    path = write_csv(tmp_path / "goods.csv", [
        ["商家编码", "商品名称", "类目", "价格"],
        ["CUP-1", "陶瓷马克杯 350ml", "家居", "59.00"],
        ["TEE-L", "纯棉T恤 L", "服饰", "￥79"],
    ], encoding="gbk")

    first = products_import_file(path=path)
    second = products_import_file(path=path)

    assert (first.created, first.updated, first.failed) == (1, 1, 0)
    assert (second.created, second.updated, second.failed) == (0, 2, 0)
    assert catalogue() == {"CUP-1": ("陶瓷马克杯 350ml", "家居"), "TEE-L": ("纯棉T恤 L", "服饰")}


def test_empty_category_keeps_a_known_products_and_files_a_new_one_as_uncategorised(tmp_path):
    ProductFactory(sku="CUP-1", name="杯子", product_category="家居")
    path = write_csv(tmp_path / "goods.csv", [["SKU", "商品名称", "品类"], ["CUP-1", "杯子", ""], ["NEW-1", "新品", ""]])

    result = products_import_file(path=path)

    assert catalogue() == {"CUP-1": ("杯子", "家居"), "NEW-1": ("新品", UNCATEGORISED)}
    assert sorted(w["row"] for w in result.warnings if w["field"] == "category") == [2, 3]


def test_bad_rows_are_named_and_good_rows_saved(tmp_path):
    path = write_csv(tmp_path / "goods.csv", [
        ["商家编码", "商品名称", "类目", "价格"],
        ["", "没有编码", "家居", "1"],          # row 2
        ["2.69014E+17", "被 Excel 改坏", "家居", "1"],  # row 3
        ["OK-1", "", "家居", "1"],                # row 4
        ["OK-2", "好的", "家居", "免费"],          # row 5: bad price is only a warning
        ["OK-2", "好的（更正）", "家居", "2"],      # row 6: same SKU, later row wins
    ])

    result = products_import_file(path=path)

    assert {(e["row"], e["field"]) for e in result.errors} == {(2, "sku"), (3, "sku"), (4, "name")}
    assert "科学计数法" in next(e["message"] for e in result.errors if e["row"] == 3)
    assert catalogue() == {"OK-2": ("好的（更正）", "家居")}
    assert {(w["row"], w["field"]) for w in result.warnings if w["row"]} == {(5, "price"), (6, "sku")}


def test_xlsx_catalogue_with_title_row_and_map(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["商品资料 2026-12"])
    sheet.append(["货品编号", "货品名称", "分类"])
    sheet.append(["A-1", "帆布包", "箱包"])
    path = tmp_path / "goods.xlsx"
    workbook.save(path)

    with pytest.raises(ImportFileError, match="商家编码"):
        products_import_file(path=path)
    result = products_import_file(path=path, column_mapping={"货品编号": "sku", "货品名称": "name"})

    assert result.created == 1 and catalogue() == {"A-1": ("帆布包", "箱包")}


def test_command_prints_counts_and_rows(tmp_path):
    path = write_csv(tmp_path / "goods.csv", [["商家编码", "商品名称"], ["A-1", "包"], ["", "无编码"]])
    out = io.StringIO()

    call_command("import_products", str(path), stdout=out)

    text = out.getvalue()
    assert "新建 created: 1" in text and "失败 failed: 1" in text and "第 3 行" in text
    assert "未分类" in text  # the file-level warning about the missing category column
    with pytest.raises(CommandError, match="--map"):
        call_command("import_products", str(path), "--map", "商家编码=价钱")


def test_upload_page_imports_for_leads_and_refuses_agents(client, lead, agent):
    body = "商家编码,商品名称,类目\nA-1,帆布包,箱包\n".encode("gbk")
    url = reverse("product-import")

    client.force_login(agent)
    assert client.get(url).status_code == 403

    client.force_login(lead)
    response = client.post(url, {"file": SimpleUploadedFile("goods.csv", body, content_type="text/csv")})

    assert response.status_code == 200
    assert catalogue() == {"A-1": ("帆布包", "箱包")}
    assert "product-import-result" in response.content.decode()


def test_upload_page_shows_a_file_error_on_the_form(client, lead):
    client.force_login(lead)
    response = client.post(reverse("product-import"), {
        "file": SimpleUploadedFile("goods.csv", "名字\n包\n".encode(), content_type="text/csv"),
    })

    assert response.status_code == 200
    assert "找不到必需的列" in response.content.decode()
    assert Product.objects.count() == 0
