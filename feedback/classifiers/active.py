"""Active learning: which review-queue tickets an agent's label would teach the model most.

The review queue stores each ticket's top categories with their probabilities
(Prediction.top), so the order is computed from those, without the model.
benchmarks/classifier_accuracy.py simulates an agent labelling in this order
against labelling at random.
"""
from __future__ import annotations

from collections.abc import Sequence

Top = Sequence[tuple[str, float]] | Sequence[Sequence]


def review_margin(top: Top) -> float:
    """Return the top-1 minus top-2 probability (1.0 for a ticket with a single candidate)."""
    if not top:
        return 1.0
    first = float(top[0][1])
    second = float(top[1][1]) if len(top) > 1 else 0.0
    return first - second


def review_order(tops: Sequence[Top], *, diversity: bool = True) -> list[int]:
    """Order tickets (given their top categories) so the most instructive label comes first.

    The model learns most where it hesitates between two categories: tickets go
    by the smallest margin between the first and second probability (margin
    sampling). With diversity, the tickets are dealt out in turn by the category
    the model currently guesses, so one batch covers many confusions instead of
    fifty variants of the commonest one, and rare categories get labels early.
    Ties keep the input order. Returns indices into `tops`.
    """
    by_margin = sorted(range(len(tops)), key=lambda index: (review_margin(tops[index]), index))
    if not diversity:
        return by_margin
    queues: dict[str, list[int]] = {}
    for index in by_margin:
        guess = str(tops[index][0][0]) if tops[index] else ""
        queues.setdefault(guess, []).append(index)
    # Categories take turns in the order of their most uncertain ticket.
    lanes = [queue[::-1] for queue in sorted(queues.values(), key=lambda queue: review_margin(tops[queue[0]]))]
    ordered: list[int] = []
    while lanes:
        for lane in lanes:
            ordered.append(lane.pop())
        lanes = [lane for lane in lanes if lane]
    return ordered
