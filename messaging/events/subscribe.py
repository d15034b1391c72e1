"""The subscribe half: one user's channel over redis.asyncio pub/sub, for the SSE view.
Imports nothing from Django.

Each open stream holds one pub/sub connection and no thread: an idle stream is a parked
coroutine and a socket, so one ASGI process holds thousands.
"""

import time

import redis.asyncio

from messaging.events.channels import user_channel
from messaging.events.payloads import Event
from messaging.events.publisher import CONNECT_TIMEOUT, Target


class Subscription:
    """`async with Subscription(target=..., user_uuid=...) as events:` then
    `await events.next(timeout=...)`: the next event, or None when none came in time.

    Entering raises redis' errors when Redis is down, so the caller can say so before
    it starts streaming.
    """

    def __init__(self, *, target: Target, user_uuid):
        self.channel = user_channel(prefix=target.prefix, user_uuid=user_uuid)
        self._client = redis.asyncio.Redis.from_url(
            target.redis_url, socket_connect_timeout=CONNECT_TIMEOUT
        )
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)

    async def __aenter__(self) -> "Subscription":
        try:
            await self._pubsub.subscribe(self.channel)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def close(self) -> None:
        await self._pubsub.aclose()
        await self._client.aclose()

    async def next(self, *, timeout: float) -> Event | None:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            raw = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
            if raw is None or raw.get("type") != "message":
                continue
            try:
                return Event.decode(raw["data"])
            except ValueError:
                # Only our publishers write these channels; anything else is skipped.
                continue
        return None
