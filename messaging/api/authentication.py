"""Cognito JWT authentication: `Authorization: Bearer <access or ID token>`.

The token is verified against the user pool's JWKS (fetched once, kept in Django's
cache, fetched again when a token names a key it does not hold: Cognito rotates keys),
then its `sub` is looked up as `User.cognito_user_id`. Failures are 401s that name the
reason in terms a client can act on, never the library's own message.
"""

import hashlib
import json
import logging
import urllib.request

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from messaging.cache import outage_report

logger = logging.getLogger(__name__)

JWKS_TIMEOUT_SECONDS = 3
JWKS_CACHE_SECONDS = 24 * 60 * 60
# An unknown `kid` is worth a refetch (Cognito rotated its keys), but only a few per
# minute, so a flood of tokens with made-up kids cannot turn every request into a JWKS
# download.
JWKS_REFETCHES_PER_MINUTE = 10
ACCEPTED_ALGORITHMS = ["RS256"]


class CognitoUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Cognito sign-in is temporarily unavailable. Try again shortly."
    default_code = "cognito_unavailable"


def cognito_issuer() -> str:
    return (
        f"https://cognito-idp.{settings.COGNITO_REGION}.amazonaws.com/"
        f"{settings.COGNITO_USER_POOL_ID}"
    )


def cognito_jwks_url() -> str:
    return settings.COGNITO_JWKS_URL or f"{cognito_issuer()}/.well-known/jwks.json"


def _jwks_fetch(url: str) -> dict[str, dict]:
    try:
        # The URL is the operator's setting (https in AWS, http to moto_server locally).
        with urllib.request.urlopen(url, timeout=JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310
            document = json.load(response)
    except (OSError, ValueError) as exc:
        logger.warning("cannot fetch the Cognito JWKS from %s: %s", url, exc)
        raise CognitoUnavailable() from exc
    keys = document.get("keys") if isinstance(document, dict) else None
    return {
        key["kid"]: key
        for key in keys or []
        if isinstance(key, dict) and isinstance(key.get("kid"), str)
    }


def _refetch_allowed(cache_key: str) -> bool:
    window = f"{cache_key}:refetches"
    try:
        cache.add(window, 0, 60)
        return cache.incr(window) <= JWKS_REFETCHES_PER_MINUTE
    # A cache outage means no shared count (and no cached JWKS): fetch.
    except Exception:
        return True


def _cached_jwks(cache_key: str) -> dict | None:
    try:
        return cache.get(cache_key)
    # A cache outage costs a JWKS fetch, never a failed request.
    except Exception as exc:
        outage_report(exc, "JWKS read (fetching it directly)")
        return None


def _cache_jwks(cache_key: str, jwks: dict) -> None:
    try:
        cache.set(cache_key, jwks, JWKS_CACHE_SECONDS)
    except Exception as exc:
        outage_report(exc, "JWKS store")


def jwks_signing_key(kid: str):
    """The public key the pool signs with under `kid`."""
    url = cognito_jwks_url()
    cache_key = f"cognito-jwks:{hashlib.sha256(url.encode()).hexdigest()}"
    jwks = _cached_jwks(cache_key)
    if jwks is None or (kid not in jwks and _refetch_allowed(cache_key)):
        jwks = _jwks_fetch(url)
        _cache_jwks(cache_key, jwks)
    jwk = jwks.get(kid)
    if jwk is None:
        raise exceptions.AuthenticationFailed("Token is signed with an unknown key.")
    try:
        return jwt.PyJWK(jwk).key
    except jwt.PyJWKError as exc:
        logger.warning("unusable key %s in the Cognito JWKS", kid)
        raise exceptions.AuthenticationFailed("Token is signed with an unknown key.") from exc


def cognito_token_verify(token: str) -> dict:
    """The token's claims, once its signature, expiry, issuer, use and client check out."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise exceptions.AuthenticationFailed("Malformed token.") from exc
    kid = header.get("kid")
    if header.get("alg") not in ACCEPTED_ALGORITHMS or not isinstance(kid, str):
        raise exceptions.AuthenticationFailed("Token is not signed the way Cognito signs.")
    key = jwks_signing_key(kid)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=ACCEPTED_ALGORITHMS,
            issuer=cognito_issuer(),
            # Access tokens carry the app client in `client_id`, ID tokens in `aud`:
            # checked below, per token_use.
            options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise exceptions.AuthenticationFailed("Token expired.") from exc
    except jwt.InvalidSignatureError as exc:
        raise exceptions.AuthenticationFailed("Token signature is invalid.") from exc
    except jwt.InvalidIssuerError as exc:
        raise exceptions.AuthenticationFailed("Token was not issued by this user pool.") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise exceptions.AuthenticationFailed(f"Token has no {exc.claim} claim.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise exceptions.AuthenticationFailed("Token is not valid yet.") from exc
    except jwt.InvalidTokenError as exc:
        raise exceptions.AuthenticationFailed("Malformed token.") from exc
    audience_claim = {"access": "client_id", "id": "aud"}.get(claims["token_use"])
    if audience_claim is None:
        raise exceptions.AuthenticationFailed("Token is neither an access nor an ID token.")
    if claims.get(audience_claim) != settings.COGNITO_APP_CLIENT_ID:
        raise exceptions.AuthenticationFailed("Token was issued for another app client.")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise exceptions.AuthenticationFailed("Token has no sub claim.")
    return claims


class CognitoJWTAuthentication(BaseAuthentication):
    """Bearer tokens from the configured Cognito user pool; inactive when none is set."""

    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if not (settings.COGNITO_USER_POOL_ID and settings.COGNITO_APP_CLIENT_ID):
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <token>'."
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Malformed token.") from exc
        claims = cognito_token_verify(token)
        user = (
            get_user_model().objects.filter(cognito_user_id=claims["sub"], is_active=True).first()
        )
        if user is None:
            raise exceptions.AuthenticationFailed(
                "No active Cruddur account is linked to this Cognito user."
            )
        return user, claims

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class CognitoJWTScheme(OpenApiAuthenticationExtension):
    target_class = "messaging.api.authentication.CognitoJWTAuthentication"
    name = "cognitoJWT"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
