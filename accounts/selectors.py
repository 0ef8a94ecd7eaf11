"""Reads on accounts."""
from __future__ import annotations

from django.conf import settings


def user_language(user) -> str:
    """Return the language to write to ``user`` in (emails): their choice, else the site's default."""
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
