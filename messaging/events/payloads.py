"""Event payloads (DESIGN §6), built from gateway records. Imports nothing from Django.

An event is a name and a JSON object: the SSE `event:` and `data:` lines, and on Redis
one JSON document `{"event": name, "data": {...}}`.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from messaging.dynamo.keys import format_timestamp
from messaging.dynamo.records import Message

NAMES = frozenset({"message", "message_updated", "inbox", "read", "typing"})
# For the user's open streams, never for their clients: one of the user's sessions or
# tokens was deleted or changed, so each stream asks Postgres whether its own still
# signs anyone in (instead of asking at every heartbeat).
CREDENTIALS_CHANGED = "credentials_changed"


@dataclass(frozen=True)
class Event:
    name: str
    data: dict

    def encode(self) -> str:
        return json.dumps({"event": self.name, "data": self.data}, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: bytes | str) -> "Event":
        """The event a channel carried; ValueError for anything that is not one."""
        document = json.loads(raw)
        if not isinstance(document, dict):
            raise ValueError("an event is a JSON object")
        name, data = document.get("event"), document.get("data")
        if (name not in NAMES and name != CREDENTIALS_CHANGED) or not isinstance(data, dict):
            raise ValueError("not a known event")
        return cls(name=name, data=data)

    def sse(self) -> str:
        # json.dumps never emits a raw newline, so the data stays on one `data:` line.
        return f"event: {self.name}\ndata: {json.dumps(self.data, separators=(',', ':'))}\n\n"


def _time(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment is not None else None


def message_event(
    message: Message,
    *,
    sender: dict | None = None,
    edited_at: datetime | None = None,
    deleted: bool = False,
    name: str = "message",
) -> Event:
    """The API's message shape plus `sender_uuid`. `sender` (`{"handle",
    "display_name"}`) names the sender when the publisher knows them; the stream
    consumer does not (names live in Postgres), and pages name members themselves."""
    sender = sender or {}
    return Event(
        name=name,
        data={
            "uuid": str(message.uuid),
            "message_group_uuid": str(message.group_uuid),
            "sender_uuid": str(message.sender_uuid),
            "handle": sender.get("handle"),
            "display_name": sender.get("display_name"),
            "message": "" if deleted or message.deleted else message.body,
            "created_at": _time(message.created_at),
            "edited_at": _time(edited_at or message.edited_at),
            "deleted": deleted or message.deleted,
        },
    )


def message_updated_event(
    message: Message, *, edited_at: datetime | None = None, deleted: bool = False
) -> Event:
    """An edit or a deletion: the same shape as `message`, under its own name."""
    return message_event(message, edited_at=edited_at, deleted=deleted, name="message_updated")


def inbox_event(*, group_uuid: uuid.UUID, last_message_at: datetime | None = None) -> Event:
    """Something about one of the user's conversations changed: re-read the inbox."""
    return Event(
        name="inbox",
        data={
            "message_group_uuid": str(group_uuid),
            "last_message_at": _time(last_message_at),
        },
    )


def read_event(
    *, group_uuid: uuid.UUID, member_uuid: uuid.UUID, last_read_at: datetime | None
) -> Event:
    return Event(
        name="read",
        data={
            "message_group_uuid": str(group_uuid),
            "member_uuid": str(member_uuid),
            "last_read_at": _time(last_read_at),
        },
    )


def credentials_changed_event() -> Event:
    return Event(name=CREDENTIALS_CHANGED, data={})


def typing_event(*, group_uuid: uuid.UUID, handle: str, display_name: str) -> Event:
    return Event(
        name="typing",
        data={
            "message_group_uuid": str(group_uuid),
            "handle": handle,
            "display_name": display_name,
        },
    )
