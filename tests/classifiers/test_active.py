import numpy as np
import pytest

from feedback.classifiers.active import review_density, review_margin, review_order


def test_margin_is_first_minus_second_probability():
    assert review_margin([("damaged", 0.6), ("counterfeit", 0.3), ("other", 0.1)]) == pytest.approx(0.3)
    assert review_margin([("damaged", 0.6)]) == pytest.approx(0.6)
    assert review_margin([]) == 1.0


def test_most_hesitant_ticket_comes_first():
    tops = [
        [("damaged", 0.9), ("other", 0.05)],
        [("price", 0.45), ("service", 0.44)],
        [("damaged", 0.5), ("counterfeit", 0.3)],
    ]
    assert review_order(tops) == [1, 2, 0]


def test_equal_margins_keep_the_input_order():
    tops = [[("damaged", 0.5), ("other", 0.3)], [("damaged", 0.5), ("price", 0.3)]]
    assert review_order(tops) == [0, 1]


def test_diversity_deals_tickets_out_by_guessed_category():
    tops = [
        [("quality_defect", 0.40), ("damaged", 0.39)],  # margin 0.01
        [("quality_defect", 0.41), ("damaged", 0.39)],  # 0.02
        [("quality_defect", 0.42), ("damaged", 0.39)],  # 0.03
        [("service", 0.50), ("after_sales", 0.40)],  # 0.10
        [("price", 0.60), ("other", 0.30)],  # 0.30
    ]
    # Margin alone would ask about three quality tickets first; diversity asks about each guess in turn.
    assert review_order(tops) == [0, 1, 2, 3, 4]
    assert review_order(tops, diversity=True) == [0, 3, 4, 1, 2]


def test_order_is_a_permutation_and_handles_empty_input():
    tops = [[("other", 0.2 + i / 100), ("price", 0.1)] for i in range(7)] + [[]]
    for options in ({}, {"diversity": True}, {"density": [1.0] * len(tops)}):
        assert sorted(review_order(tops, **options)) == list(range(len(tops)))
    assert review_order([]) == []


def test_density_lets_a_typical_ticket_go_before_an_odd_one_that_is_slightly_less_sure():
    tops = [
        [("price", 0.50), ("service", 0.45)],  # uncertainty 0.95, odd ticket
        [("damaged", 0.55), ("quality_defect", 0.45)],  # uncertainty 0.90, typical ticket
    ]
    assert review_order(tops) == [0, 1]
    assert review_order(tops, density=[0.2, 0.6]) == [1, 0]


def test_density_must_match_the_tickets():
    with pytest.raises(ValueError, match="density has 1 values for 2 tickets"):
        review_order([[("price", 0.5)], [("other", 0.5)]], density=[1.0])


def test_review_density_is_higher_for_a_ticket_like_the_rest(seed_model):
    texts = ["快递太慢了一个星期才到"] * 5 + ["快递太慢了一周才送到", "这本书的作者文笔真的很一般"]
    density = review_density(seed_model, texts)
    assert density.shape == (len(texts),)
    assert density[5] > density[6]
    assert np.all(density >= 0) and review_density(seed_model, []).shape == (0,)
