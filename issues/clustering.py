"""Clustering ticket texts into sub-themes: jieba words -> TF-IDF -> LSA -> k-means.

Plain Python and scikit-learn, no Django, so it can be tested and tuned on
files. ``cluster_texts`` returns, for every text, its cluster or -1 when it
stays outside every cluster (no usable words, or a cluster too small to mean
anything), with each cluster's top keywords as its label.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

logger = logging.getLogger(__name__)

OUTSIDE = -1


@dataclass
class Cluster:
    members: list[int]
    keywords: list[str]
    cohesion: float
    # Members nearest the cluster centre first: the examples to show.
    examples: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return " / ".join(self.keywords[:3])


@dataclass
class Clustering:
    labels: list[int]
    clusters: list[Cluster]

    @property
    def outside(self) -> list[int]:
        return [i for i, label in enumerate(self.labels) if label == OUTSIDE]

    def outside_share(self, indices: Sequence[int] | None = None) -> float:
        """Share of texts (optionally only ``indices``) that are in no cluster."""
        pool = range(len(self.labels)) if indices is None else indices
        pool = list(pool)
        if not pool:
            return 0.0
        return sum(1 for i in pool if self.labels[i] == OUTSIDE) / len(pool)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Split texts into words with the project's jieba tokenizer (user dictionary, negation, stop words)."""
    from feedback.classifiers.text import prepare

    result = []
    for text in texts:
        words = [w for w in prepare(text).words if len(w) > 1 or "\u4e00" <= w <= "\u9fff"]
        result.append(words)
    return result


def top_terms(matrix, members: Sequence[int], vocabulary: np.ndarray, count: int) -> list[str]:
    """Return the terms with the highest mean TF-IDF weight among ``members``."""
    if not len(members):
        return []
    weights = np.asarray(matrix[list(members)].mean(axis=0)).ravel()
    order = np.argsort(-weights)[:count]
    return [str(vocabulary[i]) for i in order if weights[i] > 0]


def _choose_k(points: np.ndarray, candidates: list[int], random_state: int) -> int:
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import silhouette_score

    if len(candidates) == 1:
        return candidates[0]
    rng = np.random.default_rng(random_state)
    sample = points if len(points) <= 2000 else points[rng.choice(len(points), 2000, replace=False)]
    best_k, best_score = candidates[0], -1.0
    for k in candidates:
        if k >= len(sample):
            continue
        labels = MiniBatchKMeans(n_clusters=k, random_state=random_state, n_init=3, batch_size=1024).fit_predict(sample)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(sample, labels, metric="cosine")
        if score > best_score:
            best_k, best_score = k, score
    return best_k


def cluster_texts(
    texts: Sequence[str],
    *,
    tokens: list[list[str]] | None = None,
    min_size: int = 3,
    max_clusters: int = 40,
    target_size: int = 25,
    keywords: int = 6,
    examples: int = 5,
    random_state: int = 0,
) -> Clustering:
    """Cluster texts into sub-themes; k is chosen by silhouette around n / target_size.

    Texts without usable words, and clusters smaller than ``min_size``, stay outside (-1).
    """
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    n = len(texts)
    labels = [OUTSIDE] * n
    if tokens is None:
        tokens = tokenize(texts)
    usable = [i for i, words in enumerate(tokens) if words]
    if len(usable) < max(2 * min_size, 4):
        return Clustering(labels, [])
    vectorizer = TfidfVectorizer(
        analyzer=lambda words: words, min_df=2 if len(usable) >= 50 else 1, max_df=0.5, sublinear_tf=True
    )
    try:
        matrix = vectorizer.fit_transform([tokens[i] for i in usable])
    except ValueError:  # empty vocabulary
        return Clustering(labels, [])
    vocabulary = vectorizer.get_feature_names_out()
    has_terms = np.asarray(matrix.getnnz(axis=1)).ravel() > 0
    rows = [r for r in range(len(usable)) if has_terms[r]]
    if len(rows) < max(2 * min_size, 4):
        return Clustering(labels, [])
    matrix = matrix[rows]
    usable = [usable[r] for r in rows]

    components = min(100, matrix.shape[1] - 1, len(usable) - 1)
    if components >= 2:
        points = TruncatedSVD(n_components=components, random_state=random_state).fit_transform(matrix)
        points = normalize(points)
    else:
        points = normalize(matrix.toarray())

    base = max(2, min(max_clusters, round(len(usable) / target_size)))
    candidates = sorted({max(2, base // 2), base, min(max_clusters, max(base + 1, math.ceil(base * 1.5)))})
    candidates = [k for k in candidates if k < len(usable)]
    k = _choose_k(points, candidates, random_state) if candidates else 2
    model = MiniBatchKMeans(n_clusters=k, random_state=random_state, n_init=3, batch_size=1024)
    assigned = model.fit_predict(points)
    centres = normalize(model.cluster_centers_)
    similarity = np.einsum("ij,ij->i", points, centres[assigned])

    clusters: list[Cluster] = []
    for cluster_id in range(k):
        member_rows = np.flatnonzero(assigned == cluster_id)
        # Points pointing away from their centre share nothing with the cluster.
        member_rows = member_rows[similarity[member_rows] > 0.05]
        if len(member_rows) < min_size:
            continue
        ordered = member_rows[np.argsort(-similarity[member_rows])]
        members = [usable[r] for r in ordered]
        cluster = Cluster(
            members=members,
            keywords=top_terms(matrix, list(ordered), vocabulary, keywords),
            cohesion=float(similarity[member_rows].mean()),
            examples=members[:examples],
        )
        for index in members:
            labels[index] = len(clusters)
        clusters.append(cluster)
    return Clustering(labels, clusters)
