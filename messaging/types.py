"""What selectors and services return to views, the API and commands."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Person:
    """A user as shown beside a message or a conversation, with current names."""

    uuid: uuid.UUID
    handle: str
    display_name: str
    avatar_url: str | None = None

    @property
    def initials(self) -> str:
        words = [word for word in self.display_name.split() if word] or [self.handle]
        return "".join(word[0] for word in words[:2]).upper()


@dataclass(frozen=True)
class Conversation:
    """One row of a member's inbox: the other member and the last message."""

    group_uuid: uuid.UUID
    other: Person
    last_message: str
    last_message_at: datetime
    last_sender_uuid: uuid.UUID
    unread_count: int
    # Read state, kept so the conversation page can mark it read without reading the
    # row again.
    last_message_sk: str = field(repr=False, default="")
    unread_message_sks: frozenset[str] = field(repr=False, default=frozenset())
    last_read_sk: str | None = field(repr=False, default=None)


@dataclass(frozen=True)
class ChatMessage:
    uuid: uuid.UUID
    group_uuid: uuid.UUID
    sender: Person
    body: str
    created_at: datetime
    sk: str = field(repr=False, default="")


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class ConversationDetail:
    conversation: Conversation
    messages: CursorPage[ChatMessage]
