"""What selectors and services return to views, the API and commands.

Page types only: names, text, times, counts. No storage detail (sort keys, sequence
numbers, unread sets) appears here; where a caller must hand a position back (to mark a
conversation read up to what it showed), it gets an opaque `read_marker`.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID

T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    """A user as shown beside a message or a conversation, with current names."""

    uuid: UUID
    handle: str
    display_name: str
    avatar_url: str | None = None
    # Whether they let others see how far they have read ("Seen").
    shares_read_receipts: bool = True
    # The account no longer exists: shown as "Deleted user", with no profile to link.
    deleted: bool = False

    @property
    def initials(self) -> str:
        words = [word for word in self.display_name.split() if word] or [self.handle]
        return "".join(word[0] for word in words[:2]).upper()


@dataclass(frozen=True)
class MemberState:
    """Another member of a conversation, with how far they have read (None when they do
    not share read receipts, or have not read yet)."""

    person: Person
    last_read_at: datetime | None


@dataclass(frozen=True)
class Conversation:
    """One row of a member's inbox: the others in it and the last message."""

    group_uuid: UUID
    kind: Literal["direct", "group"]
    # The other members, as given when the conversation was started.
    members: tuple[Person, ...]
    last_message: str
    last_message_at: datetime
    last_sender_uuid: UUID
    last_message_deleted: bool
    unread_count: int
    muted: bool = False
    # The other members with how far each has read; read times are only known where the
    # conversation itself was read (its page, GET /api/message_groups/<uuid>).
    member_states: tuple["MemberState", ...] = ()

    @property
    def other(self) -> Person:
        """The other person of a direct conversation (the first other member of a group)."""
        return self.members[0]

    @property
    def handle(self) -> str | None:
        """The other person's handle; None for a group, or when their account is gone."""
        other = self.members[0]
        return other.handle if self.kind == "direct" and not other.deleted else None

    @property
    def title(self) -> str:
        """How the conversation is named: the other person, or the members of a group."""
        names = [member.display_name for member in self.members]
        if self.kind == "direct" or len(names) == 1:
            return names[0]
        return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class ChatMessage:
    uuid: UUID
    group_uuid: UUID
    sender: Person
    body: str
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class ConversationDetail:
    conversation: Conversation
    messages: CursorPage[ChatMessage]
    # Others who have read the caller's last message on this page.
    seen_by: tuple[Person, ...] = ()
    # Whether the viewer blocked the other member of a pair (a block the other made is
    # never shown: a refused send says only "You can't message @x.").
    blocked: bool = False
    # Hand back to `conversation_mark_read` to mark read up to what this page showed.
    read_marker: object = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ConversationExport:
    """One conversation of a person's export: its members (the exporter first) and its
    messages, oldest first, a page at a time (read as the export is written)."""

    group_uuid: UUID
    kind: Literal["direct", "group"]
    members: tuple[Person, ...]
    message_pages: Iterator[list[ChatMessage]] = field(repr=False, compare=False)
