import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from feedback.classification import clear_predictor_cache
from feedback.classifiers import ModelStore
from feedback.taxonomy import CATEGORY_CODES
from tests.classifier_fixtures import seed_model, seed_store_dir, seed_store_template  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
REQUESTS = [
    {"text": "快递一个星期了还没送到", "product": "水果", "id": 7},
    {"text": "收到的衣服颜色和图片差太多了"},
    {"text": "😡😡😡！！！"},
    {"text": "手機用了兩天就死機"},
]


@pytest.fixture
def model_dir(settings, seed_store_dir):
    settings.FEEDBACK_MODEL_DIR = seed_store_dir
    clear_predictor_cache()
    yield seed_store_dir
    clear_predictor_cache()


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def assert_classified(output: Path, requests) -> None:
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(requests)
    for row, request in zip(rows, requests):
        assert {k: row[k] for k in request} == request  # the input object comes back unchanged
        assert row["category"] in CATEGORY_CODES
        assert 0.0 <= row["confidence"] <= 1.0
        assert len(row["top"]) == 3 and row["top"][0] == [row["category"], row["confidence"]]
        assert all(code in CATEGORY_CODES and 0 <= p <= 1 for code, p in row["top"])


@pytest.mark.django_db
def test_classify_adds_category_confidence_and_top(model_dir, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", REQUESTS)
    call_command("classify", "--input", str(source), "--output", str(tmp_path / "out.jsonl"))
    assert_classified(tmp_path / "out.jsonl", REQUESTS)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["category"] == "logistics_delay"
    assert rows[2]["category"] == "other" and rows[2]["confidence"] <= 0.2


@pytest.mark.django_db
def test_classify_trains_the_seed_model_when_there_is_none(settings, tmp_path):
    settings.FEEDBACK_MODEL_DIR = tmp_path / "fresh"
    clear_predictor_cache()
    source = write_jsonl(tmp_path / "in.jsonl", REQUESTS[:1])
    call_command("classify", "--input", str(source), "--output", str(tmp_path / "out.jsonl"))
    assert ModelStore(tmp_path / "fresh").active_version() is not None
    assert_classified(tmp_path / "out.jsonl", REQUESTS[:1])
    clear_predictor_cache()


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["{not json", '{"product": "水果"}', '["text"]'])
def test_classify_rejects_a_malformed_line_naming_it(model_dir, tmp_path, bad):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "快递太慢"}\n' + bad + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2"):
        call_command("classify", "--input", str(source), "--output", str(tmp_path / "out.jsonl"))


@pytest.mark.django_db
def test_train_classifier_with_data_prints_metrics_and_the_decision(model_dir, tmp_path, capsys):
    data = write_jsonl(
        tmp_path / "labels.jsonl",
        [{"text": f"第{i}箱苹果到的时候烂了一大半", "category": "damaged", "product": "水果"} for i in range(30)],
    )
    before = ModelStore(model_dir).active_version()
    call_command("train_classifier", "--data", str(data), "--force", "--no-progress")
    out = capsys.readouterr().out
    assert "accuracy" in out and "macro-F1" in out and "damaged" in out
    assert "ACTIVATED" in out
    store = ModelStore(model_dir)
    assert store.active_version() != before
    assert store.metadata(store.active_version())["labelled_count"] == 30


@pytest.mark.django_db
def test_train_classifier_applies_the_gate_and_says_so(model_dir, capsys):
    call_command("train_classifier", "--no-progress")
    out = capsys.readouterr().out
    assert "ACTIVATED: passed the gate" in out or "NOT ACTIVATED: kept the active model" in out


@pytest.mark.django_db
def test_train_classifier_rejects_unknown_category_naming_the_line(model_dir, tmp_path):
    data = write_jsonl(tmp_path / "labels.jsonl", [{"text": "太慢", "category": "logistics_delay"}, {"text": "太贵", "category": "pricey"}])
    with pytest.raises(CommandError, match=r"line 2: unknown category code 'pricey'"):
        call_command("train_classifier", "--data", str(data), "--no-progress")


@pytest.mark.django_db
def test_train_classifier_rollback_and_list(model_dir, capsys):
    first = ModelStore(model_dir).active_version()
    call_command("train_classifier", "--force", "--no-progress")
    call_command("train_classifier", "--rollback")
    assert ModelStore(model_dir).active_version() == first
    capsys.readouterr()
    call_command("train_classifier", "--list")
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 2 and any(line.startswith(f"* {first}") for line in listing)


@pytest.mark.django_db
def test_evaluate_classifier_prints_accuracy_macro_f1_and_table(model_dir, tmp_path, capsys):
    data = write_jsonl(
        tmp_path / "eval.jsonl",
        [
            {"text": "快递一个星期了还没送到", "category": "logistics_delay"},
            {"text": "箱子压扁了，里面的橙子烂了一半", "category": "damaged", "product": "水果"},
            {"text": "客服一直不回复消息", "category": "service"},
        ],
    )
    call_command("evaluate_classifier", "--data", str(data), "--json", str(tmp_path / "m.json"))
    out = capsys.readouterr().out
    assert "accuracy" in out and "macro-F1" in out
    for code in CATEGORY_CODES:
        assert code in out
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["n"] == 3 and 0 <= metrics["macro_f1"] <= 1


@pytest.mark.django_db
def test_evaluate_classifier_rejects_malformed_line(model_dir, tmp_path):
    data = tmp_path / "eval.jsonl"
    data.write_text('{"text": "太慢", "category": "logistics_delay"}\n\n{oops\n', encoding="utf-8")
    with pytest.raises(CommandError, match="line 3"):
        call_command("evaluate_classifier", "--data", str(data))


def test_classify_runs_as_a_separate_process_with_feedback_model_dir(seed_store_dir, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", REQUESTS)
    env = {**os.environ, "FEEDBACK_MODEL_DIR": str(seed_store_dir), "VAR_DIR": str(tmp_path / "var")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    completed = subprocess.run(
        [sys.executable, "manage.py", "classify", "--input", str(source), "--output", str(tmp_path / "out.jsonl")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert_classified(tmp_path / "out.jsonl", REQUESTS)
    assert ModelStore(seed_store_dir).active_version() in completed.stderr


def test_bad_input_exits_non_zero_as_a_process(seed_store_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "好"}\n{broken\n', encoding="utf-8")
    env = {**os.environ, "FEEDBACK_MODEL_DIR": str(seed_store_dir), "VAR_DIR": str(tmp_path / "var")}
    completed = subprocess.run(
        [sys.executable, "manage.py", "classify", "--input", str(source), "--output", str(tmp_path / "out.jsonl")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode != 0 and "line 2" in completed.stderr
