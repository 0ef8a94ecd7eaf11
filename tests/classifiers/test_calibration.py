"""Confidences that mean what they say, checked on synthetic data whose accuracy is known."""
import random

import numpy as np
import pytest

from feedback.classifiers import TriageModel
from feedback.classifiers.seed import SOURCE_LABEL, SOURCE_SEED, LabelledExample

# Three categories, each with its own words; a share of the labels is flipped, so no model can be
# much more than (1 - flip) accurate and a calibrated one must say so.
WORDS = {
    "logistics_delay": ["快递", "物流", "配送", "延误", "发货", "送达", "运输", "驿站"],
    "damaged": ["破损", "压坏", "漏液", "裂开", "碎了", "变形", "凹陷", "划痕"],
    "counterfeit": ["假货", "山寨", "仿品", "高仿", "翻新", "二手", "冒牌", "正品"],
}
FILLER = ["这次", "真的", "收到", "东西", "商家", "一下", "感觉", "我们", "今天", "还是", "觉得", "已经"]
LABELS = list(WORDS)


def synthetic(count: int, flip: float, rng: random.Random, source: str) -> list[LabelledExample]:
    examples = []
    for _ in range(count):
        truth = rng.choice(LABELS)
        words = rng.sample(WORDS[truth], 2) + rng.sample(FILLER, 4)
        rng.shuffle(words)
        label = rng.choice([c for c in LABELS if c != truth]) if rng.random() < flip else truth
        examples.append(LabelledExample("".join(words), label, "", source))
    return examples


def mean_confidence_and_accuracy(model: TriageModel, examples: list[LabelledExample]) -> tuple[float, float]:
    probabilities = model.predict_proba([e.text for e in examples])
    predicted = [model.labels[i] for i in probabilities.argmax(axis=1)]
    accuracy = float(np.mean([p == e.category for p, e in zip(predicted, examples)]))
    return float(probabilities.max(axis=1).mean()), accuracy


def test_confidence_matches_accuracy_when_calibrated_on_noisy_real_labels():
    rng = random.Random(3)
    model = TriageModel(labels=LABELS).fit(synthetic(600, 0.25, rng, SOURCE_LABEL))
    assert model.report.calibration == "labels"
    confidence, accuracy = mean_confidence_and_accuracy(model, synthetic(600, 0.25, rng, SOURCE_LABEL))
    # Clean text, a quarter of the labels wrong: about 75% right, and the model should say about 75%.
    assert accuracy == pytest.approx(0.75, abs=0.06)
    assert confidence == pytest.approx(accuracy, abs=0.06)


def test_an_uncalibrated_fit_on_the_same_data_is_overconfident():
    # The check above can fail: the same model with a fixed temperature claims far more than it gets right.
    rng = random.Random(3)
    model = TriageModel(labels=LABELS).fit(synthetic(600, 0.25, rng, SOURCE_LABEL), temperature=20.0)
    confidence, accuracy = mean_confidence_and_accuracy(model, synthetic(600, 0.25, rng, SOURCE_LABEL))
    assert confidence - accuracy > 0.15


def test_seed_only_model_with_a_pool_takes_its_confidence_from_view_agreement():
    rng = random.Random(5)
    seed = synthetic(300, 0.0, rng, SOURCE_SEED)
    pool = [(e.text, None) for e in synthetic(400, 0.0, rng, SOURCE_SEED)]
    model = TriageModel(labels=LABELS).fit(seed, unlabelled=pool)
    assert model.report.calibration == "pool agreement"
    # Clean synthetic text: both views agree on nearly every pool text, so the model is confident.
    assert model.predict_proba([t for t, _ in pool]).max(axis=1).mean() > 0.9


def test_seed_only_model_without_a_pool_calibrates_on_the_seed_corpus():
    rng = random.Random(5)
    model = TriageModel(labels=LABELS).fit(synthetic(300, 0.1, rng, SOURCE_SEED))
    assert model.report.calibration == "seed"
    assert model.temperature > 0


def test_confidence_map_bends_confidences_but_never_changes_the_winner():
    from scipy.special import softmax

    model = TriageModel(labels=LABELS)
    model.temperature = 1.0
    scores = np.random.default_rng(0).normal(size=(2000, 3)) * 3
    model._decision = lambda X: scores  # the scores of 2,000 imaginary tickets
    model.confidence_map = (np.array([0.34, 0.6, 0.9, 1.0]), np.array([0.2, 0.3, 0.5, 0.6]))
    raw, mapped = softmax(scores, axis=1), model._probabilities(None)
    assert (raw.argmax(axis=1) == mapped.argmax(axis=1)).all()
    assert np.allclose(mapped.sum(axis=1), 1.0)
    # A raw 0.9 is right half the time in this map, so it now says about 0.5.
    near = np.abs(raw.max(axis=1) - 0.9) < 0.005
    assert near.any() and np.allclose(mapped.max(axis=1)[near], 0.5, atol=0.02)


def test_label_calibration_fits_a_confidence_map_and_seed_calibration_does_not():
    rng = random.Random(3)
    labelled = TriageModel(labels=LABELS).fit(synthetic(600, 0.25, rng, SOURCE_LABEL))
    assert labelled.confidence_map is not None
    seed_only = TriageModel(labels=LABELS).fit(synthetic(300, 0.1, rng, SOURCE_SEED))
    assert seed_only.confidence_map is None
