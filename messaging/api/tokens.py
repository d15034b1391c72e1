"""API tokens that expire: `Authorization: Token <key>`, valid for API_TOKEN_LIFETIME
seconds after it was issued. Signing in again after that issues a new key; a password
change (accounts.signals) and `DELETE /api/auth/token` end a token at once.

Who a token signs in comes from the cache (`messaging.cache.credentials`), so a request
costs no SQL for it: the user's fields but the password hash, and when the token was
issued. Deleting the token or saving its user retires the entry (messaging.receivers).
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from accounts.models import User
from messaging import cache

# Loaded from the row, never cached: reading `user.password` on a cached user loads it.
_USER_FIELDS = tuple(f.attname for f in User._meta.concrete_fields if f.name != "password")


def token_expired(token: Token) -> bool:
    return token.created <= timezone.now() - timedelta(seconds=settings.API_TOKEN_LIFETIME)


def token_issue(*, user) -> Token:
    """The user's live token, or a new one in place of an expired one."""
    token, created = Token.objects.get_or_create(user=user)
    if not created and token_expired(token):
        token.delete()
        token = Token.objects.create(user=user)
    return token


def _credentials_load(key: str) -> tuple[tuple[Any, ...], datetime] | None:
    # Column values, as a model is built from (a loaded FieldFile would pickle its whole
    # instance, password hash and token included).
    row = (
        Token.objects.filter(key=key)
        .values_list("created", *(f"user__{name}" for name in _USER_FIELDS))
        .first()
    )
    if row is None:
        return None
    created, *values = row
    return tuple(values), created


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        found = cache.credentials(token_key=key, load=lambda: _credentials_load(key))
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        values, created = found
        user = User.from_db(DEFAULT_DB_ALIAS, _USER_FIELDS, values)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token = Token.from_db(
            DEFAULT_DB_ALIAS, ("key", "user_id", "created"), (key, user.pk, created)
        )
        token.user = user
        if token_expired(token):
            raise exceptions.AuthenticationFailed("Token expired.")
        return user, token


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    target_class = "messaging.api.tokens.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <key>` from POST /api/auth/token; it expires API_TOKEN_LIFETIME"
                " seconds after it was issued (401 `Token expired.`)."
            ),
        }
