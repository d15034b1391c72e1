"""The DynamoDB gateway: the only package that builds keys, names attributes or calls
boto3.

- `table.MessagingTable`: the request path's access patterns (pages, API, stream core);
- `admin.TableAdmin`: operators' calls (lifecycle, indexes, scans, migration);
- `bulk.BulkLoader`: seeding loads;
- `records`: what all three hand upward; `errors`: every outcome they raise.

It imports nothing from Django, so the stream Lambda uses it as it is.
"""

from messaging.dynamo.errors import StoreUnavailable, TableMissing
from messaging.dynamo.records import (
    Conversation,
    IdempotencyRecord,
    IdempotencyRequest,
    InboxRow,
    Member,
    Membership,
    Message,
    Page,
    Position,
)
from messaging.dynamo.table import MessagingTable

__all__ = [
    "Conversation",
    "IdempotencyRecord",
    "IdempotencyRequest",
    "InboxRow",
    "Member",
    "Membership",
    "Message",
    "MessagingTable",
    "Page",
    "Position",
    "StoreUnavailable",
    "TableMissing",
]
