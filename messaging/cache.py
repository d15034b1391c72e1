"""Read-aside cache of first pages (DESIGN §5), through Django's cache framework.

Cached: the gateway's first page of a member's inbox rows and of a group's messages, at
the default page size, and the navigation badge. Not cached: the membership read
(invariant 5 reads the caller's own row, strongly consistent, on every visit) and names,
which selectors resolve from Postgres on each read so a display-name change shows at
once.

Every write path invalidates (see `cache_keys` for why generations, not deletes): the
request for what it wrote itself, the stream consumer for the inboxes it moved. Two
guards keep a lost invalidation (a Redis blip during a write) from leaving a page stale:
- a conversation's messages page is stored with the conversation's version, which the
  membership read returns on every visit, so a page older than the conversation is never
  served whatever Redis remembers;
- an invalidation that fails is kept and retried in the background every
  RETRY_INTERVAL until Redis takes it, and the keys it names bypass the cache meanwhile.
The cache is an optimisation only: if it fails, reads and writes go to DynamoDB and a
warning is logged at most once per `WARNING_INTERVAL`.
"""

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar, cast

from django.conf import settings
from django.core.cache import cache

from messaging import cache_keys, stats

logger = logging.getLogger("messaging.cache")

T = TypeVar("T")

WARNING_INTERVAL = 60.0
RETRY_INTERVAL = 0.5

_warning_lock = threading.Lock()
_warned_at: float | None = None

_pending_lock = threading.Lock()
# Keys whose invalidation Redis refused, by when they stop mattering (their pages expire).
_pending: dict[str, float] = {}
_retrier: threading.Thread | None = None


def _enabled() -> bool:
    return bool(settings.MESSAGING_CACHE_TTL > 0)


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


def first_page(
    *,
    key: str,
    position: dict | None,
    limit: int,
    load: Callable[[], T],
    version: int | None = None,
) -> T:
    """`load()`'s page, from the cache when this is a cacheable first page.

    `version`, when given, is the current version of what the page shows: an entry stored
    at another version is not served.
    """
    if not _enabled() or position is not None or limit != settings.MESSAGING_PAGE_SIZE:
        return load()
    return _cached(key=key, load=load, version=version)


def value(*, key: str, load: Callable[[], T]) -> T:
    """`load()`'s value, through the cache like a first page (the badge)."""
    if not _enabled():
        return load()
    return _cached(key=key, load=load, version=None)


def _cached(*, key: str, load: Callable[[], T], version: int | None) -> T:
    if _is_pending(key):
        return load()
    generation_key = cache_keys.generation_key(key)
    try:
        found = cache.get_many([key, generation_key])
    except Exception as exc:
        outage_report(exc, "read")
        return load()
    generation, entry = found.get(generation_key), found.get(key)
    if (
        generation is not None
        and isinstance(entry, tuple)
        and len(entry) == 3
        and entry[0] == generation
        and entry[1] == version
    ):
        stats.incr("cache.hit")
        return cast(T, entry[2])
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
            cache.set(key, (generation, version, page), timeout=_timeout(generation))
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
        return int(settings.MESSAGING_CACHE_TTL)
    # Whole seconds: Redis expiries are.
    return int(min(settings.MESSAGING_CACHE_TTL, math.ceil(unsettled)))


def pages_invalidate(*, keys: Iterable[str]) -> None:
    keys = list(keys)
    if not keys or not _enabled():
        return
    if not _set_generations(keys):
        _retry_later(keys)


def _set_generations(keys: list[str]) -> bool:
    generation = cache_keys.new_generation()
    try:
        cache.set_many(
            {cache_keys.generation_key(key): generation for key in keys},
            timeout=cache_keys.GENERATION_TIMEOUT,
        )
    except Exception as exc:
        outage_report(exc, "invalidate")
        return False
    return True


def _is_pending(key: str) -> bool:
    with _pending_lock:
        return key in _pending


def _retry_later(keys: list[str]) -> None:
    global _retrier
    until = time.monotonic() + settings.MESSAGING_CACHE_TTL
    with _pending_lock:
        for key in keys:
            _pending[key] = until
        if _retrier is None or not _retrier.is_alive():
            _retrier = threading.Thread(
                target=_retry_pending, name="cache-invalidation-retry", daemon=True
            )
            _retrier.start()


def _retry_pending() -> None:
    """Retry lost invalidations until Redis takes them or their pages have expired."""
    while True:
        time.sleep(RETRY_INTERVAL)
        now = time.monotonic()
        with _pending_lock:
            for key in [key for key, until in _pending.items() if until <= now]:
                del _pending[key]
            keys = list(_pending)
        if not keys:
            return
        if _set_generations(keys):
            stats.incr("cache.invalidation_retried", len(keys))
            with _pending_lock:
                for key in keys:
                    _pending.pop(key, None)


def pending_invalidations() -> list[str]:
    with _pending_lock:
        return sorted(_pending)


def inbox_key(user_uuid: uuid.UUID) -> str:
    return cache_keys.inbox_key(user_uuid)


def badge_key(user_uuid: uuid.UUID) -> str:
    return cache_keys.badge_key(user_uuid)


def messages_key(group_uuid: uuid.UUID) -> str:
    return cache_keys.messages_key(group_uuid)


def conversation_invalidate(
    *, group_uuids: Iterable[uuid.UUID] = (), user_uuids: Iterable[uuid.UUID] = ()
) -> None:
    """After a write: the groups' messages and these members' inboxes and badges, in one
    request."""
    pages_invalidate(keys=cache_keys.keys_for(group_uuids=group_uuids, user_uuids=user_uuids))
