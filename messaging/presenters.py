"""Gateway records -> page types. Pure: every name comes in through `people`.

Names are resolved at read time (from the cache, which a profile change invalidates, or
one SQL query per page, in the selectors) rather than copied into DynamoDB, so a
display-name or avatar change shows everywhere at once. The copy on an inbox row keeps
the table readable on its own (ddb_scan, the Lambda); a member whose account is gone
shows as "Deleted user", as their messages do, never under the name they deleted.
"""

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from accounts.models import User
from messaging.dynamo.records import Conversation as ConversationRecord
from messaging.dynamo.records import InboxRow, Member, Message
from messaging.types import ChatMessage, Conversation, ConversationExport, MemberState, Person

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
    """`people` holds every member who still has an account (the selectors look them all
    up), so one missing from it was deleted."""
    return people.get(member.uuid) or deleted_person(member.uuid)


def deleted_person(user_uuid: uuid.UUID) -> Person:
    return Person(uuid=user_uuid, handle="deleted", display_name=DELETED_NAME, deleted=True)


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


# --- a person's export (GET /api/me/export, ddb_export_user) --------------------------


def person_document(person: Person) -> dict[str, str]:
    return {"uuid": str(person.uuid), "handle": person.handle, "display_name": person.display_name}


def message_document(message: ChatMessage) -> dict[str, object]:
    """A message as the API's `Message` resource spells it (api/serializers.py; a test
    holds the two equal)."""
    return {
        "uuid": str(message.uuid),
        "message_group_uuid": str(message.group_uuid),
        "handle": message.sender.handle,
        "display_name": message.sender.display_name,
        "message": message.body,
        "created_at": api_timestamp(message.created_at),
        "edited_at": api_timestamp(message.edited_at) if message.edited_at else None,
        "deleted": message.deleted,
    }


def user_document(user: User) -> dict[str, object]:
    return {
        "uuid": str(user.uuid),
        "handle": user.handle,
        "display_name": user.display_name,
        "email": user.email,
        "bio": user.bio,
        "time_zone": user.time_zone,
        "send_read_receipts": user.send_read_receipts,
        "date_joined": api_timestamp(user.date_joined),
    }


def _open(document: Mapping[str, object], list_name: str) -> str:
    """`document` as JSON, left open inside a new list named `list_name`."""
    return json.dumps(document)[:-1] + f', "{list_name}": ['


def export_chunks(
    *, user: User, conversations: Iterable[ConversationExport], exported_at: datetime
) -> Iterator[str]:
    """The export as JSON text, a piece per conversation head and per page of messages:
    the whole is one JSON document, and no piece holds more than one page."""
    yield _open(
        {"user": user_document(user), "exported_at": api_timestamp(exported_at)}, "conversations"
    )
    for index, conversation in enumerate(conversations):
        head = {
            "uuid": str(conversation.group_uuid),
            "kind": conversation.kind,
            "members": [person_document(person) for person in conversation.members],
        }
        yield ("," if index else "") + _open(head, "messages")
        separator = ""
        for page in conversation.message_pages:
            yield separator + ",".join(json.dumps(message_document(m)) for m in page)
            separator = ","
        yield "]}"
    yield "]}\n"
