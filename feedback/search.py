"""How the ticket search reads a query: the terms that must all appear, found with jieba.

`牛奶 酸` and `牛奶酸了` both mean "牛奶 AND 酸": whitespace separates terms, and a run of
Chinese is cut by the classifier's jieba tokenizer (with its e-commerce dictionary), dropping
function words (了, 的, 很 ...) that would only narrow the search by accident. Latin, digits,
SKUs and order numbers stay whole, so `SH-500` or `DD20241111001` is one term.
"""
from __future__ import annotations

import re

from .classifiers.text import jieba_tokenizer, stop_words

MAX_TERMS = 8
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")
_CONTENT_RE = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


def search_terms(q: str) -> list[str]:
    """Return the distinct terms of ``q`` that a ticket must all contain, in the order typed."""
    terms: list[str] = []
    stops = stop_words()
    for chunk in (q or "").split():
        if not _HAN_RE.search(chunk):
            terms.append(chunk)
            continue
        tokens = [token for token in jieba_tokenizer().lcut(chunk, HMM=False) if _CONTENT_RE.search(token)]
        # A chunk made only of function words (just "了") is still searched for as typed.
        terms.extend([token for token in tokens if token not in stops] or tokens)
    return list(dict.fromkeys(terms))[:MAX_TERMS]


def ticket_number(q: str) -> int | None:
    """Return the ticket id ``q`` names (``3001`` or ``#3001``), or None."""
    number = (q or "").strip().removeprefix("#")
    if number.isascii() and number.isdigit() and len(number) <= 10 and 0 < int(number) < 2**31:
        return int(number)
    return None
