"""A person's own items, all of them: what an export reads and an account deletion
removes. Request-path code (the export API, the profile's delete form), so every call
here is one the web role grants.

A person owns two partitions: their inbox rows (`GRP#<user>`, hidden ones included, which
the sparse inbox index leaves out) and their idempotency records (`IDEM#<user>`). Their
messages live in each conversation's partition (`MSG#<group>`) and stay there: they are
part of the other members' record too.
"""

import uuid
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from messaging.dynamo import items, keys
from messaging.dynamo.errors import StoreUnavailable
from messaging.dynamo.items import s
from messaging.dynamo.records import InboxRow, Message
from messaging.dynamo.table import TableAccess, gateway_errors
from messaging.dynamo.transact import Transaction

# Rows per Query page when reading a whole partition: a page is ~100 small items, so
# memory stays the same whatever the history's length.
PAGE_SIZE = 100
# Deletes per TransactWriteItems (DynamoDB allows 100): small enough that one cancelled
# by a concurrent write is cheap to run again.
DELETE_BATCH = 25


class PersonData(TableAccess):
    """Every item of one person's, page by page."""

    def inbox_rows(self, *, user_uuid: uuid.UUID) -> Iterator[InboxRow]:
        """Access pattern: every conversation a member is in, hidden ones too.

        Query on the table (pk = GRP#<user>), strongly consistent, page by page: the
        sparse inbox index would miss hidden rows. 1 Query per 100 conversations.
        """
        start_key: dict[str, Any] | None = None
        while True:
            page, start_key = self._page(
                pk=keys.inbox_pk(user_uuid), start_key=start_key, page_size=PAGE_SIZE
            )
            yield from (items.inbox_row_from_item(item) for item in page)
            if start_key is None:
                return

    def message_pages(
        self, *, group_uuid: uuid.UUID, page_size: int = PAGE_SIZE
    ) -> Iterator[list[Message]]:
        """Access pattern: a whole conversation, oldest first, one page at a time.

        Query on the table (pk = MSG#<group>), ascending; the caller holds one page at a
        time. Whoever calls this has already checked membership. 1 Query per page.
        """
        start_key: dict[str, Any] | None = None
        while True:
            page, start_key = self._page(
                pk=keys.message_pk(group_uuid), start_key=start_key, page_size=page_size
            )
            if page:
                yield [items.message_from_item(item) for item in page]
            if start_key is None:
                return

    def items_delete(self, *, user_uuid: uuid.UUID) -> int:
        """Access pattern: erase a person's inbox rows and idempotency records.

        First every conversation of theirs records them as departed (1 UpdateItem each,
        found through their rows), so a send there knows who is left to receive it
        from the read it already makes. Then for each partition: Query the first keys,
        delete them in one TransactWriteItems, again until none is left. Marking twice
        and deleting what is gone are no-ops, and the rows go only after every mark, so
        a run that failed midway is finished by running it again. Returns the items
        deleted.
        """
        for row in self.inbox_rows(user_uuid=user_uuid):
            self._depart(user_uuid=user_uuid, group_uuid=row.group_uuid)
        deleted = 0
        for pk in (keys.inbox_pk(user_uuid), keys.idempotency_pk(user_uuid)):
            while True:
                found, _ = self._page(
                    pk=pk, start_key=None, page_size=DELETE_BATCH, keys_only=True
                )
                if not found:
                    break
                self._delete_all(found)
                deleted += len(found)
        return deleted

    @gateway_errors
    def _depart(self, *, user_uuid: uuid.UUID, group_uuid: uuid.UUID) -> None:
        try:
            self.client.update_item(
                TableName=self.name,
                Key=items.conversation_key(group_uuid),
                UpdateExpression=f"ADD {items.DEPARTED} :member",
                # A v1 pair not yet migrated has no conversation item to mark.
                ConditionExpression=items.EXISTS,
                ExpressionAttributeValues={":member": {"SS": [str(user_uuid)]}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    @gateway_errors
    def _page(
        self,
        *,
        pk: str,
        start_key: dict[str, Any] | None,
        page_size: int,
        keys_only: bool = False,
    ) -> tuple[list[items.Item], dict[str, Any] | None]:
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": s(pk)},
            "ConsistentRead": True,
            "Limit": page_size,
        }
        if keys_only:
            request["ProjectionExpression"] = f"{items.PK}, {items.SK}"
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        response = self.client.query(**request)
        return list(response["Items"]), response.get("LastEvaluatedKey")

    @gateway_errors
    def _delete_all(self, found: list[items.Item]) -> None:
        transaction = Transaction(self.name)
        for index, item in enumerate(found):
            transaction.delete(
                f"item:{index}", Key={items.PK: item[items.PK], items.SK: item[items.SK]}
            )
        cancelled = transaction.run(self.client)
        if cancelled is not None:
            raise StoreUnavailable(f"account clean-up was cancelled: {cancelled.describe()}")
