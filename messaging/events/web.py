"""The Django side of live events: where they go, from settings read at call time."""

from django.conf import settings

from messaging.events.publisher import Target


def target() -> Target:
    return Target(redis_url=settings.REDIS_URL, prefix=settings.CACHE_KEY_PREFIX)
