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
from messaging.dynamo.records import Conversation, InboxRow, Message
from messaging.dynamo.table import TableAccess, gateway_errors
from messaging.dynamo.transact import Transaction

# Rows per Query page when reading a whole partition: a page is ~100 small items, so
# memory stays the same whatever the history's length.
PAGE_SIZE = 100
# Rows or records per TransactWriteItems (a row is 2 parts, its delete and its
# conversation's mark; DynamoDB allows 100): small enough that a batch cancelled by a
# concurrent write is cheap to run again.
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

        Rows go 25 at a time: Query the first ones and their conversation items (1
        BatchGetItem), wipe the person's name from the other members' rows, then one
        TransactWriteItems deletes the rows and, in the same write, records the person
        as departed (name wiped) on each conversation item, so a send there learns who
        is left to receive it from the read it already makes. Then the idempotency
        records, 25 keys at a time. Every batch leaves less to do, and wiping or marking
        twice or deleting what is gone changes nothing, so a run cut short (a failure, a
        request's deadline) is finished by running it again. Returns the items deleted.
        """
        deleted = 0
        while rows := self._page(
            pk=keys.inbox_pk(user_uuid), start_key=None, page_size=DELETE_BATCH
        )[0]:
            self._rows_leave(user_uuid=user_uuid, rows=rows)
            deleted += len(rows)
        while records := self._page(
            pk=keys.idempotency_pk(user_uuid),
            start_key=None,
            page_size=DELETE_BATCH,
            keys_only=True,
        )[0]:
            self._delete_all(records)
            deleted += len(records)
        return deleted

    @gateway_errors
    def _rows_leave(self, *, user_uuid: uuid.UUID, rows: list[items.Item]) -> None:
        """Delete these rows of the person's, each with its conversation's departed mark
        and, before that, the person's name wiped from the others' copies."""
        parsed = [items.inbox_row_from_item(item) for item in rows]
        # A v1 pair not yet migrated has no conversation item to mark.
        conversations = self._conversations_get([row.group_uuid for row in parsed if not row.v1])
        transaction = Transaction(self.name)
        for index, (item, row) in enumerate(zip(rows, parsed, strict=True)):
            conversation = conversations.get(row.group_uuid)
            if conversation is not None and user_uuid in conversation.member_uuids:
                self._copies_wipe(user_uuid=user_uuid, conversation=conversation)
                transaction.update(
                    f"conversation:{index}", **items.departure(user_uuid, conversation)
                )
            transaction.delete(
                f"row:{index}", Key={items.PK: item[items.PK], items.SK: item[items.SK]}
            )
        cancelled = transaction.run(self.client)
        if cancelled is not None:
            raise StoreUnavailable(f"account clean-up was cancelled: {cancelled.describe()}")

    def _conversations_get(self, group_uuids: list[uuid.UUID]) -> dict[uuid.UUID, Conversation]:
        found: dict[uuid.UUID, Conversation] = {}
        pending: dict[str, Any] = {
            self.name: {
                "Keys": [items.conversation_key(group) for group in group_uuids],
                "ConsistentRead": True,
            }
        }
        while group_uuids and pending:
            response = self.client.batch_get_item(RequestItems=pending)
            for item in response["Responses"].get(self.name, []):
                conversation = items.conversation_from_item(item)
                found[conversation.group_uuid] = conversation
            pending = response.get("UnprocessedKeys") or {}
        return found

    def _copies_wipe(self, *, user_uuid: uuid.UUID, conversation: Conversation) -> None:
        """The person's name on each other member's row becomes "Deleted user": one
        UpdateItem each, conditioned on the entry still being theirs (a row that is gone,
        or was already wiped, is left alone). Runs before the person's own row goes, so
        a run cut short finds the conversation again and finishes it."""
        for owner in conversation.members:
            if owner.uuid == user_uuid:
                continue
            copy = [member.uuid for member in conversation.members if member.uuid != owner.uuid]
            try:
                self.client.update_item(
                    TableName=self.name,
                    Key=items.inbox_key(owner.uuid, conversation.group_uuid),
                    **items.member_wipe(user_uuid, position=copy.index(user_uuid)),
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
