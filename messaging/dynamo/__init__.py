"""The DynamoDB gateway: the only package that builds keys or calls boto3.

It imports nothing from Django, so the stream Lambda can use it as it is.
"""

from messaging.dynamo.errors import StoreUnavailable, TableMissing
from messaging.dynamo.records import IdempotencyRecord, InboxRow, Member, Message, Page
from messaging.dynamo.table import MessagingTable

__all__ = [
    "IdempotencyRecord",
    "InboxRow",
    "Member",
    "Message",
    "MessagingTable",
    "Page",
    "StoreUnavailable",
    "TableMissing",
]
