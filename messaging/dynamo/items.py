"""Every attribute name of the table and every expression over them, by item type.

The one home of the item shapes (as an ElectroDB entity or a PynamoDB model would be):
records in, attribute maps out, and back. `table.py` composes requests from these
pieces; nothing above the gateway ever sees `{"S": ...}`.

v1 shapes are read here too (an inbox row with an unread set and one other member, a
message with one recipient), so the app reads a table that `ddb_migrate` has not
finished yet.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from messaging.dynamo import keys
from messaging.dynamo.records import (
    UNREAD_CAP,
    Conversation,
    IdempotencyRecord,
    InboxRow,
    Kind,
    Member,
    MemberRead,
    Message,
    Position,
)

Item = dict[str, Any]

# --- attribute names -------------------------------------------------------------
PK = "pk"
SK = "sk"
# message
MESSAGE_UUID = "message_uuid"
GROUP_UUID = "message_group_uuid"
SENDER_UUID = "sender_uuid"
MEMBER_UUIDS = "member_uuids"
BODY = "body"
CREATED_AT = "created_at"
SEQ = "seq"
VERSION = "version"
EDITED_AT = "edited_at"
DELETED = "deleted"
# conversation (also GROUP_UUID, CREATED_AT, VERSION)
KIND = "kind"
MEMBERS = "members"
READS = "reads"
# The pair members who blocked the other (a direct conversation only): the send's head
# condition reads it, so a block stops a racing send at no extra cost.
BLOCKED_BY = "blocked_by"
# A string set of the members whose accounts were deleted (absent while there are none).
DEPARTED = "departed_uuids"
# inbox row (also GROUP_UUID, KIND, MEMBERS)
USER_UUID = "user_uuid"
LAST_MESSAGE_SK = "last_message_sk"
# A hidden row keeps its position here instead, out of the inbox index.
HIDDEN_SK = "hidden_message_sk"
LAST_MESSAGE_UUID = "last_message_uuid"
LAST_MESSAGE_BODY = "last_message_body"
LAST_MESSAGE_AT = "last_message_at"
LAST_SENDER_UUID = "last_sender_uuid"
LAST_MESSAGE_DELETED = "last_message_deleted"
LAST_MESSAGE_VERSION = "last_message_version"
LAST_SEQ = "last_seq"
READ_SEQ = "read_seq"
READ_SK = "read_sk"
READ_AT = "read_at"
UNREAD_MEMBER = "unread_member"
MUTED = "muted"
# blocks (a string set of the uuids this user blocked; also USER_UUID)
BLOCKED = "blocked"
# idempotency record (also the message's attributes)
REQUEST_HASH = "request_hash"
EXPIRES_AT = "expires_at"
# v1 only: read by `inbox_row_from_item` and `ddb_migrate`, never written.
V1_RECIPIENT_UUID = "recipient_uuid"
V1_OTHER_UUID = "other_user_uuid"
V1_OTHER_HANDLE = "other_user_handle"
V1_OTHER_DISPLAY_NAME = "other_user_display_name"
V1_UNREAD_SKS = "unread_message_sks"
V1_LAST_READ_SK = "last_read_sk"
V1_LAST_READ_AT = "last_read_at"
V1_ROW_ATTRIBUTES = (
    V1_OTHER_UUID,
    V1_OTHER_HANDLE,
    V1_OTHER_DISPLAY_NAME,
    V1_UNREAD_SKS,
    V1_LAST_READ_SK,
    V1_LAST_READ_AT,
)

# --- conditions --------------------------------------------------------------------
# Insert-only: no write may silently replace another item (DESIGN invariant 2).
INSERT_ONLY = f"attribute_not_exists({PK})"
EXISTS = f"attribute_exists({PK})"
# An idempotency key binds for 24 hours: an expired record is replaced, not honoured,
# even before TTL's sweeper (which lags by up to days) has deleted it.
IDEMPOTENCY_FREE = f"attribute_not_exists({PK}) OR {EXPIRES_AT} < :now"


# --- attribute values ----------------------------------------------------------------
def s(value: object) -> dict[str, Any]:
    return {"S": str(value)}


def n(value: int) -> dict[str, Any]:
    return {"N": str(value)}


def _str(item: Item, name: str) -> str:
    return cast(str, item[name]["S"])


def _opt_str(item: Item, name: str) -> str | None:
    value = item.get(name)
    return cast(str, value["S"]) if value else None


def _int(item: Item, name: str, default: int = 0) -> int:
    value = item.get(name)
    return int(value["N"]) if value else default


def _bool(item: Item, name: str) -> bool:
    value = item.get(name)
    return bool(value and value.get("BOOL"))


def _time(item: Item, name: str) -> datetime | None:
    text = _opt_str(item, name)
    return keys.parse_timestamp(text) if text else None


def member_value(member: Member) -> dict[str, Any]:
    return {
        "M": {
            "uuid": s(member.uuid),
            "handle": s(member.handle),
            "display_name": s(member.display_name),
        }
    }


def members_value(members: Iterable[Member]) -> dict[str, Any]:
    return {"L": [member_value(member) for member in members]}


def _members(item: Item) -> tuple[Member, ...]:
    return tuple(
        Member(
            uuid=uuid.UUID(entry["M"]["uuid"]["S"]),
            handle=entry["M"]["handle"]["S"],
            display_name=entry["M"]["display_name"]["S"],
        )
        for entry in item.get(MEMBERS, {}).get("L", [])
    )


def kind_for(member_count: int) -> Kind:
    return "direct" if member_count == 2 else "group"


# --- message -------------------------------------------------------------------------
def message_item(message: Message) -> Item:
    item: Item = {
        PK: s(keys.message_pk(message.group_uuid)),
        SK: s(message.sk),
        **message_attributes(message),
    }
    return item


def message_attributes(message: Message) -> Item:
    """The message's attributes less its keys (the idempotency record copies them)."""
    item: Item = {
        MESSAGE_UUID: s(message.uuid),
        GROUP_UUID: s(message.group_uuid),
        SENDER_UUID: s(message.sender_uuid),
        MEMBER_UUIDS: {"SS": sorted(str(member) for member in message.member_uuids)},
        BODY: s(message.body),
        CREATED_AT: s(keys.format_timestamp(message.created_at)),
        VERSION: n(message.version),
    }
    if message.seq is not None:
        item[SEQ] = n(message.seq)
    if message.edited_at is not None:
        item[EDITED_AT] = s(keys.format_timestamp(message.edited_at))
    if message.deleted:
        item[DELETED] = {"BOOL": True}
    return item


def message_from_item(item: Item) -> Message:
    sender = uuid.UUID(_str(item, SENDER_UUID))
    if MEMBER_UUIDS in item:
        members = frozenset(uuid.UUID(member) for member in item[MEMBER_UUIDS]["SS"])
    else:
        members = frozenset({sender, uuid.UUID(_str(item, V1_RECIPIENT_UUID))})
    return Message(
        uuid=uuid.UUID(_str(item, MESSAGE_UUID)),
        group_uuid=uuid.UUID(_str(item, GROUP_UUID)),
        sender_uuid=sender,
        member_uuids=members,
        body=item.get(BODY, {}).get("S", ""),
        created_at=keys.parse_timestamp(_str(item, CREATED_AT)),
        seq=_int(item, SEQ) if SEQ in item else None,
        version=_int(item, VERSION),
        edited_at=_time(item, EDITED_AT),
        deleted=_bool(item, DELETED),
    )


def message_key(group_uuid: uuid.UUID, sk: str) -> Item:
    return {PK: s(keys.message_pk(group_uuid)), SK: s(sk)}


# An edit or deletion is a conditional update of the one message item (DESIGN invariant
# 2): by its sender only, never after a deletion, and only from the version the writer
# read, so two changes racing each other cannot both apply to the same version.
MESSAGE_CHANGEABLE = (
    f"{EXISTS} AND {SENDER_UUID} = :sender AND attribute_not_exists({DELETED})"
    f" AND (attribute_not_exists({VERSION}) OR {VERSION} = :seen_version)"
)
# An edit also only within the edit window, checked by the table itself: `created_at` is
# fixed-width UTC, so its string order is time order.
MESSAGE_EDITABLE = f"{MESSAGE_CHANGEABLE} AND {CREATED_AT} >= :earliest"
MESSAGE_EDIT_SET = f"SET {BODY} = :body, {EDITED_AT} = :edited_at, {VERSION} = :version"
# A deletion removes the body from the item (and so from every scan and backup made
# after it); the item stays, so the conversation keeps its order and its cursors.
MESSAGE_DELETE_UPDATE = f"SET {DELETED} = :deleted, {VERSION} = :version REMOVE {BODY}"


def message_change_values(seen: Message, changed: Message) -> Item:
    """`:`-values of an edit or deletion from `seen` to `changed` (less `:sender`, the
    caller, whom the condition checks against the item's sender)."""
    values: Item = {
        ":seen_version": n(seen.version),
        ":version": n(changed.version),
    }
    if changed.deleted:
        values[":deleted"] = {"BOOL": True}
    else:
        values[":body"] = s(changed.body)
        values[":edited_at"] = s(keys.format_timestamp(changed.edited_at or changed.created_at))
    return values


# --- conversation --------------------------------------------------------------------
def conversation_key(group_uuid: uuid.UUID) -> Item:
    return {PK: s(keys.conversation_pk(group_uuid)), SK: s(keys.CONVERSATION_SK)}


def read_value(read: MemberRead) -> dict[str, Any]:
    value: dict[str, Any] = {}
    if read.position is not None:
        value["sk"] = s(read.position.sk)
        value["seq"] = n(read.position.seq or 0)
    if read.at is not None:
        value["at"] = s(keys.format_timestamp(read.at))
    return {"M": value}


def _read(entry: dict[str, Any]) -> MemberRead:
    fields = entry.get("M", {})
    position = None
    if "sk" in fields:
        position = Position(sk=fields["sk"]["S"], seq=int(fields.get("seq", {"N": "0"})["N"]))
    at = keys.parse_timestamp(fields["at"]["S"]) if "at" in fields else None
    return MemberRead(position=position, at=at)


def conversation_item(conversation: Conversation, *, created_at: datetime) -> Item:
    item: Item = {
        **conversation_key(conversation.group_uuid),
        GROUP_UUID: s(conversation.group_uuid),
        KIND: s(conversation.kind),
        MEMBERS: members_value(conversation.members),
        CREATED_AT: s(keys.format_timestamp(created_at)),
        LAST_SEQ: n(conversation.last_seq),
        VERSION: n(conversation.version),
        READS: {
            "M": {
                str(member.uuid): read_value(
                    conversation.reads.get(member.uuid, MemberRead(position=None, at=None))
                )
                for member in conversation.members
            }
        },
    }
    if conversation.last_message_sk is not None:
        item[LAST_MESSAGE_SK] = s(conversation.last_message_sk)
    if conversation.blocked_by:
        item[BLOCKED_BY] = uuid_set_value(conversation.blocked_by)
    return item


def conversation_from_item(item: Item) -> Conversation:
    return Conversation(
        group_uuid=uuid.UUID(_str(item, GROUP_UUID)),
        kind=cast(Kind, _str(item, KIND)),
        members=_members(item),
        last_seq=_int(item, LAST_SEQ),
        last_message_sk=_opt_str(item, LAST_MESSAGE_SK),
        version=_int(item, VERSION),
        reads={
            uuid.UUID(member): _read(entry)
            for member, entry in item.get(READS, {}).get("M", {}).items()
        },
        blocked_by=_uuid_set(item, BLOCKED_BY),
        departed=_uuid_set(item, DEPARTED),
    )


def _uuid_set(item: Item, name: str) -> frozenset[uuid.UUID]:
    return frozenset(uuid.UUID(value) for value in item.get(name, {}).get("SS", []))


def uuid_set_value(uuids: Iterable[uuid.UUID]) -> dict[str, Any]:
    return {"SS": sorted(str(value) for value in uuids)}


# --- blocks ----------------------------------------------------------------------------
def blocks_key(user_uuid: uuid.UUID) -> Item:
    return {PK: s(keys.blocks_pk(user_uuid)), SK: s(keys.BLOCKS_SK)}


def blocked_from_item(item: Item | None) -> frozenset[uuid.UUID]:
    return _uuid_set(item, BLOCKED) if item else frozenset()


def not_blocking(others: Iterable[uuid.UUID]) -> tuple[str, Item]:
    """A condition on a blocks item: its owner blocked none of `others` (a missing item
    passes), and its `:`-values."""
    values = {f":other{index}": s(other) for index, other in enumerate(sorted(others))}
    blocked = " OR ".join(f"contains({BLOCKED}, {name})" for name in values)
    return f"attribute_not_exists({BLOCKED}) OR NOT ({blocked})", values


# --- a departed member (a deleted account) ---------------------------------------------
# What their copied name becomes on the conversation item and the others' rows: the words
# pages show for them (messaging.presenters.deleted_person).
DEPARTED_HANDLE = "deleted"
DEPARTED_NAME = "Deleted user"


def member_wipe(user_uuid: uuid.UUID, *, position: int) -> dict[str, Any]:
    """SET and condition parts that turn `members[position]`, the person's entry, into
    "Deleted user"."""
    entry = f"{MEMBERS}[{position}]"
    return {
        "UpdateExpression": f"SET {entry}.#handle = :handle, {entry}.#name = :name",
        "ConditionExpression": f"{EXISTS} AND {entry}.#uuid = :departed",
        "ExpressionAttributeNames": {
            "#handle": "handle",
            "#name": "display_name",
            "#uuid": "uuid",
        },
        "ExpressionAttributeValues": {
            ":handle": s(DEPARTED_HANDLE),
            ":name": s(DEPARTED_NAME),
            ":departed": s(user_uuid),
        },
    }


def departure(user_uuid: uuid.UUID, conversation: Conversation) -> dict[str, Any]:
    """The conversation item's update: the person marked departed, their name wiped."""
    position = [member.uuid for member in conversation.members].index(user_uuid)
    wipe = member_wipe(user_uuid, position=position)
    return {
        "Key": conversation_key(conversation.group_uuid),
        "UpdateExpression": f"{wipe['UpdateExpression']} ADD {DEPARTED} :member",
        "ConditionExpression": wipe["ConditionExpression"],
        "ExpressionAttributeNames": wipe["ExpressionAttributeNames"],
        "ExpressionAttributeValues": {
            **wipe["ExpressionAttributeValues"],
            ":member": {"SS": [str(user_uuid)]},
        },
    }


# --- inbox row -----------------------------------------------------------------------
def inbox_key(user_uuid: uuid.UUID, group_uuid: uuid.UUID) -> Item:
    return {PK: s(keys.inbox_pk(user_uuid)), SK: s(keys.inbox_sk(group_uuid))}


def preview_values(message: Message) -> Item:
    """`:`-values of the last-message fields, shared by every row update."""
    return {
        ":sk": s(message.sk),
        ":message_uuid": s(message.uuid),
        ":body": s(message.body),
        ":at": s(keys.format_timestamp(message.created_at)),
        ":sender": s(message.sender_uuid),
        ":deleted": {"BOOL": message.deleted},
        ":message_version": n(message.version),
    }


# A row's preview follows an edit or deletion of its last message, and only forward in
# that message's versions: a replayed or reordered change never undoes a later one.
PREVIEW_FOLLOWS = (
    f"{LAST_MESSAGE_UUID} = :message_uuid AND (attribute_not_exists({LAST_MESSAGE_VERSION})"
    f" OR {LAST_MESSAGE_VERSION} < :message_version)"
)


def preview_change(message: Message) -> tuple[str, Item]:
    """The update expression and values that carry `message`'s edit or deletion onto a
    row whose preview shows it (the deleted body leaves the row too)."""
    values: Item = {
        ":message_uuid": s(message.uuid),
        ":message_version": n(message.version),
        ":deleted": {"BOOL": message.deleted},
    }
    update = f"SET {LAST_MESSAGE_DELETED} = :deleted, {LAST_MESSAGE_VERSION} = :message_version"
    if message.deleted:
        update += f" REMOVE {LAST_MESSAGE_BODY}"
    else:
        update += f", {LAST_MESSAGE_BODY} = :body"
        values[":body"] = s(message.body)
    return update, values


PREVIEW_SET = (
    f"{LAST_MESSAGE_SK} = :sk, {LAST_MESSAGE_UUID} = :message_uuid,"
    f" {LAST_MESSAGE_BODY} = :body, {LAST_MESSAGE_AT} = :at, {LAST_SENDER_UUID} = :sender,"
    f" {LAST_MESSAGE_DELETED} = :deleted, {LAST_MESSAGE_VERSION} = :message_version"
)


def inbox_item(
    *,
    owner: Member,
    members: tuple[Member, ...],
    message: Message,
    read: bool,
    read_at: datetime | None = None,
) -> Item:
    """A new row for `owner` in the conversation of `members` (everyone, owner included),
    whose first message is `message`: read (the sender's) or unread (everyone else's)."""
    seq = message.seq or 1
    item: Item = {
        **inbox_key(owner.uuid, message.group_uuid),
        GROUP_UUID: s(message.group_uuid),
        USER_UUID: s(owner.uuid),
        KIND: s(kind_for(len(members))),
        MEMBERS: members_value(member for member in members if member.uuid != owner.uuid),
        LAST_MESSAGE_SK: s(message.sk),
        LAST_MESSAGE_UUID: s(message.uuid),
        LAST_MESSAGE_BODY: s(message.body),
        LAST_MESSAGE_AT: s(keys.format_timestamp(message.created_at)),
        LAST_SENDER_UUID: s(message.sender_uuid),
        LAST_MESSAGE_VERSION: n(message.version),
        LAST_SEQ: n(seq),
        READ_SEQ: n(seq if read else seq - 1),
    }
    if read:
        item[READ_SK] = s(message.sk)
        item[READ_AT] = s(keys.format_timestamp(read_at or message.created_at))
    else:
        item[UNREAD_MEMBER] = s(owner.uuid)
    return item


def inbox_row_from_item(item: Item) -> InboxRow:
    if MEMBERS not in item:
        return _v1_inbox_row(item)
    last_seq, read_seq = _int(item, LAST_SEQ), _int(item, READ_SEQ)
    read_sk = _opt_str(item, READ_SK)
    return InboxRow(
        # From the key, which every index projects (user_uuid itself is not projected).
        user_uuid=keys.uuid_after_prefix(_str(item, PK), keys.INBOX_PREFIX),
        group_uuid=uuid.UUID(_str(item, GROUP_UUID)),
        kind=cast(Kind, _str(item, KIND)),
        members=_members(item),
        last_message_uuid=uuid.UUID(_str(item, LAST_MESSAGE_UUID)),
        last_message_body=item.get(LAST_MESSAGE_BODY, {}).get("S", ""),
        last_message_at=keys.parse_timestamp(_str(item, LAST_MESSAGE_AT)),
        last_sender_uuid=uuid.UUID(_str(item, LAST_SENDER_UUID)),
        last_message_deleted=_bool(item, LAST_MESSAGE_DELETED),
        unread_count=max(0, last_seq - read_seq),
        muted=_bool(item, MUTED),
        position=Position(
            sk=_opt_str(item, LAST_MESSAGE_SK) or _str(item, HIDDEN_SK), seq=last_seq
        ),
        read=MemberRead(
            position=Position(sk=read_sk, seq=read_seq) if read_sk else None,
            at=_time(item, READ_AT),
        ),
    )


def _v1_inbox_row(item: Item) -> InboxRow:
    unread = item.get(V1_UNREAD_SKS, {}).get("SS", [])
    read_sk = _opt_str(item, V1_LAST_READ_SK)
    return InboxRow(
        user_uuid=uuid.UUID(_str(item, USER_UUID)),
        group_uuid=uuid.UUID(_str(item, GROUP_UUID)),
        kind="direct",
        members=(
            Member(
                uuid=uuid.UUID(_str(item, V1_OTHER_UUID)),
                handle=_str(item, V1_OTHER_HANDLE),
                display_name=_str(item, V1_OTHER_DISPLAY_NAME),
            ),
        ),
        last_message_uuid=keys.parse_message_sk(_str(item, LAST_MESSAGE_SK))[1],
        last_message_body=_str(item, LAST_MESSAGE_BODY),
        last_message_at=keys.parse_timestamp(_str(item, LAST_MESSAGE_AT)),
        last_sender_uuid=uuid.UUID(_str(item, LAST_SENDER_UUID)),
        last_message_deleted=False,
        unread_count=len(unread),
        muted=False,
        position=Position(sk=_str(item, LAST_MESSAGE_SK), seq=None),
        read=MemberRead(
            position=Position(sk=read_sk, seq=None) if read_sk else None,
            at=_time(item, V1_LAST_READ_AT),
        ),
        v1=True,
    )


def v1_unread_sks(item: Item) -> list[str]:
    return sorted(item.get(V1_UNREAD_SKS, {}).get("SS", []))


def unread_display(count: int) -> str:
    return f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count)


# --- idempotency record --------------------------------------------------------------
def idempotency_key(user_uuid: uuid.UUID, key: str) -> Item:
    return {PK: s(keys.idempotency_pk(user_uuid)), SK: s(key)}


def idempotency_item(record: IdempotencyRecord) -> Item:
    return {
        **idempotency_key(record.user_uuid, record.key),
        REQUEST_HASH: s(record.request_hash),
        **message_attributes(record.message),
        EXPIRES_AT: n(record.expires_at),
    }


# The record keeps a copy of the message for replays: a deletion takes the body out of
# it too.
IDEMPOTENCY_SCRUB = f"SET {DELETED} = :deleted REMOVE {BODY}"


def idempotency_from_item(item: Item) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_uuid=keys.uuid_after_prefix(_str(item, PK), keys.IDEMPOTENCY_PREFIX),
        key=_str(item, SK),
        request_hash=_str(item, REQUEST_HASH),
        message=message_from_item(item),
        expires_at=_int(item, EXPIRES_AT),
    )


# --- stream records ------------------------------------------------------------------
class NotAMessageChange(Exception):
    """A stream record the fan-out has no business with (REMOVE, another item type)."""


def message_from_stream_record(record: dict[str, Any]) -> Message:
    """The message a stream record carries (a new one, or an edit or delete of one);
    NotAMessageChange for anything else. A message item that cannot be read raises, so
    the record is reported failed rather than silently dropped."""
    if record.get("eventName") not in {"INSERT", "MODIFY"}:
        raise NotAMessageChange()
    image = record["dynamodb"].get("NewImage") or {}
    if not keys.is_message_pk(image.get(PK, {}).get("S", "")):
        raise NotAMessageChange()
    message = message_from_item(image)
    # Keys that disagree with the item's own fields would move an inbox to a message
    # that cannot be read back.
    if image[PK]["S"] != keys.message_pk(message.group_uuid):
        raise ValueError("message item's pk does not match its group")
    if image.get(SK, {}).get("S") != message.sk:
        raise ValueError("message item's sk does not match its time and uuid")
    return message


def stream_record_id(record: object) -> str:
    """The record's sequence number (what Lambda expects back), else its event id."""
    if isinstance(record, dict):
        change = record.get("dynamodb")
        if isinstance(change, dict) and change.get("SequenceNumber"):
            return str(change["SequenceNumber"])
        if record.get("eventID"):
            return str(record["eventID"])
    return repr(record)[:64]


# --- operator views -------------------------------------------------------------------
def printable(text: str) -> str:
    """Text safe to print to a terminal: control characters (an ESC that would start a
    terminal escape sequence, a backspace) are shown escaped, never sent raw."""
    return "".join(
        character if character.isprintable() else repr(character)[1:-1] for character in text
    )


def preview(text: str, width: int = 48) -> str:
    text = " ".join(printable(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def item_summary(item: Item) -> dict[str, str]:
    """One readable row for any item in the table (ddb_scan)."""
    pk, sk = printable(item[PK]["S"]), printable(item[SK]["S"])
    kind = keys.item_type(pk)
    if kind == "message":
        message = message_from_item(item)
        text = "(deleted)" if message.deleted else preview(message.body)
        detail = f"#{message.seq} from {str(message.sender_uuid)[:8]}: {text}"
    elif kind == "conversation":
        conversation = conversation_from_item(item)
        handles = ", ".join(f"@{printable(member.handle)}" for member in conversation.members)
        detail = f"{conversation.kind} of {handles}, last #{conversation.last_seq}"
    elif kind == "inbox row":
        row = inbox_row_from_item(item)
        handles = ", ".join(f"@{printable(member.handle)}" for member in row.members)
        shape = " (v1)" if row.v1 else ""
        detail = (
            f"with {handles}, unread {unread_display(row.unread_count)}{shape},"
            f" last: {preview(row.last_message_body)}"
        )
    elif kind == "idempotency":
        detail = f"message {printable(item[MESSAGE_UUID]['S'])}"
    elif kind == "blocks":
        detail = "blocked " + ", ".join(str(user)[:8] for user in sorted(blocked_from_item(item)))
    else:
        detail = ", ".join(sorted(printable(name) for name in item))
    return {"type": kind, "pk": pk, "sk": sk, "detail": detail}
