"""Can the app name a ticket's second problem ("also") reliably? A screen on the dev file's `also` labels.

    .venv/bin/python benchmarks/also_screen.py [--train-also]

Issue 13 asks to show a second category when it is close and let the issue library count the
ticket under it. `Prediction.also` (runner-up at least half as likely) names one of the text's
labelled other problems for only ~12 % of the tickets it is shown on (classifier_accuracy.py). This
screen asks whether a detector made for the job does better: one-vs-rest logistic regression per
category (character 1-3-gram TF-IDF, balanced classes) trained on the seed corpus plus four fifths
of the dev file, scored on the fifth; the second problem is the most probable category other than
the main one, shown when its probability reaches t. Two settings:

- default: trained on single labels, as the app's agents give them (the app has no "also" input);
- --train-also: the dev file's `also` labels are extra positives in training (what the app could
  learn if agents marked a second category).

Each is scored twice: against the true main category (the detector alone) and against the model's
own top category (what a user would see). Every t is printed; nothing is chosen on the test folds.
The data is read at run time and never copied into the repository.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedback.classifiers.model import TriageModel  # noqa: E402
from feedback.classifiers.seed import load_seed  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-also", action="store_true", help="use the dev file's also labels as extra positives")
    options = parser.parse_args()

    with (DATA / "complaints_dev.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    labels = TriageModel().labels
    texts = [row["text"] for row in rows]
    y = np.array([labels.index(row["category"]) for row in rows])
    also = [{labels.index(a) for a in row.get("also") or []} for row in rows]
    seed = load_seed()
    seed_texts, seed_y = [e.text for e in seed], np.array([labels.index(e.category) for e in seed])

    def targets(main: np.ndarray, extra: list[set[int]]) -> np.ndarray:
        matrix = np.zeros((len(main), len(labels)), dtype=int)
        matrix[np.arange(len(main)), main] = 1
        if options.train_also:
            for i, others in enumerate(extra):
                matrix[i, list(others)] = 1
        return matrix

    probabilities = np.zeros((len(rows), len(labels)))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=100).split(texts, y):
        matrix = np.vstack([targets(seed_y, [set()] * len(seed_y)), targets(y[train], [also[i] for i in train])])
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
        features = vectorizer.fit_transform(seed_texts + [texts[i] for i in train])
        test_features = vectorizer.transform([texts[i] for i in test])
        for c in range(len(labels)):
            model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced").fit(features, matrix[:, c])
            probabilities[test, c] = model.predict_proba(test_features)[:, 1]

    predicted = probabilities.argmax(axis=1)
    print(f"training: {'single labels + also labels' if options.train_also else 'single labels (as agents give them)'}")
    print(f"dev tickets {len(rows)}, with a labelled second problem {sum(bool(a) for a in also)}; "
          f"one-vs-rest top-1 accuracy {(predicted == y).mean():.3f}")
    for title, main_category in (("against the true main category", y), ("against the model's top category", predicted)):
        others = probabilities.copy()
        others[np.arange(len(rows)), main_category] = -1.0
        candidate, score = others.argmax(axis=1), others.max(axis=1)
        right = np.array([candidate[i] in also[i] for i in range(len(rows))])
        print(f"-- {title}")
        for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            shown = score >= t
            precision = f"{right[shown].mean():6.1%}" if shown.any() else "     -"
            print(f"   t={t:.1f}: shown on {shown.mean():6.1%}, precision {precision}, labelled second problems found {int(right[shown].sum())}")


if __name__ == "__main__":
    main()
