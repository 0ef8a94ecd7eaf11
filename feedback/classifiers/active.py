"""Active learning: which review-queue tickets an agent's label would teach the model most.

The review queue stores each ticket's top categories with their probabilities
(Prediction.top), so the uncertainty comes from those, without the model; how
typical a ticket is of the queue (review_density) needs the texts once.
benchmarks/classifier_accuracy.py simulates an agent labelling in this order
against labelling at random. Measured (issue 13, 5 repeats): review_batch is level
with random (+0.005, +0.003, +0.010, -0.001 macro-F1 at 50, 100, 200, 400 labels,
spread +-0.03-0.04), not better at every step, so the review queue keeps its margin order.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Top = Sequence[tuple[str, float]] | Sequence[Sequence]


def review_margin(top: Top) -> float:
    """Return the top-1 minus top-2 probability (1.0 for a ticket with no candidate)."""
    if not top:
        return 1.0
    first = float(top[0][1])
    second = float(top[1][1]) if len(top) > 1 else 0.0
    return first - second


def review_density(model, texts: Sequence[str], products: Sequence[str | None] | None = None) -> np.ndarray:
    """Return how typical each text is of the others: cosine similarity to the batch's mean vector.

    Uncertainty alone picks odd, ambiguous tickets first (in the simulation that was
    worse than random for the first 50 labels); weighting by typicality asks about
    hesitations that many other tickets share. The mean vector makes it linear in
    the number of tickets (no pairwise matrix).
    """
    from .features import make_documents

    return review_density_documents(model.featurizer, make_documents(list(texts), products))


def review_density_documents(featurizer, documents) -> np.ndarray:
    """review_density for already prepared documents (features.make_documents)."""
    if not len(documents):
        return np.zeros(0)
    X = featurizer.transform(documents)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    centroid = np.asarray((X.T @ (1.0 / norms)) / X.shape[0]).ravel()
    return np.clip(np.asarray(X @ centroid).ravel() / norms, 0.0, None)


def review_order(tops: Sequence[Top], *, density: Sequence[float] | None = None, diversity: bool = False) -> list[int]:
    """Order tickets (given their top categories) so the most instructive label comes first.

    The model learns most where it hesitates between two categories: the score is
    1 - (first - second probability), times the ticket's density (review_density)
    when given, highest first. With diversity, tickets are dealt out in turn by the
    category the model guesses (measured: it did not help, so it is off by default).
    Ties keep the input order. Returns indices into `tops`.
    """
    if density is not None and len(density) != len(tops):
        raise ValueError(f"density has {len(density)} values for {len(tops)} tickets")
    weights = [1.0] * len(tops) if density is None else [float(value) for value in density]
    by_score = sorted(range(len(tops)), key=lambda index: (-(1.0 - review_margin(tops[index])) * weights[index], index))
    if not diversity:
        return by_score
    queues: dict[str, list[int]] = {}
    for index in by_score:
        guess = str(tops[index][0][0]) if tops[index] else ""
        queues.setdefault(guess, []).append(index)
    # Categories take turns in the order of their best ticket.
    lanes = [queue[::-1] for queue in sorted(queues.values(), key=lambda queue: by_score.index(queue[0]))]
    ordered: list[int] = []
    while lanes:
        for lane in lanes:
            ordered.append(lane.pop())
        lanes = [lane for lane in lanes if lane]
    return ordered


def review_batch(
    tops: Sequence[Top], vectors: np.ndarray, size: int, *, prefilter: int = 4, seed: int = 0
) -> list[int]:
    """Choose `size` tickets to label at once: uncertain ones, spread over what the queue is about.

    Uncertainty alone picks many near-copies of the same hesitation, and odd tickets;
    random picks typical but mostly easy ones. Here the `prefilter` x `size` most
    uncertain tickets (smallest margin) are clustered into `size` groups by their
    document vectors (k-means weighted by uncertainty, numpy only), and from each
    group the ticket nearest its centre is asked (Zhdanov 2019, "diverse mini-batch
    active learning"). Returns indices into `tops`, most uncertain first, then the
    remaining tickets in margin order so a queue can go on past the batch.
    """
    if len(vectors) != len(tops):
        raise ValueError(f"vectors has {len(vectors)} rows for {len(tops)} tickets")
    by_margin = review_order(tops)
    if size <= 0 or not len(tops):
        return by_margin
    candidates = np.array(by_margin[: min(len(tops), max(size, prefilter * size))])
    if len(candidates) <= size:
        chosen = candidates.tolist()
    else:
        points = np.asarray(vectors, dtype=np.float64)[candidates]
        norms = np.linalg.norm(points, axis=1, keepdims=True)
        points = points / np.where(norms == 0, 1.0, norms)
        weights = np.array([1.0 - review_margin(tops[i]) for i in candidates]) + 1e-3
        chosen = candidates[_weighted_kmeans_medoids(points, weights, size, seed)].tolist()
    chosen.sort(key=lambda index: (review_margin(tops[index]), index))
    taken = set(chosen)
    return chosen + [index for index in by_margin if index not in taken]


def _weighted_kmeans_medoids(
    points: np.ndarray, weights: np.ndarray, k: int, seed: int, iterations: int = 20
) -> np.ndarray:
    """Weighted k-means (k-means++ start); return, per cluster, the row nearest its centre (distinct rows)."""
    rng = np.random.default_rng(seed)
    centres = [points[rng.choice(len(points), p=weights / weights.sum())]]
    distance = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        chances = weights * distance
        total = chances.sum()
        pick = rng.choice(len(points), p=chances / total) if total > 0 else int(rng.integers(len(points)))
        centres.append(points[pick])
        distance = np.minimum(distance, ((points - points[pick]) ** 2).sum(axis=1))
    centres = np.array(centres)
    for _ in range(iterations):
        distances = (points**2).sum(axis=1)[:, None] - 2 * points @ centres.T + (centres**2).sum(axis=1)[None, :]
        members = distances.argmin(axis=1)
        for cluster in range(k):
            inside = members == cluster
            if inside.any():
                centres[cluster] = np.average(points[inside], axis=0, weights=weights[inside])
    distances = (points**2).sum(axis=1)[:, None] - 2 * points @ centres.T + (centres**2).sum(axis=1)[None, :]
    chosen: list[int] = []
    used = np.zeros(len(points), dtype=bool)
    for cluster in np.argsort(distances.min(axis=0)):
        order = np.argsort(distances[:, cluster])
        row = next(int(r) for r in order if not used[r])
        used[row] = True
        chosen.append(row)
    return np.array(chosen)
