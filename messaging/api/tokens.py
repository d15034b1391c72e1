"""API tokens that expire: `Authorization: Token <key>`, valid for API_TOKEN_LIFETIME
seconds after it was issued. Signing in again after that issues a new key; a password
change (accounts.signals) and `DELETE /api/auth/token` end a token at once."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expired(token: Token) -> bool:
    return token.created <= timezone.now() - timedelta(seconds=settings.API_TOKEN_LIFETIME)


def token_issue(*, user) -> Token:
    """The user's live token, or a new one in place of an expired one."""
    token, created = Token.objects.get_or_create(user=user)
    if not created and token_expired(token):
        token.delete()
        token = Token.objects.create(user=user)
    return token


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
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
