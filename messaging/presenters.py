"""Gateway records -> page types. Pure: every name comes in through `people`.

Names are resolved at read time (from the cache, which a profile change invalidates, or
one SQL query per page, in the selectors) rather than copied into DynamoDB, so a
display-name or avatar change shows everywhere at once. The copy on an inbox row is only
the fallback for an account that no longer exists.
"""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from accounts.models import User
from messaging.dynamo.records import Conversation as ConversationRecord
from messaging.dynamo.records import InboxRow, Member, Message
from messaging.types import ChatMessage, Conversation, MemberState, Person

DELETED_NAME = "Deleted user"


def person_from_user(user: User) -> Person:
    return Person(
        uuid=user.uuid,
        handle=user.handle,
        display_name=user.display_name,
        avatar_url=user.avatar.url if user.avatar else None,
        shares_read_receipts=user.send_read_receipts,
    )


def person_from_profile(profile: dict[str, Any]) -> Person:
    """A `Person` from a user's stored fields (`selectors.PERSON_FIELDS`), as cached."""
    avatar = profile["avatar"]
    return Person(
        uuid=profile["uuid"],
        handle=profile["handle"],
        display_name=profile["display_name"],
        # As `user.avatar.url` makes it: signed, so made on every read.
        avatar_url=User._meta.get_field("avatar").storage.url(avatar) if avatar else None,
        shares_read_receipts=profile["send_read_receipts"],
    )


def person_from_member(member: Member, people: dict[uuid.UUID, Person]) -> Person:
    return people.get(member.uuid) or Person(
        uuid=member.uuid, handle=member.handle, display_name=member.display_name
    )


def deleted_person(user_uuid: uuid.UUID) -> Person:
    return Person(uuid=user_uuid, handle="deleted", display_name=DELETED_NAME)


def conversation_from_row(
    row: InboxRow,
    people: dict[uuid.UUID, Person],
    *,
    states: tuple[MemberState, ...] | None = None,
) -> Conversation:
    members = tuple(person_from_member(member, people) for member in row.members)
    return Conversation(
        group_uuid=row.group_uuid,
        kind=row.kind,
        members=members,
        member_states=states
        if states is not None
        else tuple(MemberState(person=person, last_read_at=None) for person in members),
        last_message="" if row.last_message_deleted else row.last_message_body,
        last_message_at=row.last_message_at,
        last_sender_uuid=row.last_sender_uuid,
        last_message_deleted=row.last_message_deleted,
        unread_count=row.unread_count,
        muted=row.muted,
    )


def chat_message_from_record(message: Message, people: dict[uuid.UUID, Person]) -> ChatMessage:
    return ChatMessage(
        uuid=message.uuid,
        group_uuid=message.group_uuid,
        sender=people.get(message.sender_uuid) or deleted_person(message.sender_uuid),
        body="" if message.deleted else message.body,
        created_at=message.created_at,
        edited_at=message.edited_at,
        deleted=message.deleted,
    )


def member_states(
    conversation: ConversationRecord,
    *,
    viewer_uuid: uuid.UUID,
    people: dict[uuid.UUID, Person],
    sharing: set[uuid.UUID],
) -> tuple[MemberState, ...]:
    """The other members and when they last read; `sharing` holds those who share read
    receipts (the others' read times stay hidden)."""
    reads = conversation.reads
    return tuple(
        MemberState(
            person=person_from_member(member, people),
            last_read_at=reads[member.uuid].at
            if member.uuid in sharing and member.uuid in reads
            else None,
        )
        for member in conversation.members
        if member.uuid != viewer_uuid
    )


def api_timestamp(moment: datetime) -> str:
    """Fixed-width UTC with microseconds and `Z`, so clients can sort times as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def member_uuids_of(rows: Iterable[InboxRow]) -> set[uuid.UUID]:
    return {member.uuid for row in rows for member in row.members}
