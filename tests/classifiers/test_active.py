import numpy as np
import pytest

from feedback.classifiers.active import review_batch, review_density, review_margin, review_order


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


def clustered_queue():
    """Ten near-copies of one hesitation, then two other hesitations a little less close, then sure tickets."""
    rng = np.random.default_rng(0)
    tops, vectors = [], []
    for i in range(10):
        tops.append([("quality_defect", 0.40 + i / 1000), ("damaged", 0.39)])
        vectors.append([1.0, 0.0, 0.0] + rng.normal(0, 0.01, 3))
    for centre, margin in (([0.0, 1.0, 0.0], 0.05), ([0.0, 0.0, 1.0], 0.08)):
        for i in range(3):
            tops.append([("service", 0.5 + margin + i / 1000), ("after_sales", 0.5)])
            vectors.append(np.array(centre) + rng.normal(0, 0.01, 3))
    for i in range(20):
        tops.append([("price", 0.95), ("other", 0.01)])
        vectors.append(rng.normal(0, 1, 3))
    return tops, np.array(vectors)


def test_batch_asks_about_each_kind_of_hesitation_once_instead_of_ten_near_copies():
    tops, vectors = clustered_queue()
    assert review_order(tops)[:3] == [0, 1, 2]  # margin alone: three of the same kind
    # The 6 x 3 most uncertain tickets are clustered: the ten copies, both other kinds and two sure ones.
    chosen = review_batch(tops, vectors, 3, prefilter=6)[:3]
    assert sorted(index // 10 if index < 10 else 1 + (index - 10) // 3 for index in chosen) == [0, 1, 2]
    # Most uncertain first within the batch; the sure tickets are never in it.
    assert chosen[0] < 10 and all(index < 16 for index in chosen)
    # With only the 4 x 3 most uncertain (ten copies and two of the next kind) the third kind is out of reach.
    assert all(index < 13 for index in review_batch(tops, vectors, 3)[:3])


def test_batch_is_a_permutation_repeatable_and_checks_its_vectors():
    tops, vectors = clustered_queue()
    ordered = review_batch(tops, vectors, 5, seed=3)
    assert sorted(ordered) == list(range(len(tops)))
    assert ordered == review_batch(tops, vectors, 5, seed=3)
    assert review_batch(tops, vectors, 0) == review_order(tops)
    assert review_batch(tops[:4], vectors[:4], 10) == review_order(tops[:4])  # fewer tickets than the batch
    assert review_batch([], np.zeros((0, 3)), 5) == []
    with pytest.raises(ValueError, match="vectors has 2 rows for 36 tickets"):
        review_batch(tops, vectors[:2], 3)
