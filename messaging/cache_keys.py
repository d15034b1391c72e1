"""The read-aside cache's key format, shared by Django (messaging/cache.py) and the
stream Lambda, which has no Django and invalidates through redis-py directly.

Each cached page has a data key and a generation key. A write invalidates by setting
the generation to a fresh token; a reader stores a page tagged with the generation it
saw *before* querying DynamoDB, and only serves a page whose tag matches the current
generation. So a reader that raced a write can store its stale page, but nobody will
ever be served it. Keys hold a user's or a group's uuid, never both, so no entry can
mix two users' data.

Imports nothing from Django.
"""

import random
import time
import uuid
from collections.abc import Iterable
from typing import Any

# Django's RedisCache keys are "<KEY_PREFIX>:<version>:<key>"; the Lambda writes the
# same strings so the web process sees its invalidations.
CACHE_VERSION = 1
# Generations outlive the pages they guard; a lost generation only costs a miss.
GENERATION_TIMEOUT = 7 * 24 * 3600
_TOKEN_RANDOM = 1_000_000


def inbox_key(user_uuid: uuid.UUID) -> str:
    return f"messaging:inbox:{user_uuid}"


def badge_key(user_uuid: uuid.UUID) -> str:
    return f"messaging:badge:{user_uuid}"


def messages_key(group_uuid: uuid.UUID) -> str:
    return f"messaging:messages:{group_uuid}"


def person_key(user_uuid: uuid.UUID) -> str:
    return f"messaging:person:{user_uuid}"


def inbox_body_key(user_uuid: uuid.UUID) -> str:
    """The API's rendered first inbox page (`cache.rendered`)."""
    return f"messaging:inbox-body:{user_uuid}"


def messages_body_key(group_uuid: uuid.UUID) -> str:
    """The API's rendered first page of a group's messages (`cache.rendered`)."""
    return f"messaging:messages-body:{group_uuid}"


def credentials_key(token_digest: str) -> str:
    """Who an API token signs in, by the token's SHA-256 (never the token itself)."""
    return f"messaging:credentials:{token_digest}"


def keys_for(*, group_uuids: Iterable[uuid.UUID], user_uuids: Iterable[uuid.UUID]) -> list[str]:
    """What one write makes stale: the groups' messages, the members' inboxes and badges."""
    keys = [messages_key(group_uuid) for group_uuid in group_uuids]
    for user_uuid in user_uuids:
        keys += [inbox_key(user_uuid), badge_key(user_uuid)]
    return keys


def generation_key(key: str) -> str:
    return f"{key}:generation"


def new_generation(*, at: float | None = None) -> int:
    """A generation token: the invalidation time in milliseconds and random digits.

    A plain int, because Django's RedisCache stores ints unpickled, so redis-py can
    write one the web process reads. `at=0` marks a generation no write created.
    """
    moment = time.time() if at is None else at
    return int(moment * 1000) * _TOKEN_RANDOM + random.randrange(_TOKEN_RANDOM)


def generation_age(token: int, *, now: float | None = None) -> float:
    """Seconds since the write that created this generation."""
    moment = time.time() if now is None else now
    return moment - (token // _TOKEN_RANDOM) / 1000


def redis_key(key: str, *, prefix: str) -> str:
    """The Redis key Django's default KEY_FUNCTION makes for `key`."""
    return f"{prefix}:{CACHE_VERSION}:{key}"


def redis_invalidate(client: Any, *, keys: list[str], prefix: str) -> None:
    """Invalidate pages through a redis-py client (the Lambda): one round trip."""
    pipeline = client.pipeline(transaction=False)
    for key in keys:
        pipeline.set(
            redis_key(generation_key(key), prefix=prefix),
            new_generation(),
            ex=GENERATION_TIMEOUT,
        )
    pipeline.execute()
