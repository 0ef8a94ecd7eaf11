"""The import wizard: upload a draft, see how it will be read, change columns, save the mapping, import."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from feedback.imports.service import import_job_run
from feedback.models import ImportJob, ImportMappingPreset, Ticket


# The hand-made exports are dated early December 2026; a ticket more than a day in the future is
# refused, so the tests run at a fixed moment after them (CI also runs the suite on 11-11).
@pytest.fixture(autouse=True)
def _after_the_exports_were_made():
    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield

PDD = (
    "拼多多售后列表 导出时间：2026-12-06\n"
    "售后编号,订单号,商品ID,商家编码-SKU维度,售后原因,申请说明,申请时间,售后状态\n"
    "AS1,O-1,5566,PDD-MUG-9,质量问题,盖子拧不紧漏水,2026/12/01 下午2:03,待处理\n"
    "AS2,O-2,5566,PDD-MUG-9,未收到货,,2026/12/01 上午9:05,退款成功\n"
)


def upload(client, body: bytes, name: str = "pdd.csv", source: str = ""):
    return client.post(reverse("import-wizard"), {
        "file": SimpleUploadedFile(name, body, content_type="text/csv"), "source": source,
    })


def selected(html: str, index: int) -> str:
    select = re.search(rf'<select name="col_{index}".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([^"]*)" selected', select).group(1)


@pytest.fixture
def started(agent_client):
    response = upload(agent_client, PDD.encode("gbk"))
    assert response.status_code == 302
    return response["Location"]


def test_preview_shows_platform_header_row_first_rows_and_detected_fields(agent_client, started):
    html = agent_client.get(started).content.decode()

    assert "拼多多" in html and "自动识别" in html
    assert 'id="wizard-detected"' in html and ">2<" in html  # the header is on row 2
    assert "盖子拧不紧漏水" in html and "AS2" in html
    fields = [selected(html, i) for i in range(8)]
    assert fields == ["external_id", "order_number", "ignore", "sku", "text", "text", "received_at", "ignore"]


def test_changed_columns_and_saved_mapping_drive_the_import(agent_client, started, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("feedback.imports.service._job_enqueue", lambda job: None)
    form = {f"col_{i}": f for i, f in enumerate(
        ["external_id", "order_number", "ignore", "sku", "text", "ignore", "received_at", "ignore"])}
    form.update({"sheet": "", "source": "", "preset_name": "拼多多-只要原因"})

    response = agent_client.post(started, form)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import-detail", args=[job.pk])
    assert job.column_mapping["申请说明"] == "ignore" and job.column_mapping["售后原因"] == "text"
    preset = ImportMappingPreset.objects.get()
    assert (preset.name, preset.mapping) == ("拼多多-只要原因", job.column_mapping)

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.imported, job.source) == ("done", 2, "pdd")
    assert Ticket.objects.get(external_id="AS1").text == "质量问题"  # 申请说明 was switched off
    # The draft is gone once it became a job.
    assert agent_client.get(started).status_code == 404


def test_a_saved_mapping_applies_to_the_next_file(agent_client, started):
    ImportMappingPreset.objects.create(name="只要说明", mapping={"售后原因": "ignore", "申请说明": "text"})
    preset = ImportMappingPreset.objects.get()

    html = agent_client.get(f"{started}?preset={preset.pk}").content.decode()

    assert [selected(html, 4), selected(html, 5)] == ["ignore", "text"]


def test_a_mapping_without_text_is_refused_on_the_page(agent_client, started):
    form = {f"col_{i}": "ignore" for i in range(8)}
    form.update({"col_0": "external_id", "sheet": "", "source": ""})

    response = agent_client.post(started, form)

    assert response.status_code == 200 and "投诉内容" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_workbook_sheet_can_be_switched(agent_client, tmp_path):
    workbook = Workbook()
    workbook.active.title = "A"
    workbook.active.append(["内容"])
    workbook.active.append(["第一张表"])
    other = workbook.create_sheet("B")
    other.append(["工单号", "问题描述"])
    other.append(["B-1", "第二张表"])
    path = tmp_path / "two.xlsx"
    workbook.save(path)

    location = upload(agent_client, path.read_bytes(), name="two.xlsx")["Location"]
    first = agent_client.get(location).content.decode()
    second = agent_client.get(f"{location}?sheet=A").content.decode()

    assert "第二张表" in first  # the sheet whose header looks most like tickets
    assert "第一张表" in second and 'value="A" selected' in second


def test_unreadable_upload_is_refused_at_step_one(agent_client):
    response = upload(agent_client, "买家昵称,订单号\n小王,O-1\n".encode())

    assert response.status_code == 200 and "找不到内容列" in response.content.decode()
    assert not agent_client.session.get("import_drafts")


@pytest.mark.parametrize("token", ["0" * 32 + ".csv", "..%2F..%2Fsettings.py"])
def test_drafts_of_other_sessions_and_odd_tokens_are_not_found(agent_client, token):
    assert agent_client.get(f"/imports/wizard/{token}/").status_code == 404


def test_abandoned_drafts_are_purged_after_a_day(agent_client, started):
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from feedback.imports.wizard import DRAFT_DIR, import_drafts_purge

    token = started.rstrip("/").rsplit("/", 1)[1]
    stored = default_storage.get_modified_time(f"{DRAFT_DIR}/{token}")

    assert import_drafts_purge(now=stored + timedelta(hours=23)) == 0
    assert import_drafts_purge(now=stored + timedelta(hours=25)) >= 1
    assert not default_storage.exists(f"{DRAFT_DIR}/{token}")
    assert timezone.is_aware(stored)


def test_summary_links_to_exactly_the_tickets_the_import_created(agent_client, agent, started, monkeypatch):
    from feedback.services import TicketInput, tickets_bulk_create

    monkeypatch.setattr("feedback.imports.service._job_enqueue", lambda job: None)
    tickets_bulk_create(items=[TicketInput(text="别的来源的工单", external_source="crm", external_id="X1")],
                        filed_by=agent, enqueue=False)
    form = {f"col_{i}": f for i, f in enumerate(
        ["external_id", "order_number", "ignore", "sku", "text", "text", "received_at", "ignore"])}
    form.update({"sheet": "", "source": ""})
    agent_client.post(started, form)
    job = ImportJob.objects.get()
    import_job_run(job_id=job.pk)

    detail = agent_client.get(reverse("import-detail", args=[job.pk])).content.decode()
    listing = agent_client.get(reverse("ticket-list"), {"import_job": job.pk}).content.decode()

    assert f"?import_job={job.pk}" in detail
    assert "质量问题" in listing and "未收到货" in listing and "别的来源的工单" not in listing
    assert f'name="import_job" value="{job.pk}"' in listing  # kept when the list is filtered further
