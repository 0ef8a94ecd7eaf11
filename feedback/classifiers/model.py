"""The triage estimator: linear SVM over TF-IDF features, temperature-calibrated, self-explaining."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.special import log_softmax, softmax

from feedback.taxonomy import CATEGORY_CODES

from .features import Document, Featurizer, WordVectors, make_documents
from .seed import SOURCE_SEED, LabelledExample

logger = logging.getLogger(__name__)

FALLBACK_LABEL = "other"
TOP_K = 3
MIN_POOL = 200
MIN_REAL_FOR_CALIBRATION = 50
TERMS_K = 5
# A second category is shown ("also") when its probability is at least this share of the first's.
# Chosen from the taxonomy's hard cases (a fake that is also broken), not tuned on evaluation data.
ALSO_RATIO = 0.5

# progress(done, total, stage): lets a command draw a bar without this package knowing about tqdm.
Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, stage: str) -> None:
    return None


def prepare_documents(
    texts: Sequence[str], products: Sequence[str | None] | None = None, progress: Progress | None = None
) -> list[Document]:
    """Prepare many texts in chunks, reporting progress (jieba dominates training time)."""
    progress = progress or _no_progress
    documents: list[Document] = []
    products = list(products) if products is not None else [None] * len(texts)
    chunk = 500
    for offset in range(0, len(texts), chunk):
        documents += make_documents(texts[offset : offset + chunk], products[offset : offset + chunk])
        progress(min(len(texts), offset + chunk), len(texts), "preparing text")
    return documents


@dataclass(frozen=True, slots=True)
class Prediction:
    """A category with its calibrated probability, the top three, and the words that pushed it."""

    label: str
    confidence: float
    top: list[tuple[str, float]]
    terms: list[tuple[str, float]]
    # True when nothing was left to classify (only emoji or punctuation): a fallback, not a judgement.
    empty: bool = False
    # The runner-up category when it is nearly as likely as the first (see ALSO_RATIO), else None:
    # many complaints are two things at once (a fake that also arrived broken).
    also: str | None = None


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of a fit.

    label_weight, pseudo_weight, pseudo_margin and char_weight were first picked on
    complaints_dev.jsonl itself. benchmarks/classifier_accuracy.py now chooses among a few
    candidates inside the training folds only (nested); these defaults won in 3 of 5 folds
    (seed_weight 0.5 in the others, within 0.004 macro-F1), so they stay.
    """

    C: float = 0.5
    # Agents' labels describe real tickets; the seed corpus only imitates them.
    seed_weight: float = 1.0
    label_weight: float = 1.5
    # Self-training: unlabelled tickets get the model's own label at this weight.
    pseudo_weight: float = 0.4
    # Pseudo-labels whose top-1 score beats the top-2 by no more than this are left out (0: keep all).
    pseudo_margin: float = 0.25
    # Co-training: a pseudo-label is kept only if a words-only and a characters-only model agree with it.
    co_training: bool = False
    self_training_rounds: int = 1
    # Rounds for a model with fewer than MIN_REAL_FOR_CALIBRATION agents' labels (the seed-only model):
    # with the word vectors, a second round lifted cold start macro-F1 0.625 -> 0.632 (nested, issue 13).
    # Not measured with labels (training time on 20,000 labels), so those keep one round.
    seed_only_rounds: int = 2
    min_df: int = 2
    max_features: int = 250_000
    char_weight: float = 1.3
    # Word vectors trained on the unlabelled pool (gensim word2vec), appended as dense features;
    # 0: none. Only when the pool has at least MIN_POOL tickets. Measured in the nested benchmark
    # (issue 13): cold start macro-F1 0.608 -> 0.625, 5-fold CV 0.687 -> 0.696, ECE 0.037 -> 0.014.
    vector_dim: int = 100
    vector_weight: float = 0.5
    calibration_folds: int = 3
    random_state: int = 0


@dataclass
class TrainingReport:
    """What a fit saw, for the version's metadata."""

    n_examples: int = 0
    n_seed: int = 0
    n_labelled: int = 0
    n_unlabelled: int = 0
    n_features: int = 0
    temperature: float = 1.0
    # How the temperature was chosen: "labels" (out-of-fold on agents' labels), "pool agreement"
    # (seed-only model with an unlabelled pool), "seed" (out-of-fold on the seed corpus) or "given".
    calibration: str = ""
    per_category: dict[str, int] = field(default_factory=dict)


# The last pool's word vectors: the benchmark and train_version fit many models on one pool.
_VECTOR_CACHE: list = []


def _pool_vectors(pool_documents: Sequence[Document], config: TrainingConfig) -> WordVectors:
    """Train word vectors on the unlabelled pool (no labels involved), reusing them for the same pool."""
    key = (config.vector_dim, config.vector_weight, config.random_state)
    if _VECTOR_CACHE and _VECTOR_CACHE[0] is pool_documents and _VECTOR_CACHE[1] == key:
        return _VECTOR_CACHE[2]
    vectors = WordVectors.train(
        pool_documents, dim=config.vector_dim, weight=config.vector_weight, seed=config.random_state
    )
    _VECTOR_CACHE[:] = [pool_documents, key, vectors]
    return vectors


def also_labels(probabilities: np.ndarray, labels: Sequence[str], ratio: float = ALSO_RATIO) -> list[str | None]:
    """Return, per row, the runner-up label when its probability is >= ratio x the top one's, else None."""
    if not len(probabilities):
        return []
    order = np.argsort(-probabilities, axis=1)[:, :2]
    first = np.take_along_axis(probabilities, order[:, :1], axis=1)[:, 0]
    second = np.take_along_axis(probabilities, order[:, 1:2], axis=1)[:, 0]
    close = second >= ratio * first
    return [labels[index] if is_close else None for index, is_close in zip(order[:, 1].tolist(), close.tolist())]


def without_fragments(terms: list[tuple[str, float]], k: int) -> list[tuple[str, float]]:
    """Keep the ``k`` strongest terms that do not repeat one another, strongest first.

    A term inside a stronger one is left out (慢 beside 太慢, 订 beside 订单), and so is a phrase
    holding a stronger word (快递 太慢 beside 快递); a word takes the place of a single character
    it holds (送到 for 送), which is readable only in it.
    """
    kept: list[tuple[str, float]] = []
    for term, weight in terms:
        if any(term in other for other, _ in kept):
            continue
        inside = [other for other, _ in kept if other in term]
        if inside and any(len(other) > 1 for other in inside):
            continue
        kept = [pair for pair in kept if pair[0] not in inside] + [(term, weight)]
    return sorted(kept, key=lambda pair: -pair[1])[:k]


class TriageModel:
    """Classify complaint texts into taxonomy codes; predict(texts, products) -> list[Prediction]."""

    # Isotonic map of the top probability to how often such predictions were right out of fold
    # (knots x, y), fitted on agents' labels; None: the temperature alone. A class attribute, so
    # models pickled before it existed load with None.
    confidence_map: tuple[np.ndarray, np.ndarray] | None = None

    def __init__(self, config: TrainingConfig | None = None, labels: Sequence[str] = CATEGORY_CODES) -> None:
        self.config = config or TrainingConfig()
        self.labels: list[str] = list(labels)
        self.featurizer = Featurizer()
        self.weights = np.zeros((0, len(self.labels)), dtype=np.float32)  # features x labels
        self.intercept = np.zeros(len(self.labels), dtype=np.float32)
        self.temperature = 1.0
        self.confidence_map = None
        self.report = TrainingReport()
        # Set by ModelStore.load: which stored version this is ("" for a model never stored).
        self.version = ""

    # --- training ---
    def fit(
        self,
        examples: Sequence[LabelledExample],
        *,
        unlabelled: Sequence[tuple[str, str | None]] = (),
        progress: Progress | None = None,
        documents: Sequence[Document] | None = None,
        pool_documents: Sequence[Document] | None = None,
        temperature: float | None = None,
    ) -> TriageModel:
        """Train on labelled examples plus optional unlabelled (text, product) pairs.

        Callers that fit several models on the same texts pass already prepared
        `documents` / `pool_documents`, and may pass a known `temperature`.
        """
        progress = progress or _no_progress
        if not examples:
            raise ValueError("cannot train on no examples")
        unknown = {example.category for example in examples} - set(self.labels)
        if unknown:
            raise ValueError(f"unknown categories in training data: {sorted(unknown)}")
        config = self.config
        if documents is None:
            documents = prepare_documents([e.text for e in examples], [e.product for e in examples])
        if pool_documents is None:
            pool_documents = prepare_documents([t for t, _ in unlabelled], [p for _, p in unlabelled])
        pool = [d for d in pool_documents if not d.empty]
        # Self-training on a handful of tickets only adds noise.
        n_real = sum(e.source != SOURCE_SEED for e in examples)
        rounds = config.self_training_rounds if n_real >= MIN_REAL_FOR_CALIBRATION else config.seed_only_rounds
        rounds = rounds if len(pool) >= MIN_POOL else 0
        folds = 0 if temperature is not None else config.calibration_folds
        total = 2 + folds + 1 + rounds
        y = np.array([self.labels.index(e.category) for e in examples])
        sample_weight = np.array(
            [config.seed_weight if e.source == SOURCE_SEED else config.label_weight for e in examples]
        )
        progress(0, total, "vocabulary")
        # min_df=2 keeps the vocabulary (and the worker's memory) small once there is enough text.
        min_df = config.min_df if len(documents) + len(pool) >= 2000 else 1
        vectors = _pool_vectors(pool_documents, config) if config.vector_dim and len(pool) >= MIN_POOL else None
        self.featurizer = Featurizer(
            min_df=min_df, max_features=config.max_features, char_weight=config.char_weight, vectors=vectors
        )
        self.featurizer.fit([d for d in list(documents) + pool if not d.empty])
        X = self.featurizer.transform(documents)
        progress(1, total, "calibration")
        is_real = np.array([e.source != SOURCE_SEED for e in examples])
        X_pool = self.featurizer.transform(pool) if pool else None
        if temperature is not None:
            self.temperature, calibration = temperature, "given"
        elif is_real.sum() >= MIN_REAL_FOR_CALIBRATION:
            self.temperature = self._fit_temperature(
                X, y, sample_weight, is_real, X_pool, rounds, lambda step: progress(1 + step, total, "calibration")
            )
            calibration = "labels"
        else:
            calibration = ""  # decided after the fit, below
        step = 1 + folds
        progress(step, total, "fit")
        self._train(X, y, sample_weight, X_pool, rounds, lambda done: progress(step + 1 + done, total, f"self-training {done + 1}"))
        if not calibration:
            if X_pool is not None and len(pool) >= MIN_POOL and len(set(y)) > 1:
                self.temperature = self._pool_agreement_temperature(X, y, sample_weight, X_pool)
                calibration = "pool agreement"
            else:
                self.temperature = self._fit_temperature(X, y, sample_weight, is_real, X_pool, rounds, lambda step: None)
                calibration = "seed"
        progress(total, total, "done")
        self.report = TrainingReport(
            n_examples=len(examples),
            n_seed=sum(e.source == SOURCE_SEED for e in examples),
            n_labelled=sum(e.source != SOURCE_SEED for e in examples),
            n_unlabelled=len(pool),
            n_features=self.featurizer.n_features,
            temperature=self.temperature,
            calibration=calibration,
            per_category={label: int((y == i).sum()) for i, label in enumerate(self.labels)},
        )
        return self

    def _train(self, X, y: np.ndarray, sample_weight: np.ndarray, X_pool, rounds: int, step: Callable[[int], None]) -> None:
        """Fit on the labelled rows, then `rounds` of self-training on the pool's confident guesses."""
        config = self.config
        self._fit_linear(X, y, sample_weight)
        for round_number in range(rounds if X_pool is not None else 0):
            step(round_number)
            scores = self._decision(X_pool)
            pseudo = scores.argmax(axis=1)
            X_kept = X_pool
            if config.pseudo_margin > 0:
                # Only tickets the model separates clearly (top-1 minus top-2 score) teach it.
                ranked = np.sort(scores, axis=1)
                keep = (ranked[:, -1] - ranked[:, -2]) > config.pseudo_margin
                if config.co_training:
                    words_view, chars_view = self._view_predictions(X, y, sample_weight, X_pool)
                    keep &= (words_view == pseudo) & (chars_view == pseudo)
                X_kept, pseudo = X_pool[keep], pseudo[keep]
            self._fit_linear(
                sp.vstack([X, X_kept]).tocsr(),
                np.concatenate([y, pseudo]),
                np.concatenate([sample_weight, np.full(X_kept.shape[0], config.pseudo_weight)]),
            )

    def _estimator(self):
        # scikit-learn is needed to train, not to predict: a worker that only predicts
        # never imports it (~40 MB resident, benchmarks/classifier_bench.py).
        from sklearn.svm import LinearSVC

        # Balanced class weights: the seed is balanced but real queues are not, and macro-F1 counts rare classes.
        return LinearSVC(C=self.config.C, class_weight="balanced", max_iter=5000, random_state=self.config.random_state)

    def _fit_linear(self, X, y: np.ndarray, sample_weight: np.ndarray) -> None:
        estimator = self._estimator().fit(X, y, sample_weight=sample_weight)
        weights = np.zeros((X.shape[1], len(self.labels)), dtype=np.float32)
        intercept = np.full(len(self.labels), -10.0, dtype=np.float32)  # labels absent from training stay unlikely
        coef, bias = estimator.coef_, estimator.intercept_
        if len(estimator.classes_) == 2:  # a binary LinearSVC has one hyperplane: make it two
            coef, bias = np.vstack([-coef[0], coef[0]]), np.array([-bias[0], bias[0]])
        for column, label_index in enumerate(estimator.classes_):
            weights[:, label_index] = coef[column]
            intercept[label_index] = bias[column]
        self.weights = weights
        self.intercept = intercept

    def _fit_temperature(
        self,
        X,
        y: np.ndarray,
        sample_weight: np.ndarray,
        is_real: np.ndarray,
        X_pool,
        rounds: int,
        step: Callable[[int], None],
    ) -> float:
        """Fit the softmax temperature on out-of-fold decision values (SVM scores are not probabilities).

        Scored on real labelled tickets when there are enough; the seed corpus alone
        is far easier than real tickets and would make the model overconfident. Each
        fold model self-trains like the final one: self-training widens the scores
        (measured: without it in the folds, 5-fold CV confidences of 0.9-1.0 were right
        84% of the time, ECE 0.15).
        """
        from scipy.optimize import minimize_scalar
        from sklearn.model_selection import StratifiedKFold

        folds = self.config.calibration_folds
        counts = np.bincount(y)
        if folds < 2 or counts[counts > 0].min() < folds or len(set(y)) < 2:
            return 1.0
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.config.random_state)
        scores = np.zeros((len(y), len(self.labels)))
        # The fold models borrow self.weights; whatever was fitted before comes back afterwards.
        fitted = (self.weights, self.intercept)
        for fold, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
            self._train(X[train], y[train], sample_weight[train], X_pool, rounds, lambda done: None)
            scores[test] = self._decision(X[test])
            step(fold + 1)
        self.weights, self.intercept = fitted

        rows = np.flatnonzero(is_real) if is_real.sum() >= MIN_REAL_FOR_CALIBRATION else np.arange(len(y))

        def loss(log_scale: float) -> float:
            return -log_softmax(scores[rows] * np.exp(log_scale), axis=1)[np.arange(len(rows)), y[rows]].mean()

        temperature = float(np.exp(minimize_scalar(loss, bounds=(-3.0, 4.0), method="bounded").x))
        if len(rows) >= MIN_REAL_FOR_CALIBRATION and is_real[rows].all():
            self._fit_confidence_map(softmax(scores[rows] * temperature, axis=1), y[rows])
        return temperature

    def _fit_confidence_map(self, probabilities: np.ndarray, y: np.ndarray) -> None:
        """Map the top probability to the share of such out-of-fold predictions that were right.

        One temperature cannot fix both ends: after it, unsure predictions were still right
        more often than they said and sure ones less (ECE 0.06 in 5-fold CV). Isotonic
        regression bends the curve without changing which category wins.
        """
        from sklearn.isotonic import IsotonicRegression

        top = probabilities.max(axis=1)
        correct = (probabilities.argmax(axis=1) == y).astype(np.float64)
        isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(top, correct)
        self.confidence_map = (
            np.asarray(isotonic.X_thresholds_, dtype=np.float64),
            np.asarray(isotonic.y_thresholds_, dtype=np.float64),
        )

    def _pool_agreement_temperature(self, X, y: np.ndarray, sample_weight: np.ndarray, X_pool) -> float:
        """Choose the temperature of a model without real labels from the unlabelled pool.

        Out-of-fold scores on the seed corpus are far too confident for real tickets (the seed
        is easier), and there is no real label to calibrate on. Two weaker models, one on the
        words and one on the character n-grams, are trained on the same examples; how often
        they agree on the pool stands in for the accuracy to expect there, and the temperature
        makes the model's mean confidence on the pool equal to it. (Correlated errors make the
        agreement too high, the views being weaker than the whole model makes it too low.)
        """
        from scipy.optimize import brentq

        words_view, chars_view = self._view_predictions(X, y, sample_weight, X_pool)
        agreement = float(np.clip((words_view == chars_view).mean(), 1.0 / len(self.labels) + 0.01, 0.99))
        scores = self._decision(X_pool).astype(np.float64)

        def gap(temperature: float) -> float:
            return float(softmax(scores * temperature, axis=1).max(axis=1).mean()) - agreement

        low, high = 1e-3, 200.0
        if gap(low) > 0:
            return low
        if gap(high) < 0:
            return high
        return float(brentq(gap, low, high, xtol=1e-3))

    def _view_predictions(self, X, y: np.ndarray, sample_weight: np.ndarray, X_pool) -> tuple[np.ndarray, np.ndarray]:
        """Fit one model on the word columns only and one on the character columns only; label the pool."""
        n_words, n_sparse = len(self.featurizer.word_vocabulary), self.featurizer.n_sparse
        views = []
        for keep_words in (True, False):
            mask = np.zeros(X.shape[1], dtype=np.float32)
            if keep_words:  # words, bigrams, the product and the word vectors
                mask[:n_words] = 1.0
                mask[n_sparse:] = 1.0
            else:
                mask[n_words:n_sparse] = 1.0
            column_mask = sp.diags(mask)
            estimator = self._estimator().fit((X @ column_mask).tocsr(), y, sample_weight=sample_weight)
            decision = np.asarray(estimator.decision_function((X_pool @ column_mask).tocsr()))
            chosen = (decision > 0).astype(int) if decision.ndim == 1 else decision.argmax(axis=1)
            views.append(estimator.classes_[chosen])
        return views[0], views[1]

    # --- prediction ---
    def _decision(self, X) -> np.ndarray:
        return np.asarray(X @ self.weights) + self.intercept

    def predict_proba(self, texts: Sequence[str], products: Sequence[str | None] | None = None) -> np.ndarray:
        """Return calibrated probabilities, one row per text, columns in self.labels order."""
        return self.predict_proba_documents(make_documents(texts, products))

    def predict_proba_documents(self, documents: Sequence[Document]) -> np.ndarray:
        """Return calibrated probabilities for already prepared documents (float64, labels order)."""
        if not documents:
            return np.zeros((0, len(self.labels)))
        X = self.featurizer.transform(documents)
        return self._probabilities(X)

    def _probabilities(self, X) -> np.ndarray:
        """Softmax of the temperature-scaled scores, then the isotonic confidence map if there is one."""
        probabilities = softmax(self._decision(X).astype(np.float64) * self.temperature, axis=1)
        if self.confidence_map is None or not len(probabilities):
            return probabilities
        rows = np.arange(len(probabilities))
        order = np.argsort(-probabilities, axis=1)[:, :2]
        top, second = probabilities[rows, order[:, 0]], probabilities[rows, order[:, 1]]
        mapped = np.interp(top, *self.confidence_map)
        # The winner stays the winner: never below the runner-up once the others are rescaled.
        mapped = np.minimum(np.maximum(mapped, second / np.maximum(1.0 - top + second, 1e-12) + 1e-6), 1.0)
        others = (1.0 - mapped) / np.maximum(1.0 - top, 1e-12)
        probabilities = probabilities * others[:, None]
        probabilities[rows, order[:, 0]] = mapped
        return probabilities

    def predict(
        self, texts: Sequence[str], products: Sequence[str | None] | None = None, *, explain: bool = True
    ) -> list[Prediction]:
        """Classify texts; empty text (only emoji or punctuation) gets `other` with low confidence."""
        return self.predict_documents(make_documents(list(texts), products), explain=explain)

    def predict_documents(self, documents: Sequence[Document], *, explain: bool = True) -> list[Prediction]:
        """Classify already prepared documents (see features.make_documents).

        explain=False leaves out the terms that pushed each decision, for callers
        that only need categories (evaluation, the classify command).
        """
        if not documents:
            return []
        X = self.featurizer.transform(documents)
        # float64 before rounding: a rounded float32 prints as 0.9125000238418579.
        probabilities = self._probabilities(X)
        chosen = probabilities.argmax(axis=1)
        order = np.argsort(-probabilities, axis=1)[:, :TOP_K]
        top_values = np.take_along_axis(probabilities, order, axis=1).round(4).tolist()
        confidences = probabilities[np.arange(len(chosen)), chosen].round(4).tolist()
        terms = self._explain(X, chosen) if explain else [[] for _ in documents]
        also = also_labels(probabilities, self.labels)
        labels = self.labels
        return [
            self._empty_prediction()
            if document.empty
            else Prediction(
                labels[label_index],
                confidence,
                [(labels[i], value) for i, value in zip(top_indices, values)],
                row_terms,
                also=row_also,
            )
            for document, label_index, confidence, top_indices, values, row_terms, row_also in zip(
                documents, chosen.tolist(), confidences, order.tolist(), top_values, terms, also
            )
        ]

    def _explain(self, X: sp.csr_matrix, chosen: np.ndarray) -> list[list[tuple[str, float]]]:
        """Return, per row, the terms that pushed it most towards its chosen class.

        A feature's push is its tf-idf value times the chosen class's weight. Features
        shown under the same name (漏液 the word, 漏液 the character bigram) add up.
        """
        explained: list[list[tuple[str, float]]] = [[] for _ in range(X.shape[0])]
        row_of = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
        contributions = X.data * self.weights[X.indices, chosen[row_of]]
        # Only terms an agent can read: no word-vector column, product feature, single letter,
        # number, stop word or n-gram fragment (features.readable_features).
        positive = (contributions > 0) & self.featurizer.readable_features()[X.indices]
        if not positive.any():
            return explained
        name_ids, names = self.featurizer.display_names()
        # Group by (row, display name) and add up, all in numpy: this runs for every triaged ticket.
        keys, inverse = np.unique(row_of[positive] * len(names) + name_ids[X.indices[positive]], return_inverse=True)
        sums = np.bincount(inverse.ravel(), weights=contributions[positive])
        rows, terms = keys // len(names), keys % len(names)
        ordering = np.lexsort((-sums, rows))
        sorted_rows = rows[ordering]
        rank = np.arange(len(ordering)) - np.searchsorted(sorted_rows, sorted_rows, side="left")
        kept = ordering[rank < TERMS_K * 2]
        for row, term, value in zip(rows[kept].tolist(), terms[kept].tolist(), sums[kept].round(4).tolist()):
            explained[row].append((names[term], value))
        return [without_fragments(row_terms, TERMS_K) for row_terms in explained]

    def _empty_prediction(self) -> Prediction:
        share = round(1.0 / len(self.labels), 4)
        others = [label for label in self.labels if label != FALLBACK_LABEL][: TOP_K - 1]
        return Prediction(FALLBACK_LABEL, share, [(FALLBACK_LABEL, share)] + [(label, share) for label in others], [], empty=True)

