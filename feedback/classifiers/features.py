"""Sparse TF-IDF features over jieba words, word bigrams, character n-grams and the product."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .text import PreparedText, display_term, prepare

# Free-text product categories name the same thing many ways; a shared token lets
# 蒙牛 tickets learn from 牛奶 examples.
PRODUCT_ALIASES = {
    "蒙牛": "牛奶", "伊利": "牛奶", "乳品": "牛奶", "奶制品": "牛奶", "酸奶": "牛奶", "纯牛奶": "牛奶",
    "计算机": "电脑", "笔记本": "电脑", "笔记本电脑": "电脑", "台式机": "电脑", "电脑整机": "电脑",
    "衣服": "服饰", "服装": "服饰", "女装": "服饰", "男装": "服饰", "童装": "服饰", "鞋服": "服饰",
    "平板电脑": "平板", "ipad": "平板",
    "手机通讯": "手机", "智能手机": "手机",
    "生鲜": "水果", "水果生鲜": "水果",
    "洗护": "洗发水", "洗发护发": "洗发水", "洗发露": "洗发水",
    "图书": "书籍", "书": "书籍",
}
PRODUCT_PREFIX = "商品:"


def product_token(product: str | None) -> str:
    """Return the feature token for a product category, or "" when there is none."""
    product = (product or "").strip().lower()
    if not product:
        return ""
    return PRODUCT_PREFIX + PRODUCT_ALIASES.get(product, product)


@dataclass(slots=True)
class Document:
    """A prepared complaint plus its product token, ready for the featurizer."""

    prepared: PreparedText
    product: str

    @property
    def empty(self) -> bool:
        return self.prepared.empty


def make_documents(texts: Sequence[str], products: Sequence[str | None] | None = None) -> list[Document]:
    """Prepare texts (and optional product categories) for featurisation."""
    products = products if products is not None else [None] * len(texts)
    if len(products) != len(texts):
        raise ValueError("texts and products must have the same length")
    return [Document(prepare(text), product_token(product)) for text, product in zip(texts, products)]


def _word_grams(document: Document) -> list[str]:
    words = document.prepared.words
    grams = list(words)
    grams += [first + " " + second for first, second in zip(words, words[1:])]
    if document.product:
        grams.append(document.product)
    return grams


class Featurizer:
    """TF-IDF with sublinear term frequency, L2-normalised separately per block (words, characters)."""

    def __init__(self, *, min_df: int = 1, max_features: int = 250_000, char_weight: float = 1.0) -> None:
        self.min_df = min_df
        self.max_features = max_features
        self.char_weight = char_weight
        self.word_vocabulary: dict[str, int] = {}
        self.char_vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0, dtype=np.float32)
        self._names: tuple[np.ndarray, list[str]] | None = None

    @property
    def n_features(self) -> int:
        return len(self.word_vocabulary) + len(self.char_vocabulary)

    def fit(self, documents: Sequence[Document]) -> Featurizer:
        """Learn the vocabulary and inverse document frequencies."""
        word_df: Counter[str] = Counter()
        char_df: Counter[str] = Counter()
        for document in documents:
            word_df.update(set(_word_grams(document)))
            char_df.update(set(document.prepared.chars))
        # Rare features split the budget between the blocks in proportion to their size.
        kept_words = [(g, n) for g, n in word_df.items() if n >= self.min_df or g.startswith(PRODUCT_PREFIX)]
        kept_chars = [(g, n) for g, n in char_df.items() if n >= self.min_df]
        total = len(kept_words) + len(kept_chars)
        if total > self.max_features:
            word_budget = int(self.max_features * len(kept_words) / total)
            kept_words = sorted(kept_words, key=lambda item: (-item[1], item[0]))[:word_budget]
            kept_chars = sorted(kept_chars, key=lambda item: (-item[1], item[0]))[: self.max_features - word_budget]
        kept_words.sort()
        kept_chars.sort()
        self.word_vocabulary = {gram: index for index, (gram, _) in enumerate(kept_words)}
        offset = len(kept_words)
        self.char_vocabulary = {gram: offset + index for index, (gram, _) in enumerate(kept_chars)}
        n_documents = len(documents)
        frequencies = np.array([n for _, n in kept_words] + [n for _, n in kept_chars], dtype=np.float64)
        self.idf = (np.log((1 + n_documents) / (1 + frequencies)) + 1.0).astype(np.float32)
        self._names = None
        return self

    def transform(self, documents: Sequence[Document]) -> sp.csr_matrix:
        """Turn documents into a CSR matrix of block-normalised TF-IDF values."""
        word_get = self.word_vocabulary.get
        char_get = self.char_vocabulary.get
        indices: list[int] = []
        lengths: list[int] = []
        for document in documents:
            before = len(indices)
            indices += [i for i in map(word_get, _word_grams(document)) if i is not None]
            indices += [i for i in map(char_get, document.prepared.chars) if i is not None]
            lengths.append(len(indices) - before)
        n_rows = len(documents)
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        matrix = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
            shape=(n_rows, self.n_features),
        )
        matrix.sum_duplicates()
        if matrix.nnz == 0:
            return matrix
        data = (1.0 + np.log(matrix.data)) * self.idf[matrix.indices]
        is_char = matrix.indices >= len(self.word_vocabulary)
        rows = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
        block = rows * 2 + is_char
        norms = np.sqrt(np.bincount(block, weights=data * data, minlength=2 * n_rows))
        data = data / norms[block]
        data[is_char] *= self.char_weight
        matrix.data = data.astype(np.float32)
        return matrix

    def feature_name(self, index: int) -> str:
        """Return the readable name of a feature (placeholders shown as [订单号] etc.)."""
        name_ids, names = self.display_names()
        return names[name_ids[index]]

    def display_names(self) -> tuple[np.ndarray, list[str]]:
        """Return each feature's display-name id and the distinct names.

        The word 漏液 and the character bigram 漏液 share one id, so an explanation shows one term.
        """
        if self._names is None:
            ids: dict[str, int] = {}
            name_ids = np.zeros(self.n_features, dtype=np.int64)
            for vocabulary in (self.word_vocabulary, self.char_vocabulary):
                for gram, position in vocabulary.items():
                    name_ids[position] = ids.setdefault(display_term(gram), len(ids))
            self._names = (name_ids, list(ids))
        return self._names

    def __getstate__(self) -> dict:
        state = {slot: getattr(self, slot) for slot in ("min_df", "max_features", "char_weight")}
        state.update(word_vocabulary=self.word_vocabulary, char_vocabulary=self.char_vocabulary, idf=self.idf)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._names = None
