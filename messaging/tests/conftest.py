"""Fixtures for the API tests: an isolated slice of the real Redis cache (throttle
history, the JWKS) and DRF clients signed in with a token."""

import os
import uuid

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def api_cache(settings):
    """Django's default cache on Redis under a key prefix of this test's own, so throttle
    counts and cached keys never leak between tests or concurrent test runs."""
    prefix = f"test-api-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    from django.core.cache import cache

    yield cache
    client = cache._cache.get_client(write=True)
    stale = list(client.scan_iter(match=f"{prefix}:*"))
    if stale:
        client.delete(*stale)


@pytest.fixture
def api_client(api_cache, db):
    """`api_client(user)`: a client sending `Authorization: Token <key>` for that user;
    `api_client()`: an anonymous one."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
