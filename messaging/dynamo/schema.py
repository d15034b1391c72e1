"""The one definition of the messaging table.

`ddb_schema_load`, `ddb_migrate`, the test fixtures and `deploy/template.yaml` are all
built from (or checked against) `table_definition`, so they cannot drift apart.

Keys are generic strings (`pk`, `sk`) because one table holds several item types; see
`keys.py` for what each item's keys look like and `items.py` for every attribute.
"""

from typing import Any

from messaging.dynamo import items

# Sparse index: only inbox rows that are shown carry `last_message_sk` (a hidden row
# drops it), so it holds one entry per visible (member, conversation) and orders a
# member's inbox newest first without a filter. It projects only what the inbox page
# renders, so an index entry stays small and its write cost stays constant.
INBOX_INDEX = "inbox-by-activity"
INBOX_PROJECTION = (
    items.GROUP_UUID,
    items.KIND,
    items.MEMBERS,
    items.LAST_MESSAGE_UUID,
    items.LAST_MESSAGE_BODY,
    items.LAST_MESSAGE_AT,
    items.LAST_SENDER_UUID,
    items.LAST_MESSAGE_DELETED,
    items.LAST_SEQ,
    items.READ_SEQ,
    items.MUTED,
)

# Sparse index of rows that may hold unread messages: a row carries `unread_member` from
# the moment a message arrives for it until its member reads up to the end. The
# navigation badge counts this index (at most 100 entries), so it costs the same at 10
# conversations and at 5,000.
UNREAD_INDEX = "unread-by-member"
UNREAD_PROJECTION = (items.LAST_SEQ, items.READ_SEQ, items.MUTED)

# A message by its uuid alone (the API's /messages/<group>/<message> URLs; the sort key
# also holds the time). KEYS_ONLY: an entry is the key and nothing else, so it adds one
# small index write per message and never changes on an edit. Idempotency records carry
# the uuid too, which lets a deletion find and scrub the copy of the body they keep.
MESSAGE_INDEX = "message-by-uuid"

# v1's inbox index (projection ALL, so it carried every row's unread set). Only
# `ddb_migrate` still names it: it reads v1 rows through it and drops it when done.
V1_INBOX_INDEX = "inbox-by-last-message"

# Epoch seconds after which DynamoDB's TTL sweeper may delete an idempotency record.
TTL_ATTRIBUTE = items.EXPIRES_AT


def global_secondary_indexes() -> list[dict[str, Any]]:
    return [
        {
            "IndexName": INBOX_INDEX,
            "KeySchema": [
                {"AttributeName": items.PK, "KeyType": "HASH"},
                {"AttributeName": items.LAST_MESSAGE_SK, "KeyType": "RANGE"},
            ],
            "Projection": {
                "ProjectionType": "INCLUDE",
                "NonKeyAttributes": list(INBOX_PROJECTION),
            },
        },
        {
            "IndexName": UNREAD_INDEX,
            "KeySchema": [{"AttributeName": items.UNREAD_MEMBER, "KeyType": "HASH"}],
            "Projection": {
                "ProjectionType": "INCLUDE",
                "NonKeyAttributes": list(UNREAD_PROJECTION),
            },
        },
        {
            "IndexName": MESSAGE_INDEX,
            "KeySchema": [{"AttributeName": items.MESSAGE_UUID, "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
    ]


def attribute_definitions() -> list[dict[str, Any]]:
    return [
        {"AttributeName": name, "AttributeType": "S"}
        for name in (
            items.PK,
            items.SK,
            items.LAST_MESSAGE_SK,
            items.UNREAD_MEMBER,
            items.MESSAGE_UUID,
        )
    ]


def table_definition(table_name: str) -> dict[str, Any]:
    """Keyword arguments for `CreateTable`."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": attribute_definitions(),
        "KeySchema": [
            {"AttributeName": items.PK, "KeyType": "HASH"},
            {"AttributeName": items.SK, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": global_secondary_indexes(),
        # NEW_IMAGE is enough for edits and deletes too: every message item carries its
        # own version, so the consumer never needs the before-image to order changes,
        # and a deletion's record then holds no body (an old image would keep the
        # deleted text in the stream for its 24 hours, and double every record's size).
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }


def v1_table_definition(table_name: str) -> dict[str, Any]:
    """The v1 table, for tests and `ddb_migrate`'s own checks: one inbox index, ALL."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (items.PK, items.SK, items.LAST_MESSAGE_SK)
        ],
        "KeySchema": [
            {"AttributeName": items.PK, "KeyType": "HASH"},
            {"AttributeName": items.SK, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": V1_INBOX_INDEX,
                "KeySchema": [
                    {"AttributeName": items.PK, "KeyType": "HASH"},
                    {"AttributeName": items.LAST_MESSAGE_SK, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }


def ttl_specification() -> dict[str, Any]:
    """Keyword arguments (less `TableName`) for `UpdateTimeToLive`."""
    return {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": TTL_ATTRIBUTE}}
