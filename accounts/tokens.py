"""API tokens that expire and can be revoked.

DRF's ``Token`` has one key per user and a ``created`` time; a token older than
``settings.API_TOKEN_TTL`` is refused, and asking the token endpoint again issues a
fresh one. Revoking deletes the key, so every client using it is logged out at once.
"""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

TOKEN_EXPIRED = _("令牌已过期，请向 /api/auth/token/ 重新获取")


def token_expires_at(*, token: Token) -> datetime:
    return token.created + settings.API_TOKEN_TTL


def token_is_expired(*, token: Token, now: datetime | None = None) -> bool:
    return (now or timezone.now()) >= token_expires_at(token=token)


def token_issue(*, user) -> Token:
    """Return the user's token, replacing it first if it has expired."""
    with transaction.atomic():
        token = Token.objects.select_for_update().filter(user=user).first()
        if token is not None and token_is_expired(token=token):
            token.delete()
            token = None
        return token or Token.objects.create(user=user)


def token_rotate(*, user) -> Token:
    """Replace the user's token with a new one (the old key stops working at once)."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def token_revoke(*, user) -> bool:
    """Delete the user's token; return whether there was one."""
    deleted, _count = Token.objects.filter(user=user).delete()
    return bool(deleted)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens older than API_TOKEN_TTL."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token=token):
            raise AuthenticationFailed(TOKEN_EXPIRED)
        return user, token
