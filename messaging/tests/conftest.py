"""Fixtures for the API tests: an isolated slice of the real Redis cache (throttle
history, the JWKS) and DRF clients signed in with a token."""

import uuid

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from devtools import engines


@pytest.fixture
def api_cache(settings):
    """Django's default cache on Redis under a key prefix of this test's own, so throttle
    counts and cached keys never leak between tests or concurrent test runs."""
    prefix = f"test-api-{uuid.uuid4().hex[:12]}"
    settings.CACHES = engines.redis_cache(prefix=prefix)
    from django.core.cache import cache

    yield cache
    engines.redis_prefix_clear(prefix=prefix)


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
