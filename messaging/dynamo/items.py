"""DynamoDB attribute maps <-> the records in `records.py`, for every item type.

The only place that knows the table's attribute names; `table.py` builds requests from
these maps and nothing above the gateway ever sees `{"S": ...}`.
"""

import uuid

from messaging.dynamo import keys, schema
from messaging.dynamo.records import IdempotencyRecord, InboxRow, Member, Message


def attr_s(value) -> dict:
    return {"S": str(value)}


def message_item(message: Message) -> dict:
    return {
        "pk": attr_s(keys.message_pk(message.group_uuid)),
        "sk": attr_s(message.sk),
        "message_uuid": attr_s(message.uuid),
        "message_group_uuid": attr_s(message.group_uuid),
        "sender_uuid": attr_s(message.sender_uuid),
        # Carried on the message so the stream fan-out knows both members without a read:
        # a direct-message group never changes its two members.
        "recipient_uuid": attr_s(message.recipient_uuid),
        "body": attr_s(message.body),
        "created_at": attr_s(keys.format_timestamp(message.created_at)),
    }


def message_from_item(item: dict) -> Message:
    return Message(
        uuid=uuid.UUID(item["message_uuid"]["S"]),
        group_uuid=uuid.UUID(item["message_group_uuid"]["S"]),
        sender_uuid=uuid.UUID(item["sender_uuid"]["S"]),
        recipient_uuid=uuid.UUID(item["recipient_uuid"]["S"]),
        body=item["body"]["S"],
        created_at=keys.parse_timestamp(item["created_at"]["S"]),
    )


def inbox_item(*, owner: Member, other: Member, message: Message, unread: bool) -> dict:
    item = {
        "pk": attr_s(keys.inbox_pk(owner.uuid)),
        "sk": attr_s(keys.inbox_sk(message.group_uuid)),
        "message_group_uuid": attr_s(message.group_uuid),
        "user_uuid": attr_s(owner.uuid),
        "other_user_uuid": attr_s(other.uuid),
        "other_user_handle": attr_s(other.handle),
        "other_user_display_name": attr_s(other.display_name),
        "last_message_body": attr_s(message.body),
        "last_message_sk": attr_s(message.sk),
        "last_message_at": attr_s(keys.format_timestamp(message.created_at)),
        "last_sender_uuid": attr_s(message.sender_uuid),
    }
    if unread:
        item["unread_message_sks"] = {"SS": [message.sk]}
    return item


def inbox_row_from_item(item: dict) -> InboxRow:
    return InboxRow(
        user_uuid=uuid.UUID(item["user_uuid"]["S"]),
        group_uuid=uuid.UUID(item["message_group_uuid"]["S"]),
        other=Member(
            uuid=uuid.UUID(item["other_user_uuid"]["S"]),
            handle=item["other_user_handle"]["S"],
            display_name=item["other_user_display_name"]["S"],
        ),
        last_message_body=item["last_message_body"]["S"],
        last_message_sk=item["last_message_sk"]["S"],
        last_message_at=keys.parse_timestamp(item["last_message_at"]["S"]),
        last_sender_uuid=uuid.UUID(item["last_sender_uuid"]["S"]),
        unread_message_sks=frozenset(item.get("unread_message_sks", {}).get("SS", [])),
        last_read_sk=item.get("last_read_sk", {}).get("S"),
    )


def idempotency_item(record: IdempotencyRecord) -> dict:
    return {
        "pk": attr_s(keys.idempotency_pk(record.user_uuid)),
        "sk": attr_s(record.key),
        "request_hash": attr_s(record.request_hash),
        **{
            name: value
            for name, value in message_item(record.message).items()
            if name not in {"pk", "sk"}
        },
        schema.TTL_ATTRIBUTE: {"N": str(record.expires_at)},
    }


def idempotency_from_item(item: dict) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_uuid=uuid.UUID(item["pk"]["S"].removeprefix(keys.IDEMPOTENCY_PREFIX)),
        key=item["sk"]["S"],
        request_hash=item["request_hash"]["S"],
        message=message_from_item(item),
        expires_at=int(item[schema.TTL_ATTRIBUTE]["N"]),
    )


def preview(text: str, width: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def item_summary(item: dict) -> dict[str, str]:
    """One readable row for any item in the table (ddb_scan)."""
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    kind = keys.item_type(pk)
    if kind == "message":
        detail = f"from {item['sender_uuid']['S'][:8]}: {preview(item['body']['S'])}"
    elif kind == "inbox row":
        row = inbox_row_from_item(item)
        detail = (
            f"with @{row.other.handle}, unread {row.unread_count},"
            f" last: {preview(row.last_message_body)}"
        )
    elif kind == "idempotency":
        detail = f"message {item['message_uuid']['S']}"
    else:
        detail = ", ".join(sorted(item))
    return {"type": kind, "pk": pk, "sk": sk, "detail": detail}
