"""Reads, and nothing else. Each function states its DynamoDB and SQL cost."""

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial

from django.conf import settings
from django.db.models import Q

from accounts.models import User
from messaging import cache, presenters, rules
from messaging.cursors import cursor_decode, cursor_encode
from messaging.dynamo import InboxRow, Membership, Message, Page
from messaging.dynamo.keys import MalformedKey, group_uuid_for_members
from messaging.errors import InvalidCursor, NotFound
from messaging.store import messaging_table, people_table
from messaging.types import (
    ChatMessage,
    Conversation,
    ConversationDetail,
    ConversationExport,
    CursorPage,
    Person,
)

INBOX_CURSOR = "inbox"
MESSAGES_CURSOR = "messages"


PERSON_FIELDS = ("uuid", "handle", "display_name", "avatar", "send_read_receipts")


def people_by_uuid(
    *, uuids: Iterable[uuid.UUID], known: Iterable[User] = ()
) -> dict[uuid.UUID, Person]:
    """Current names and avatars for these users: from the cache (a profile save
    invalidates its entry), then one SQL query for the rest; none if all are known."""
    people = {user.uuid: presenters.person_from_user(user) for user in known}
    missing = set(uuids) - people.keys()
    if missing:
        profiles = cache.values(
            keys={cache.person_key(user_uuid): user_uuid for user_uuid in missing},
            load=_profiles_load,
            ttl=settings.MESSAGING_PEOPLE_CACHE_TTL,
        )
        for profile in profiles.values():
            people[profile["uuid"]] = presenters.person_from_profile(profile)
    return people


def _profiles_load(uuids: set[uuid.UUID]) -> dict[uuid.UUID, dict]:
    # The avatar's file name, not its URL: the URL is signed and expires, so it is made
    # on every read.
    return {
        profile["uuid"]: profile
        for profile in User.objects.filter(uuid__in=uuids).values(*PERSON_FIELDS)
    }


def _inbox_rows(*, user: User, position: dict | None, limit: int) -> Page[InboxRow]:
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
    *, user: User, cursor: str | None = None, page_size: int | None = None
) -> CursorPage[Conversation]:
    """The user's conversations, newest first. 1 DynamoDB Query (none when the first
    page is cached), at most 1 SQL query."""
    limit = rules.page_size_clean(page_size)
    position = cursor_decode(kind=INBOX_CURSOR, cursor=cursor)
    page = _inbox_rows(user=user, position=position, limit=limit)
    people = people_by_uuid(uuids=presenters.member_uuids_of(page.items))
    return CursorPage(
        items=[presenters.conversation_from_row(row, people) for row in page.items],
        next_cursor=cursor_encode(kind=INBOX_CURSOR, position=page.next_position),
    )


def inbox_first_page_rendered(
    *, user: User, render: Callable[[CursorPage[Conversation]], bytes]
) -> bytes:
    """`render` of the user's first inbox page at the default size, kept as rendered
    (`cache.rendered`): a hit costs two Redis reads, no DynamoDB, SQL or rendering."""
    return cache.rendered(
        key=cache.inbox_body_key(user.uuid), build=lambda: render(inbox_list(user=user))
    )


def inbox_unread_count(
    *,
    user: User,
    first_page: CursorPage[Conversation] | None = None,
    read_group_uuid: uuid.UUID | None = None,
) -> int:
    """How many of the user's conversations have unread messages (the navigation badge),
    exact to 99, then 100 ("99+").

    An inbox that fits on its first page counts from that page, when the caller has it
    (no request). Otherwise 1 Query on the sparse unread index, whatever the inbox's
    length; none when cached (invalidated with the inbox). `read_group_uuid` is a
    conversation the caller has just marked read, which the index may still list.
    """
    if first_page is not None and first_page.next_cursor is None:
        unread = {c.group_uuid for c in first_page.items if c.unread_count and not c.muted}
    else:
        unread = set(
            cache.value(
                key=cache.badge_key(user.uuid),
                load=partial(messaging_table().unread_conversations, user_uuid=user.uuid),
            )
        )
    unread.discard(read_group_uuid)
    return len(unread)


def membership_get(*, user: User, group_uuid: uuid.UUID | str) -> Membership:
    """The caller's own row and the conversation: 1 strongly consistent BatchGetItem.

    Membership is this read: a non-member, like a missing group, gets NotFound.
    """
    group_uuid = rules.uuid_clean(group_uuid)
    membership = messaging_table().membership_get(user_uuid=user.uuid, group_uuid=group_uuid)
    if membership is None:
        raise NotFound("No such conversation.")
    return membership


def message_get(
    *, user: User, group_uuid: uuid.UUID | str, message_uuid: uuid.UUID | str
) -> tuple[Membership, Message]:
    """One message of a conversation the caller belongs to, with the caller's membership:
    1 BatchGetItem + 1 Query and 1 GetItem (or, for a message the uuid index does not
    list yet, 1 strongly consistent Query of the newest messages). A non-member gets
    NotFound, as for a missing message."""
    membership = membership_get(user=user, group_uuid=group_uuid)
    message = messaging_table().message_find(
        group_uuid=membership.row.group_uuid,
        message_uuid=rules.uuid_clean(message_uuid, field="message_uuid"),
    )
    if message is None:
        raise NotFound("No such message.")
    return membership, message


def messages_around(
    *, user: User, group_uuid: uuid.UUID | str, message_uuid: uuid.UUID | str, count: int = 5
) -> list[ChatMessage]:
    """The message and up to `count` messages before it, as `user` (a member) sees them:
    what a moderator reads a reported message in. 1 BatchGetItem, 1 Query and 1 GetItem
    for the message, 1 Query for the messages before it, at most 1 SQL query."""
    membership, message = message_get(user=user, group_uuid=group_uuid, message_uuid=message_uuid)
    earlier = messaging_table().message_page(
        group_uuid=membership.row.group_uuid, position={"sk": message.sk}, limit=count
    )
    records = [*earlier.items, message]
    people = people_by_uuid(uuids={record.sender_uuid for record in records})
    return [presenters.chat_message_from_record(record, people) for record in records]


def conversation_get(*, user: User, group_uuid: uuid.UUID | str) -> ConversationDetail:
    """A conversation without its messages (the API's group resource): 1 BatchGetItem,
    at most 1 SQL query."""
    membership = membership_get(user=user, group_uuid=group_uuid)
    return _detail(user=user, membership=membership, messages=[], next_position=None, people=None)


def conversation_detail(
    *,
    user: User,
    group_uuid: uuid.UUID | str,
    cursor: str | None = None,
    page_size: int | None = None,
    people: dict[uuid.UUID, Person] | None = None,
) -> ConversationDetail:
    """A conversation and one page of its messages (newest page first, each page in time
    order). 1 BatchGetItem (membership, never cached) + 1 Query (none when the first page
    is cached and the conversation has not changed since); at most 1 SQL query, none when
    `people` (names the caller already has, e.g. the inbox beside the conversation) holds
    every member and sender."""
    limit = rules.page_size_clean(page_size)
    position = cursor_decode(kind=MESSAGES_CURSOR, cursor=cursor)
    membership = membership_get(user=user, group_uuid=group_uuid)
    page = _message_page(membership=membership, position=position, limit=limit)
    return _detail(
        user=user,
        membership=membership,
        messages=page.items,
        next_position=page.next_position,
        people=people,
    )


def _message_page(*, membership: Membership, position: dict | None, limit: int) -> Page[Message]:
    group = membership.row.group_uuid
    try:
        return cache.first_page(
            key=cache.messages_key(group),
            position=position,
            limit=limit,
            # The conversation's version moves with every message and edit, so a page
            # cached before a change is never served after it, even if the change's
            # invalidation was lost (a Redis blip).
            version=membership.conversation.version,
            load=partial(
                messaging_table().message_page, group_uuid=group, position=position, limit=limit
            ),
        )
    except MalformedKey as exc:
        raise InvalidCursor() from exc


def _detail(
    *,
    user: User,
    membership: Membership,
    messages: list[Message],
    next_position: dict[str, object] | None,
    people: dict[uuid.UUID, Person] | None,
) -> ConversationDetail:
    record = membership.conversation
    others = {member.uuid for member in membership.row.members}
    senders = {message.sender_uuid for message in messages}
    people = {
        **(people or {}),
        **people_by_uuid(uuids=(others | senders) - (people or {}).keys(), known=(user,)),
    }
    # Read positions are shown only for members who share read receipts.
    sharing = {uuid for uuid in others if uuid in people and people[uuid].shares_read_receipts}
    mine = [message for message in messages if message.sender_uuid == user.uuid]
    seen_by: tuple[Person, ...] = ()
    if mine and mine[-1] is messages[-1]:
        readers = record.readers_of(mine[-1]) & sharing
        seen_by = tuple(
            presenters.person_from_member(member, people)
            for member in membership.row.members
            if member.uuid in readers
        )
    newest = messages[-1].position if messages else None
    states = presenters.member_states(
        record, viewer_uuid=user.uuid, people=people, sharing=sharing
    )
    return ConversationDetail(
        conversation=presenters.conversation_from_row(membership.row, people, states=states),
        messages=_chat_page(messages, next_position, people),
        seen_by=seen_by,
        blocked=user.uuid in record.blocked_by,
        read_marker=(membership, newest),
    )


def _chat_page(
    messages: list[Message], next_position: dict | None, people: dict[uuid.UUID, Person]
) -> CursorPage[ChatMessage]:
    return CursorPage(
        items=[presenters.chat_message_from_record(message, people) for message in messages],
        next_cursor=cursor_encode(kind=MESSAGES_CURSOR, position=next_position),
    )


def message_list(
    *,
    user: User,
    group_uuid: uuid.UUID | str,
    cursor: str | None = None,
    page_size: int | None = None,
) -> CursorPage[ChatMessage]:
    return conversation_detail(
        user=user, group_uuid=group_uuid, cursor=cursor, page_size=page_size
    ).messages


def messages_first_page_rendered(
    *, user: User, group_uuid: uuid.UUID | str, render: Callable[[CursorPage[ChatMessage]], bytes]
) -> bytes:
    """`render` of the conversation's first page of messages at the default size, kept as
    rendered (`cache.rendered`, one body for every member, as it names no viewer). The
    membership read still comes first, on every request (invariant 5), and its version
    guards the body as it does the cached page."""
    membership = membership_get(user=user, group_uuid=group_uuid)

    def build() -> bytes:
        # Every name through the cache, the caller's too, so that each one guards the body.
        page = _message_page(
            membership=membership, position=None, limit=rules.page_size_clean(None)
        )
        people = people_by_uuid(uuids={message.sender_uuid for message in page.items})
        return render(_chat_page(page.items, page.next_position, people))

    return cache.rendered(
        key=cache.messages_body_key(membership.row.group_uuid),
        version=membership.conversation.version,
        build=build,
    )


def user_get_by_handle(*, handle: str) -> User:
    """The active user with this handle (case-insensitive, leading @ allowed). 1 SQL."""
    text = rules.handle_clean(handle)
    user = User.objects.filter(handle__iexact=text, is_active=True).first()
    if user is None:
        raise NotFound(f"No user @{text}.")
    return user


def users_by_handles(*, handles: list[str]) -> dict[str, User]:
    """The active users with these handles, by lower-cased handle: 1 SQL query."""
    matches = Q()
    for text in handles:
        matches |= Q(handle__iexact=text)
    return {user.handle.lower(): user for user in User.objects.filter(matches, is_active=True)}


def users_get_by_handles(*, handles: list[str]) -> list[User]:
    """The active users with these handles, in the order given: 1 SQL query. NotFound
    names the first handle that is nobody's."""
    texts = [rules.handle_clean(handle) for handle in handles]
    found = users_by_handles(handles=texts)
    for text in texts:
        if text.lower() not in found:
            raise NotFound(f"No user @{text}.")
    return [found[text.lower()] for text in texts]


def conversation_find(*, user: User, others: list[User]) -> uuid.UUID | None:
    """The conversation of the caller and these people, if it exists: 1 BatchGetItem
    (the group uuid is derived from the members, so no lookup by members)."""
    group_uuid = group_uuid_for_members([user.uuid, *(other.uuid for other in others)])
    membership = messaging_table().membership_get(user_uuid=user.uuid, group_uuid=group_uuid)
    return membership.row.group_uuid if membership else None


def blocks_list(*, user: User) -> list[Person]:
    """The people the user has blocked, by handle: 1 GetItem + at most 1 SQL query.
    Accounts deleted since are left out."""
    blocked = messaging_table().blocks_get(user_uuid=user.uuid)
    people = people_by_uuid(uuids=blocked) if blocked else {}
    return sorted(people.values(), key=lambda person: person.handle.lower())


def user_blocked(*, user: User, other: User) -> bool:
    """Whether the user has blocked `other` (not whether `other` blocked them, which
    nobody is told): 1 GetItem."""
    return other.uuid in messaging_table().blocks_get(user_uuid=user.uuid)


# --- a person's whole history -------------------------------------------------------


def person_conversations_export(*, user: User) -> Iterator[ConversationExport]:
    """Every conversation the user is in, hidden ones too, each with its messages oldest
    first, read a page at a time as the caller consumes them: 1 Query per 100
    conversations, then per conversation 1 SQL query (its members' names) and 1 Query
    per 100 messages. Nothing is held beyond one page."""
    table = people_table()
    me = presenters.person_from_user(user)
    for row in table.inbox_rows(user_uuid=user.uuid):
        people = people_by_uuid(uuids={member.uuid for member in row.members}, known=(user,))
        yield ConversationExport(
            group_uuid=row.group_uuid,
            kind=row.kind,
            members=(
                me,
                *(presenters.person_from_member(member, people) for member in row.members),
            ),
            message_pages=(
                [presenters.chat_message_from_record(message, people) for message in page]
                for page in table.message_pages(group_uuid=row.group_uuid)
            ),
        )


def person_export(*, user: User) -> Iterator[str]:
    """The user's export (docs/api.md, "Export") as pieces of one JSON document."""
    return presenters.export_chunks(
        user=user,
        conversations=person_conversations_export(user=user),
        exported_at=datetime.now(UTC),
    )


def conversation_has_recipients(*, membership: Membership, sender: User) -> bool:
    """Whether anyone but the sender still has an account here. No request: deleting an
    account marks it departed on the conversation item the membership read fetched."""
    return bool(membership.conversation.recipients_of(sender.uuid))
