"""What the gateway hands upward: frozen dataclasses, never DynamoDB attribute maps."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from messaging.dynamo import keys

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    uuid: uuid.UUID
    group_uuid: uuid.UUID
    sender_uuid: uuid.UUID
    recipient_uuid: uuid.UUID
    body: str
    created_at: datetime

    @property
    def sk(self) -> str:
        return keys.message_sk(self.created_at, self.uuid)


@dataclass(frozen=True)
class Member:
    """A user as copied onto the other member's inbox row when the group is created.

    Pages resolve current names from Postgres; the copy keeps the table readable on its
    own (ddb_scan, the Lambda, a deleted account).
    """

    uuid: uuid.UUID
    handle: str
    display_name: str


@dataclass(frozen=True)
class InboxRow:
    user_uuid: uuid.UUID
    group_uuid: uuid.UUID
    other: Member
    last_message_body: str
    last_message_sk: str
    last_message_at: datetime
    last_sender_uuid: uuid.UUID
    # The recipient's unread messages by sort key. A set, not a counter, so a stream
    # record delivered twice or out of order cannot count a message twice.
    unread_message_sks: frozenset[str] = frozenset()
    last_read_sk: str | None = None

    @property
    def unread_count(self) -> int:
        return len(self.unread_message_sks)


@dataclass(frozen=True)
class IdempotencyRecord:
    user_uuid: uuid.UUID
    key: str
    request_hash: str
    message: Message
    expires_at: int


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a query plus what it cost, for callers and `ddb_patterns`."""

    items: list[T]
    # The sort-key position to resume after, or None on the last page.
    next_position: dict | None
    request: dict = field(default_factory=dict, compare=False)
    consumed_capacity: float = 0.0
