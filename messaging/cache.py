"""Read-aside cache of first pages (DESIGN §5), through Django's cache framework.

Cached: the gateway's first page of a member's inbox rows and of a group's messages, at
the default page size. Not cached: the membership GetItem (invariant 5 reads the
caller's own row, strongly consistent, on every visit) and names, which selectors
resolve from Postgres on each read so a display-name change shows at once.

Every write path invalidates (see `cache_keys` for why generations, not deletes): the
request for what it wrote itself, the stream consumer for the inboxes it moved. The
cache is an optimisation only: if it fails, reads and writes go to DynamoDB and a
warning is logged at most once per `WARNING_INTERVAL`.
"""

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from messaging import cache_keys, stats

logger = logging.getLogger("messaging.cache")

T = TypeVar("T")

WARNING_INTERVAL = 60.0

_warning_lock = threading.Lock()
_warned_at: float | None = None


def _enabled() -> bool:
    return settings.MESSAGING_CACHE_TTL > 0


def outage_report(exc: Exception, action: str) -> None:
    """Count a cache failure and log it, at most once per WARNING_INTERVAL for the whole
    process, so an outage never floods the log with one line per request."""
    global _warned_at
    stats.incr("cache.error")
    now = time.monotonic()
    with _warning_lock:
        if _warned_at is not None and now - _warned_at < WARNING_INTERVAL:
            return
        _warned_at = now
    logger.warning(
        "cache unavailable (%s during %s); carrying on without it. Next warning in %.0fs at most.",
        type(exc).__name__,
        action,
        WARNING_INTERVAL,
    )


def first_page(*, key: str, position: dict | None, limit: int, load: Callable[[], T]) -> T:
    """`load()`'s page, from the cache when this is a cacheable first page."""
    if not _enabled() or position is not None or limit != settings.MESSAGING_PAGE_SIZE:
        return load()
    generation_key = cache_keys.generation_key(key)
    try:
        found = cache.get_many([key, generation_key])
    except Exception as exc:
        outage_report(exc, "read")
        return load()
    generation, entry = found.get(generation_key), found.get(key)
    if generation is not None and isinstance(entry, tuple) and entry[0] == generation:
        stats.incr("cache.hit")
        return entry[1]
    stats.incr("cache.miss")
    if generation is None:
        # First read since the generation expired (or ever): start one no write made,
        # unless a writer sets one first.
        token = cache_keys.new_generation(at=0)
        try:
            if cache.add(generation_key, token, timeout=cache_keys.GENERATION_TIMEOUT):
                generation = token
            else:
                generation = cache.get(generation_key)
        except Exception as exc:
            outage_report(exc, "read")
            return load()
    # The generation was read before the query: if a write lands in between, it moves
    # the generation on and the page stored below is never served.
    page = load()
    if generation is not None:
        try:
            cache.set(key, (generation, page), timeout=_timeout(generation))
        except Exception as exc:
            outage_report(exc, "store")
    return page


def _timeout(generation: int) -> int:
    """The full TTL once the last write has settled; until then, only until it settles.

    The inbox comes from a GSI, eventually consistent in AWS, so a page read just after
    a write may not show it yet. Such a page may be served for as long as the index
    itself could lag, and no longer.
    """
    unsettled = settings.MESSAGING_CACHE_SETTLE - cache_keys.generation_age(generation)
    if unsettled <= 0:
        return settings.MESSAGING_CACHE_TTL
    # Whole seconds: Redis expiries are.
    return min(settings.MESSAGING_CACHE_TTL, math.ceil(unsettled))


def pages_invalidate(*, keys: Iterable[str]) -> None:
    keys = list(keys)
    if not keys or not _enabled():
        return
    generation = cache_keys.new_generation()
    try:
        cache.set_many(
            {cache_keys.generation_key(key): generation for key in keys},
            timeout=cache_keys.GENERATION_TIMEOUT,
        )
    except Exception as exc:
        outage_report(exc, "invalidate")


def inbox_key(user_uuid: uuid.UUID) -> str:
    return cache_keys.inbox_key(user_uuid)


def messages_key(group_uuid: uuid.UUID) -> str:
    return cache_keys.messages_key(group_uuid)


def conversation_invalidate(
    *, group_uuid: uuid.UUID | None = None, user_uuids: Iterable[uuid.UUID] = ()
) -> None:
    """After a write: the group's messages and these members' inboxes, in one request."""
    keys = [cache_keys.inbox_key(user_uuid) for user_uuid in user_uuids]
    if group_uuid is not None:
        keys.append(cache_keys.messages_key(group_uuid))
    pages_invalidate(keys=keys)
