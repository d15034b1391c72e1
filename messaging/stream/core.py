"""Stream fan-out: the one core that `manage.py ddb_stream` and the Lambda both run.

A stream record of a new message becomes conditional UpdateItems on every member's
inbox row (`MessagingTable.inbox_rows_advance`); the members come from the message
itself, so no read is needed. Those updates only move a row forward to the message's
sequence number, and a row's unread count is the distance from its read position, so a
record delivered twice, late, out of order, or after the inline path already applied it
counts nothing twice (DESIGN invariant 4): the core keeps no memory of what it has seen
and needs no ordering from its caller.

For the same reason a batch's new messages of one conversation need not each move the
rows: the newest carries every member's row forward, and each other sender's own newest
moves that sender's read position (they have read up to what they sent). A burst of 50
messages into a pair then costs 2 updates (3 when both wrote), not 100.

A MODIFY of a message item is an edit or a deletion (its version moved): every member's
preview follows it when the row shows that message (`inbox_previews_follow`), forward in
the message's versions only, and nothing is counted unread. The stream's NEW_IMAGE is all
this needs (schema.py says why not NEW_AND_OLD_IMAGES).

It processes every record of a batch and reports the ones that failed by sequence
number, the shape Lambda's `ReportBatchItemFailures` expects. Imports nothing from
Django.
"""

import logging
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from messaging import stats
from messaging.dynamo.errors import StoreUnavailable
from messaging.dynamo.items import NotAMessageChange, message_from_stream_record, stream_record_id
from messaging.dynamo.records import Message
from messaging.dynamo.table import MessagingTable

logger = logging.getLogger("messaging.stream")

# Parallel UpdateItems per batch: within the client's connection pool (client.py).
CONCURRENCY = 8


@dataclass
class FanoutResult:
    records: int = 0
    # Inbox rows that changed (a replayed record changes none).
    updated: int = 0
    skipped: int = 0
    # Sequence numbers of the records to retry, in batch order.
    failed: list[str] = field(default_factory=list)
    # Messages whose fan-out completed: their members' cached inboxes are now stale.
    messages: list[Message] = field(default_factory=list)
    # Edits and deletions whose previews followed: stale likewise, and announced live.
    changes: list[Message] = field(default_factory=list)
    # Milliseconds from each message's creation to its fan-out.
    lag_ms: list[float] = field(default_factory=list)
    # Why the batch stopped early when the table itself failed, else None.
    unavailable: str | None = None

    @property
    def members(self) -> set[uuid.UUID]:
        return {
            member
            for message in (*self.messages, *self.changes)
            for member in message.member_uuids
        }

    @property
    def groups(self) -> set[uuid.UUID]:
        return {message.group_uuid for message in (*self.messages, *self.changes)}

    def batch_item_failures(self) -> list[dict[str, Any]]:
        return [{"itemIdentifier": sequence} for sequence in self.failed]

    def summary(self) -> str:
        """One log line per batch: counts and lag only, never a message body."""
        lag = f" lag_ms_max={max(self.lag_ms):.0f}" if self.lag_ms else ""
        return (
            f"records={self.records} updated={self.updated} skipped={self.skipped}"
            f" failed={len(self.failed)}{lag}"
        )


@dataclass(frozen=True)
class Work:
    message: Message
    # An edit or deletion (a MODIFY), rather than a new message (an INSERT).
    change: bool


@dataclass
class Arrivals:
    """A batch's new messages of one conversation, and the updates that apply them all."""

    # The batch's records that carried them, by index.
    indexes: list[int]
    messages: list[Message]

    @property
    def newest(self) -> Message:
        return max(self.messages, key=_seq)

    @property
    def senders_own(self) -> list[Message]:
        """Each sender's newest message but the newest's sender's: their read positions."""
        newest, own = self.newest, {}
        for message in sorted(self.messages, key=_seq):
            if message.sender_uuid != newest.sender_uuid:
                own[message.sender_uuid] = message
        return list(own.values())


def _seq(message: Message) -> int:
    return message.seq or 0


def message_from_record(record: dict[str, Any]) -> Work:
    """The new, edited or deleted message a record carries; NotAMessageChange for
    anything else.

    An operator's cleanup or TTL (REMOVE) must not move rows, nor a MODIFY that left the
    message's version where it was. A v1 message (no sequence number) was fanned out by
    the v1 worker, which must drain its stream before v2 starts (README, "Upgrading from
    v1").
    """
    name = record.get("eventName")
    if name not in {"INSERT", "MODIFY"}:
        raise NotAMessageChange()
    message = message_from_stream_record(record)
    if message.seq is None or (name == "MODIFY" and message.version == 0):
        raise NotAMessageChange()
    return Work(message=message, change=name == "MODIFY")


def records_apply(
    *, records: Iterable[dict[str, Any]], table: MessagingTable, concurrency: int = CONCURRENCY
) -> FanoutResult:
    """Fan every record of the batch out to the inbox rows; report the failed ones."""
    records = list(records)
    result = FanoutResult(records=len(records))
    failed: list[tuple[int, str]] = []
    work: list[tuple[int, Work]] = []
    for index, record in enumerate(records):
        try:
            work.append((index, message_from_record(record)))
        except NotAMessageChange:
            result.skipped += 1
        except Exception as exc:
            # A poison record: fail it alone, so the batch's other records still apply.
            logger.warning(
                "stream record %s unreadable (%s)", stream_record_id(record), exc_name(exc)
            )
            failed.append((index, stream_record_id(record)))
    arrivals: dict[uuid.UUID, Arrivals] = {}
    tasks: list[Arrivals | tuple[int, Work]] = []
    for index, item in work:
        if item.change:
            tasks.append((index, item))
            continue
        group = arrivals.get(item.message.group_uuid)
        if group is None:
            group = arrivals[item.message.group_uuid] = Arrivals(indexes=[], messages=[])
            tasks.append(group)
        group.indexes.append(index)
        group.messages.append(item.message)
    # The updates commute (forward-only, set-valued), so a batch can apply in parallel.
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(tasks)))) as pool:
        outcomes = list(pool.map(lambda task: _apply(table, task), tasks))
    for task, outcome in zip(tasks, outcomes, strict=True):
        indexes = task.indexes if isinstance(task, Arrivals) else [task[0]]
        if isinstance(outcome, Exception):
            for index in indexes:
                logger.warning(
                    "stream record %s failed (%s)",
                    stream_record_id(records[index]),
                    exc_name(outcome),
                )
                failed.append((index, stream_record_id(records[index])))
            if isinstance(outcome, StoreUnavailable):
                result.unavailable = str(outcome)
            continue
        result.updated += outcome
        if isinstance(task, Arrivals):
            now = datetime.now(UTC)
            result.messages.extend(task.messages)
            result.lag_ms.extend(
                (now - message.created_at).total_seconds() * 1000 for message in task.messages
            )
        else:
            result.changes.append(task[1].message)
    result.failed = [record for _, record in sorted(failed)]
    _count(result)
    return result


def _apply(table: MessagingTable, task: Arrivals | tuple[int, Work]) -> int | Exception:
    """Rows changed, or the exception that stopped the task (its records then fail)."""
    try:
        if not isinstance(task, Arrivals):
            return table.inbox_previews_follow(message=task[1].message)
        changed = table.inbox_rows_advance(message=task.newest)
        for message in task.senders_own:
            changed += table.inbox_row_read_own(message=message)
        return changed
    except Exception as exc:
        return exc


def exc_name(exc: Exception) -> str:
    # The type, not the message: botocore messages can quote the item, body included.
    return type(exc).__name__


def _count(result: FanoutResult) -> None:
    stats.incr("fanout.records", result.records)
    stats.incr("fanout.updated", result.updated)
    stats.incr("fanout.skipped", result.skipped)
    stats.incr("fanout.failed", len(result.failed))
    stats.incr("fanout.applied", len(result.messages))
    stats.incr("fanout.changes", len(result.changes))
    for lag in result.lag_ms:
        stats.observe("fanout.lag_ms", lag)
