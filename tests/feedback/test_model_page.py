"""The model page at /models/: versions and their metrics; admins activate, roll back and retrain."""
import json

import pytest
from django.urls import reverse

from accounts.models import Role
from feedback.classifiers import ModelStore
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fake_version(root, version: str, created: str, macro_f1: float, activated: bool = True) -> None:
    """A version folder with metadata only: the page and the pointer read nothing else."""
    folder = root / version
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text(json.dumps({
        "version": version, "created": created, "training_size": 1200, "heldout_size": 240,
        "metrics": {"accuracy": 0.9, "macro_f1": macro_f1, "per_category": {
            "damaged": {"precision": 0.8, "recall": 0.7, "f1": 0.75, "support": 30},
            "logistics_delay": {"precision": 0.95, "recall": 0.97, "f1": 0.96, "support": 50},
            "service": {"precision": 0, "recall": 0, "f1": 0, "support": 0},
        }},
        "activated": activated, "decision": f"gate decision for {version}",
    }), encoding="utf-8")


@pytest.fixture
def store(settings, tmp_path) -> ModelStore:
    settings.FEEDBACK_MODEL_DIR = str(tmp_path)
    fake_version(tmp_path, "v1", "2026-03-01T00:00:00+00:00", 0.81)
    fake_version(tmp_path, "v2", "2026-03-05T00:00:00+00:00", 0.84)
    store = ModelStore(tmp_path)
    store.activate("v1")
    store.activate("v2")
    return store


@pytest.mark.parametrize("role, status", [(Role.AGENT, 403), (Role.LEAD, 403), (Role.MANAGER, 200), (Role.ADMIN, 200)])
def test_who_may_see_the_model_page(client, store, role, status):
    client.force_login(UserFactory(username=f"u-{role}", role=role))
    assert client.get(reverse("model-page")).status_code == status


def test_a_manager_reads_versions_metrics_and_f1_but_cannot_act(client, store):
    client.force_login(UserFactory(username="m", role=Role.MANAGER))
    response = client.get(reverse("model-page"))
    html = response.content.decode()
    assert [v["version"] for v in response.context["versions"]] == ["v2", "v1"]
    assert response.context["can_manage"] is False
    assert "gate decision for v2" in html and "0.84" in html and "1200" in html
    # Per-category F1, weakest first, categories with no held-out example left out.
    assert [row["code"] for row in response.context["versions"][0]["f1_rows"]] == ["damaged", "logistics_delay"]
    assert 'value="rollback"' not in html
    assert client.post(reverse("model-page"), {"action": "rollback"}).status_code == 403
    assert store.active_version() == "v2"


def test_an_admin_rolls_back_and_activates_again(client, store):
    client.force_login(UserFactory(username="a", role=Role.ADMIN))
    client.post(reverse("model-page"), {"action": "rollback"})
    assert store.active_version() == "v1"
    client.post(reverse("model-page"), {"action": "activate", "version": "v2"})
    assert store.active_version() == "v2"
    response = client.post(reverse("model-page"), {"action": "activate", "version": "nope"}, follow=True)
    assert store.active_version() == "v2"
    assert "nope" in response.content.decode()


def test_retrain_enqueues_one_run_and_says_when_the_broker_is_down(client, store, monkeypatch, django_capture_on_commit_callbacks):
    from feedback import tasks
    from feedback.models import TrainingRun

    sent = []
    monkeypatch.setattr(tasks.train_model, "delay", lambda run_id: sent.append(run_id))
    client.force_login(UserFactory(username="a", role=Role.ADMIN))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("model-page"), {"action": "retrain"}, follow=True)
    run = TrainingRun.objects.get()
    assert sent == [run.pk] and run.status == TrainingRun.Status.QUEUED and run.started_by.username == "a"
    assert "已提交训练任务" in response.content.decode()

    # A second click while the first run is queued starts nothing.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("model-page"), {"action": "retrain"}, follow=True)
    assert sent == [run.pk] and TrainingRun.objects.count() == 1
    assert "已有一次训练在进行中" in response.content.decode()



@pytest.mark.django_db(transaction=True)
def test_retrain_says_the_broker_is_down_and_blocks_no_later_click(client, store, monkeypatch):
    """Transactional: the task is sent on commit, as in production (no request-wide transaction)."""
    from feedback import tasks
    from feedback.models import TrainingRun

    def down(run_id):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.train_model, "delay", down)
    client.force_login(UserFactory(username="a", role=Role.ADMIN))
    response = client.post(reverse("model-page"), {"action": "retrain"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and "消息队列不可用" in html and "训练失败" in html
    failed = TrainingRun.objects.get()
    assert failed.status == TrainingRun.Status.FAILED and failed.in_progress is None and "broker" in failed.reason

    sent = []
    monkeypatch.setattr(tasks.train_model, "delay", lambda run_id: sent.append(run_id))
    client.post(reverse("model-page"), {"action": "retrain"})
    assert sent == [TrainingRun.objects.get(status=TrainingRun.Status.QUEUED).pk]
