"""Phone-number masking for ticket text shown to people other than its filer.

Plain Python (no Django) so pages, exports and the model's input can share it.
Only whole numbers are masked: a digit right before or after the match means it
is part of a longer number (an order number, a tracking number) and is left alone.
"""
from __future__ import annotations

import re

# Agents paste text typed in full-width mode too (１３８１２３４５６７８), so digits and
# separators match both widths; the masked text keeps the characters it had.
_DIGIT = "[0-9０-９]"
_SEPARATOR = "[ \\-　－]"
# Mainland mobile numbers: 1[3-9]x xxxx xxxx, optionally +86 / 86 / 0086 first,
# with the spaces or dashes people type between the groups.
_MOBILE = re.compile(
    rf"(?<!{_DIGIT})"
    rf"(?P<prefix>(?:[+＋]|00)?[8８][6６]{_SEPARATOR}?)?"
    rf"(?P<head>[1１][3-9３-９]{_DIGIT}){_SEPARATOR}?(?P<middle>{_DIGIT}{{4}}){_SEPARATOR}?(?P<tail>{_DIGIT}{{4}})"
    rf"(?!{_DIGIT})"
)
# Landlines: area code 0xx or 0xxx (optionally in brackets), then 7 or 8 digits.
_AREA = rf"[0０][1-9１-９]{_DIGIT}{{1,2}}"
_LANDLINE = re.compile(
    rf"(?<!{_DIGIT})"
    rf"(?P<area>\({_AREA}\)|（{_AREA}）|{_AREA})(?P<separator>{_SEPARATOR}?)"
    rf"(?P<number>[2-9２-９]{_DIGIT}{{2,3}}{_SEPARATOR}?{_DIGIT}{{4}})"
    rf"(?!{_DIGIT})"
)


def _mask_mobile(match: re.Match) -> str:
    return f"{match['prefix'] or ''}{match['head']}****{match['tail']}"


def _mask_landline(match: re.Match) -> str:
    digits = re.sub(r"[^0-9０-９]", "", match["number"])
    return f"{match['area']}{match['separator']}****{digits[-4:]}"


def mask_phone_numbers(text: str) -> str:
    """Return ``text`` with mobile and landline numbers masked (13812345678 -> 138****5678)."""
    if not text:
        return text
    text = _MOBILE.sub(_mask_mobile, text)
    return _LANDLINE.sub(_mask_landline, text)
