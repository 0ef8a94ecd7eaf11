"""The held-out threshold curve: auto-apply share and precision per category at candidate thresholds."""
import pytest

from feedback.classifiers import threshold_curve

ROWS = [
    # (predicted, confidence, true)
    ("damaged", 0.95, "damaged"),
    ("damaged", 0.80, "damaged"),
    ("damaged", 0.70, "fake"),
    ("damaged", 0.50, "damaged"),
    ("price", 0.60, "price"),
]


@pytest.mark.parametrize(
    ("threshold", "applied", "correct"),
    [
        (0.5, 4, 3),
        (0.7, 3, 2),  # confidence exactly at the threshold clears it (>=, as the triage gate)
        (0.7000001, 2, 2),
        (0.8, 2, 2),
        (0.95, 1, 1),
        (0.96, 0, 0),
    ],
)
def test_counts_what_clears_each_threshold_and_what_of_it_is_right(threshold, applied, correct):
    curve = threshold_curve(ROWS, [threshold])
    assert curve["damaged"]["predicted"] == 4
    assert curve["damaged"]["points"] == [{"threshold": threshold, "applied": applied, "correct": correct}]


def test_categories_are_counted_apart_and_only_when_predicted():
    curve = threshold_curve(ROWS, [0.55, 0.65])
    assert set(curve) == {"damaged", "price"}
    assert curve["price"] == {"predicted": 1, "points": [
        {"threshold": 0.55, "applied": 1, "correct": 1}, {"threshold": 0.65, "applied": 0, "correct": 0},
    ]}
    assert threshold_curve([], [0.5]) == {}
