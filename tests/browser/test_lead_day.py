"""A lead's day in headless Chromium: the spike on top with its reason, and a rule preview that warns.

Screenshots (1440 and 390 px, Chinese and English) go to var/screenshots/ (SCREENSHOT_DIR in conftest).
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from issues.models import Issue, IssueStatus, RoutingRule
from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.helpers import log_in as log_in_any_language
from tests.browser.test_lead_flow import PASSWORD, expect, file_tickets, log_in
from tests.factories import ProductFactory, UserFactory, department

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_issue_tasks")]

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(autouse=True)
def _pinned_clock():
    """Spikes, SLAs and 24-hour counts depend on the hour: run the lead's day at a fixed moment (the clock ticks)."""
    with time_machine.travel(datetime(2027, 1, 31, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


@pytest.fixture
def lead_queue(db) -> dict[str, Issue]:
    """The logistics queue: a steady big issue, a spike, a dormant issue and a single-ticket one."""
    from issues.services import issues_spikes_detect, issues_prioritize

    products = {name: ProductFactory(sku=sku, name=name, product_category=kind) for name, sku, kind in [
        ("纯棉T恤", "CL-2001", "服饰"), ("赣南脐橙 5斤装", "FR-1001", "水果"), ("羽绒服", "CL-3001", "冬装"),
        ("保温杯", "HM-1001", "家居"),
    ]}
    file_tickets(product=products["纯棉T恤"], code="logistics_delay", per_day={d: 3 for d in range(0, 8)},
                 text="T恤发货太慢")
    file_tickets(product=products["赣南脐橙 5斤装"], code="logistics_delay",
                 per_day={0: 9, **{d: 1 for d in range(1, 8)}}, text="橙子五天还没到")
    file_tickets(product=products["羽绒服"], code="logistics_delay", per_day={40: 4}, text="羽绒服物流慢")
    file_tickets(product=products["保温杯"], code="logistics_delay", per_day={0: 1}, text="保温杯还没发货")
    issues_spikes_detect()
    issues_prioritize()
    return {kind: Issue.objects.get(category__code="logistics_delay", scope_key=kind)
            for kind in ("服饰", "水果", "冬装", "家居")}


def shoot(page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


def test_the_spike_is_on_top_of_the_leads_queue_with_its_reason(browser, live_server, page, lead_queue):
    UserFactory(username="lead_logistics", role=Role.LEAD, department=department("logistics"), password=PASSWORD)
    log_in(page, "lead_logistics")
    page.goto(reverse("department-queue"))
    rows = page.locator("#queue-table tbody tr")
    # The dormant issue (no ticket for 40 days) and the single ticket are not in the default queue.
    expect()(rows).to_have_count(2)
    top = rows.first
    expect()(top).to_contain_text("水果")
    expect()(top.locator(".priority")).to_have_text("P1")
    expect()(top.locator("[data-priority-reason]")).to_contain_text("激增 ×")
    expect()(top.locator("[data-priority-reason]")).to_contain_text("24 小时 9 张")
    assert "激增" in top.locator(".priority").get_attribute("title")
    expect()(page.locator(".queue-view", has_text="观察中")).to_contain_text("1")
    expect()(page.locator(".queue-view", has_text="休眠")).to_contain_text("1")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shoot(page, f"lead_queue_zh_{width}")

    page.locator(".queue-view", has_text="休眠").click()
    expect()(page.locator("#queue-table tbody tr")).to_have_count(1)
    expect()(page.locator("#queue-table tbody tr").first).to_contain_text("冬装")
    expect()(page.locator("[data-priority-reason]").first).to_contain_text("天无新工单")

    english = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US", base_url=live_server.url)
    try:
        en = english.new_page()
        log_in_any_language(en, "lead_logistics")
        en.goto(reverse("department-queue"))
        reason = en.locator("#queue-table tbody tr").first.locator("[data-priority-reason]")
        expect()(reason).to_contain_text("spike ×")
        expect()(reason).to_contain_text("9 tickets in 24 h")
        for width in (1440, 390):
            en.set_viewport_size({"width": width, "height": 900})
            shoot(en, f"lead_queue_en_{width}")
    finally:
        english.close()


def test_the_rule_preview_warns_about_the_in_progress_issue_and_asks_before_saving(page, lead_queue):
    from issues.services import issue_assign, issue_transition

    lead = UserFactory(username="lead_logistics", role=Role.LEAD, department=department("logistics"),
                       password=PASSWORD)
    UserFactory(username="lead_warehouse", role=Role.LEAD, department=department("warehouse"), password=PASSWORD)
    UserFactory(username="boss", role=Role.ADMIN, password=PASSWORD)
    oranges = lead_queue["水果"]
    issue_transition(issue=oranges, to_status=IssueStatus.IN_PROGRESS, actor=lead)
    issue_assign(issue=oranges, assignee=lead, actor=lead)

    log_in(page, "boss")
    page.goto(reverse("routing-rule-create"))
    page.fill("#id_name", "水果走仓储")
    page.fill("#id_order", "1")
    page.fill("#id_product_category", "水果")
    page.select_option("#id_department", str(department("warehouse").pk))
    page.get_by_role("button", name="预览匹配的工单").click()
    moved = page.locator(f'#rule-preview-moves [data-move-issue="{oranges.pk}"]')
    expect()(moved).to_have_class("is-taken")
    expect()(moved).to_contain_text("处理中")
    expect()(moved).to_contain_text("lead_logistics")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shoot(page, f"rule_preview_zh_{width}")
    page.set_viewport_size({"width": 1440, "height": 900})

    # Saving without the confirmation is refused, and says which issue; nothing is saved.
    page.get_by_role("button", name="保存").click()
    expect()(page.locator(".form-errors")).to_contain_text(f"#{oranges.pk}")
    assert not RoutingRule.objects.exists()
    shoot(page, "rule_confirm_zh_1440")
    page.get_by_label("确认移动这些问题").check()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"**{reverse('routing-rules')}")
    assert RoutingRule.objects.get().department.code == "warehouse"


def test_the_model_page_rolls_back_a_version(browser, live_server, page, settings, tmp_path):
    from feedback.classifiers import ModelStore
    from tests.feedback.test_model_page import fake_version

    settings.FEEDBACK_MODEL_DIR = str(tmp_path)
    fake_version(tmp_path, "20260301-000000-aaaa", "2026-03-01T00:00:00+00:00", 0.81)
    fake_version(tmp_path, "20260305-000000-bbbb", "2026-03-05T00:00:00+00:00", 0.84)
    store = ModelStore(tmp_path)
    store.activate("20260301-000000-aaaa")
    store.activate("20260305-000000-bbbb")
    UserFactory(username="boss", role=Role.ADMIN, password=PASSWORD)

    log_in(page, "boss")
    page.goto(reverse("model-page"))
    newer = page.locator('[data-model-version="20260305-000000-bbbb"]')
    older = page.locator('[data-model-version="20260301-000000-aaaa"]')
    expect()(newer.locator("[data-active-badge]")).to_be_visible()
    expect()(newer).to_contain_text("0.84")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shoot(page, f"models_zh_{width}")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.locator("#model-rollback").click()
    expect()(page.locator(".message--success")).to_contain_text("20260301-000000-aaaa")
    expect()(older.locator("[data-active-badge]")).to_be_visible()
    expect()(newer.locator("[data-active-badge]")).to_have_count(0)
    assert store.active_version() == "20260301-000000-aaaa"

    english = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US", base_url=live_server.url)
    try:
        en = english.new_page()
        log_in_any_language(en, "boss")
        en.goto(reverse("model-page"))
        expect()(en.locator("h1")).to_have_text("Triage model")
        for width in (1440, 390):
            en.set_viewport_size({"width": width, "height": 900})
            shoot(en, f"models_en_{width}")
    finally:
        english.close()


def test_the_model_page_sets_a_threshold_and_shows_a_retrain_in_progress(browser, live_server, page, monkeypatch, settings, tmp_path):
    """An admin raises one category's threshold (a wrong value is refused), retrains and watches the bar."""
    import threading

    from django.db import connection

    from feedback import classification, tasks
    from feedback.classifiers.training import TRAINING_PHASES, TrainingResult
    from feedback.models import Category
    from feedback.services import training_run_execute

    shots = Path(os.environ.get("VAR_DIR", "var")) / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    evaluating, release = threading.Event(), threading.Event()

    def slow_training(*, extra=None, force=False, progress=None):
        for phase in TRAINING_PHASES:
            progress(1, 1, f"{phase}: step")
            if phase == "evaluating":
                evaluating.set()
                release.wait(60)  # hold here until the browser has seen the bar in the middle
        return TrainingResult(version="20261201-000000-cccc", activated=True,
                              reason="passed the gate: macro-F1 0.7100 vs active 0.7000", metrics={})

    def worker(run_id):
        try:
            training_run_execute(run_id=run_id)
        finally:
            connection.close()

    # An active version with a held-out curve, and tickets agents confirmed: the tables have numbers.
    import json as json_module

    from django.utils import timezone

    from feedback.classifiers import ModelStore
    from feedback.models import TriageStatus
    from tests.factories import TicketFactory, category
    from tests.feedback.test_model_page import fake_version

    settings.FEEDBACK_MODEL_DIR = str(tmp_path)
    fake_version(tmp_path, "20261101-000000-aaaa", "2026-11-01T00:00:00+00:00", 0.70)
    metadata_path = tmp_path / "20261101-000000-aaaa" / "metadata.json"
    metadata = json_module.loads(metadata_path.read_text(encoding="utf-8"))
    grid = [round(0.40 + 0.05 * step, 2) for step in range(12)]
    metadata["threshold_curve"] = {"grid": grid, "per_category": {code: {"predicted": 40, "points": [
        {"threshold": t, "applied": max(0, 40 - int((t - 0.4) * 60)), "correct": max(0, 40 - int((t - 0.4) * 60)) - max(0, 8 - int((t - 0.4) * 16))}
        for t in grid]} for code in ("damaged", "logistics_delay")}}
    metadata_path.write_text(json_module.dumps(metadata), encoding="utf-8")
    ModelStore(tmp_path).activate("20261101-000000-aaaa")
    for confidence, truth in [(0.95, "damaged"), (0.85, "damaged"), (0.75, "counterfeit"), (0.62, "damaged"), (0.5, "quality_defect")]:
        TicketFactory(predicted_category=category("damaged"), prediction_confidence=confidence,
                      confirmed_category=category(truth), category=category(truth), confirmed_at=timezone.now(),
                      triage_status=TriageStatus.CONFIRMED)

    monkeypatch.setattr(classification, "model_train", slow_training)
    monkeypatch.setattr(tasks.train_model, "delay", lambda run_id: threading.Thread(target=worker, args=(run_id,)).start())
    UserFactory(username="boss", role=Role.ADMIN, password=PASSWORD)

    log_in(page, "boss")
    expect()(page.locator(".topbar__nav a", has_text="分类模型")).to_have_count(1)
    page.goto(reverse("model-page"))
    damaged = page.locator('[data-threshold-category="damaged"]')
    damaged.locator("summary").click()
    damaged.locator('input[name="threshold"]').fill("1.5")
    damaged.get_by_role("button", name="保存").click()
    expect()(page.locator(".message--error")).to_contain_text("未保存类别「破损变质」的阈值")
    assert Category.objects.get(code="damaged").confidence_threshold is None

    damaged.locator("summary").click()
    damaged.locator('input[name="threshold"]').fill("0.72")
    damaged.get_by_role("button", name="保存").click()
    expect()(page.locator(".message--success")).to_contain_text("0.72")
    expect()(damaged.locator("[data-threshold-value]")).to_have_text("0.72")
    expect()(damaged.locator("summary")).to_contain_text("管理员设置")
    assert Category.objects.get(code="damaged").confidence_threshold == 0.72

    page.get_by_role("button", name="立即重新训练").click()
    expect()(page.locator(".message--success")).to_contain_text("已提交训练任务")
    assert evaluating.wait(30)
    training = page.locator("#model-training")
    expect()(training.locator('[data-training-field="stage_label"]')).to_have_text("评估")
    # "evaluating: step" 1 of 1: the end of the evaluating slice (80-81 %) of the bar.
    expect()(training.locator("[data-training-bar]")).to_have_attribute("aria-valuenow", "81")
    expect()(training.locator('[data-training-field="percent"]')).to_have_text("81")
    # A second click while it runs starts nothing.
    page.get_by_role("button", name="立即重新训练").click()
    expect()(page.locator(".message--info")).to_contain_text("已有一次训练在进行中（81%）")
    damaged = page.locator('[data-threshold-category="damaged"]')
    damaged.locator("summary").click()
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"models_training_zh_{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size({"width": 1440, "height": 900})
    release.set()
    # The script polls until the gate has decided, then reloads the page with the outcome.
    expect()(page.locator('#model-training [data-training-field="outcome"]')).to_contain_text(
        "20261201-000000-cccc 已通过评估门槛并启用", timeout=20_000)
    expect()(page.locator("#model-training [data-training-bar]")).to_have_attribute("aria-valuenow", "100")

    english = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US", base_url=live_server.url)
    try:
        en = english.new_page()
        log_in_any_language(en, "boss")
        en.goto(reverse("model-page"))
        expect()(en.locator("#thresholds h2")).to_have_text("Auto-apply thresholds")
        expect()(en.locator("#model-training")).to_contain_text("passed the evaluation gate")
        en.locator('[data-threshold-category="damaged"] summary').click()
        for width in (1440, 390):
            en.set_viewport_size({"width": width, "height": 900})
            en.screenshot(path=str(shots / f"models_training_en_{width}.png"), full_page=True)
            assert en.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        english.close()
