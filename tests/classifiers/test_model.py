import pickle

import pytest

from feedback.classifiers import Prediction, TriageModel, load_seed
from feedback.classifiers.seed import LabelledExample
from feedback.taxonomy import CATEGORY_CODES

# Written for the tests (not taken from any evaluation file): one clear complaint per category.
CLEAR = [
    ("快递一个星期了还没送到，物流信息一直不更新", "水果", "logistics_delay"),
    ("收到的衣服颜色和图片差太多了，严重色差", "衣服", "description_mismatch"),
    ("箱子压扁了，里面的橙子烂了一半", "水果", "damaged"),
    ("买的黑色发来的是白色，还少发了一件", "衣服", "wrong_or_missing"),
    ("用了三天就开不了机，充电也充不进去", "手机", "quality_defect"),
    ("肯定是假货，防伪码查不到，和专柜的完全不一样", "洗发水", "counterfeit"),
    ("客服一直不回复消息，问了三遍都没人理", "平板", "service"),
    ("申请退货七天了商家一直不处理退款", "衣服", "after_sales"),
    ("刚买完第二天就降价一百，申请保价被拒绝", "手机", "price"),
]


def test_predict_returns_a_prediction_per_text_with_calibrated_top_three(seed_model):
    predictions = seed_model.predict([t for t, _, _ in CLEAR], [p for _, p, _ in CLEAR])
    assert len(predictions) == len(CLEAR)
    for prediction in predictions:
        assert isinstance(prediction, Prediction)
        assert prediction.label in CATEGORY_CODES
        assert len(prediction.top) == 3
        assert prediction.top[0] == (prediction.label, prediction.confidence)
        # Four decimals, as written to tickets and the classify command's output (no float32 noise).
        assert all(repr(p) == repr(round(p, 4)) and len(repr(p)) <= 6 for _, p in prediction.top)
        assert all(repr(w) == repr(round(w, 4)) for _, w in prediction.terms)
        probabilities = [p for _, p in prediction.top]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 1.0001
        assert 0.0 <= prediction.confidence <= 1.0


def test_seed_model_sorts_clear_complaints_correctly(seed_model):
    predictions = seed_model.predict([t for t, _, _ in CLEAR], [p for _, p, _ in CLEAR])
    wrong = [(t, p.label, c) for (t, _, c), p in zip(CLEAR, predictions) if p.label != c]
    assert len(wrong) <= 1, wrong


def test_terms_name_the_words_that_pushed_the_decision(seed_model):
    prediction = seed_model.predict(["快递太慢了，一个星期还没送到"])[0]
    assert prediction.label == "logistics_delay"
    assert 1 <= len(prediction.terms) <= 5
    weights = [w for _, w in prediction.terms]
    assert all(w > 0 for w in weights) and weights == sorted(weights, reverse=True)
    assert any("快递" in term or "慢" in term for term, _ in prediction.terms)


@pytest.mark.parametrize("text, product", [
    ("Arrived damaged, the box was crushed flat", None),
    ("快递员态度很差，收到的牛奶盒子是破的", "牛奶"),
    ("订单 202612011234 的 3 件 size M 都小了 n e m", None),
])
def test_explanations_show_only_words_people_can_read(seed_model, text, product):
    import re

    from feedback.classifiers.text import stop_words

    terms = [term for term, _ in seed_model.predict([text], [product])[0].terms]
    for term in terms:
        assert not re.fullmatch(r"[A-Za-z]|[\d\W_]+", term), (term, terms)  # no single letter or number
        assert term not in stop_words() and term.lower() not in {"the", "was", "no", "and"}, (term, terms)
        assert not term.startswith("商品:"), (term, terms)  # the product is context, not a keyword
        assert term not in {"递员", "到的", "员态", "的牛"}, (term, terms)  # no n-gram fragments


def test_a_dictionary_bigram_is_readable_and_a_fragment_is_not():
    from feedback.classifiers.text import readable_term

    assert readable_term("漏液", from_characters=True)
    assert readable_term("快递", from_characters=True)
    assert not readable_term("递员", from_characters=True)
    assert not readable_term("到的", from_characters=True)
    assert readable_term("慢", from_characters=False)
    assert not readable_term("n", from_characters=False) and not readable_term("2026", from_characters=False)
    assert not readable_term("the", from_characters=False)
    assert readable_term("[订单号]", from_characters=False)


def _reference_terms(model, text):
    """Explanation terms computed the slow, obvious way, one feature at a time."""
    from feedback.classifiers.features import make_documents

    X = model.featurizer.transform(make_documents([text]))
    chosen = model.labels.index(model.predict([text])[0].label)
    pushes = {}
    for index, value in zip(X.indices, X.data):
        push = float(value) * float(model.weights[index, chosen])
        if push > 0 and model.featurizer.readable_features()[index]:
            name = model.featurizer.feature_name(int(index))
            pushes[name] = pushes.get(name, 0.0) + push
    from feedback.classifiers.model import without_fragments

    return without_fragments(sorted(pushes.items(), key=lambda item: -item[1])[:10], 5)


def test_batch_terms_match_a_feature_by_feature_computation(seed_model):
    texts = [t for t, _, _ in CLEAR] + ["", "漏液漏液，瓶子漏液了"]
    batch = seed_model.predict(texts)
    for text, prediction in zip(texts, batch):
        expected = _reference_terms(seed_model, text) if text else []
        assert [term for term, _ in prediction.terms] == [term for term, _ in expected], text
        assert [w for _, w in prediction.terms] == pytest.approx([w for _, w in expected], abs=1e-3), text
        # One at a time or in a batch: the same explanation.
        assert seed_model.predict([text])[0].terms == prediction.terms


def test_predict_without_explanation_gives_the_same_categories(seed_model):
    texts = [t for t, _, _ in CLEAR] + ["😡😡"]
    explained = seed_model.predict(texts)
    bare = seed_model.predict(texts, explain=False)
    for with_terms, without in zip(explained, bare):
        assert (without.label, without.confidence, without.top, without.empty) == (
            with_terms.label, with_terms.confidence, with_terms.top, with_terms.empty
        )
        assert without.terms == []
    assert any(p.terms for p in explained)


def test_products_are_optional(seed_model):
    with_product = seed_model.predict(["苹果烂了好几个"], ["水果"])[0]
    without = seed_model.predict(["苹果烂了好几个"])[0]
    assert with_product.label == without.label == "damaged"


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡", "！！！？？？", "👍👍👍。。。"])
def test_empty_text_after_normalisation_is_other_with_low_confidence(seed_model, text):
    prediction = seed_model.predict([text])[0]
    assert prediction.label == "other"
    assert prediction.empty
    assert prediction.confidence <= 0.2
    assert prediction.terms == []


def test_long_english_and_traditional_texts_are_predicted_normally(seed_model):
    long_text = ("手机用了两天就死机，" * 500)[:5000]
    english = "The parcel arrived broken and the bottle was leaking everywhere"
    traditional = "手機用了兩天就死機，充電也充不進去"
    long_p, english_p, traditional_p = seed_model.predict([long_text, english, traditional])
    assert long_p.label == "quality_defect" and not long_p.empty
    assert english_p.label in CATEGORY_CODES and not english_p.empty
    assert traditional_p.label == seed_model.predict(["手机用了两天就死机，充电也充不进去"])[0].label == "quality_defect"


def test_model_survives_pickling(seed_model):
    clone = pickle.loads(pickle.dumps(seed_model))
    assert clone.predict(["客服态度太差"])[0] == seed_model.predict(["客服态度太差"])[0]


def test_fit_rejects_unknown_categories():
    with pytest.raises(ValueError, match="unknown categories"):
        TriageModel().fit([LabelledExample("随便一句话", "not_a_code")])


def test_training_examples_are_learned_even_against_the_seed():
    # An agent's label is learned even when the seed would say otherwise.
    text = "这批货的包装盒上印错了店铺名字"
    seed = load_seed()
    model = TriageModel().fit(seed + [LabelledExample(text, "wrong_or_missing")])
    assert model.predict([text])[0].label == "wrong_or_missing"


def test_a_featurizer_stored_with_string_char_ngrams_still_loads(seed_model):
    """Models stored before character n-grams became integer codes keep working after an upgrade."""
    from feedback.classifiers.features import Featurizer, make_documents
    from feedback.classifiers.text import char_ngram_text

    current = seed_model.featurizer
    old_state = {
        "min_df": current.min_df, "max_features": current.max_features, "char_weight": current.char_weight,
        "word_vocabulary": current.word_vocabulary, "idf": current.idf,
        "char_vocabulary": {
            char_ngram_text(code): index for code, index in zip(current.char_codes.tolist(), current.char_index.tolist())
        },
    }
    loaded = Featurizer.__new__(Featurizer)
    loaded.__setstate__(old_state)
    documents = make_documents([t for t, _, _ in CLEAR], [p for _, p, _ in CLEAR])
    assert (loaded.transform(documents) != current.transform(documents)).nnz == 0
    assert [loaded.feature_name(i) for i in range(0, current.n_features, 97)] == [
        current.feature_name(i) for i in range(0, current.n_features, 97)
    ]


@pytest.mark.parametrize(
    ("second", "expected"),
    [(0.30, "counterfeit"), (0.2999, None)],  # the boundary: second >= 0.5 x first
)
def test_also_names_the_runner_up_only_when_it_is_close(second, expected):
    import numpy as np

    from feedback.classifiers.model import also_labels

    labels = ["damaged", "counterfeit", "other"]
    probabilities = np.array([[0.60, second, 1.0 - 0.60 - second]])
    assert also_labels(probabilities, labels) == [expected]


def test_prediction_carries_also_from_its_own_top_two(seed_model):
    predictions = seed_model.predict([t for t, _, _ in CLEAR] + ["假货，而且用两天就坏了"])
    for prediction in predictions:
        (_, p1), (second, p2) = prediction.top[:2]
        assert prediction.also == (second if p2 >= 0.5 * p1 else None)
    assert any(p.also for p in predictions)
