"""The subscribe half: users' channels over redis.asyncio pub/sub, for the SSE view.
Imports nothing from Django.

Every open stream of a process shares one pub/sub connection (a `Hub` per event loop
and Redis URL) and waits on a queue of its own: an idle stream is a parked coroutine,
with no thread and no Redis connection of its own, so one ASGI process holds thousands,
and a burst of reconnects (after a deploy) opens no burst of Redis connections.
"""

import asyncio
import logging
import weakref

import redis.asyncio

from messaging.events.channels import user_channel
from messaging.events.payloads import Event
from messaging.events.publisher import Target

logger = logging.getLogger("messaging.events")

CONNECT_TIMEOUT = 3.0
# Events waiting for one stream whose client reads too slowly; past this the stream is
# ended (the client reconnects and re-syncs) rather than holding memory for it.
QUEUE_LIMIT = 500


class StreamLost(Exception):
    """The shared connection failed, or this stream fell too far behind."""


_LOST = object()


class Hub:
    def __init__(self, redis_url: str):
        self._client = redis.asyncio.Redis.from_url(
            redis_url, socket_connect_timeout=CONNECT_TIMEOUT
        )
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self._queues: dict[str, set[asyncio.Queue]] = {}
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task | None = None
        self.closed = False

    async def subscribe(self, channel: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
        async with self._lock:
            if channel not in self._queues:
                await self._pubsub.subscribe(channel)
                self._queues[channel] = set()
            self._queues[channel].add(queue)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read())
        return queue

    async def unsubscribe(self, channel: str, queue: asyncio.Queue) -> None:
        async with self._lock:
            queues = self._queues.get(channel)
            if queues is None:
                return
            queues.discard(queue)
            if not queues:
                del self._queues[channel]
                if not self.closed:
                    await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        try:
            # Ends by itself once nothing is subscribed; `subscribe` starts it again.
            async for message in self._pubsub.listen():
                if message.get("type") != "message":
                    continue
                channel = message["channel"].decode()
                try:
                    event = Event.decode(message["data"])
                except ValueError:
                    # Only our publishers write these channels; anything else is skipped.
                    continue
                for queue in tuple(self._queues.get(channel, ())):
                    self._deliver(queue, event)
        except Exception as exc:
            logger.warning("live event connection lost (%s)", type(exc).__name__)
            await self._lose()

    @staticmethod
    def _deliver(queue: asyncio.Queue, item) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(_LOST)

    async def _lose(self) -> None:
        """Every stream of this hub ends; the next subscriber gets a new hub."""
        self.closed = True
        _forget(self)
        for queues in self._queues.values():
            for queue in queues:
                self._deliver(queue, _LOST)
        try:
            await self._pubsub.aclose()
            await self._client.aclose()
        except Exception as exc:
            logger.debug("closing a lost live event connection failed (%s)", type(exc).__name__)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Hub]]" = (
    weakref.WeakKeyDictionary()
)


def _hub(redis_url: str) -> Hub:
    hubs = _hubs.setdefault(asyncio.get_running_loop(), {})
    hub = hubs.get(redis_url)
    if hub is None or hub.closed:
        hub = hubs[redis_url] = Hub(redis_url)
    return hub


def _forget(hub: Hub) -> None:
    for hubs in _hubs.values():
        for url, known in list(hubs.items()):
            if known is hub:
                del hubs[url]


class Subscription:
    """`async with Subscription(target=..., user_uuid=...) as events:` then
    `await events.next(timeout=...)`: the next event, or None when none came in time.

    Entering raises redis' errors when Redis is down, so the caller can say so before it
    starts streaming; `next` raises StreamLost when the stream cannot go on.
    """

    def __init__(self, *, target: Target, user_uuid):
        self.channel = user_channel(prefix=target.prefix, user_uuid=user_uuid)
        self._redis_url = target.redis_url
        self._hub: Hub | None = None
        self._queue: asyncio.Queue | None = None

    async def __aenter__(self) -> "Subscription":
        hub = _hub(self._redis_url)
        try:
            self._queue = await hub.subscribe(self.channel)
        except Exception:
            await hub._lose()
            raise
        self._hub = hub
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def close(self) -> None:
        hub, queue, self._hub = self._hub, self._queue, None
        if hub is not None and queue is not None:
            try:
                await hub.unsubscribe(self.channel, queue)
            except Exception as exc:
                # The connection is going or gone; its reader cleans up.
                logger.debug("live event unsubscribe failed (%s)", type(exc).__name__)

    async def next(self, *, timeout: float) -> Event | None:
        if self._queue is None:
            return None
        if timeout <= 0 and self._queue.empty():
            return None
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout=max(timeout, 0.0))
        except TimeoutError:
            return None
        if item is _LOST:
            raise StreamLost()
        return item
