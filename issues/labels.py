"""Readable labels for sub-themes and issue keywords: whole meaningful words, or a phrase a customer wrote.

A label made of the top TF-IDF terms of a cluster used to read ``上面 / 一层 / 收到``,
``18 / 24 / 20`` or ``the / was / arrived``: function words, fillers and numbers weigh a
lot in short complaint texts. Here:

* ``is_label_word`` keeps a word only if it is not a stop word, not a bare number or
  a number with a unit (``18``, ``24号``, ``3.5``) and longer than one character;
  stop words are the maintained lists of stopwordsiso (ISO 639-1 ``zh`` and ``en``)
  plus the complaint fillers in issues/data/label_stopwords.txt;
* ``representative_phrase`` picks, among the tickets nearest the cluster's centre,
  the shortest clause that holds the most of the cluster's top words: ``瓶盖裂了漏液``
  says more than any list of words.

Plain Python, no Django, so it can be tested on hand-written texts.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

PROJECT_STOP_WORDS_PATH = Path(__file__).resolve().parent / "data" / "label_stopwords.txt"

# Clauses: split on Chinese and Western punctuation and line breaks (not on spaces: English needs them).
_CLAUSE_SPLIT_RE = re.compile(r"[，。！？；、,.!?;:：\n\r\t（）()【】\[\]“”\"~～…]+")
# A number alone or with a unit or ordinal: 18, 3.5, 24号, 20元, 2斤, 100%, 第3, 12h, 3rd.
_NUMBER_RE = re.compile(
    r"^(第)?[0-9０-９]+([.,][0-9]+)?(%|％|号|元|块|斤|克|g|kg|ml|个|件|次|天|日|月|年|小时|h|分钟|分|秒|点|箱|瓶|盒|包|张|码|st|nd|rd|th)?$",
    re.IGNORECASE,
)
# 三, 两天, 第二次, 十几个: Chinese numerals alone or with a unit.
_CHINESE_NUMERAL_RE = re.compile(r"^第?[零一二两三四五六七八九十百千万几]+(个|件|次|天|日|周|月|年|小时|分钟|箱|瓶|盒|包|张|斤|块|元|号)?$")
_HAS_CONTENT_RE = re.compile(r"[\u4e00-\u9fffA-Za-z]")
# The masking placeholders the tokenizer uses (private-use characters) are no words either.
_PRIVATE_USE_RE = re.compile(r"[\ue000-\uf8ff]")

PHRASE_MIN_CHARS = 4
PHRASE_MAX_CHARS = 24


@lru_cache(maxsize=1)
def label_stop_words() -> frozenset[str]:
    """Return stopwordsiso's Chinese and English lists plus the project's complaint fillers, lower-cased."""
    import stopwordsiso

    words = set(stopwordsiso.stopwords(["zh", "en"]))
    for line in PROJECT_STOP_WORDS_PATH.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line)
    return frozenset(w.lower() for w in words)


def is_label_word(word: str) -> bool:
    """True for a word that means something on its own in a label."""
    text = word.strip()
    if len(text) < 2 or _PRIVATE_USE_RE.search(text) or not _HAS_CONTENT_RE.search(text):
        return False
    if _NUMBER_RE.match(text) or _CHINESE_NUMERAL_RE.match(text):
        return False
    if text.isascii() and len(text) < 3:  # "ok", "cm": too short to read as a theme
        return False
    return text.lower() not in label_stop_words()


def label_words(words: Iterable[str]) -> list[str]:
    """Keep the label words of ``words``, in order, without repeats."""
    seen: set[str] = set()
    kept = []
    for word in words:
        if word not in seen and is_label_word(word):
            seen.add(word)
            kept.append(word)
    return kept


def clauses(text: str) -> list[str]:
    """Split a complaint into its clauses, trimmed."""
    return [part.strip() for part in _CLAUSE_SPLIT_RE.split(text or "") if part.strip()]


def _contains(clause: str, keyword: str) -> bool:
    if keyword.isascii():  # whole English words: "cap" is not in "escape"
        return re.search(rf"\b{re.escape(keyword)}\b", clause, re.IGNORECASE) is not None
    return keyword in clause


def representative_phrase(texts: Sequence[str], keywords: Sequence[str], *, top: int = 3) -> str:
    """Return the clause that best says what ``texts`` (nearest the centre first) are about, or "".

    The clause must hold at least one of the ``top`` first keywords and be between
    PHRASE_MIN_CHARS and PHRASE_MAX_CHARS characters (twice that for English). Keywords
    weigh by rank (the first outweighs the next two together); the heaviest clause wins,
    then the earliest (most central) text, then the shortest clause.
    """
    wanted = [k for k in keywords[:top] if k]
    if not wanted:
        return ""
    best: tuple[int, int, int] | None = None
    phrase = ""
    for position, text in enumerate(texts):
        for clause in clauses(text):
            longest = PHRASE_MAX_CHARS * (2 if clause.isascii() else 1)
            if not PHRASE_MIN_CHARS <= len(clause) <= longest or _PRIVATE_USE_RE.search(clause):
                continue
            weight = sum(2 ** (top - rank) for rank, k in enumerate(wanted) if _contains(clause, k))
            if not weight:
                continue
            rank = (-weight, position, len(clause))
            if best is None or rank < best:
                best, phrase = rank, clause
    return phrase


def theme_label(keywords: Sequence[str], texts: Sequence[str] = ()) -> str:
    """The label of a theme: a representative phrase when one is found, else its first three words."""
    words = label_words(keywords)
    phrase = representative_phrase(texts, words) if texts else ""
    return (phrase or " / ".join(words[:3]))[:120]
