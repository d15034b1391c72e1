"""Bulk loads for seeding and the benchmark: records in, BatchWriteItem out.

Seeding rules (who says what, when) live in `messaging.seeding`; this module only knows
how to write a whole conversation's items fast and consistently.
"""

import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from messaging.dynamo import items
from messaging.dynamo.errors import StoreUnavailable
from messaging.dynamo.records import Conversation, Member, MemberRead, Message
from messaging.dynamo.table import TableAccess, gateway_errors
from messaging.dynamo.transact import Transaction

BATCH_SIZE = 25


class BulkLoader(TableAccess):
    @gateway_errors
    def messages_put(
        self, messages: list[Message], *, batch: bool = True, workers: int = 4
    ) -> int:
        """Write messages (insert-only when one at a time). Returns the write requests.

        `batch=False` writes one PutItem per message: the baseline the benchmark compares
        BatchWriteItem against, on the same number of threads.
        """
        return self.prepared_put(self.messages_prepare(messages), batch=batch, workers=workers)

    def messages_prepare(self, messages: list[Message]) -> "Prepared":
        """The messages' items, built ahead of a timed load (the benchmark keeps the
        marshalling out of its window)."""
        return Prepared([items.message_item(message) for message in messages])

    @gateway_errors
    def prepared_put(self, prepared: "Prepared", *, batch: bool = True, workers: int = 4) -> int:
        records = prepared.items
        if batch:
            chunks = [records[i : i + BATCH_SIZE] for i in range(0, len(records), BATCH_SIZE)]
            with ThreadPoolExecutor(max_workers=workers) as pool:
                return sum(pool.map(self._batch_put, chunks))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(self._put, records))
        return len(records)

    @gateway_errors
    def inbox_load(
        self, *, owner: Member, firsts: list[tuple[Member, Message]], workers: int = 4
    ) -> int:
        """Many pair conversations at once (a wide inbox for the benchmark): for each
        (peer, first message from the peer), the message, the conversation item and both
        rows, unread for `owner`, with BatchWriteItem. Returns the items written. No
        transaction and no existence check: for a fresh table only."""
        records: list[items.Item] = []
        for peer, message in firsts:
            members = (owner, peer)
            conversation = Conversation(
                group_uuid=message.group_uuid,
                kind="direct",
                members=members,
                last_seq=1,
                last_message_sk=message.sk,
                version=1,
                reads={peer.uuid: MemberRead(position=message.position, at=message.created_at)},
            )
            records += [
                items.message_item(message),
                items.conversation_item(conversation, created_at=message.created_at),
                items.inbox_item(owner=owner, members=members, message=message, read=False),
                items.inbox_item(owner=peer, members=members, message=message, read=True),
            ]
        self.prepared_put(Prepared(records), batch=True, workers=workers)
        return len(records)

    def _put(self, item: items.Item) -> None:
        self.client.put_item(TableName=self.name, Item=item, ConditionExpression=items.INSERT_ONLY)

    def _batch_put(self, chunk: list[items.Item], max_attempts: int = 8) -> int:
        """One BatchWriteItem of up to 25 items, retrying unprocessed items with backoff."""
        pending = [{"PutRequest": {"Item": item}} for item in chunk]
        for attempt in range(max_attempts):
            response = self.client.batch_write_item(RequestItems={self.name: pending})
            pending = response.get("UnprocessedItems", {}).get(self.name, [])
            if not pending:
                return attempt + 1
            time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
        raise StoreUnavailable(f"{len(pending)} items stayed unprocessed")

    @gateway_errors
    def conversation_load(
        self,
        *,
        members: tuple[Member, ...],
        messages: list[Message],
        unread: dict[Any, int],
        batch: bool = True,
        workers: int = 4,
    ) -> int | None:
        """Load a whole conversation: the messages (numbered 1..N), then the conversation
        item and every member's row in one insert-only transaction. `unread[member]` is how
        many of the newest messages that member has not read. Returns the write requests,
        or None when the conversation already exists (nothing more is written).

        Rows read up to N - unread, so the stream fan-out, which sees every loaded
        message, finds each row already past it and changes nothing.
        """
        group_uuid = messages[-1].group_uuid
        response = self.client.get_item(
            TableName=self.name, Key=items.conversation_key(group_uuid), ConsistentRead=True
        )
        if "Item" in response:
            return None
        requests = self.messages_put(messages, batch=batch, workers=workers)
        last = messages[-1]
        reads = {}
        for member in members:
            read_upto = len(messages) - unread.get(member.uuid, 0)
            read_message = messages[read_upto - 1] if read_upto > 0 else None
            reads[member.uuid] = MemberRead(
                position=read_message.position if read_message else None,
                at=read_message.created_at if read_message else None,
            )
        conversation = Conversation(
            group_uuid=group_uuid,
            kind=items.kind_for(len(members)),
            members=members,
            last_seq=len(messages),
            last_message_sk=last.sk,
            version=1,
            reads=reads,
        )
        transaction = Transaction(self.name)
        transaction.put(
            "conversation",
            items.conversation_item(conversation, created_at=messages[0].created_at),
            condition=items.INSERT_ONLY,
        )
        for member in members:
            row = items.inbox_item(owner=member, members=members, message=last, read=True)
            read = reads[member.uuid]
            read_seq = read.position.seq if read.position else 0
            row[items.READ_SEQ] = items.n(read_seq or 0)
            if read.position is None:
                row.pop(items.READ_SK, None)
                row.pop(items.READ_AT, None)
            else:
                row[items.READ_SK] = items.s(read.position.sk)
            if unread.get(member.uuid, 0):
                row[items.UNREAD_MEMBER] = items.s(member.uuid)
            transaction.put(f"row:{member.uuid}", row, condition=items.INSERT_ONLY)
        if transaction.run(self.client) is not None:
            return None
        return requests + 1


class Prepared:
    """Items built ahead of a load; opaque to callers."""

    def __init__(self, records: list[items.Item]):
        self.items = records

    def __len__(self) -> int:
        return len(self.items)


def numbered(messages: list[Message]) -> list[Message]:
    """The messages with sequence numbers 1..N, in the order given (oldest first)."""
    return [
        Message(
            uuid=message.uuid,
            group_uuid=message.group_uuid,
            sender_uuid=message.sender_uuid,
            member_uuids=message.member_uuids,
            body=message.body,
            created_at=message.created_at,
            seq=index,
        )
        for index, message in enumerate(messages, start=1)
    ]
