"""Accuracy of the triage model on real complaints (../shared/data/complaints_dev.jsonl).

    .venv/bin/python benchmarks/classifier_accuracy.py [--no-pool]

Prints: cold start (seed corpus only, never trained on the dev file), 5-fold
cross-validation (seed + four folds, tested on the fifth) and a learning curve
(macro-F1 after 0, 100, 300 and all labelled examples, averaged over the folds).
The unlabelled pool (complaints_unlabeled.jsonl) is used, unless --no-pool, the
way production uses unconfirmed tickets: for the vocabulary and self-training.
The data is read at run time and never copied into the repository.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from feedback.classifiers import LabelledExample, TriageModel, classification_metrics, format_confusion, format_metrics, load_seed  # noqa: E402
from feedback.classifiers.model import prepare_documents  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def fit_and_score(train, train_docs, test, test_docs, pool_docs, labels):
    model = TriageModel().fit(train, documents=train_docs, pool_documents=pool_docs)
    predicted = [p.label for p in _predict_documents(model, test_docs)]
    return classification_metrics([e.category for e in test], predicted, labels), model


def _predict_documents(model: TriageModel, documents):
    return model.predict_documents(documents, explain=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-pool", action="store_true", help="do not use the unlabelled pool")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    seed = load_seed()
    dev_rows = read_jsonl(DATA / "complaints_dev.jsonl")
    dev = [LabelledExample(r["text"], r["category"], r.get("product") or "", "label") for r in dev_rows]
    pool_rows = [] if args.no_pool else read_jsonl(DATA / "complaints_unlabeled.jsonl")
    seed_docs = prepare_documents([e.text for e in seed], [e.product for e in seed])
    dev_docs = prepare_documents([e.text for e in dev], [e.product for e in dev])
    pool_docs = prepare_documents([r["text"] for r in pool_rows], [r.get("product") for r in pool_rows])
    labels = TriageModel().labels
    print(f"seed {len(seed)} examples, dev {len(dev)}, unlabelled pool {len(pool_rows)} ({'used' if pool_rows else 'not used'})")

    cold, cold_model = fit_and_score(seed, seed_docs, dev, dev_docs, pool_docs, labels)
    print("\n== Cold start: seed corpus only, tested on complaints_dev.jsonl ==")
    print(format_metrics(cold))
    print("confusion matrix (rows true, columns predicted):")
    print("\n".join(f"   {i} = {label}" for i, label in enumerate(labels)))
    print(format_confusion(cold))

    y = np.array([e.category for e in dev])
    splitter = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    curve: dict[str, list[float]] = {"0": [], "100": [], "300": [], "all": []}
    predicted_all: list[str | None] = [None] * len(dev)
    for fold, (train_index, test_index) in enumerate(splitter.split(np.zeros(len(y)), y), start=1):
        test = [dev[i] for i in test_index]
        test_docs = [dev_docs[i] for i in test_index]
        rng = random.Random(fold)
        order = list(train_index)
        rng.shuffle(order)
        for size in ("0", "100", "300", "all"):
            chosen = order if size == "all" else order[: int(size)]
            train = seed + [dev[i] for i in chosen]
            train_docs = seed_docs + [dev_docs[i] for i in chosen]
            if size == "0":
                metrics = cold
                if fold > 1:
                    curve[size].append(classification_metrics([e.category for e in test], [p.label for p in _predict_documents(cold_model, test_docs)], labels)["macro_f1"])
                    continue
                metrics = classification_metrics([e.category for e in test], [p.label for p in _predict_documents(cold_model, test_docs)], labels)
            else:
                metrics, model = fit_and_score(train, train_docs, test, test_docs, pool_docs, labels)
                if size == "all":
                    for i, p in zip(test_index, _predict_documents(model, test_docs)):
                        predicted_all[i] = p.label
            curve[size].append(metrics["macro_f1"])
        print(f"fold {fold}: macro-F1 " + ", ".join(f"{k}={v[-1]:.3f}" for k, v in curve.items()), flush=True)

    cv = classification_metrics(list(y), predicted_all, labels)
    print(f"\n== {args.folds}-fold cross-validation: seed + {args.folds - 1} folds, tested on the held-out fold (pooled) ==")
    print(format_metrics(cv))
    print("\n== Learning curve: macro-F1 on the held-out fold, mean over folds ==")
    print(f"{'labelled examples':<20}{'macro-F1':>10}")
    sizes = {"0": 0, "100": 100, "300": 300, "all": int(len(dev) * (args.folds - 1) / args.folds)}
    for key, values in curve.items():
        print(f"{sizes[key]:<20}{np.mean(values):>10.4f}")
    print(f"\nsummary: cold start macro-F1 {cold['macro_f1']:.4f} accuracy {cold['accuracy']:.4f}; "
          f"{args.folds}-fold CV macro-F1 {cv['macro_f1']:.4f} accuracy {cv['accuracy']:.4f}; "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
