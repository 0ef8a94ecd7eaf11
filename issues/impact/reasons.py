"""Return-reason text -> complaint category code, by keywords. Plain Python, no Django.

A reason cell holds one or more reasons separated by ；;、|/ or new lines, each
optionally followed by a count: ``尺码偏小×12；色差×5；七天无理由``. Counted
reasons keep their counts; reasons without a count share the returns the
counted ones leave, evenly (the remainder goes to the first). A single reason
without a count therefore takes all the row's returns. Counts that add up to
more than the row's returns are an error the caller reports on the row.

Keywords are tried category by category in ``KEYWORDS`` order; the first
category with a keyword contained in the reason wins, so the more specific
categories come first. A reason no keyword matches maps to "" (unrecognised),
unless a fallback classifier is given and names a category.
"""
from __future__ import annotations
from django.utils.translation import gettext

import re
from collections import Counter
from collections.abc import Callable

# Ordered: the first category whose keyword occurs in the reason wins.
KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("counterfeit", ("假货", "非正品", "仿品", "翻新", "二手", "counterfeit", "fake")),
    ("wrong_or_missing", ("发错", "错发", "漏发", "少发", "缺件", "少件", "缺少配件", "配件缺失", "数量不对",
                          "wrong item", "missing")),
    ("damaged", ("破损", "损坏", "压坏", "压烂", "碎了", "漏液", "漏了", "变质", "腐烂", "烂果", "坏果", "发霉",
                 "过期", "胀包", "damaged", "broken in transit", "leak")),
    ("description_mismatch", ("尺码", "偏大", "偏小", "码数", "不合身", "色差", "颜色不符", "与描述不符", "描述不符",
                              "图片不符", "实物不符", "货不对板", "材质不符", "规格不符", "分量不足", "不一样",
                              "size", "colour", "color", "not as described")),
    ("quality_defect", ("质量", "故障", "坏了", "不能用", "无法使用", "开线", "起球", "掉色", "不开机", "死机", "发热",
                        "做工", "defect", "faulty", "not working")),
    ("logistics_delay", ("物流慢", "发货慢", "太慢", "超时", "未送达", "延误", "迟到", "没送到", "late", "delay")),
    ("price", ("降价", "差价", "价格", "优惠", "保价", "price")),
    ("service", ("客服", "态度", "service")),
    ("other", ("七天无理由", "无理由", "不喜欢", "不想要", "不需要", "拍错", "买错", "买多", "changed mind",
               "no reason")),
)

_SEPARATORS = re.compile(r"[；;、|/\n\r]+")
# "尺码偏小×3", "尺码偏小 x3", "尺码偏小*3", "尺码偏小:3", "尺码偏小：3", "尺码偏小(3)", "尺码偏小（3）"
_COUNT = re.compile(r"^(.*?)\s*(?:[×xX*:：]\s*(\d+)|[(（]\s*(\d+)\s*[)）])\s*$")

Classifier = Callable[[str], "str | None"]


class ReasonCountError(ValueError):
    """The counts in a reason cell add up to more than the row's returns."""


def reason_category(text: str, *, fallback: Classifier | None = None) -> str:
    """Return the category code one reason maps to, or "" when none is recognised."""
    lowered = text.strip().lower()
    if not lowered:
        return ""
    for code, words in KEYWORDS:
        if any(word in lowered for word in words):
            return code
    if fallback is not None:
        return fallback(text) or ""
    return ""


def reasons_parse(cell: str) -> list[tuple[str, int | None]]:
    """Split a reason cell into (reason, count or None) pairs."""
    parts: list[tuple[str, int | None]] = []
    for piece in _SEPARATORS.split(cell or ""):
        piece = piece.strip()
        if not piece:
            continue
        match = _COUNT.match(piece)
        if match and match.group(1).strip():
            parts.append((match.group(1).strip(), int(match.group(2) or match.group(3))))
        else:
            parts.append((piece, None))
    return parts


def reasons_to_categories(cell: str, returns: int, *, fallback: Classifier | None = None) -> Counter[str]:
    """Distribute a row's returns over category codes by its reason cell; raise ReasonCountError.

    An empty cell yields an empty Counter (the returns stay unattributed).
    """
    parts = reasons_parse(cell)
    counts: Counter[str] = Counter()
    if not parts or returns <= 0:
        return counts
    counted = sum(n for _, n in parts if n is not None)
    if counted > returns:
        raise ReasonCountError(
            gettext("退货原因中的数量合计 %(counted)s 大于退货数 %(returns)s") % {"counted": counted, "returns": returns}
        )
    uncounted = [text for text, n in parts if n is None]
    for text, n in parts:
        if n is not None and n > 0:
            counts[reason_category(text, fallback=fallback)] += n
    left = returns - counted
    if uncounted and left > 0:
        share, remainder = divmod(left, len(uncounted))
        for index, text in enumerate(uncounted):
            n = share + (remainder if index == 0 else 0)
            if n:
                counts[reason_category(text, fallback=fallback)] += n
    return counts
