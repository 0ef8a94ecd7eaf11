"""Item 6 of the hardening issue: a damaged model store repairs itself from what is on disk.

A corrupt active model falls back to the newest loadable version (never silently to a seed-only
model while agents' labels exist) and the admins are told; a corrupt pointer is rebuilt from the
version folders so --rollback still works; files are readable by the workers' shared group.
"""
from __future__ import annotations

import json
import logging
import os
import stat

import pytest

from accounts.models import Role
from feedback.classification import clear_predictor_cache, get_predictor
from feedback.classifiers import ModelLoadError, ModelStore
from feedback.models import Category, Ticket, TriageStatus
from issues.models import Notification
from tests.classifier_fixtures import seed_model, seed_store_dir, seed_store_template  # noqa: F401
from tests.factories import TicketFactory, UserFactory


def _store_with_versions(root, model, count: int) -> tuple[ModelStore, list[str]]:
    """A store with ``count`` versions activated one after another (the last one active)."""
    store = ModelStore(root)
    versions = []
    for number in range(count):
        version = store.save(model, {"created": f"2026-03-0{number + 1}T00:00:00+00:00", "activated": True})
        store.activate(version)
        versions.append(version)
    return store, versions


def _damage(store: ModelStore, version: str) -> None:
    (store.root / version / "model.joblib").write_bytes(b"\x00 not a model")


def test_a_corrupt_active_model_falls_back_to_the_newest_loadable_version(seed_model, tmp_path, caplog):
    store, (first, second, third) = _store_with_versions(tmp_path, seed_model, 3)
    _damage(store, third)

    with caplog.at_level(logging.ERROR):
        loaded = store.load_active()

    assert (loaded.version, loaded.unreadable, loaded.fell_back) == (second, [third], True)
    assert store.active_version() == second
    pointer = json.loads((tmp_path / "active.json").read_text())
    assert pointer["history"] == [first] and pointer["fallback_from"] == [third]
    assert f"fell back to {second}" in caplog.text


def test_it_skips_every_damaged_version_of_the_history(seed_model, tmp_path):
    store, (first, second, third) = _store_with_versions(tmp_path, seed_model, 3)
    _damage(store, third)
    _damage(store, second)

    loaded = store.load_active()

    assert (loaded.version, loaded.unreadable) == (first, [third, second])
    assert store.active_version() == first


def test_with_no_loadable_version_it_raises(seed_model, tmp_path):
    store, versions = _store_with_versions(tmp_path, seed_model, 2)
    for version in versions:
        _damage(store, version)

    with pytest.raises(ModelLoadError, match="no stored model version can be loaded"):
        store.load_active()


def test_a_healthy_store_loads_without_touching_the_pointer(seed_model, tmp_path):
    store, (_first, second) = _store_with_versions(tmp_path, seed_model, 2)
    before = (tmp_path / "active.json").read_bytes()

    loaded = store.load_active()

    assert (loaded.version, loaded.fell_back) == (second, False)
    assert (tmp_path / "active.json").read_bytes() == before


@pytest.mark.parametrize("damage", [b"", b"{\"version\": \"2026", b"\x00\x01binary", b"[1, 2]",
                                    b"{\"version\": 5}", b"{\"version\": \"x\", \"history\": \"oops\"}"])
def test_a_corrupt_pointer_is_rebuilt_from_the_versions_on_disk(seed_model, tmp_path, damage, caplog):
    store, (first, second, third) = _store_with_versions(tmp_path, seed_model, 3)
    never_activated = store.save(seed_model, {"created": "2026-03-09T00:00:00+00:00", "activated": False})
    (tmp_path / "active.json").write_bytes(damage)

    with caplog.at_level(logging.ERROR):
        active = store.active_version()

    assert active == third  # the newest activated one, not the newer candidate that failed its gate
    assert json.loads((tmp_path / "active.json").read_text())["history"] == [first, second]
    assert never_activated not in json.loads((tmp_path / "active.json").read_text())["history"]
    assert "rebuilt" in caplog.text
    assert store.rollback() == second  # the history survives, so --rollback works


def test_files_are_readable_by_the_shared_group(seed_model, tmp_path):
    previous = os.umask(0o077)  # even under a strict umask
    try:
        store, (version,) = _store_with_versions(tmp_path, seed_model, 1)
        with store.lock():
            pass
    finally:
        os.umask(previous)

    def mode(path):
        return stat.S_IMODE(os.stat(path).st_mode)

    assert mode(tmp_path / "active.json") == 0o640
    assert mode(tmp_path / version) == 0o750
    assert {mode(tmp_path / version / name) for name in ("model.joblib", "metadata.json", "training.npy")} == {0o640}
    assert mode(tmp_path / ".lock") == 0o660


# --- the Django side: classification keeps the agents' corrections and tells the admins ---

@pytest.fixture
def model_dir(settings, seed_store_dir, seed_model):
    settings.FEEDBACK_MODEL_DIR = seed_store_dir
    clear_predictor_cache()
    yield seed_store_dir
    clear_predictor_cache()


@pytest.mark.django_db
def test_classification_falls_back_to_the_previous_model_and_notifies_admins(model_dir, seed_model):
    admin = UserFactory(username="root1", role=Role.ADMIN, email="root@example.com")
    UserFactory(username="agent9", role=Role.AGENT)
    store = ModelStore(model_dir)
    seed_version = store.active_version()
    trained = store.save(seed_model, {"created": "2099-01-01T00:00:00+00:00", "activated": True})
    store.activate(trained)
    _damage(store, trained)

    model = get_predictor()
    clear_predictor_cache()
    get_predictor()  # a second process finds the repaired pointer and tells nobody again

    assert model.version == seed_version and store.active_version() == seed_version
    notes = list(Notification.objects.filter(kind="model"))
    assert [n.recipient for n in notes] == [admin]
    assert trained in notes[0].title and seed_version in notes[0].title


@pytest.mark.django_db
def test_with_nothing_loadable_it_retrains_with_the_agents_labels_not_the_seed_alone(model_dir):
    UserFactory(username="root2", role=Role.ADMIN)
    store = ModelStore(model_dir)
    broken = store.active_version()
    _damage(store, broken)
    damaged = Category.objects.get(code="damaged")
    for number in range(5):
        TicketFactory(text=f"收到的杯子碎成三块了 {number}", confirmed_category=damaged, category=damaged,
                      triage_status=TriageStatus.CONFIRMED)

    model = get_predictor()

    metadata = store.metadata(model.version)
    assert model.version != broken and metadata["labelled_count"] == 5
    assert Notification.objects.filter(kind="model", payload__retrained=True).count() == 1
    assert Ticket.objects.count() == 5
