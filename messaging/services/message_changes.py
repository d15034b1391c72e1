"""Editing and deleting a message (Zulip's message_edit / message_delete): the sender
only, an edit only within MESSAGING_EDIT_WINDOW. The checks here give the answer a
person reads; the table's own condition enforces the same rules (DESIGN invariant 2),
so a check skipped or raced here still cannot let a change through."""

import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings

from accounts.models import User
from messaging import cache, events, presenters, rules, selectors
from messaging.dynamo import Membership, Message
from messaging.dynamo.errors import MessageChangeRefused, MessageMissing
from messaging.errors import Forbidden, NotFound
from messaging.events.web import target as events_target
from messaging.services.delivery import fanout_inline
from messaging.store import messaging_table
from messaging.types import ChatMessage

NOT_YOURS = "You can only change messages you sent."
TOO_LATE = "Messages can be edited for {window} after sending; this one is older."
ALREADY_DELETED = "This message was deleted."


def edit_window() -> timedelta:
    return timedelta(seconds=settings.MESSAGING_EDIT_WINDOW)


def message_edit(
    *, user: User, group_uuid: uuid.UUID | str, message_uuid: uuid.UUID | str, body: object
) -> ChatMessage:
    """Replace the text of one of the caller's messages: 1 BatchGetItem (membership) +
    1 Query and 1 GetItem (the message) + 1 TransactWriteItems (the message and the
    conversation's version) + in inline mode, when it is the conversation's last message,
    1 conditional UpdateItem per member (the previews)."""
    clean_body = rules.message_body_clean(body)
    membership, message = _own_message(user=user, group_uuid=group_uuid, message_uuid=message_uuid)
    if message.deleted:
        raise Forbidden(ALREADY_DELETED)
    window = edit_window()
    if message.created_at < datetime.now(UTC) - window:
        raise Forbidden(_too_late(window))
    try:
        changed = messaging_table().message_edit(
            membership=membership, message=message, body=clean_body, window=window
        )
    except MessageChangeRefused as exc:
        raise Forbidden(_refusal(exc.reason, window)) from exc
    except MessageMissing as exc:
        raise NotFound("No such message.") from exc
    _after_change(changed, membership=membership)
    return presenters.chat_message_from_record(
        changed, {user.uuid: presenters.person_from_user(user)}
    )


def message_delete(
    *, user: User, group_uuid: uuid.UUID | str, message_uuid: uuid.UUID | str
) -> None:
    """Delete one of the caller's messages, at any time: the body leaves the table (the
    message, its idempotency record, the previews) and the message stays in place as
    "Message deleted". Deleting it again changes nothing. 1 BatchGetItem + 2 Queries and
    1 GetItem + 1 TransactWriteItems (+ the previews, as for an edit)."""
    membership, message = _own_message(user=user, group_uuid=group_uuid, message_uuid=message_uuid)
    if message.deleted:
        return
    try:
        changed = messaging_table().message_delete(membership=membership, message=message)
    except MessageChangeRefused as exc:
        if exc.reason == "deleted":
            return
        raise Forbidden(_refusal(exc.reason, edit_window())) from exc
    except MessageMissing as exc:
        raise NotFound("No such message.") from exc
    _after_change(changed, membership=membership)


def _own_message(
    *, user: User, group_uuid: uuid.UUID | str, message_uuid: uuid.UUID | str
) -> tuple[Membership, Message]:
    membership, message = selectors.message_get(
        user=user, group_uuid=group_uuid, message_uuid=message_uuid
    )
    if message.sender_uuid != user.uuid:
        raise Forbidden(NOT_YOURS)
    return membership, message


def _refusal(reason: str, window: timedelta) -> str:
    if reason == "window":
        return _too_late(window)
    return ALREADY_DELETED if reason == "deleted" else NOT_YOURS


def _too_late(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    amount, unit = (
        (seconds // 60, "minute") if seconds and seconds % 60 == 0 else (seconds, "second")
    )
    return TOO_LATE.format(window=f"{amount} {unit}{'' if amount == 1 else 's'}")


def _after_change(message: Message, *, membership: Membership) -> None:
    """Inline mode carries the change to the previews and announces it here; stream mode
    leaves both to the consumer, which sees the change as a MODIFY record. Either way
    the conversation's cached pages go now (its version moved too)."""
    inline = fanout_inline()
    last = membership.conversation.last_message_sk == message.sk
    if inline and last:
        messaging_table().inbox_previews_follow(message=message)
    cache.conversation_invalidate(
        group_uuids=[message.group_uuid], user_uuids=message.member_uuids if inline else ()
    )
    if inline:
        events.publish_message_updates(messages=[message], target=events_target())
