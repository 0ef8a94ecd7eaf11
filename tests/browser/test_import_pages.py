"""The import pages in real headless Chromium: a platform export's job page and the product upload page.

Screenshots at 1440 and 390 px, in Chinese and English, go to var/screenshots/ (import_*.png).
"""
from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.urls import reverse

from accounts.models import Role
from feedback.imports.service import import_job_run
from feedback.models import ImportJob, Product, Ticket
from tests.browser.conftest import browser, page, screenshot  # noqa: F401 - shared Playwright fixtures
from tests.factories import UserFactory


# The hand-made exports are dated early December 2026; a ticket more than a day in the future is
# refused, so the tests run at a fixed moment after them (CI also runs the suite on 11-11).
@pytest.fixture(autouse=True)
def _after_the_exports_were_made():
    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAOBAO_HEADER = ["订单编号", "退款编号", "商家编码", "宝贝标题", "退款的申请时间", "买家退款原因", "买家退款说明", "退款状态"]


def taobao_export() -> bytes:
    rows = [TAOBAO_HEADER]
    rows.append(['="3271849200112233445"', '="182736450011223344"', "TB-CUP-01", "陶瓷马克杯", "2026年12月1日 14时03分", "收到商品破损", "杯口有裂纹", "退款成功"])
    rows.append(["3.27185E+18", "1.82736E+17", "TB-CUP-01", "陶瓷马克杯", "2026/12/02 下午3:10", "七天无理由退换货", "", "退款成功"])
    rows.append(["3271849200112233447", "182736450011223346", "TB-TEE-L", "纯棉T恤", "下周三", "", "颜色和图片不一样", "退款成功"])
    rows.append(["合计", "", "", "", "", "", "", ""])
    # Written by hand, not by csv.writer: the back office writes ="…" cells unquoted.
    return ("\n".join(",".join(row) for row in rows) + "\n").encode("gbk")


def login(page, user) -> None:
    page.goto(reverse("login"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pass-1234")
    page.click("button[type=submit]")


def shoot(page, screenshot, name: str) -> None:
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(f"{name}_{width}")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_platform_export_job_page_and_product_upload(page, screenshot, live_server, tmp_path, language):  # noqa: F811
    lead = UserFactory(username="lead-import", role=Role.LEAD)
    job = ImportJob(original_name="千牛退款导出.csv", source="", created_by=lead)
    job.file.save("taobao.csv", ContentFile(taobao_export()), save=True)
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.imported, job.failed, job.source) == ("done", 3, 0, "taobao")
    assert Ticket.objects.filter(external_id="182736450011223344", order_number="3271849200112233445").exists()

    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    login(page, lead)
    page.goto(reverse("import-detail", args=[job.pk]))
    body = page.inner_text("body")
    assert "淘宝" in body and "科学计数法" in body and "合计" in body
    shoot(page, screenshot, f"import_job_taobao_{language}")

    page.goto(reverse("import-create"))
    assert ("平台导出" if language == "zh-hans" else "Platform exports") in page.inner_text("body")
    shoot(page, screenshot, f"import_form_{language}")

    catalogue = tmp_path / "商品.csv"
    with open(catalogue, "w", encoding="gbk", newline="") as stream:
        csv.writer(stream).writerows([
            ["商家编码", "商品名称", "类目", "价格"],
            ["TB-CUP-01", "陶瓷马克杯 350ml", "家居", "59"],
            ["TB-TEE-L", "纯棉T恤 L", "服饰", "79"],
            ["2.69014E+17", "被 Excel 改坏的编码", "家居", "1"],
        ])
    page.goto(reverse("product-import"))
    page.set_input_files("#id_file", str(catalogue))
    page.click("#product-import-form button[type=submit]")
    page.wait_for_selector("#product-import-result")
    assert Product.objects.count() == 2
    assert ("科学计数法" if language == "zh-hans" else "scientific notation") in page.inner_text("#product-import-result")
    shoot(page, screenshot, f"import_products_{language}")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_import_wizard_end_to_end(page, screenshot, live_server, tmp_path, monkeypatch, language):  # noqa: F811
    # The job runs in the web process instead of a worker: the browser flow is under test, not the queue.
    monkeypatch.setattr("feedback.imports.service._job_enqueue", lambda job: import_job_run(job_id=job.pk))
    agent = UserFactory(username="agent-wizard", role=Role.AGENT)
    export = tmp_path / "千牛退款导出.csv"
    export.write_bytes(taobao_export())

    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    login(page, agent)
    page.goto(reverse("import-wizard"))
    shoot(page, screenshot, f"import_wizard_1_{language}")
    page.set_input_files("#id_file", str(export))
    page.click("#wizard-upload-form button[type=submit]")
    page.wait_for_selector("#wizard-map-form")
    detected = page.inner_text("#wizard-detected")
    assert ("淘宝" in detected) if language == "zh-hans" else ("Taobao" in detected)
    # 买家退款说明 (column 7) is switched off; the mapping is saved for next time.
    assert page.input_value("select[name=col_6]") == "text"
    page.select_option("select[name=col_6]", "ignore")
    page.fill("#id_preset_name", "千牛退款-只要原因")
    shoot(page, screenshot, f"import_wizard_2_{language}")
    page.click("#wizard-map-form button[type=submit]")

    page.wait_for_selector(".import-status--done")
    job = ImportJob.objects.get()
    # The third refund has only an explanation, which was switched off: it fails, named on the summary.
    assert (job.imported, job.failed, job.source) == (2, 1, "taobao")
    assert job.column_mapping["买家退款说明"] == "ignore"
    assert page.locator("#import-errors tr").count() == 1
    shoot(page, screenshot, f"import_wizard_3_{language}")

    page.click("#import-tickets-link")
    page.wait_for_selector("table.tickets")
    assert page.locator("table.tickets tbody tr").count() == 2
    shoot(page, screenshot, f"import_wizard_4_tickets_{language}")
