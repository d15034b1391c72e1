"""What the gateway hands upward: frozen dataclasses, never DynamoDB attribute maps.

Positions (`Position`) are opaque above the gateway: services pass them back (to mark a
conversation read up to a message) but never look inside or compare them.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from messaging.dynamo import keys

T = TypeVar("T")

Kind = Literal["direct", "group"]
MIN_MEMBERS = 2
MAX_MEMBERS = 8
# Unread counts are exact up to here and shown as "99+" beyond (the badge likewise).
UNREAD_CAP = 99


@dataclass(frozen=True)
class Member:
    """A user as copied onto inbox rows when the conversation is created.

    Pages resolve current names from Postgres; the copy keeps the table readable on its
    own (ddb_scan, the Lambda, a deleted account).
    """

    uuid: UUID
    handle: str
    display_name: str


@dataclass(frozen=True, order=True)
class Position:
    """Where a message sits in its conversation: its sequence number (None for a v1
    message, which predates them) and its sort key."""

    sk: str
    seq: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Message:
    uuid: UUID
    group_uuid: UUID
    sender_uuid: UUID
    # Every member, carried on the message so the fan-out needs no read to find them
    # (membership never changes, so the copy never goes stale).
    member_uuids: frozenset[UUID]
    body: str
    created_at: datetime
    seq: int | None = None
    # Bumped by every edit or delete, so a replayed or reordered change never undoes a
    # later one.
    version: int = 0
    edited_at: datetime | None = None
    deleted: bool = False

    @property
    def sk(self) -> str:
        return keys.message_sk(self.created_at, self.uuid)

    @property
    def position(self) -> Position:
        return Position(sk=self.sk, seq=self.seq)


@dataclass(frozen=True)
class MemberRead:
    """How far one member has read: a position, and when."""

    position: Position | None
    at: datetime | None


@dataclass(frozen=True)
class Conversation:
    """The conversation item: its fixed members, the head of its sequence, and every
    member's read position (what "Seen" needs, in one small item)."""

    group_uuid: UUID
    kind: Kind
    members: tuple[Member, ...]
    last_seq: int
    last_message_sk: str | None
    version: int
    reads: dict[UUID, MemberRead] = field(default_factory=dict)
    # The members of a pair who have blocked the other (always empty for a group).
    blocked_by: frozenset[UUID] = frozenset()
    # False for a v1 pair not yet migrated: built from its inbox row, not stored.
    stored: bool = True
    # Members whose accounts were deleted: still members (their messages stay), but
    # nobody to deliver to.
    departed: frozenset[UUID] = frozenset()

    @property
    def member_uuids(self) -> frozenset[UUID]:
        return frozenset(member.uuid for member in self.members)

    def recipients_of(self, sender_uuid: UUID) -> frozenset[UUID]:
        """The members a message from `sender_uuid` would reach."""
        return self.member_uuids - self.departed - {sender_uuid}

    def readers_of(self, message: Message) -> frozenset[UUID]:
        """Members other than its sender who have read up to `message` or past it."""
        return frozenset(
            member
            for member, read in self.reads.items()
            if member != message.sender_uuid
            and read.position is not None
            and read.position.sk >= message.sk
        )


@dataclass(frozen=True)
class InboxRow:
    user_uuid: UUID
    group_uuid: UUID
    kind: Kind
    # The other members, in the order they were given at creation.
    members: tuple[Member, ...]
    last_message_uuid: UUID | None
    last_message_body: str
    last_message_at: datetime
    last_sender_uuid: UUID
    last_message_deleted: bool
    unread_count: int
    muted: bool
    # The newest message this row has taken in, and how far its member has read.
    position: Position
    read: MemberRead
    # True for a row still in v1's shape (unread set, one other member).
    v1: bool = False


@dataclass(frozen=True)
class Membership:
    """A member's own row and the conversation it belongs to: what a read or a send
    needs, fetched in one strongly consistent request."""

    row: InboxRow
    conversation: Conversation


@dataclass(frozen=True)
class IdempotencyRequest:
    """The caller's Idempotency-Key and a hash of the request it was sent with."""

    key: str
    request_hash: str
    expires_at: int


@dataclass(frozen=True)
class IdempotencyRecord:
    user_uuid: UUID
    key: str
    request_hash: str
    message: Message
    expires_at: int


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a query plus what it cost, for callers and `ddb_patterns`."""

    items: list[T]
    # The sort-key position to resume after, or None on the last page.
    next_position: dict[str, Any] | None
    request: dict[str, Any] = field(default_factory=dict, compare=False)
    consumed_capacity: float = 0.0
