"""Publishing over redis-py. Imports nothing from Django: the web process, the local
stream worker and the Lambda all publish through these functions.

Events are a convenience on top of rows that have already moved: a Redis outage never
fails the write that caused them. Publishing then logs a warning at most once per
`WARNING_INTERVAL` and, for `OUTAGE_PAUSE` seconds after a failure, does not try at all,
so a dead Redis costs each send nothing rather than a connect timeout. Clients miss
nothing for good: they re-sync from the API when their stream reconnects, and poll
while it cannot.
"""

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from messaging.dynamo.records import Message
from messaging.events.channels import user_channel
from messaging.events.payloads import (
    Event,
    credentials_changed_event,
    inbox_event,
    message_event,
    message_updated_event,
    read_event,
    typing_event,
)

logger = logging.getLogger("messaging.events")

# A publish is one pipelined round trip on loopback or inside a VPC.
CONNECT_TIMEOUT = 0.25
SOCKET_TIMEOUT = 0.5
WARNING_INTERVAL = 60.0
OUTAGE_PAUSE = 5.0


@dataclass(frozen=True)
class Target:
    """Where events go: a Redis URL (empty means no live events) and the key prefix
    that names the channels."""

    redis_url: str
    prefix: str


_lock = threading.Lock()
_clients: dict[str, object] = {}
_paused_until: dict[str, float] = {}
_warned_at: dict[str, float] = {}


def _client(url: str):
    with _lock:
        if url not in _clients:
            import redis

            _clients[url] = redis.Redis.from_url(
                url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=SOCKET_TIMEOUT
            )
        return _clients[url]


def _outage(url: str, exc: Exception) -> None:
    now = time.monotonic()
    with _lock:
        _paused_until[url] = now + OUTAGE_PAUSE
        last = _warned_at.get(url)
        if last is not None and now - last < WARNING_INTERVAL:
            return
        _warned_at[url] = now
    logger.warning(
        "live events unavailable (%s); sends carry on without them. Next warning in %.0fs"
        " at most.",
        type(exc).__name__,
        WARNING_INTERVAL,
    )


def publish(*, target: Target, deliveries: Iterable[tuple[uuid.UUID, Event]]) -> bool:
    """Publish each (user uuid, event) to that user's channel, in one round trip.

    True when Redis took them all (whether or not anyone was listening).
    """
    deliveries = list(deliveries)
    if not target.redis_url or not deliveries:
        return False
    if time.monotonic() < _paused_until.get(target.redis_url, 0.0):
        return False
    try:
        pipeline = _client(target.redis_url).pipeline(transaction=False)
        for user_uuid, event in deliveries:
            pipeline.publish(
                user_channel(prefix=target.prefix, user_uuid=user_uuid), event.encode()
            )
        pipeline.execute()
    except Exception as exc:
        _outage(target.redis_url, exc)
        return False
    return True


def publish_after_fanout(
    *,
    messages: Iterable[Message],
    target: Target,
    senders: Mapping[uuid.UUID, dict] | None = None,
) -> bool:
    """Call once the messages' inbox rows have moved (inline, the stream worker, the
    Lambda): every member gets `message` and `inbox` for each.

    The members come from the message itself (no read needed); `senders` maps a
    sender's uuid to `{"handle", "display_name"}` when known. A message delivered twice
    (a replayed stream record) is published twice: clients keep one copy per message
    uuid.
    """
    deliveries = []
    for message in messages:
        event = message_event(message, sender=(senders or {}).get(message.sender_uuid))
        changed = inbox_event(group_uuid=message.group_uuid, last_message_at=message.created_at)
        for member in sorted(message.member_uuids):
            deliveries.append((member, event))
            deliveries.append((member, changed))
    return publish(target=target, deliveries=deliveries)


def publish_message_updates(*, messages: Iterable[Message], target: Target) -> bool:
    """Call once an edit's or deletion's previews have followed (inline, the stream
    worker, the Lambda): every member gets `message_updated` (a deleted one without its
    body) and `inbox`, since the preview may have changed."""
    deliveries = []
    for message in messages:
        event = message_updated_event(message)
        changed = inbox_event(group_uuid=message.group_uuid)
        for member in sorted(message.member_uuids):
            deliveries.append((member, event))
            deliveries.append((member, changed))
    return publish(target=target, deliveries=deliveries)


def publish_read(
    *,
    target: Target,
    group_uuid: uuid.UUID,
    reader_uuid: uuid.UUID,
    members: Sequence[uuid.UUID],
    last_read_at: datetime | None,
    send_read_receipts: bool,
) -> bool:
    """Someone marked a conversation read: their own tabs re-read the inbox (the badge),
    and, unless they turned read receipts off, the other members get `read`."""
    deliveries = [(reader_uuid, inbox_event(group_uuid=group_uuid))]
    if send_read_receipts:
        event = read_event(
            group_uuid=group_uuid, member_uuid=reader_uuid, last_read_at=last_read_at
        )
        deliveries.extend((member, event) for member in members if member != reader_uuid)
    return publish(target=target, deliveries=deliveries)


def publish_typing(
    *,
    target: Target,
    group_uuid: uuid.UUID,
    typist_uuid: uuid.UUID,
    handle: str,
    display_name: str,
    members: Sequence[uuid.UUID],
) -> bool:
    event = typing_event(group_uuid=group_uuid, handle=handle, display_name=display_name)
    return publish(
        target=target,
        deliveries=[(member, event) for member in members if member != typist_uuid],
    )


def publish_credentials_changed(*, target: Target, user_uuid: uuid.UUID) -> bool:
    """One of the user's sessions or tokens was deleted, or the user changed (password,
    active flag): their open streams re-check their own credentials at once."""
    return publish(target=target, deliveries=[(user_uuid, credentials_changed_event())])
