"""Word vectors learnt from unlabelled tickets (gensim) as extra dense features."""
import pickle

import numpy as np
import pytest

from feedback.classifiers import TrainingConfig, TriageModel
from feedback.classifiers.features import VECTOR_TERM, Featurizer, WordVectors, make_documents
from feedback.classifiers.seed import LabelledExample

# Written for the tests: 烂了 and 坏了 share their contexts, 太慢 lives in other ones.
ROTTEN = ["收到的橙子{}，箱子都湿了", "打开一看苹果{}，没法吃", "芒果{}一半，包装也破了"]
SLOW = ["快递{}，一个星期才到", "物流{}，等了好多天", "发货{}，催了也没用"]


def pool_texts(copies: int = 12) -> list[str]:
    texts = []
    for copy in range(copies):
        texts += [pattern.format(word) + "。" * (copy % 3) for pattern in ROTTEN for word in ("烂了", "坏了")]
        texts += [pattern.format(word) + "！" * (copy % 3) for pattern in SLOW for word in ("太慢", "很慢")]
    return texts


@pytest.fixture(scope="module")
def vectors():
    return WordVectors.train(make_documents(pool_texts()), dim=16, weight=0.5, epochs=30)


def test_words_used_in_the_same_contexts_get_close_vectors(vectors):
    def vector(word):
        return vectors.matrix[vectors.vocabulary[word]]

    def cosine(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    assert cosine(vector("橙子"), vector("苹果")) > cosine(vector("橙子"), vector("快递"))


def test_document_vectors_are_normalised_to_the_weight_and_zero_without_known_words(vectors):
    rows = vectors.documents(make_documents(["橙子烂了", "💩💩", "完全陌生的词语组合"]))
    assert rows.shape == (3, 16) and rows.dtype == np.float32
    assert np.linalg.norm(rows[0]) == pytest.approx(0.5, rel=1e-4)
    assert not rows[1].any()


def test_featurizer_appends_the_vectors_after_the_sparse_columns(vectors):
    documents = make_documents(pool_texts(2))
    plain = Featurizer().fit(documents)
    with_vectors = Featurizer(vectors=vectors).fit(documents)
    assert with_vectors.n_features == plain.n_features + 16
    X, Y = plain.transform(documents[:4]), with_vectors.transform(documents[:4])
    assert Y.shape == (4, plain.n_features + 16)
    assert (Y[:, : plain.n_features] != X).nnz == 0
    np.testing.assert_allclose(Y[:, plain.n_features :].toarray(), vectors.documents(documents[:4]), rtol=1e-6)
    name_ids, names = with_vectors.display_names()
    assert {names[i] for i in name_ids[plain.n_features :]} == {VECTOR_TERM}
    # A stored model keeps its vectors; one pickled before they existed loads without.
    assert pickle.loads(pickle.dumps(with_vectors)).vectors.dim == 16
    state = plain.__getstate__()
    del state["vectors"]
    old = Featurizer.__new__(Featurizer)
    old.__setstate__(state)
    assert old.vectors is None and old.n_features == plain.n_features


def test_a_model_trained_with_a_pool_uses_vectors_and_never_explains_with_them():
    examples = [LabelledExample(text.format("烂了"), "damaged") for text in ROTTEN] + [
        LabelledExample(text.format("太慢"), "logistics_delay") for text in SLOW
    ]
    pool = [(text, None) for text in pool_texts(20)]
    assert len(pool) >= 200  # model.MIN_POOL
    config = TrainingConfig(vector_dim=16, calibration_folds=0)
    model = TriageModel(config).fit(examples, unlabelled=pool)
    assert model.featurizer.vectors is not None and model.featurizer.vectors.dim == 16
    prediction = model.predict(["收到的香蕉坏了"])[0]
    assert prediction.label == "damaged"
    assert prediction.terms and VECTOR_TERM not in [term for term, _ in prediction.terms]
    # The vector columns did get weights (they are not dead columns).
    assert np.abs(model.weights[model.featurizer.n_sparse :]).max() > 0
    # Too small a pool trains no vectors.
    assert TriageModel(config).fit(examples, unlabelled=pool[:20]).featurizer.vectors is None
