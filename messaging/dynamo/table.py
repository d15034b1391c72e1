"""Every access pattern of the messaging table, and the only code that calls DynamoDB.

Each method names its access pattern and the index it uses. Methods take and return
the dataclasses in `records.py`; attribute maps stay inside this module.
"""

import random
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import wraps

from botocore.exceptions import BotoCoreError, ClientError

from messaging.dynamo import keys, schema
from messaging.dynamo.client import endpoint_description, get_client
from messaging.dynamo.errors import StoreUnavailable, translate
from messaging.dynamo.items import (
    attr_s,
    idempotency_from_item,
    idempotency_item,
    inbox_item,
    inbox_row_from_item,
    message_from_item,
    message_item,
)
from messaging.dynamo.records import IdempotencyRecord, InboxRow, Member, Message, Page

# DynamoDB cancels a transaction that races another on the same item; the retry is
# cheap and the race short.
TRANSACTION_CONFLICT_ATTEMPTS = 10


class GroupExists(Exception):
    """`conversation_create` found the pair's group already there."""

    def __init__(self, sender_row: InboxRow):
        super().__init__("conversation already exists")
        self.sender_row = sender_row


class IdempotentReplay(Exception):
    """The caller's idempotency key was already used; `record` is what it created."""

    def __init__(self, record: IdempotencyRecord):
        super().__init__("idempotency key already used")
        self.record = record


class StaleSortKey(Exception):
    """A newer message reached the inbox rows first; resend after `latest_sk`."""

    def __init__(self, latest_sk: str):
        super().__init__("a newer message is already in the conversation")
        self.latest_sk = latest_sk


class NotAMember(Exception):
    """The sender's inbox row for the group is gone."""


def _gateway_errors(method: Callable) -> Callable:
    @wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            translated = translate(exc, table_name=self.name, endpoint=endpoint_description())
            if translated is exc:
                raise
            raise translated from exc

    return wrapper


# Moves an inbox row forward to a newer message, and never backward: the condition turns
# replays, duplicates and out-of-order deliveries into no-ops (DESIGN invariant 4).
ADVANCE_ROW = (
    "SET last_message_body = :body, last_message_sk = :sk, last_message_at = :at,"
    " last_sender_uuid = :sender"
)
ADVANCE_CONDITION = "attribute_exists(pk) AND last_message_sk < :sk"
# A message counts as unread for the recipient only if it is newer than what they have
# read; the set makes the count idempotent.
UNREAD_CONDITION = "(attribute_not_exists(last_read_sk) OR last_read_sk < :sk)"


def _advance_values(message: Message) -> dict:
    return {
        ":body": attr_s(message.body),
        ":sk": attr_s(message.sk),
        ":at": attr_s(keys.format_timestamp(message.created_at)),
        ":sender": attr_s(message.sender_uuid),
    }


def _cancellation_reasons(exc: ClientError) -> list[dict]:
    return exc.response.get("CancellationReasons", [])


def _is_cancelled(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "TransactionCanceledException"


class MessagingTable:
    """The messaging table at the process's DynamoDB endpoint."""

    def __init__(self, name: str, client=None):
        self.name = name
        self._client = client

    @property
    def client(self):
        return self._client or get_client()

    # --- table lifecycle (ddb_schema_load, ddb_drop, ddb_list_tables, tests) ------

    @_gateway_errors
    def create(self) -> bool:
        """Create the table and wait until it is active. False if it already existed."""
        try:
            self.client.create_table(**schema.table_definition(self.name))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceInUseException":
                return False
            raise
        self.client.get_waiter("table_exists").wait(
            TableName=self.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        try:
            self.client.update_time_to_live(TableName=self.name, **schema.ttl_specification())
        except ClientError as exc:
            # Some local engines lack TTL; production has it, and expiry is only cleanup.
            if exc.response["Error"]["Code"] not in {"UnknownOperationException"}:
                raise
        return True

    @_gateway_errors
    def drop(self) -> bool:
        try:
            self.client.delete_table(TableName=self.name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        return True

    @_gateway_errors
    def describe(self) -> dict:
        return self.client.describe_table(TableName=self.name)["Table"]

    @_gateway_errors
    def list_tables(self) -> list[str]:
        names: list[str] = []
        for page in self.client.get_paginator("list_tables").paginate():
            names.extend(page["TableNames"])
        return names

    # --- reads -------------------------------------------------------------------

    @_gateway_errors
    def inbox_page(
        self, *, user_uuid: uuid.UUID, position: dict | None, limit: int
    ) -> Page[InboxRow]:
        """Access pattern: a member's conversations, newest first.

        Query on the sparse index `inbox-by-last-message` (pk = GRP#<user>), descending.
        No filter on dates: every conversation shows, whatever its year.
        """
        request = {
            "TableName": self.name,
            "IndexName": schema.INBOX_INDEX,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": attr_s(keys.inbox_pk(user_uuid))},
            "ScanIndexForward": False,
            # One extra item tells whether another page exists without a trailing
            # empty page.
            "Limit": limit + 1,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if position is not None:
            request["ExclusiveStartKey"] = self._inbox_start_key(user_uuid, position)
        response = self.client.query(**request)
        rows = [inbox_row_from_item(item) for item in response["Items"]]
        next_position = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_position = {
                "last_message_sk": last.last_message_sk,
                "group_uuid": str(last.group_uuid),
            }
        return Page(
            items=rows,
            next_position=next_position,
            request=request,
            consumed_capacity=response.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0),
        )

    def _inbox_start_key(self, user_uuid: uuid.UUID, position: dict) -> dict:
        # The partition comes from the caller, never from the position, so a forged
        # position cannot reach another user's inbox.
        last_message_sk = position.get("last_message_sk") if isinstance(position, dict) else None
        group = position.get("group_uuid") if isinstance(position, dict) else None
        keys.parse_message_sk(last_message_sk)
        try:
            group_uuid = uuid.UUID(str(group))
        except ValueError as exc:
            raise keys.MalformedKey(f"not a group uuid: {group!r}") from exc
        return {
            "pk": attr_s(keys.inbox_pk(user_uuid)),
            "sk": attr_s(keys.inbox_sk(group_uuid)),
            "last_message_sk": attr_s(last_message_sk),
        }

    @_gateway_errors
    def inbox_row_get(self, *, user_uuid: uuid.UUID, group_uuid: uuid.UUID) -> InboxRow | None:
        """Access pattern: membership check. GetItem GRP#<user> / GRP#<group>, strongly
        consistent so a member who just started a conversation can open it at once."""
        response = self.client.get_item(
            TableName=self.name,
            Key={"pk": attr_s(keys.inbox_pk(user_uuid)), "sk": attr_s(keys.inbox_sk(group_uuid))},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return inbox_row_from_item(item) if item else None

    @_gateway_errors
    def inbox_unread_count(self, *, user_uuid: uuid.UUID) -> int:
        """Access pattern: how many of a member's conversations have unread messages (the
        navigation badge).

        Query on the table (pk = GRP#<user>, sk begins with GRP#), Select=COUNT, keeping
        rows that still hold an unread set (DynamoDB drops a set attribute when the last
        element is deleted). Strongly consistent, so a conversation just read stops
        counting at once. One request per MB of inbox rows.
        """
        request = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :inbox)",
            "FilterExpression": "attribute_exists(unread_message_sks)",
            "ExpressionAttributeValues": {
                ":pk": attr_s(keys.inbox_pk(user_uuid)),
                ":inbox": attr_s(keys.INBOX_PREFIX),
            },
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        count = 0
        while True:
            response = self.client.query(**request)
            count += response["Count"]
            if "LastEvaluatedKey" not in response:
                return count
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @_gateway_errors
    def message_page(
        self, *, group_uuid: uuid.UUID, position: dict | None, limit: int
    ) -> Page[Message]:
        """Access pattern: a conversation's newest messages, then older pages.

        Query on the table (pk = MSG#<group>), descending; the page is returned in time
        order. Whoever calls this has already checked membership.
        """
        request = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": attr_s(keys.message_pk(group_uuid))},
            "ScanIndexForward": False,
            "Limit": limit + 1,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if position is not None:
            sk = position.get("sk") if isinstance(position, dict) else None
            keys.parse_message_sk(sk)
            request["ExclusiveStartKey"] = {
                "pk": attr_s(keys.message_pk(group_uuid)),
                "sk": attr_s(sk),
            }
        response = self.client.query(**request)
        messages = [message_from_item(item) for item in response["Items"]]
        next_position = None
        if len(messages) > limit:
            messages = messages[:limit]
            next_position = {"sk": messages[-1].sk}
        messages.reverse()
        return Page(
            items=messages,
            next_position=next_position,
            request=request,
            consumed_capacity=response.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0),
        )

    @_gateway_errors
    def idempotency_get(self, *, user_uuid: uuid.UUID, key: str) -> IdempotencyRecord | None:
        """Access pattern: an earlier send with this Idempotency-Key. GetItem IDEM#<user>."""
        response = self.client.get_item(
            TableName=self.name,
            Key={"pk": attr_s(keys.idempotency_pk(user_uuid)), "sk": attr_s(key)},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item or int(item[schema.TTL_ATTRIBUTE]["N"]) < time.time():
            # TTL deletion lags expiry by up to days; an expired record is no record.
            return None
        return idempotency_from_item(item)

    def scan(self, *, page_size: int = 100) -> Iterator[dict]:
        """Every item of the table, page by page (operators only: a Scan reads it all)."""
        start_key = None
        while True:
            page = self._scan_page(start_key=start_key, page_size=page_size)
            yield from page["Items"]
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                return

    @_gateway_errors
    def _scan_page(self, *, start_key: dict | None, page_size: int) -> dict:
        request = {"TableName": self.name, "Limit": page_size}
        if start_key:
            request["ExclusiveStartKey"] = start_key
        return self.client.scan(**request)

    # --- writes ------------------------------------------------------------------

    @_gateway_errors
    def conversation_create(
        self,
        *,
        sender: Member,
        recipient: Member,
        message: Message,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        """Access pattern: start a conversation. One TransactWriteItems puts both inbox
        rows and the first message, all insert-only; raises GroupExists when the pair
        already has its group (the sender's row comes back with the cancellation, so
        reopening costs no extra read)."""
        items = [
            {"Put": self._insert(message_item(message))},
            {
                "Put": self._insert(
                    inbox_item(owner=sender, other=recipient, message=message, unread=False),
                    return_old=True,
                )
            },
            {
                "Put": self._insert(
                    inbox_item(owner=recipient, other=sender, message=message, unread=True)
                )
            },
        ]
        if idempotency is not None:
            items.append({"Put": self._insert(idempotency_item(idempotency), return_old=True)})
        reasons = self._transact(items)
        if reasons is None:
            return
        if idempotency is not None and reasons[3].get("Code") == "ConditionalCheckFailed":
            raise IdempotentReplay(idempotency_from_item(reasons[3]["Item"]))
        if reasons[1].get("Code") == "ConditionalCheckFailed":
            raise GroupExists(inbox_row_from_item(reasons[1]["Item"]))
        raise StoreUnavailable(f"conversation start was cancelled: {_codes(reasons)}")

    @_gateway_errors
    def message_append(
        self,
        *,
        message: Message,
        fanout_inline: bool,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        """Access pattern: a reply in an existing group.

        Inline fan-out: one TransactWriteItems puts the message (insert-only) and moves
        both inbox rows forward. Stream fan-out: the message alone (with its idempotency
        record, transactionally) and the stream consumer moves the rows.
        Raises StaleSortKey when a newer message got to the rows first, so the caller
        can re-stamp the message after it.
        """
        items = [{"Put": self._insert(message_item(message))}]
        if fanout_inline:
            items.append({"Update": self._advance(message, recipient=False)})
            items.append({"Update": self._advance(message, recipient=True)})
        if idempotency is not None:
            items.append({"Put": self._insert(idempotency_item(idempotency), return_old=True)})
        if len(items) == 1:
            self.client.put_item(**items[0]["Put"])
            return
        reasons = self._transact(items)
        if reasons is None:
            return
        if idempotency is not None and reasons[-1].get("Code") == "ConditionalCheckFailed":
            raise IdempotentReplay(idempotency_from_item(reasons[-1]["Item"]))
        if fanout_inline:
            for reason in reasons[1:3]:
                if reason.get("Code") == "ConditionalCheckFailed":
                    if "Item" not in reason:
                        raise NotAMember()
                    row = inbox_row_from_item(reason["Item"])
                    raise StaleSortKey(max(row.last_message_sk, row.last_read_sk or ""))
        raise StoreUnavailable(f"message write was cancelled: {_codes(reasons)}")

    @_gateway_errors
    def inbox_rows_advance(self, *, message: Message) -> int:
        """Access pattern: fan-out of one message to both members' inbox rows.

        Conditional UpdateItems only, each idempotent, so the stream consumer may see a
        record twice, late, or after the inline path already applied it. Returns how many
        rows changed.
        """
        changed = 0
        for recipient in (False, True):
            try:
                self.client.update_item(**self._advance(message, recipient=recipient))
                changed += 1
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                if recipient and self._count_late_unread(message, exc.response.get("Item")):
                    changed += 1
        return changed

    def _count_late_unread(self, message: Message, old_item: dict | None) -> bool:
        """The recipient's row was already past this message: still count it as unread
        if it is new to the set and newer than what they have read."""
        if old_item is None:
            return False
        row = inbox_row_from_item(old_item)
        if message.sk in row.unread_message_sks:
            return False
        if row.last_read_sk is not None and row.last_read_sk >= message.sk:
            if row.last_message_sk < message.sk:
                # Read on the conversation page before the stream caught up: advance the
                # preview without counting the message.
                return self._try_update(
                    Key=self._inbox_key(message.recipient_uuid, message.group_uuid),
                    UpdateExpression=ADVANCE_ROW,
                    ConditionExpression=ADVANCE_CONDITION,
                    ExpressionAttributeValues=_advance_values(message),
                )
            return False
        return self._try_update(
            Key=self._inbox_key(message.recipient_uuid, message.group_uuid),
            UpdateExpression="ADD unread_message_sks :sks",
            ConditionExpression=(
                f"attribute_exists(pk) AND {UNREAD_CONDITION}"
                " AND NOT contains(unread_message_sks, :sk)"
            ),
            ExpressionAttributeValues={":sks": {"SS": [message.sk]}, ":sk": attr_s(message.sk)},
        )

    @_gateway_errors
    def inbox_mark_read(
        self, *, user_uuid: uuid.UUID, group_uuid: uuid.UUID, up_to_sk: str, seen: frozenset
    ) -> bool:
        """Access pattern: a member read a conversation up to `up_to_sk`.

        One conditional UpdateItem on their inbox row; it only moves forward, and removes
        exactly the unread entries the reader has seen (later arrivals stay unread).
        """
        update = "SET last_read_sk = :up_to, last_read_at = :now"
        values = {
            ":up_to": attr_s(up_to_sk),
            ":now": attr_s(keys.format_timestamp(datetime.now(UTC))),
        }
        if seen:
            update += " DELETE unread_message_sks :seen"
            values[":seen"] = {"SS": sorted(seen)}
        return self._try_update(
            Key=self._inbox_key(user_uuid, group_uuid),
            UpdateExpression=update,
            ConditionExpression=(
                "attribute_exists(pk) AND"
                " (attribute_not_exists(last_read_sk) OR last_read_sk <= :up_to)"
            ),
            ExpressionAttributeValues=values,
        )

    @_gateway_errors
    def batch_put(self, items: list[dict], *, max_attempts: int = 8) -> int:
        """Bulk load for `ddb_seed`: BatchWriteItem, 25 at a time, retrying unprocessed
        items with backoff. Returns the number of requests made."""
        requests = 0
        for start in range(0, len(items), 25):
            pending = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            for attempt in range(max_attempts):
                response = self.client.batch_write_item(RequestItems={self.name: pending})
                requests += 1
                pending = response.get("UnprocessedItems", {}).get(self.name, [])
                if not pending:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
            else:
                raise StoreUnavailable(f"{len(pending)} items stayed unprocessed")
        return requests

    @_gateway_errors
    def conversation_load(
        self,
        *,
        first: Member,
        second: Member,
        messages: list[Message],
        batch: bool = True,
        workers: int = 4,
    ) -> int | None:
        """Bulk load of a whole conversation (seeding only): the messages, then both
        inbox rows in one insert-only transaction. Returns the number of write requests,
        or None when the pair's rows already exist (nothing is written).

        `batch=False` writes one PutItem per message: the baseline the benchmark compares
        BatchWriteItem against.
        """
        group_uuid = messages[-1].group_uuid
        if self.inbox_row_get(user_uuid=first.uuid, group_uuid=group_uuid) is not None:
            return None
        items = [message_item(message) for message in messages]
        if batch:
            chunks = [items[start : start + 25] for start in range(0, len(items), 25)]
            with ThreadPoolExecutor(max_workers=workers) as pool:
                requests = sum(pool.map(self.batch_put, chunks))
        else:
            for item in items:
                self.put_item(item)
            requests = len(items)
        last = messages[-1]
        rows = []
        for owner, other in ((first, second), (second, first)):
            row = inbox_item(owner=owner, other=other, message=last, unread=False)
            unread = _trailing_from(messages, other.uuid)
            if unread:
                row["unread_message_sks"] = {"SS": unread}
            if len(unread) < len(messages):
                # Marks the earlier history read, so the stream fan-out (which sees every
                # seeded message) does not count it unread after the fact.
                row["last_read_sk"] = attr_s(messages[-len(unread) - 1].sk)
            rows.append({"Put": self._insert(row)})
        reasons = self._transact(rows)
        if reasons is not None:
            return None
        return requests + 1

    @_gateway_errors
    def put_item(self, item: dict) -> None:
        """One insert-only PutItem (the seeding baseline and single writes)."""
        self.client.put_item(**self._insert(item))

    # --- helpers -----------------------------------------------------------------

    def _inbox_key(self, user_uuid: uuid.UUID, group_uuid: uuid.UUID) -> dict:
        return {"pk": attr_s(keys.inbox_pk(user_uuid)), "sk": attr_s(keys.inbox_sk(group_uuid))}

    def _insert(self, item: dict, *, return_old: bool = False) -> dict:
        # Insert-only: no write may silently replace another item (DESIGN invariant 2).
        put = {
            "TableName": self.name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if return_old:
            put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return put

    def _advance(self, message: Message, *, recipient: bool) -> dict:
        owner = message.recipient_uuid if recipient else message.sender_uuid
        update = {
            "TableName": self.name,
            "Key": self._inbox_key(owner, message.group_uuid),
            "UpdateExpression": ADVANCE_ROW,
            "ConditionExpression": ADVANCE_CONDITION,
            "ExpressionAttributeValues": _advance_values(message),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if recipient:
            update["UpdateExpression"] += " ADD unread_message_sks :sks"
            update["ConditionExpression"] += f" AND {UNREAD_CONDITION}"
            update["ExpressionAttributeValues"][":sks"] = {"SS": [message.sk]}
        return update

    def _try_update(self, **kwargs) -> bool:
        try:
            self.client.update_item(TableName=self.name, **kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _transact(self, items: list[dict]) -> list[dict] | None:
        """Run a transaction; None on success, else the cancellation reasons.

        Conflicts with a concurrent transaction are retried here; condition failures
        are the caller's to interpret.
        """
        for attempt in range(TRANSACTION_CONFLICT_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=items)
                return None
            except ClientError as exc:
                if not _is_cancelled(exc):
                    raise
                reasons = _cancellation_reasons(exc)
                codes = {reason.get("Code") for reason in reasons}
                if "ConditionalCheckFailed" in codes or not codes & {
                    "TransactionConflict",
                    "ThrottlingError",
                }:
                    return reasons
                time.sleep(min(0.2, 0.005 * 2**attempt) * random.uniform(0.5, 1.5))
        raise StoreUnavailable("transaction kept conflicting with concurrent writes")


def _trailing_from(messages: list[Message], sender_uuid: uuid.UUID) -> list[str]:
    """Sort keys of the run of messages at the end of the list sent by `sender_uuid`."""
    run = []
    for message in reversed(messages):
        if message.sender_uuid != sender_uuid:
            break
        run.append(message.sk)
    return run


def _codes(reasons: list[dict]) -> str:
    return ", ".join(reason.get("Code", "?") for reason in reasons)
