import json
import os

import pytest

from feedback.classifiers import (
    LabelledExample,
    ModelLoadError,
    ModelStore,
    TrainingConfig,
    TriageModel,
    UnknownVersionError,
    holdout_split,
    load_seed,
    train_version,
)
from feedback.classifiers.training import fingerprint


def test_version_metadata_records_sizes_metrics_and_confusion_matrix(seed_store_dir):
    store = ModelStore(seed_store_dir)
    [meta] = store.versions()
    assert meta["active"] and meta["version"] == store.active_version()
    assert meta["training_size"] == meta["seed_count"] > 0 and meta["labelled_count"] == 0
    metrics = meta["metrics"]
    assert 0.5 < metrics["macro_f1"] <= 1 and 0.5 < metrics["accuracy"] <= 1
    assert set(metrics["per_category"]) == set(metrics["labels"])
    assert {"precision", "recall", "f1", "support"} <= set(metrics["per_category"]["damaged"])
    matrix = metrics["confusion_matrix"]
    assert len(matrix) == len(metrics["labels"]) and sum(map(sum, matrix)) == meta["heldout_size"]


def test_saved_model_loads_and_predicts_like_the_original(seed_model, tmp_path):
    store = ModelStore(tmp_path)
    version = store.save(seed_model, {"created": "now"})
    assert store.load(version).predict(["快递太慢"])[0] == seed_model.predict(["快递太慢"])[0]


def test_active_pointer_is_replaced_whole(seed_model, tmp_path):
    store = ModelStore(tmp_path)
    first, second = store.save(seed_model, {}), store.save(seed_model, {})
    store.activate(first)
    store.activate(second)
    pointer = json.loads((tmp_path / "active.json").read_text())
    assert pointer["version"] == second and pointer["history"] == [first]
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete"])
def test_corrupt_or_missing_model_file_raises_model_load_error(seed_model, tmp_path, damage):
    store = ModelStore(tmp_path)
    version = store.save(seed_model, {})
    path = tmp_path / version / "model.joblib"
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not a model at all")
    else:
        path.unlink()
    with pytest.raises(ModelLoadError):
        store.load(version)


def test_rollback_returns_to_the_previous_active_version(seed_model, tmp_path):
    store = ModelStore(tmp_path)
    first, second, third = (store.save(seed_model, {}) for _ in range(3))
    for version in (first, second, third):
        store.activate(version)
    assert store.rollback() == second and store.active_version() == second
    assert store.rollback() == first
    with pytest.raises(UnknownVersionError):
        store.rollback()
    assert store.rollback(third) == third and store.active_version() == third
    with pytest.raises(UnknownVersionError):
        store.rollback("no-such-version")


def test_holdout_split_is_stable_and_keeps_a_fixed_share_of_the_seed():
    seed = load_seed()
    train, held_out = holdout_split(seed)
    again_train, again_held_out = holdout_split(list(reversed(seed)))
    assert {e.text for e in held_out} == {e.text for e in again_held_out}
    assert 0.08 < len(held_out) / len(seed) < 0.22
    assert not {fingerprint(e.text) for e in train} & {fingerprint(e.text) for e in held_out}


def test_gate_keeps_the_active_model_when_the_candidate_is_worse(seed_store_dir):
    store = ModelStore(seed_store_dir)
    active = store.active_version()
    # A nearly unregularised-to-zero model predicts almost one class: far lower macro-F1.
    worse = TrainingConfig(C=1e-5, calibration_folds=0)
    result = train_version(store, load_seed(), config=worse)
    assert not result.activated
    assert store.active_version() == active
    assert result.metadata["gate"]["candidate_macro_f1"] < result.metadata["gate"]["active_macro_f1"]
    assert "kept the active model" in result.reason
    # The page shows this very sentence in the reader's language (feedback.model_text).
    from django.utils import translation

    from feedback.model_text import gate_reason_text

    with translation.override("zh-hans"):
        assert gate_reason_text(result.reason).startswith("保留启用中的模型：宏平均 F1 ")
    with translation.override("en"):
        assert gate_reason_text(result.reason).startswith("Kept the active model: macro-F1 ")
    assert result.version in {m["version"] for m in store.versions()}  # stored, just not active


def test_forced_training_activates_a_worse_candidate(seed_store_dir):
    store = ModelStore(seed_store_dir)
    result = train_version(store, load_seed(), config=TrainingConfig(C=1e-5, calibration_folds=0), force=True)
    assert result.activated and store.active_version() == result.version
    assert "forced" in result.reason


def test_gate_promotes_an_equal_or_better_candidate(seed_store_dir):
    store = ModelStore(seed_store_dir)
    result = train_version(store, load_seed())  # same data and settings: same macro-F1, not lower
    assert result.activated, result.reason
    assert store.active_version() == result.version


def test_first_version_is_activated_without_a_gate(tmp_path):
    store = ModelStore(tmp_path)
    result = train_version(store, load_seed())
    assert result.activated and result.reason.startswith("no active model")


def test_gate_ignores_held_out_examples_the_active_model_trained_on(seed_store_dir):
    store = ModelStore(seed_store_dir)
    labels = [LabelledExample(f"第{i}次买的苹果又烂了{i}个", "damaged", "水果") for i in range(40)]
    first = train_version(store, load_seed() + labels, force=True)
    second = train_version(store, load_seed() + labels)
    # The first stored version learned its held-out labels; they no longer count in the comparison.
    _, held_out = holdout_split(load_seed() + labels)
    held_out_labels = [e for e in held_out if e.source == "label"]
    assert held_out_labels
    assert second.metadata["gate"]["evaluation_size"] == len(held_out) - len(held_out_labels)
    assert first.metadata["labelled_count"] == len(labels)


def test_model_is_a_triage_model_after_loading(seed_store_dir):
    store = ModelStore(seed_store_dir)
    assert isinstance(store.load(store.active_version()), TriageModel)


def test_version_metadata_records_the_held_out_threshold_curve(seed_store_dir):
    [meta] = ModelStore(seed_store_dir).versions()
    curve = meta["threshold_curve"]
    assert curve["grid"][0] == 0.4 and curve["grid"][-1] == 0.95 and len(curve["grid"]) == 12
    # Every held-out example is predicted as exactly one category.
    assert sum(entry["predicted"] for entry in curve["per_category"].values()) == meta["heldout_size"]
    for entry in curve["per_category"].values():
        applied = [point["applied"] for point in entry["points"]]
        assert applied == sorted(applied, reverse=True)  # a higher threshold never applies more
        assert all(point["correct"] <= point["applied"] <= entry["predicted"] for point in entry["points"])


def test_training_reports_its_phases_in_order(tmp_path):
    from feedback.classifiers.training import TRAINING_PHASES

    phases: list[str] = []

    def progress(done, total, stage):
        phase = stage.split(":", 1)[0]
        if not phases or phases[-1] != phase:
            phases.append(phase)

    train_version(ModelStore(tmp_path), load_seed(), unlabelled=[("快递太慢了", None)] * 3, progress=progress)
    assert phases == list(TRAINING_PHASES)
