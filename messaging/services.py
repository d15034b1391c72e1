"""Writes. Every cross-item write is one transaction or one conditional write."""

import hashlib
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings

from messaging import cache, events
from messaging.dynamo import IdempotencyRecord, Member, Message
from messaging.dynamo.fanout import FanoutResult, records_apply
from messaging.dynamo.keys import group_uuid_for_pair, parse_message_sk
from messaging.dynamo.table import GroupExists, IdempotentReplay, NotAMember, StaleSortKey
from messaging.errors import IdempotencyKeyReused, Invalid, NotFound, StoreUnavailable
from messaging.events.web import target as events_target
from messaging.selectors import (
    chat_message_from_record,
    conversation_get,
    person_from_user,
    user_get_by_handle,
    uuid_clean,
)
from messaging.store import messaging_table
from messaging.types import ChatMessage, Conversation

MAX_MESSAGE_LENGTH = 1024
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# Each retry re-stamps the message after the newer one it lost to, so every lost race
# means another send committed; the bound only matters under heavy contention (many
# writers in one conversation at once), where a short random pause spreads them out.
STALE_RETRIES = 30


def message_body_clean(body: object) -> str:
    if not isinstance(body, str):
        raise Invalid("message", "Message must be text.")
    body = body.strip()
    if not body:
        raise Invalid("message", "Write a message first.")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise Invalid(
            "message",
            f"Messages are at most {MAX_MESSAGE_LENGTH} characters (this one has {len(body)}).",
        )
    try:
        body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Invalid("message", "Message contains characters that are not valid text.") from exc
    return body


def idempotency_key_clean(key: str | None) -> str | None:
    if key is None:
        return None
    if not (1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH) or not key.isprintable():
        raise Invalid(
            "idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters.",
        )
    return key


def _member(user) -> Member:
    return Member(uuid=user.uuid, handle=user.handle, display_name=user.display_name)


def _idempotency(*, user, key: str | None, target: str, body: str, message: Message):
    if key is None:
        return None
    request_hash = hashlib.sha256(f"{target}\n{body}".encode()).hexdigest()
    return IdempotencyRecord(
        user_uuid=user.uuid,
        key=key,
        request_hash=request_hash,
        message=message,
        expires_at=int(time.time() + IDEMPOTENCY_TTL.total_seconds()),
    )


def _replayed(replay: IdempotentReplay, attempted: IdempotencyRecord, sender) -> ChatMessage:
    if replay.record.request_hash != attempted.request_hash:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for another message.")
    return chat_message_from_record(replay.record.message, {sender.uuid: person_from_user(sender)})


def _new_message(*, sender_uuid, recipient_uuid, group_uuid, body, after_sk=None) -> Message:
    created_at = datetime.now(UTC)
    if after_sk:
        # Never stamp a message before one already in the conversation (clock skew between
        # servers, or a concurrent send that committed first).
        latest, _ = parse_message_sk(after_sk)
        created_at = max(created_at, latest + timedelta(microseconds=1))
    return Message(
        uuid=uuid.uuid4(),
        group_uuid=group_uuid,
        sender_uuid=sender_uuid,
        recipient_uuid=recipient_uuid,
        body=body,
        created_at=created_at,
    )


def _fanout_inline() -> bool:
    return settings.MESSAGING_FANOUT != "stream"


# live-events hook (issue 13): called where this request itself moved the inbox rows.
def _publish_delivered(message: Message, sender) -> None:
    events.publish_after_fanout(
        messages=[message],
        target=events_target(),
        senders={sender.uuid: {"handle": sender.handle, "display_name": sender.display_name}},
    )


def _append(
    *, sender, group_uuid, recipient_uuid, body, target, idempotency_key, after_sk=None
) -> ChatMessage:
    table = messaging_table()
    for _ in range(STALE_RETRIES):
        message = _new_message(
            sender_uuid=sender.uuid,
            recipient_uuid=recipient_uuid,
            group_uuid=group_uuid,
            body=body,
            after_sk=after_sk,
        )
        idempotency = _idempotency(
            user=sender, key=idempotency_key, target=target, body=body, message=message
        )
        try:
            table.message_append(
                message=message, fanout_inline=_fanout_inline(), idempotency=idempotency
            )
        except IdempotentReplay as replay:
            return _replayed(replay, idempotency, sender)
        except StaleSortKey as stale:
            after_sk = stale.latest_sk
            time.sleep(random.uniform(0, 0.005))
            continue
        except NotAMember as exc:
            raise NotFound("No such conversation.") from exc
        # Stream mode: the inboxes move (and are invalidated) in the stream consumer.
        cache.conversation_invalidate(
            group_uuid=group_uuid,
            user_uuids=(sender.uuid, recipient_uuid) if _fanout_inline() else (),
        )
        if _fanout_inline():
            _publish_delivered(message, sender)
        return chat_message_from_record(message, {sender.uuid: person_from_user(sender)})
    # Only reachable if newer messages keep winning every attempt: a transient overload.
    raise StoreUnavailable("The conversation is busy; please send again.")


def message_create(
    *, sender, group_uuid: uuid.UUID | str, body: str, idempotency_key: str | None = None
) -> ChatMessage:
    """Reply in an existing conversation: 1 GetItem (membership) + 1 TransactWriteItems."""
    body = message_body_clean(body)
    idempotency_key = idempotency_key_clean(idempotency_key)
    row = conversation_get(user=sender, group_uuid=group_uuid)
    return _append(
        sender=sender,
        group_uuid=row.group_uuid,
        recipient_uuid=row.other.uuid,
        body=body,
        target=f"group:{row.group_uuid}",
        idempotency_key=idempotency_key,
        after_sk=max(row.last_message_sk, row.last_read_sk or ""),
    )


def conversation_start(
    *, sender, handle: str, body: str, idempotency_key: str | None = None
) -> ChatMessage:
    """Message someone by @handle, in the pair's one conversation.

    New pair: 1 TransactWriteItems (both inbox rows + the first message). Existing pair:
    that transaction is cancelled and returns the sender's row, then 1 more transaction
    appends the message; no extra read.
    """
    body = message_body_clean(body)
    idempotency_key = idempotency_key_clean(idempotency_key)
    recipient = user_get_by_handle(handle=handle)
    if recipient.pk == sender.pk:
        raise Invalid("handle", "You can't start a conversation with yourself.")
    group_uuid = group_uuid_for_pair(sender.uuid, recipient.uuid)
    target = f"handle:{recipient.uuid}"
    message = _new_message(
        sender_uuid=sender.uuid, recipient_uuid=recipient.uuid, group_uuid=group_uuid, body=body
    )
    idempotency = _idempotency(
        user=sender, key=idempotency_key, target=target, body=body, message=message
    )
    try:
        messaging_table().conversation_create(
            sender=_member(sender),
            recipient=_member(recipient),
            message=message,
            idempotency=idempotency,
        )
    except IdempotentReplay as replay:
        return _replayed(replay, idempotency, sender)
    except GroupExists as exists:
        row = exists.sender_row
        return _append(
            sender=sender,
            group_uuid=group_uuid,
            recipient_uuid=recipient.uuid,
            body=body,
            target=target,
            idempotency_key=idempotency_key,
            after_sk=max(row.last_message_sk, row.last_read_sk or ""),
        )
    # Both rows were written by the request in either fan-out mode.
    cache.conversation_invalidate(group_uuid=group_uuid, user_uuids=(sender.uuid, recipient.uuid))
    _publish_delivered(message, sender)
    return chat_message_from_record(message, {sender.uuid: person_from_user(sender)})


def conversation_mark_read(
    *,
    user,
    group_uuid: uuid.UUID | str,
    conversation: Conversation | None = None,
    through_sk: str | None = None,
) -> bool:
    """Mark the conversation read up to its last message (or `through_sk`, the newest
    message the reader was shown, if later). Pass the `conversation` already read to skip
    the membership GetItem; no write at all when nothing is unread."""
    group_uuid = uuid_clean(group_uuid)
    if conversation is None or conversation.group_uuid != group_uuid:
        row = conversation_get(user=user, group_uuid=group_uuid)
        last_message_sk, seen, last_read, other_uuid = (
            row.last_message_sk,
            row.unread_message_sks,
            row.last_read_sk,
            row.other.uuid,
        )
    else:
        last_message_sk, seen, last_read, other_uuid = (
            conversation.last_message_sk,
            conversation.unread_message_sks,
            conversation.last_read_sk,
            conversation.other.uuid,
        )
    up_to = max(last_message_sk, through_sk or "")
    if not seen and last_read is not None and last_read >= up_to:
        return False
    marked = messaging_table().inbox_mark_read(
        user_uuid=user.uuid,
        group_uuid=group_uuid,
        up_to_sk=up_to,
        seen=frozenset(sk for sk in seen if sk <= up_to),
    )
    if marked:
        cache.conversation_invalidate(user_uuids=(user.uuid,))
        # live-events hook (issue 13): the `read` event for "Seen".
        events.publish_read(
            target=events_target(),
            group_uuid=group_uuid,
            reader_uuid=user.uuid,
            members=(user.uuid, other_uuid),
            last_read_at=parse_message_sk(up_to)[0],
            send_read_receipts=user.send_read_receipts,
        )
    return marked


def inbox_fanout_apply(*, records: list[dict]) -> FanoutResult:
    """Stream mode's second half (the local worker): move both members' inbox rows for
    each new message in a batch of stream records, then invalidate their cached inboxes.

    Invalidates for every message applied, even a replay that changed nothing: a worker
    killed between the update and the invalidation must not leave a stale inbox.
    Raises StoreUnavailable when the table itself failed, so the worker waits and
    retries the batch instead of setting healthy records aside as poison.
    """
    result = records_apply(records=records, table=messaging_table())
    cache.conversation_invalidate(user_uuids=result.members)
    # live-events hook (issue 13): after the rows moved.
    events.publish_after_fanout(messages=result.messages, target=events_target())
    if result.unavailable:
        raise StoreUnavailable(result.unavailable)
    return result
