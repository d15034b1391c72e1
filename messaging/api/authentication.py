"""Cognito JWT authentication: `Authorization: Bearer <access or ID token>`.

The token is verified against the user pool's JWKS through PyJWT's `PyJWKClient` (one per
JWKS URL and process; it fetches the set, keeps it for a day, and picks the signing key
by `kid`), then its `sub` is looked up as `User.cognito_user_id`. A `kid` the set lacks
(Cognito rotated its keys) refetches the set, at most JWKS_REFETCHES_PER_MINUTE times a
minute across all processes (counted in Django's cache). Failures are 401s that name the
reason in terms a client can act on, never the library's own message.
"""

import hashlib
import logging
import threading

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header

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


def _refetch_allowed(url: str) -> bool:
    window = f"cognito-jwks:{hashlib.sha256(url.encode()).hexdigest()}:refetches"
    try:
        cache.add(window, 0, 60)
        return cache.incr(window) <= JWKS_REFETCHES_PER_MINUTE
    # A cache outage means no shared count: fetch.
    except Exception:
        return True


class CognitoJWKClient(jwt.PyJWKClient):
    """PyJWKClient whose refetch on an unknown `kid` is rationed across processes
    (`_refetch_allowed`) instead of by its per-process cooldown."""

    def __init__(self, url: str):
        super().__init__(
            url,
            lifespan=JWKS_CACHE_SECONDS,
            timeout=JWKS_TIMEOUT_SECONDS,
            cooldown_duration=0,
        )

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        key = self.match_kid(self.get_signing_keys(), kid)
        if key is None and _refetch_allowed(self.uri):
            key = self.match_kid(self.get_signing_keys(refresh=True), kid)
        if key is None:
            raise jwt.PyJWKClientError(f"no signing key {kid}")
        return key


_clients: dict[str, CognitoJWKClient] = {}
_clients_lock = threading.Lock()


def jwks_client(url: str) -> CognitoJWKClient:
    with _clients_lock:
        if url not in _clients:
            _clients[url] = CognitoJWKClient(url)
        return _clients[url]


def jwks_clients_reset() -> None:
    """Forget every fetched JWKS (tests; a process would otherwise keep it a day)."""
    with _clients_lock:
        _clients.clear()


def jwks_signing_key(kid: str):
    """The public key the pool signs with under `kid`."""
    url = cognito_jwks_url()
    try:
        return jwks_client(url).get_signing_key(kid).key
    except jwt.PyJWKClientConnectionError as exc:
        logger.warning("cannot fetch the Cognito JWKS from %s: %s", url, exc.__cause__ or exc)
        raise CognitoUnavailable() from exc
    except ValueError as exc:
        # Not JSON: an error page from a proxy, a misconfigured URL.
        logger.warning("the Cognito JWKS at %s is not JSON", url)
        raise CognitoUnavailable() from exc
    except (jwt.PyJWKClientError, jwt.PyJWKSetError, jwt.PyJWKError) as exc:
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
