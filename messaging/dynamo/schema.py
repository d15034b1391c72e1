"""The one definition of the messaging table.

`ddb_schema_load`, the test fixtures and `deploy/template.yaml` are all built from (or
checked against) `table_definition`, so the three cannot drift apart.

Keys are generic strings (`pk`, `sk`) because one table holds several item types; see
`keys.py` for what each item's keys look like.
"""

# Sparse index: only inbox rows carry `last_message_sk`, so it holds one entry per
# (member, conversation) and orders a member's inbox newest first without a filter.
INBOX_INDEX = "inbox-by-last-message"

# Epoch seconds after which DynamoDB's TTL sweeper may delete an idempotency record.
TTL_ATTRIBUTE = "expires_at"


def table_definition(table_name: str) -> dict:
    """Keyword arguments for `CreateTable`."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "last_message_sk", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": INBOX_INDEX,
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "last_message_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }


def ttl_specification() -> dict:
    """Keyword arguments (less `TableName`) for `UpdateTimeToLive`."""
    return {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": TTL_ATTRIBUTE}}
