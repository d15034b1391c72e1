"""Channel names. Imports nothing from Django."""

import uuid


def user_channel(*, prefix: str, user_uuid: uuid.UUID) -> str:
    """A user's channel: every tab, device and API client of theirs subscribes to it.

    Under the cache key prefix, so deployments (and parallel test runs) sharing one
    Redis never see each other's events.
    """
    return f"{prefix}:events:user:{user_uuid}"
