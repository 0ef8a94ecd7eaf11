"""A retrain as the model page sees it: one run at a time, claimed once, its stage and percentage, its outcome."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from feedback import classification
from feedback.classifiers.training import TRAINING_PHASES, TrainingResult
from feedback.models import TrainingRun
from feedback.services import TRAINING_STALE_SECONDS, training_run_execute, training_run_start, training_runs_expire
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_clock():
    """A fixed moment just after local midnight: staleness is measured from the runs' timestamps."""
    with time_machine.travel(datetime(2027, 3, 1, 0, 5, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


class FakeTraining:
    """model_train that walks train_version's phases and records what the run row said at each step."""

    def __init__(self, activated: bool = True, fail: bool = False):
        self.activated = activated
        self.fail = fail
        self.calls = 0
        self.seen: list[tuple[str, int]] = []

    def __call__(self, *, extra=None, force=False, progress=None):
        self.calls += 1
        for phase in TRAINING_PHASES:
            for done in (0, 1, 2):
                progress(done, 2, f"{phase}: step")
                run = TrainingRun.objects.get(in_progress=True)
                self.seen.append((run.stage, run.percent))
            if self.fail and phase == "evaluating":
                raise RuntimeError("out of memory")
        return TrainingResult(
            version="20261201-000000-abcd", activated=self.activated,
            reason="passed the gate: macro-F1 0.70 vs active 0.69" if self.activated else "kept the active model: macro-F1 0.60 vs 0.69",
            metrics={},
        )


def test_a_run_reports_each_stage_with_a_rising_percentage_and_ends_with_the_gates_decision(monkeypatch):
    fake = FakeTraining()
    monkeypatch.setattr(classification, "model_train", fake)
    run, created = training_run_start(user=None, enqueue=False)
    assert created and run.status == TrainingRun.Status.QUEUED

    result = training_run_execute(run_id=run.pk)

    stages = [stage for stage, _ in fake.seen]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == ["training", "evaluating", "final", "gate"]
    percents = [percent for _, percent in fake.seen]
    assert percents == sorted(percents) and 1 < percents[0] and percents[-1] < 100
    run.refresh_from_db()
    assert result.version == run.version == "20261201-000000-abcd"
    assert (run.status, run.stage, run.percent, run.activated, run.in_progress) == ("done", "finished", 100, True, None)
    assert run.finished_at is not None and "passed the gate" in run.reason
    assert "已通过评估门槛并启用" in run.outcome


def test_a_redelivered_task_trains_nothing_twice(monkeypatch):
    fake = FakeTraining()
    monkeypatch.setattr(classification, "model_train", fake)
    run, _ = training_run_start(user=None, enqueue=False)
    training_run_execute(run_id=run.pk)
    assert training_run_execute(run_id=run.pk) is None
    assert fake.calls == 1


def test_two_starts_while_one_is_in_progress_make_one_run():
    first, created = training_run_start(user=None, enqueue=False)
    second, created_again = training_run_start(user=None, enqueue=False)
    assert created and not created_again and first.pk == second.pk
    assert TrainingRun.objects.count() == 1


def test_a_failed_training_is_recorded_and_frees_the_slot(monkeypatch):
    monkeypatch.setattr(classification, "model_train", FakeTraining(fail=True))
    run, _ = training_run_start(user=None, enqueue=False)
    with pytest.raises(RuntimeError):
        training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and run.in_progress is None and "out of memory" in run.reason
    assert run.outcome == "训练失败。"
    assert training_run_start(user=None, enqueue=False)[1]


@pytest.mark.parametrize(("quiet_for", "expired"), [
    (timedelta(seconds=TRAINING_STALE_SECONDS - 1), False),
    (timedelta(seconds=TRAINING_STALE_SECONDS + 1), True),
])
def test_a_run_whose_worker_died_expires_after_the_tasks_time_limit(quiet_for, expired):
    run, _ = training_run_start(user=None, enqueue=False)
    with time_machine.travel(timezone.now() + quiet_for, tick=False):
        assert training_runs_expire() == int(expired)
        _, created = training_run_start(user=None, enqueue=False)
    run.refresh_from_db()
    assert created is expired
    assert (run.status == TrainingRun.Status.FAILED) is expired


def test_the_nightly_task_records_its_own_run_or_skips_while_one_is_in_progress(monkeypatch):
    from feedback.tasks import train_model

    fake = FakeTraining()
    monkeypatch.setattr(classification, "model_train", fake)
    blocking, _ = training_run_start(user=None, enqueue=False)
    train_model.run()
    assert fake.calls == 0
    TrainingRun.objects.filter(pk=blocking.pk).update(status=TrainingRun.Status.DONE, in_progress=None)
    train_model.run()
    assert fake.calls == 1 and TrainingRun.objects.filter(status=TrainingRun.Status.DONE).count() == 2


def test_the_progress_endpoint_follows_the_newest_run(client, monkeypatch):
    client.force_login(UserFactory(username="m", role=Role.MANAGER))
    url = reverse("model-training-progress")
    assert client.get(url).json() == {"run": None}

    run, _ = training_run_start(user=None, enqueue=False)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, stage=TrainingRun.Stage.EVALUATING, percent=58)
    data = client.get(url).json()["run"]
    assert (data["id"], data["status"], data["stage"], data["stage_label"], data["percent"], data["finished"]) == (
        run.pk, "running", "evaluating", "评估", 58, False)
    assert data["outcome"] == ""

    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.DONE, stage=TrainingRun.Stage.FINISHED, percent=100, in_progress=None,
        version="v7", activated=False,
        reason="kept the active model: macro-F1 0.6000 vs active v6 0.6900 on 240 held-out examples")
    data = client.get(url).json()["run"]
    assert data["finished"] and data["activated"] is False and "v7 未通过评估门槛" in data["outcome"]
    assert data["reason"] == "保留启用中的模型：宏平均 F1 0.6000，低于启用中的 v6 的 0.6900（240 条留出样本）"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["run"]
    assert "v7" in english["outcome"] and "gate" in english["outcome"]
    assert english["reason"].startswith("Kept the active model: macro-F1 0.6000, below the active v6's 0.6900")


def test_the_page_shows_a_run_in_progress_for_the_script_to_poll(client):
    client.force_login(UserFactory(username="m", role=Role.MANAGER))
    run, _ = training_run_start(user=None, enqueue=False)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, stage=TrainingRun.Stage.TRAINING, percent=33)
    html = client.get(reverse("model-page")).content.decode()
    assert 'data-status="running"' in html and 'data-width="33%"' in html and "训练" in html
