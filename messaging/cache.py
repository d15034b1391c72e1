"""Read-aside cache of first pages (DESIGN §5), through Django's cache framework.

Cached: the gateway's first page of a member's inbox rows and of a group's messages, at
the default page size, the navigation badge, and each person's name, avatar and receipt
setting (the pages' rows name people by uuid; a profile save invalidates its entry, see
`messaging.receivers`, so a new name shows at once). On top of those, `rendered` keeps an
API response body made from them, served while every entry it was made from is current,
and `credentials` the user an API token signs in. Each kind has its own TTL (pages and
bodies MESSAGING_CACHE_TTL, people MESSAGING_PEOPLE_CACHE_TTL, tokens
API_TOKEN_CACHE_TTL; 0 turns that kind off), so pages read from DynamoDB still take
names and tokens from the cache. Not cached: the membership read
(invariant 5 reads the caller's own row, strongly consistent, on every visit).

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

import contextvars
import hashlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeGuard, TypeVar, cast

from django.conf import settings
from django.core.cache import cache

from messaging import cache_keys, stats

logger = logging.getLogger("messaging.cache")

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

WARNING_INTERVAL = 60.0
RETRY_INTERVAL = 0.5
# A rendered body carries avatar URLs, which S3 signs for an hour (django-storages'
# default): kept well within that, whatever MESSAGING_CACHE_TTL says.
RENDERED_MAX_AGE = 300

_warning_lock = threading.Lock()
_warned_at: float | None = None

_pending_lock = threading.Lock()
# Keys whose invalidation Redis refused, by when they stop mattering (their pages expire).
_pending: dict[str, float] = {}
_retrier: threading.Thread | None = None

# While `rendered` builds a body: each cached entry read for it, with the generation it
# was checked or stored against (None: one read bypassed the cache, so nothing guards it).
_reads: contextvars.ContextVar[dict[str, int | None] | None] = contextvars.ContextVar(
    "cache_reads", default=None
)


def _read(key: str, generation: int | None) -> None:
    reads = _reads.get()
    if reads is not None:
        reads[key] = generation if reads.get(key, generation) == generation else None


def _enabled() -> bool:
    """Whether pages (and bodies made from them) are cached. Names and tokens have TTLs
    of their own: a page read from DynamoDB still takes them from the cache."""
    return bool(settings.MESSAGING_CACHE_TTL > 0)


def _longest_ttl() -> int:
    return int(
        max(
            settings.MESSAGING_CACHE_TTL,
            settings.MESSAGING_PEOPLE_CACHE_TTL,
            settings.API_TOKEN_CACHE_TTL,
        )
    )


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


def rendered(*, key: str, build: Callable[[], bytes], version: int | None = None) -> bytes:
    """`build()`'s bytes (a response body made from cached entries), kept as they are.

    Served while every entry `build` read is still at the generation it read (one Redis
    read for the body, one for those generations), so a write or a profile change that
    invalidates any of them retires the body too; `version` as for `first_page`. A body
    lives no longer than the shortest-lived entry it was made from, nor RENDERED_MAX_AGE.
    """
    # A body's key is never invalidated itself (its parts' generations retire it), so it
    # is never pending.
    if not _enabled():
        return build()
    try:
        entry = cache.get(key)
        if _current_body(entry, version=version):
            stats.incr("cache.rendered.hit")
            return cast(bytes, entry[2])
    except Exception as exc:
        outage_report(exc, "read")
        return build()
    stats.incr("cache.rendered.miss")
    reads: dict[str, int | None] = {}
    scope = _reads.set(reads)
    try:
        body = build()
    finally:
        _reads.reset(scope)
    generations = {k: g for k, g in reads.items() if g is not None}
    if generations and len(generations) == len(reads):
        try:
            cache.set(
                key,
                (version, generations, body),
                timeout=min(RENDERED_MAX_AGE, *map(_timeout, generations.values())),
            )
        except Exception as exc:
            outage_report(exc, "store")
    return body


def credentials(*, token_key: str, load: Callable[[], T | None]) -> T | None:
    """Who `token_key` signs in: `load()`'s value (None for nobody), cached for at most
    API_TOKEN_CACHE_TTL and retired by `credentials_invalidate`.

    Nothing is written for a token that signs nobody in, so made-up tokens cost Redis
    nothing. A token's first entry is loaded again after its generation starts: a
    revocation that raced the first load is then either seen or moves the generation on.
    """
    if settings.API_TOKEN_CACHE_TTL <= 0:
        return load()
    key = credentials_key(token_key)
    if _is_pending(key):
        return load()
    try:
        found, generation = _lookup(key, version=None)
    except Exception as exc:
        outage_report(exc, "read")
        return load()
    if found is not _MISSING:
        stats.incr("cache.credentials.hit")
        return cast(T, found)
    stats.incr("cache.credentials.miss")
    loaded = load()
    if loaded is None:
        return None
    if generation is None:
        try:
            generation = _generation_start(key)
        except Exception as exc:
            outage_report(exc, "read")
            return loaded
        if generation is None:
            return loaded
        loaded = load()
        if loaded is None:
            return None
    try:
        cache.set(
            key,
            (generation, None, loaded),
            timeout=settings.API_TOKEN_CACHE_TTL,
        )
    except Exception as exc:
        outage_report(exc, "store")
    return loaded


def _current_body(entry: object, *, version: int | None) -> TypeGuard[tuple[Any, ...]]:
    if not (isinstance(entry, tuple) and len(entry) == 3 and entry[0] == version):
        return False
    generations: dict[str, int] = entry[1]
    if any(_is_pending(key) for key in generations):
        return False
    found = cache.get_many([cache_keys.generation_key(key) for key in generations])
    return all(
        found.get(cache_keys.generation_key(key)) == generation
        for key, generation in generations.items()
    )


def values(*, keys: Mapping[str, K], load: Callable[[set[K]], dict[K, T]], ttl: int) -> dict[K, T]:
    """`load`'s value for each id (`keys` maps a cache key to its id), each entry checked
    against its generation like a page and kept for `ttl` seconds (0: not cached): one
    Redis read for them all, then `load` for the misses only and one write to store
    them. An id `load` does not return is left out."""
    if ttl <= 0 or not keys:
        # Nothing guards what `load` returns, so no body made from it is kept.
        for key in keys:
            _read(key, None)
        return load(set(keys.values()))
    usable = [key for key in keys if not _is_pending(key)]
    for key in keys.keys() - set(usable):
        _read(key, None)
    try:
        found = cache.get_many([*usable, *map(cache_keys.generation_key, usable)])
    except Exception as exc:
        outage_report(exc, "read")
        for key in usable:
            _read(key, None)
        return load(set(keys.values()))
    served: dict[K, T] = {}
    generations: dict[str, int | None] = {}
    for key in usable:
        generation = found.get(cache_keys.generation_key(key))
        if _fresh(found.get(key), generation=generation, version=None):
            served[keys[key]] = cast(T, found[key][2])
            _read(key, generation)
        else:
            generations[key] = generation
    stats.incr("cache.values.hit", len(served))
    misses = {ident for ident in keys.values() if ident not in served}
    if not misses:
        return served
    stats.incr("cache.values.miss", len(misses))
    try:
        for key, generation in generations.items():
            if generation is None:
                generations[key] = _generation_start(key)
    except Exception as exc:
        outage_report(exc, "read")
        for key in generations:
            _read(key, None)
        return {**served, **load(misses)}
    for key, generation in generations.items():
        _read(key, generation)
    # As for a page: the generations were read before `load`, so a value that a write
    # changes meanwhile is stored under a generation that write has moved on from.
    loaded = load(misses)
    try:
        cache.set_many(
            {
                key: (generation, None, loaded[keys[key]])
                for key, generation in generations.items()
                if generation is not None and keys[key] in loaded
            },
            timeout=ttl,
        )
    except Exception as exc:
        outage_report(exc, "store")
    return {**served, **loaded}


def _fresh(
    entry: object, *, generation: int | None, version: int | None
) -> TypeGuard[tuple[Any, ...]]:
    return (
        generation is not None
        and isinstance(entry, tuple)
        and len(entry) == 3
        and entry[0] == generation
        and entry[1] == version
    )


# What `_lookup` finds for an entry that is absent or no longer current.
_MISSING = object()


def _lookup(key: str, *, version: int | None) -> tuple[object, int | None]:
    """The value stored under `key` if it is current (else _MISSING), and the key's
    generation: one Redis read. Raises what the cache raises."""
    generation_key = cache_keys.generation_key(key)
    found = cache.get_many([key, generation_key])
    generation, entry = found.get(generation_key), found.get(key)
    if _fresh(entry, generation=generation, version=version):
        return entry[2], generation
    return _MISSING, generation


def _generation_start(key: str) -> int | None:
    """First read since the generation expired (or ever): start one no write made,
    unless a writer sets one first."""
    generation_key = cache_keys.generation_key(key)
    token = cache_keys.new_generation(at=0)
    if cache.add(generation_key, token, timeout=cache_keys.GENERATION_TIMEOUT):
        return token
    return cast(int | None, cache.get(generation_key))


def _cached(*, key: str, load: Callable[[], T], version: int | None) -> T:
    if _is_pending(key):
        _read(key, None)
        return load()
    try:
        found, generation = _lookup(key, version=version)
    except Exception as exc:
        outage_report(exc, "read")
        _read(key, None)
        return load()
    if found is not _MISSING:
        stats.incr("cache.hit")
        _read(key, generation)
        return cast(T, found)
    stats.incr("cache.miss")
    if generation is None:
        try:
            generation = _generation_start(key)
        except Exception as exc:
            outage_report(exc, "read")
            _read(key, None)
            return load()
    _read(key, generation)
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
    if not keys or _longest_ttl() <= 0:
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
    until = time.monotonic() + _longest_ttl()
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


def person_key(user_uuid: uuid.UUID) -> str:
    return cache_keys.person_key(user_uuid)


def inbox_body_key(user_uuid: uuid.UUID) -> str:
    return cache_keys.inbox_body_key(user_uuid)


def messages_body_key(group_uuid: uuid.UUID) -> str:
    return cache_keys.messages_body_key(group_uuid)


def credentials_key(token_key: str) -> str:
    return cache_keys.credentials_key(hashlib.sha256(token_key.encode()).hexdigest())


def credentials_invalidate(*, token_keys: Iterable[str]) -> None:
    """After a token is deleted or its user saved: who those tokens sign in."""
    pages_invalidate(keys=[credentials_key(token_key) for token_key in token_keys])


def people_invalidate(*, user_uuids: Iterable[uuid.UUID]) -> None:
    """After a profile change: these people's cached names, avatars and receipt settings."""
    pages_invalidate(keys=[person_key(user_uuid) for user_uuid in user_uuids])


def conversation_invalidate(
    *, group_uuids: Iterable[uuid.UUID] = (), user_uuids: Iterable[uuid.UUID] = ()
) -> None:
    """After a write: the groups' messages and these members' inboxes and badges, in one
    request."""
    pages_invalidate(keys=cache_keys.keys_for(group_uuids=group_uuids, user_uuids=user_uuids))
