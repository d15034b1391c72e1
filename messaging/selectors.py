"""Reads. Each function states its DynamoDB and SQL cost in its docstring."""

import re
import uuid
from datetime import datetime
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.models import HANDLE_PATTERN
from messaging import cache
from messaging.cursors import cursor_decode, cursor_encode
from messaging.dynamo import InboxRow, Message
from messaging.dynamo.keys import MalformedKey, group_uuid_for_pair, parse_message_sk
from messaging.errors import Invalid, InvalidCursor, NotFound
from messaging.store import messaging_table
from messaging.types import ChatMessage, Conversation, ConversationDetail, CursorPage, Person

User = get_user_model()

INBOX_CURSOR = "inbox"
MESSAGES_CURSOR = "messages"


def page_size_clean(page_size: int | None) -> int:
    if page_size is None:
        return settings.MESSAGING_PAGE_SIZE
    if not 1 <= page_size <= settings.MESSAGING_MAX_PAGE_SIZE:
        raise Invalid(
            "page_size", f"page_size must be between 1 and {settings.MESSAGING_MAX_PAGE_SIZE}."
        )
    return page_size


def uuid_clean(value: uuid.UUID | str, *, field: str = "message_group_uuid") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Invalid(field, "Must be a valid UUID.") from exc


def person_from_user(user) -> Person:
    return Person(
        uuid=user.uuid,
        handle=user.handle,
        display_name=user.display_name,
        avatar_url=user.avatar.url if user.avatar else None,
    )


def people_by_uuid(*, uuids: set[uuid.UUID], known: tuple = ()) -> dict[uuid.UUID, Person]:
    """Current names and avatars for these users: one SQL query, none if all are known.

    Names are resolved at read time rather than copied into DynamoDB, so a display-name
    or avatar change shows everywhere at once without rewriting anyone's inbox.
    """
    people = {user.uuid: person_from_user(user) for user in known}
    missing = uuids - people.keys()
    if missing:
        for user in User.objects.filter(uuid__in=missing).only(
            "uuid", "handle", "display_name", "avatar"
        ):
            people[user.uuid] = person_from_user(user)
    return people


def conversation_from_row(row: InboxRow, people: dict[uuid.UUID, Person]) -> Conversation:
    other = people.get(row.other.uuid) or Person(
        uuid=row.other.uuid, handle=row.other.handle, display_name=row.other.display_name
    )
    return Conversation(
        group_uuid=row.group_uuid,
        other=other,
        last_message=row.last_message_body,
        last_message_at=row.last_message_at,
        last_sender_uuid=row.last_sender_uuid,
        unread_count=row.unread_count,
        last_message_sk=row.last_message_sk,
        unread_message_sks=row.unread_message_sks,
        last_read_sk=row.last_read_sk,
    )


def chat_message_from_record(message: Message, people: dict[uuid.UUID, Person]) -> ChatMessage:
    sender = people.get(message.sender_uuid) or Person(
        uuid=message.sender_uuid, handle="deleted", display_name="Deleted user"
    )
    return ChatMessage(
        uuid=message.uuid,
        group_uuid=message.group_uuid,
        sender=sender,
        body=message.body,
        created_at=message.created_at,
        sk=message.sk,
    )


def _inbox_rows(*, user, position: dict | None, limit: int):
    """One page of the user's inbox rows; the first page goes through the read-aside
    cache. 1 DynamoDB Query, none on a cache hit."""
    try:
        return cache.first_page(
            key=cache.inbox_key(user.uuid),
            position=position,
            limit=limit,
            load=partial(
                messaging_table().inbox_page, user_uuid=user.uuid, position=position, limit=limit
            ),
        )
    except MalformedKey as exc:
        raise InvalidCursor() from exc


def inbox_list(
    *, user, cursor: str | None = None, page_size: int | None = None
) -> CursorPage[Conversation]:
    """The user's conversations, newest first. 1 DynamoDB Query (none when the first
    page is cached), at most 1 SQL query."""
    limit = page_size_clean(page_size)
    position = cursor_decode(kind=INBOX_CURSOR, cursor=cursor)
    page = _inbox_rows(user=user, position=position, limit=limit)
    people = people_by_uuid(uuids={row.other.uuid for row in page.items})
    return CursorPage(
        items=[conversation_from_row(row, people) for row in page.items],
        next_cursor=cursor_encode(kind=INBOX_CURSOR, position=page.next_position),
    )


def conversation_get(*, user, group_uuid: uuid.UUID | str) -> InboxRow:
    """The caller's own inbox row for the group: 1 strongly consistent GetItem.

    Membership is this read: a non-member, like a missing group, gets NotFound.
    """
    group_uuid = uuid_clean(group_uuid)
    row = messaging_table().inbox_row_get(user_uuid=user.uuid, group_uuid=group_uuid)
    if row is None:
        raise NotFound("No such conversation.")
    return row


def conversation_detail(
    *,
    user,
    group_uuid: uuid.UUID | str,
    cursor: str | None = None,
    page_size: int | None = None,
    people: dict[uuid.UUID, Person] | None = None,
) -> ConversationDetail:
    """A conversation and one page of its messages (newest page first, each page in time
    order). 1 GetItem (membership, never cached) + 1 Query (none when the first page is
    cached); at most 1 SQL query, none when `people` (names the caller already
    resolved, e.g. for the inbox beside the conversation) holds the other member."""
    limit = page_size_clean(page_size)
    position = cursor_decode(kind=MESSAGES_CURSOR, cursor=cursor)
    row = conversation_get(user=user, group_uuid=group_uuid)
    try:
        page = cache.first_page(
            key=cache.messages_key(row.group_uuid),
            position=position,
            limit=limit,
            load=partial(
                messaging_table().message_page,
                group_uuid=row.group_uuid,
                position=position,
                limit=limit,
            ),
        )
    except MalformedKey as exc:
        raise InvalidCursor() from exc
    if people is None or row.other.uuid not in people:
        people = people_by_uuid(uuids={row.other.uuid}, known=(user,))
    else:
        people = {**people, user.uuid: person_from_user(user)}
    return ConversationDetail(
        conversation=conversation_from_row(row, people),
        messages=CursorPage(
            items=[chat_message_from_record(message, people) for message in page.items],
            next_cursor=cursor_encode(kind=MESSAGES_CURSOR, position=page.next_position),
        ),
    )


def member_read_position(*, conversation: Conversation) -> datetime | None:
    """How far the other member of a pair has read (the time of the newest message they
    have read), for "Seen"; None if they read nothing or turned read receipts off.

    1 GetItem of the other member's inbox row and, only when there is a position to
    show, 1 SQL query for their setting. Groups will read every member's row instead.
    """
    row = messaging_table().inbox_row_get(
        user_uuid=conversation.other.uuid, group_uuid=conversation.group_uuid
    )
    if row is None or row.last_read_sk is None:
        return None
    if not User.objects.filter(uuid=conversation.other.uuid, send_read_receipts=True).exists():
        return None
    return parse_message_sk(row.last_read_sk)[0]


def message_list(
    *, user, group_uuid: uuid.UUID | str, cursor: str | None = None, page_size: int | None = None
) -> CursorPage[ChatMessage]:
    return conversation_detail(
        user=user, group_uuid=group_uuid, cursor=cursor, page_size=page_size
    ).messages


def user_get_by_handle(*, handle: str):
    """The active user with this handle (case-insensitive, leading @ allowed).

    Text that cannot be a handle is not looked up at all: no user has it, and Postgres
    would reject some of it (a NUL byte) with an error rather than no rows.
    """
    handle = (handle or "").strip().removeprefix("@")
    if not re.fullmatch(HANDLE_PATTERN, handle):
        raise NotFound("No such user.")
    user = User.objects.filter(handle__iexact=handle, is_active=True).first()
    if user is None:
        raise NotFound(f"No user @{handle}.")
    return user


def inbox_unread_count(
    *,
    user,
    first_page: CursorPage[Conversation] | None = None,
    read_group_uuid: uuid.UUID | None = None,
) -> int:
    """How many of the user's conversations have unread messages (the navigation badge).

    When the inbox fits on its first page the count comes from that page: `first_page`
    if the caller already has it, else the cached rows (no request on a hit, 1 Query on
    a miss; no SQL either way). A longer inbox costs 1 strongly consistent count Query.
    `read_group_uuid` is a conversation the caller has just marked read, which a page
    read before (or cached before) that write may still show as unread.
    """
    if first_page is not None:
        unread = {c.group_uuid for c in first_page.items if c.unread_count}
        complete = first_page.next_cursor is None
    else:
        rows = _inbox_rows(user=user, position=None, limit=settings.MESSAGING_PAGE_SIZE)
        unread = {row.group_uuid for row in rows.items if row.unread_count}
        complete = rows.next_position is None
    if complete:
        unread.discard(read_group_uuid)
        return len(unread)
    return messaging_table().inbox_unread_count(user_uuid=user.uuid)


def conversation_find_by_handle(*, user, handle: str) -> tuple[User, uuid.UUID | None]:
    """The person to message by @handle, and the pair's conversation if it already exists.

    1 SQL query + 1 GetItem (the pair's group uuid is derived, so no lookup by pair).
    Raises NotFound for an unknown handle and Invalid for the caller's own.
    """
    recipient = user_get_by_handle(handle=handle)
    if recipient.pk == user.pk:
        raise Invalid("handle", "That's you. Pick someone else's @handle to start a conversation.")
    group_uuid = group_uuid_for_pair(user.uuid, recipient.uuid)
    row = messaging_table().inbox_row_get(user_uuid=user.uuid, group_uuid=group_uuid)
    return recipient, (row.group_uuid if row else None)
