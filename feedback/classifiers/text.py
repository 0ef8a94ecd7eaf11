"""Text preparation for customer complaints: normalise, mask, tokenise.

Everything here is deterministic and cheap, because it runs on every ticket
before the model sees it and again in every training run.
"""
from __future__ import annotations

import functools

import hashlib
import logging
import os
import pickle
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
USER_DICT_PATH = DATA_DIR / "userdict.txt"
STOP_WORDS_PATH = DATA_DIR / "stopwords.txt"

# Placeholders are private-use characters: jieba emits each as one token and the
# character n-grams see one symbol, so "an order number" is a feature while the
# digits themselves are not.
URL = "\ue001"
ORDER = "\ue002"
PHONE = "\ue003"
TRACKING = "\ue004"
PLACEHOLDER_NAMES = {URL: "[链接]", ORDER: "[订单号]", PHONE: "[电话]", TRACKING: "[运单号]"}

_URL_RE = re.compile(r"(?:https?://|www\.)[^\s\u4e00-\u9fff，。！？]+|\b[a-z0-9.-]+\.(?:com|cn|net)(?:/[^\s\u4e00-\u9fff]*)?")
# Courier waybills: a carrier prefix and 10+ digits (SF, YT, JT, JD ...), or digits after 运单/快递单.
_TRACKING_RE = re.compile(
    r"(?<![a-z0-9])(?:sf|yt|jt|jdv|jd|zto|sto|yd|ems|db|dpk|ky)\s?\d{9,15}(?!\d)"
    r"|(?<=运单号)[:：\s]*\d{9,20}|(?<=快递单号)[:：\s]*\d{9,20}|(?<=物流单号)[:：\s]*\d{9,20}"
)
# Mainland mobiles (optionally +86, optionally split 3-4-4, or already masked as 138****5678)
# and landlines with an area code.
_MOBILE = r"(?:\+?86[\s-]?)?1[3-9]\d[\s-]?(?:\d{4}|\*{4})[\s-]?\d{4}"
_LANDLINE = r"0\d{2,3}[\s-]?\d{7,8}"
_PHONE_RE = re.compile(rf"(?<!\d)(?:{_MOBILE}|{_LANDLINE})(?!\d)")
# Order numbers: long digit runs, or any 6+ digits right after 订单/单号.
_ORDER_RE = re.compile(r"(?<![\d\ue000-\ue0ff])\d{12,24}(?!\d)|(?<=订单号)[:：\s]*\d{6,24}|(?<=订单)[:：\s]*\d{6,24}")

_MAYBE_MASK_RE = re.compile(r"\d{6}|\d{3}[\s*-]|http|www|\.com|\.cn")
# Emoji, pictographs, dingbats, variation selectors and zero-width joiners.
_EMOJI_RE = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F900-\U0001F9FF\u2B00-\u2BFF\uFE0F\u200D\u20E3]+"
)
# A run of the same punctuation ("！！！", "。。。", "???") says no more than one.
_REPEAT_PUNCT_RE = re.compile(r"([!?,.~\-_…。，、；;：:*·])\1+")
# Laughter and drawn-out characters ("啊啊啊啊"): three or more become two.
_REPEAT_CHAR_RE = re.compile(r"(.)\1{2,}")
_SPACE_RE = re.compile(r"\s+")
_CONTENT_RE = re.compile(r"[\u4e00-\u9fffa-z0-9]")
_SEGMENT_SPLIT_RE = re.compile(r"[^\u4e00-\u9fffa-z0-9\ue001-\ue004]+")

# Negators are merged with the word they negate, so "不新鲜" and "新鲜" are different features.
NEGATORS = frozenset(
    "不 没 没有 无 未 别 非 不是 不会 不能 不要 不够 没法 无法 毫无 并不 并没有 从不 从没 从来不 从来没有 绝不 不再 不太 都不 也不 也没".split()
)
# Degree words that may stand between a negator and its word: 不太新鲜 means 不新鲜.
_DEGREE = frozenset("太 很 怎么 那么 这么 够 大 算 是 十分 特别 非常 怎么样 咋 一点 一点儿 很多 多少".split())


@lru_cache(maxsize=1)
def _translation_table() -> dict[int, str]:
    """Build one str.translate table: full-width to half-width, traditional to simplified."""
    # OpenCC's phrase-level converter costs ~100 µs a ticket and NFKC ~8 µs; a
    # single per-character table costs ~7 µs and is good enough for classification.
    import opencc

    table: dict[int, str] = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    table[0x3000] = " "  # ideographic space
    path = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            source, _, targets = line.rstrip("\n").partition("\t")
            if len(source) == 1 and targets:
                target = targets.split()[0]
                if target != source:
                    table[ord(source)] = target
    return table


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Return the project's stop words (negators are never among them)."""
    words = {
        line.strip()
        for line in STOP_WORDS_PATH.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    return frozenset(words - NEGATORS)


_SINGLE_LATIN_OR_NUMBER = re.compile(r"^(?:[A-Za-z]|[\d\W_]+)$")
_ALL_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


@functools.lru_cache(maxsize=1)
def _explanation_stop_words() -> frozenset[str]:
    """The project's stop words plus English ones (stopwordsiso), for what an explanation may show."""
    english: set[str] = set()
    try:
        import stopwordsiso

        english = set(stopwordsiso.stopwords("en"))
    except ImportError:  # the classifier still runs without it; English fillers may then show
        pass
    return stop_words() | frozenset(english)


def readable_term(term: str, *, from_characters: bool) -> bool:
    """Whether an explanation may show ``term`` to an agent.

    Never a single Latin letter, a number or punctuation, or a stop word (Chinese or English). A
    character n-gram (``from_characters``) is shown only when it is a word in the tokenizer's
    dictionary: 漏液 yes, the fragments 递员 or 到的 no. Placeholders ([订单号]) are readable.
    """
    term = term.strip()
    if not term:
        return False
    if term.startswith("[") and term.endswith("]"):
        return True
    if _SINGLE_LATIN_OR_NUMBER.match(term) or term.lower() in _explanation_stop_words():
        return False
    if from_characters:
        return bool(_ALL_CJK.match(term)) and len(term) >= 2 and _TOKENIZER.get().FREQ.get(term, 0) > 0
    return True


def mask_phone_numbers(text: str) -> str:
    """Mask phone numbers for display, keeping the first 3 and last 4 digits (138****5678)."""
    # One implementation for pages, exports and the classifier (plain Python, no Django).
    from feedback.masking import mask_phone_numbers as mask

    return mask(text)


def normalize(text: str) -> str:
    """Return text in the one form the model sees: half-width, simplified, lower case, masked."""
    text = (text or "").translate(_translation_table()).lower()
    if _MAYBE_MASK_RE.search(text):  # most complaints hold no number or link: skip four regexes
        text = _URL_RE.sub(f" {URL} ", text)
        text = _TRACKING_RE.sub(f" {TRACKING} ", text)
        text = _PHONE_RE.sub(f" {PHONE} ", text)
        text = _ORDER_RE.sub(f" {ORDER} ", text)
    text = _EMOJI_RE.sub(" ", text)
    text = _REPEAT_PUNCT_RE.sub(r"\1", text)
    text = _REPEAT_CHAR_RE.sub(r"\1\1", text)
    return _SPACE_RE.sub(" ", text).strip()


def has_content(normalized: str) -> bool:
    """Tell whether normalised text has anything to classify (a letter, digit or hanzi)."""
    return bool(_CONTENT_RE.search(normalized))


class _Tokenizer:
    """A private jieba tokenizer with the e-commerce user dictionary, loaded once per process."""

    def __init__(self) -> None:
        self._jieba = None
        self._lock = threading.Lock()

    def _cache_path(self) -> Path:
        import jieba

        dict_path = Path(jieba.__file__).resolve().parent / "dict.txt"
        key = hashlib.sha1()
        for path in (dict_path, USER_DICT_PATH):
            stat = path.stat()
            key.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        directory = Path(os.environ.get("FEEDBACK_JIEBA_CACHE_DIR", tempfile.gettempdir()))
        return directory / f"feedback-jieba-{key.hexdigest()[:16]}.pickle"

    def _build(self):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        cache = self._cache_path()
        # jieba's own marshal cache takes ~1.3 s to read here; a pickle of the
        # prefix dictionary with our user words already added takes ~0.4 s.
        try:
            with cache.open("rb") as handle:
                tokenizer.FREQ, tokenizer.total = pickle.load(handle)
            tokenizer.initialized = True
            return tokenizer
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
            pass
        tokenizer.initialize()
        tokenizer.load_userdict(str(USER_DICT_PATH))
        try:
            temporary = cache.with_suffix(f".{os.getpid()}.tmp")
            with temporary.open("wb") as handle:
                pickle.dump((tokenizer.FREQ, tokenizer.total), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, cache)
        except OSError as error:  # a read-only temp dir only costs load time
            logger.info("jieba cache not written: %s", error)
        return tokenizer

    def get(self):
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    self._jieba = self._build()
        return self._jieba


_TOKENIZER = _Tokenizer()


def jieba_tokenizer():
    """Return the shared jieba tokenizer with the user dictionary loaded."""
    return _TOKENIZER.get()


def words(normalized: str) -> list[str]:
    """Split normalised text into words: jieba, negation merged, stop words and punctuation dropped."""
    raw = _TOKENIZER.get().lcut(normalized, HMM=False)
    stops = stop_words()
    result: list[str] = []
    pending_negator = ""
    for token in raw:
        if not _CONTENT_RE.match(token) and token not in PLACEHOLDER_NAMES:
            if pending_negator:
                result.append(pending_negator)
                pending_negator = ""
            continue
        if pending_negator:
            if token in _DEGREE:
                continue
            if token in stops:
                result.append(pending_negator)
                pending_negator = ""
            else:
                result.append(pending_negator + token)
                pending_negator = ""
                continue
        if token in NEGATORS:
            pending_negator = token
        elif token not in stops:
            result.append(token)
    if pending_negator:
        result.append(pending_negator)
    return result


def char_ngrams(normalized: str, low: int = 1, high: int = 3) -> list[str]:
    """Return character n-grams inside punctuation-delimited segments."""
    grams: list[str] = []
    for segment in _SEGMENT_SPLIT_RE.split(normalized):
        size = len(segment)
        for n in range(low, high + 1):
            if n == 1:
                grams += segment
            else:
                grams += [segment[i : i + n] for i in range(size - n + 1)]
    return grams


# Character n-grams as integers: a code point has at most 21 bits, so a trigram packs into one
# uint64 (c1 << 42 | c2 << 21 | c3), and the three sizes land in separate ranges since every
# segment character is >= "0" (48): unigrams < 2**21 <= bigrams < 2**42 <= trigrams.
_BITS = 21
_BIGRAM_FLOOR = 1 << _BITS
_TRIGRAM_FLOOR = 1 << (2 * _BITS)
# The separator put between texts of a batch; it is no segment character, so no n-gram spans two texts.
_TEXT_SEPARATOR = "\x00"


def _segment_mask(points: np.ndarray) -> np.ndarray:
    """True where a code point belongs to a segment (what _SEGMENT_SPLIT_RE does not split on)."""
    return (
        ((points >= 0x4E00) & (points <= 0x9FFF))
        | ((points >= 0x61) & (points <= 0x7A))  # a-z (text is lower-cased)
        | ((points >= 0x30) & (points <= 0x39))  # 0-9
        | ((points >= 0xE001) & (points <= 0xE004))  # the placeholders
    )


def char_ngram_codes(normalized_texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return (codes, text index) of the 1-3 character n-grams of many normalised texts at once.

    The same n-grams as char_ngrams(), packed as integers and computed for a whole
    batch with numpy: per text in Python this was the largest cost after jieba.
    """
    if not normalized_texts:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    joined = _TEXT_SEPARATOR.join(normalized_texts)
    # surrogatepass: a lone surrogate (broken input) stays one code point, so offsets hold.
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(text) + 1 for text in normalized_texts), dtype=np.int64, count=len(normalized_texts))
    owner = np.repeat(np.arange(len(normalized_texts), dtype=np.int64), lengths)[: len(points)]
    inside = _segment_mask(points)
    pair = inside[:-1] & inside[1:]
    triple = pair[:-1] & inside[2:]
    bigrams = (points[:-1] << _BITS) | points[1:]
    trigrams = (points[:-2] << (2 * _BITS)) | (points[1:-1] << _BITS) | points[2:]
    codes = np.concatenate([points[inside], bigrams[pair], trigrams[triple]])
    owners = np.concatenate([owner[inside], owner[:-1][pair], owner[:-2][triple]])
    return codes, owners


def char_ngram_code(gram: str) -> int:
    """Return the integer code of one character n-gram (1 to 3 characters)."""
    code = 0
    for character in gram:
        code = (code << _BITS) | ord(character)
    return code


def char_ngram_text(code: int) -> str:
    """Turn an n-gram code back into its characters."""
    size = 1 if code < _BIGRAM_FLOOR else 2 if code < _TRIGRAM_FLOOR else 3
    mask = _BIGRAM_FLOOR - 1
    return "".join(chr((code >> (_BITS * shift)) & mask) for shift in range(size - 1, -1, -1))


@dataclass(frozen=True, slots=True)
class PreparedText:
    """A complaint after preparation: the normalised string and its words.

    Its character n-grams are computed for a whole batch by the featurizer
    (char_ngram_codes); `chars` lists them as strings for inspection.
    """

    normalized: str
    words: list[str]
    # Nothing to classify: no letter, digit or hanzi left after normalisation.
    empty: bool = False

    @property
    def chars(self) -> list[str]:
        return [] if self.empty else char_ngrams(self.normalized)


def prepare(text: str) -> PreparedText:
    """Normalise, mask and tokenise one complaint."""
    normalized = normalize(text)
    if not has_content(normalized):
        return PreparedText(normalized, [], empty=True)
    return PreparedText(normalized, words(normalized))


def display_term(feature: str) -> str:
    """Turn a feature name back into something an agent can read."""
    for placeholder, name in PLACEHOLDER_NAMES.items():
        feature = feature.replace(placeholder, name)
    return feature
