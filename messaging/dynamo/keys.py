"""The only code that formats and parses the table's keys.

Item types (pk / sk):
    message          MSG#<group_uuid>    <created_at>#<message_uuid>
    conversation     CONV#<group_uuid>   CONV
    inbox row        GRP#<user_uuid>     GRP#<group_uuid>
    idempotency      IDEM#<user_uuid>    <key>
    blocks           BLOCKS#<user_uuid>  BLOCKS

`created_at` is UTC with microseconds and a `Z`, fixed width, so the string order of
message sort keys is their time order in every year; the message uuid suffix keeps two
messages written in the same microsecond apart.
"""

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

MESSAGE_PREFIX = "MSG#"
CONVERSATION_PREFIX = "CONV#"
CONVERSATION_SK = "CONV"
INBOX_PREFIX = "GRP#"
IDEMPOTENCY_PREFIX = "IDEM#"
BLOCKS_PREFIX = "BLOCKS#"
BLOCKS_SK = "BLOCKS"

# Fixed namespace for deriving a conversation's uuid from its members: never change it,
# or existing conversations would get a second group.
GROUP_NAMESPACE = uuid.UUID("5b0c7c8e-3d5f-4c1e-9d8e-6a1f2c3b4d5e")

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_TIMESTAMP_RE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z"
_UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_MESSAGE_SK_RE = re.compile(rf"^({_TIMESTAMP_RE})#({_UUID_RE})$")


class MalformedKey(ValueError):
    """A key string that is not in the shape this module writes."""


def format_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def group_uuid_for_members(member_uuids: Iterable[uuid.UUID]) -> uuid.UUID:
    """One conversation per set of people: every member derives the same uuid, in any
    order. For two members this is v1's pair uuid, so pairs keep their conversation."""
    joined = ":".join(sorted({str(member) for member in member_uuids}))
    return uuid.uuid5(GROUP_NAMESPACE, joined)


def message_pk(group_uuid: uuid.UUID) -> str:
    return f"{MESSAGE_PREFIX}{group_uuid}"


def message_sk(created_at: datetime, message_uuid: uuid.UUID) -> str:
    return f"{format_timestamp(created_at)}#{message_uuid}"


def parse_message_sk(sk: object) -> tuple[datetime, uuid.UUID]:
    match = _MESSAGE_SK_RE.match(sk) if isinstance(sk, str) else None
    if not match:
        raise MalformedKey(f"not a message sort key: {sk!r}")
    try:
        return parse_timestamp(match.group(1)), uuid.UUID(match.group(2))
    except ValueError as exc:
        raise MalformedKey(f"not a message sort key: {sk!r}") from exc


def conversation_pk(group_uuid: uuid.UUID) -> str:
    return f"{CONVERSATION_PREFIX}{group_uuid}"


def inbox_pk(user_uuid: uuid.UUID) -> str:
    return f"{INBOX_PREFIX}{user_uuid}"


def inbox_sk(group_uuid: uuid.UUID) -> str:
    return f"{INBOX_PREFIX}{group_uuid}"


def idempotency_pk(user_uuid: uuid.UUID) -> str:
    return f"{IDEMPOTENCY_PREFIX}{user_uuid}"


def blocks_pk(user_uuid: uuid.UUID) -> str:
    return f"{BLOCKS_PREFIX}{user_uuid}"


def uuid_after_prefix(key: str, prefix: str) -> uuid.UUID:
    if not key.startswith(prefix):
        raise MalformedKey(f"not a {prefix} key: {key!r}")
    try:
        return uuid.UUID(key.removeprefix(prefix))
    except ValueError as exc:
        raise MalformedKey(f"not a {prefix} key: {key!r}") from exc


def is_message_pk(pk: str) -> bool:
    return pk.startswith(MESSAGE_PREFIX)


def item_type(pk: str) -> str:
    """A readable name for the item type behind a partition key."""
    for prefix, name in (
        (MESSAGE_PREFIX, "message"),
        (CONVERSATION_PREFIX, "conversation"),
        (INBOX_PREFIX, "inbox row"),
        (IDEMPOTENCY_PREFIX, "idempotency"),
        (BLOCKS_PREFIX, "blocks"),
    ):
        if pk.startswith(prefix):
            return name
    return "unknown"
