"""Sparse TF-IDF features over jieba words, word bigrams, character n-grams and the product."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .text import (
    PreparedText,
    char_ngram_code,
    char_ngram_codes,
    char_ngram_text,
    display_term,
    prepare,
    readable_term,
)

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
VECTOR_TERM = "[词向量]"


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
    """TF-IDF with sublinear term frequency, L2-normalised separately per block (words, characters).

    Word features live in a dict. Character n-gram features are integer codes
    (text.char_ngram_codes) in a sorted array, looked up for a whole batch at once.
    """

    # Word vectors (see WordVectors) appended as dense columns after the sparse ones; None: none.
    # A class attribute, so featurizers pickled before it existed load without them.
    vectors: WordVectors | None = None

    def __init__(
        self,
        *,
        min_df: int = 1,
        max_features: int = 250_000,
        char_weight: float = 1.0,
        vectors: WordVectors | None = None,
    ) -> None:
        self.min_df = min_df
        self.max_features = max_features
        self.char_weight = char_weight
        self.vectors = vectors
        self.word_vocabulary: dict[str, int] = {}
        # Sorted n-gram codes and, for each, its feature index.
        self.char_codes = np.zeros(0, dtype=np.uint64)
        self.char_index = np.zeros(0, dtype=np.int32)
        self.idf = np.zeros(0, dtype=np.float32)
        self._names: tuple[np.ndarray, list[str]] | None = None
        self._readable: np.ndarray | None = None

    @property
    def n_sparse(self) -> int:
        """Words and character n-grams; the word-vector columns (if any) come after them."""
        return len(self.word_vocabulary) + len(self.char_codes)

    @property
    def n_features(self) -> int:
        return self.n_sparse + (self.vectors.dim if self.vectors is not None else 0)

    def fit(self, documents: Sequence[Document]) -> Featurizer:
        """Learn the vocabulary and inverse document frequencies."""
        word_df: Counter[str] = Counter()
        for document in documents:
            word_df.update(set(_word_grams(document)))
        char_grams, char_counts = _char_document_frequencies(documents)
        # Rare features split the budget between the blocks in proportion to their size.
        kept_words = [(g, n) for g, n in word_df.items() if n >= self.min_df or g.startswith(PRODUCT_PREFIX)]
        frequent = char_counts >= self.min_df
        char_grams, char_counts = char_grams[frequent], char_counts[frequent]
        total = len(kept_words) + len(char_grams)
        if total > self.max_features:
            word_budget = int(self.max_features * len(kept_words) / total)
            kept_words = sorted(kept_words, key=lambda item: (-item[1], item[0]))[:word_budget]
            # Most frequent first, ties by code; then back in code order for searchsorted.
            keep = np.lexsort((char_grams, -char_counts))[: self.max_features - word_budget]
            keep.sort()
            char_grams, char_counts = char_grams[keep], char_counts[keep]
        kept_words.sort()
        self.word_vocabulary = {gram: index for index, (gram, _) in enumerate(kept_words)}
        self.char_codes = char_grams
        self.char_index = np.arange(len(kept_words), len(kept_words) + len(char_grams), dtype=np.int32)
        n_documents = len(documents)
        frequencies = np.concatenate([np.array([n for _, n in kept_words], dtype=np.float64), char_counts.astype(np.float64)])
        self.idf = (np.log((1 + n_documents) / (1 + frequencies)) + 1.0).astype(np.float32)
        self._names = None
        self._readable = None
        return self

    def transform(self, documents: Sequence[Document]) -> sp.csr_matrix:
        """Turn documents into a CSR matrix of block-normalised TF-IDF values."""
        n_rows = len(documents)
        word_get = self.word_vocabulary.get
        word_columns: list[int] = []
        word_counts: list[int] = []
        for document in documents:
            before = len(word_columns)
            word_columns += [i for i in map(word_get, _word_grams(document)) if i is not None]
            word_counts.append(len(word_columns) - before)
        word_rows = np.repeat(np.arange(n_rows, dtype=np.int64), word_counts)
        codes, char_rows = char_ngram_codes([d.prepared.normalized if not d.empty else "" for d in documents])
        char_columns = self._char_columns(codes)
        known = char_columns >= 0
        rows = np.concatenate([word_rows, char_rows[known]])
        columns = np.concatenate([np.asarray(word_columns, dtype=np.int64), char_columns[known]])
        # COO to CSR adds up repeated (row, column) pairs: the term counts.
        matrix = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(n_rows, self.n_sparse)
        )
        matrix.sum_duplicates()
        if matrix.nnz == 0:
            return self._with_vectors(matrix, documents)
        data = (1.0 + np.log(matrix.data)) * self.idf[matrix.indices]
        is_char = matrix.indices >= len(self.word_vocabulary)
        row_of = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
        block = row_of * 2 + is_char
        norms = np.sqrt(np.bincount(block, weights=data * data, minlength=2 * n_rows))
        data = data / norms[block]
        data[is_char] *= self.char_weight
        matrix.data = data.astype(np.float32)
        return self._with_vectors(matrix, documents)

    def _with_vectors(self, matrix: sp.csr_matrix, documents: Sequence[Document]) -> sp.csr_matrix:
        if self.vectors is None:
            return matrix
        # The dense block goes after each row's sparse entries: build the CSR arrays directly
        # (sp.hstack costs ~0.2 ms, as much again as the rest of a single ticket's features).
        dense = self.vectors.documents(documents)
        n_rows, dim = dense.shape
        indptr = matrix.indptr.astype(np.int64) + np.arange(n_rows + 1, dtype=np.int64) * dim
        data = np.empty(indptr[-1], dtype=np.float32)
        indices = np.empty(indptr[-1], dtype=np.int32)
        sparse_positions = np.arange(matrix.nnz) + np.repeat(np.arange(n_rows) * dim, np.diff(matrix.indptr))
        data[sparse_positions] = matrix.data
        indices[sparse_positions] = matrix.indices
        dense_positions = ((indptr[1:] - dim)[:, None] + np.arange(dim)).ravel()
        data[dense_positions] = dense.ravel()
        indices[dense_positions] = np.tile(np.arange(self.n_sparse, self.n_sparse + dim, dtype=np.int32), n_rows)
        return sp.csr_matrix((data, indices, indptr), shape=(n_rows, self.n_sparse + dim))

    def _char_columns(self, codes: np.ndarray) -> np.ndarray:
        """Return each code's feature index, or -1 for n-grams outside the vocabulary."""
        if not len(self.char_codes) or not len(codes):
            return np.full(len(codes), -1, dtype=np.int64)
        positions = np.searchsorted(self.char_codes, codes)
        positions[positions == len(self.char_codes)] = 0
        found = self.char_codes[positions] == codes
        return np.where(found, self.char_index[positions], -1).astype(np.int64)

    def feature_name(self, index: int) -> str:
        """Return the readable name of a feature (placeholders shown as [订单号] etc.)."""
        name_ids, names = self.display_names()
        return names[name_ids[index]]

    def display_names(self) -> tuple[np.ndarray, list[str]]:
        """Return each feature's display-name id and the distinct names.

        The word 漏液 and the character bigram 漏液 share one id, so an explanation shows one term.
        """
        if self._names is None:
            self._build_names()
        return self._names

    def readable_features(self) -> np.ndarray:
        """Per feature: may an explanation show it? Whole words and dictionary n-grams only; never
        the product feature (商品:牛奶 is context, not a keyword), the word vectors, single letters,
        numbers or stop words (text.readable_term)."""
        if self._readable is None:
            self._build_names()
        return self._readable

    def _build_names(self) -> None:
        ids: dict[str, int] = {}
        readable_names: dict[int, bool] = {}
        name_ids = np.zeros(self.n_features, dtype=np.int64)
        for gram, position in self.word_vocabulary.items():
            name = display_term(gram)
            name_ids[position] = ids.setdefault(name, len(ids))
            readable_names[name_ids[position]] = readable_names.get(name_ids[position], False) or (
                not gram.startswith(PRODUCT_PREFIX) and readable_term(name, from_characters=False))
        for code, position in zip(self.char_codes.tolist(), self.char_index.tolist()):
            name = display_term(char_ngram_text(code))
            name_ids[position] = ids.setdefault(name, len(ids))
            readable_names[name_ids[position]] = readable_names.get(name_ids[position], False) or readable_term(
                name, from_characters=True)
        # The word-vector columns mean nothing one by one: shown as one term (TriageModel skips it).
        name_ids[self.n_sparse :] = ids.setdefault(VECTOR_TERM, len(ids))
        readable_by_name = np.array([readable_names.get(i, False) for i in range(len(ids))], dtype=bool)
        self._names = (name_ids, list(ids))
        self._readable = readable_by_name[name_ids]

    def __getstate__(self) -> dict:
        state = {slot: getattr(self, slot) for slot in ("min_df", "max_features", "char_weight", "vectors")}
        state.update(
            word_vocabulary=self.word_vocabulary, char_codes=self.char_codes, char_index=self.char_index, idf=self.idf
        )
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        old_vocabulary = state.pop("char_vocabulary", None)
        if old_vocabulary is not None:  # a model stored before the n-grams became integer codes
            pairs = sorted((char_ngram_code(gram), index) for gram, index in old_vocabulary.items())
            state["char_codes"] = np.array([code for code, _ in pairs], dtype=np.uint64)
            state["char_index"] = np.array([index for _, index in pairs], dtype=np.int32)
        self.__dict__.update(state)
        self._names = None
        self._readable = None


def _char_document_frequencies(documents: Sequence[Document], chunk: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct character n-gram codes (sorted) and in how many documents each occurs."""
    per_chunk: list[np.ndarray] = []
    for start in range(0, len(documents), chunk):
        batch = documents[start : start + chunk]
        codes, owners = char_ngram_codes([d.prepared.normalized if not d.empty else "" for d in batch])
        # One occurrence per (document, code): sort by both and keep the first of each run.
        order = np.lexsort((codes, owners))
        codes, owners = codes[order], owners[order]
        first = np.ones(len(codes), dtype=bool)
        first[1:] = (codes[1:] != codes[:-1]) | (owners[1:] != owners[:-1])
        per_chunk.append(codes[first])
    if not per_chunk:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(per_chunk), return_counts=True)


class WordVectors:
    """Word vectors learnt from unlabelled complaints (gensim word2vec over the jieba words).

    A document's vector is the mean of its known words' vectors, L2-normalised, times `weight`:
    complaints that say the same thing in different words (烂了 / 坏了 / 变质) land close
    together even when the labelled examples used only one of them. Only the vocabulary's
    vectors are kept (a dict and a float32 matrix), so predicting needs no gensim.
    """

    def __init__(self, vocabulary: dict[str, int], matrix: np.ndarray, weight: float) -> None:
        self.vocabulary = vocabulary
        self.matrix = np.asarray(matrix, dtype=np.float32)
        self.weight = weight

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @classmethod
    def train(
        cls, documents: Sequence[Document], *, dim: int = 100, weight: float = 0.5, epochs: int = 10, seed: int = 0
    ) -> WordVectors:
        """Train word2vec (skip-gram) on the documents' words; one worker thread, so the result repeats."""
        from gensim.models import Word2Vec  # training only: a worker that predicts never imports gensim

        sentences = [d.prepared.words for d in documents if not d.empty and d.prepared.words]
        model = Word2Vec(
            sentences, vector_size=dim, window=5, min_count=3, sg=1, epochs=epochs, workers=1, seed=seed
        )
        vocabulary = {word: index for index, word in enumerate(model.wv.index_to_key)}
        return cls(vocabulary, model.wv.vectors.copy(), weight)

    def documents(self, documents: Sequence[Document]) -> np.ndarray:
        """Return one row per document: the weighted, normalised mean of its words' vectors."""
        get = self.vocabulary.get
        lengths: list[int] = []
        columns: list[int] = []
        for document in documents:
            before = len(columns)
            columns += [i for i in map(get, document.prepared.words) if i is not None]
            lengths.append(len(columns) - before)
        sums = np.zeros((len(documents), self.dim), dtype=np.float32)
        if columns:
            counts = np.asarray(lengths)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            known = counts > 0
            # The words come row after row: one reduceat adds up each row's vectors.
            sums[known] = np.add.reduceat(self.matrix[np.asarray(columns)], starts[known], axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (sums / norms * self.weight).astype(np.float32)
