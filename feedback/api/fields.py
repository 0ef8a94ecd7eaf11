"""Serializer fields shared by the APIs."""
from __future__ import annotations
from django.utils.translation import gettext_lazy

from rest_framework import serializers

NUL_MESSAGE = gettext_lazy("不能包含空字符 NUL")


class CodeRelatedField(serializers.SlugRelatedField):
    """A related row named by its code. A NUL byte is refused before the lookup: PostgreSQL cannot
    compare it, and the error it raises is not one DRF turns into a 400."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")
        return super().to_internal_value(data)
