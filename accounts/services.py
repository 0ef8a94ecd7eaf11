"""Writes on accounts: the user's own settings."""
from __future__ import annotations

from django.conf import settings


def user_language_set(*, user, language: str) -> bool:
    """Store ``language`` as the user's language (pages and emails); return whether it changed.

    Raise ValueError for a code that is not in settings.LANGUAGES.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language: {language!r}")
    if user.language == language:
        return False
    user.language = language
    user.save(update_fields=["language"])
    return True

