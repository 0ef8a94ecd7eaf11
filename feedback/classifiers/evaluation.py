"""Metrics for the triage model: accuracy, macro-F1, per-category table, confusion matrix."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .model import Prediction, TriageModel
from .seed import LabelledExample


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Return accuracy, macro-F1 (over categories present), per-category P/R/F1 and the confusion matrix."""
    if not y_true:
        return {"n": 0, "accuracy": None, "macro_f1": None, "per_category": {}, "labels": list(labels), "confusion_matrix": []}
    # Imported here: a worker that only predicts never loads scikit-learn (~40 MB resident).
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        # Only categories that occur count: an evaluation set without `service` must not score 0 for it.
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4),
        "per_category": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": labels,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def predict_examples(model: TriageModel, examples: Sequence[LabelledExample], batch_size: int = 2000) -> list[Prediction]:
    """Predict labelled examples in batches (without explanations)."""
    predictions: list[Prediction] = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        predictions += model.predict([e.text for e in chunk], [e.product for e in chunk], explain=False)
    return predictions


def evaluate_model(model: TriageModel, examples: Sequence[LabelledExample], batch_size: int = 2000) -> dict[str, Any]:
    """Predict labelled examples with a model and return classification_metrics."""
    predicted = [p.label for p in predict_examples(model, examples, batch_size)]
    return classification_metrics([e.category for e in examples], predicted, model.labels)


# Candidate thresholds the model page shows a trade-off for (and training records on the held-out split).
THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.40 + 0.05 * step, 2) for step in range(12))


def threshold_curve(
    rows: Iterable[tuple[str, float, str]], grid: Sequence[float] = THRESHOLD_GRID
) -> dict[str, dict[str, Any]]:
    """Count, per predicted category and candidate threshold, the predictions that clear it and the right ones.

    ``rows`` are (predicted label, confidence, true label). A prediction clears ``t`` when
    confidence >= t, as the triage gate decides. Returns {label: {"predicted": n,
    "points": [{"threshold": t, "applied": k, "correct": m}, ...]}}: the auto-apply share at t
    is k / n and the precision of what is applied is m / k.
    """
    grid = list(grid)
    curve: dict[str, dict[str, Any]] = {}
    for label, confidence, truth in rows:
        entry = curve.get(label)
        if entry is None:
            entry = curve[label] = {
                "predicted": 0, "points": [{"threshold": t, "applied": 0, "correct": 0} for t in grid]
            }
        entry["predicted"] += 1
        for point in entry["points"]:
            if confidence >= point["threshold"]:
                point["applied"] += 1
                point["correct"] += label == truth
    return curve


def format_metrics(metrics: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """Render metrics as a plain-text table for the terminal."""
    names = names or {}
    if not metrics.get("n"):
        return "no evaluation examples"
    lines = [
        f"examples: {metrics['n']}   accuracy: {metrics['accuracy']:.4f}   macro-F1: {metrics['macro_f1']:.4f}",
        "",
        f"{'category':<24}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
    ]
    for label, row in metrics["per_category"].items():
        title = f"{label} {names.get(label, '')}".strip()
        lines.append(
            f"{title:<24}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>10d}"
        )
    return "\n".join(lines)


def format_confusion(metrics: dict[str, Any]) -> str:
    """Render the confusion matrix (rows: true category, columns: predicted, in label order)."""
    labels = metrics.get("labels", [])
    matrix = np.asarray(metrics.get("confusion_matrix") or np.zeros((len(labels), len(labels)), dtype=int))
    width = max(4, *(len(str(v)) + 1 for v in matrix.flatten())) if matrix.size else 4
    header = " " * 22 + "".join(f"{i:>{width}d}" for i in range(len(labels)))
    rows = [f"{i:>2d} {label:<19}" + "".join(f"{v:>{width}d}" for v in matrix[i]) for i, label in enumerate(labels)]
    return "\n".join([header, *rows])
