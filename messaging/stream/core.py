"""Stream fan-out: the one core that `manage.py ddb_stream` and the Lambda both run.

A stream record of a new message becomes conditional UpdateItems on both members'
inbox rows (`MessagingTable.inbox_rows_advance`). Those updates only move a row forward
and count a message unread by its sort key, so a record delivered twice, late, or after
the inline path already applied it changes nothing (DESIGN invariant 4): the core keeps
no memory of what it has seen and needs no ordering from its caller.

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

from messaging import stats
from messaging.dynamo import keys
from messaging.dynamo.errors import StoreUnavailable
from messaging.dynamo.items import message_from_item
from messaging.dynamo.records import Message
from messaging.dynamo.table import MessagingTable

logger = logging.getLogger("messaging.stream")

# Parallel UpdateItems per batch: within the client's connection pool (client.py).
CONCURRENCY = 8


class NotAMessage(Exception):
    """A record the fan-out has no business with (REMOVE, MODIFY, another item type)."""


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
    # Milliseconds from each message's creation to its fan-out.
    lag_ms: list[float] = field(default_factory=list)
    # Why the batch stopped early when the table itself failed, else None.
    unavailable: str | None = None

    @property
    def members(self) -> set[uuid.UUID]:
        return {
            member
            for message in self.messages
            for member in (message.sender_uuid, message.recipient_uuid)
        }

    def batch_item_failures(self) -> list[dict]:
        return [{"itemIdentifier": sequence} for sequence in self.failed]

    def summary(self) -> str:
        """One log line per batch: counts and lag only, never a message body."""
        lag = f" lag_ms_max={max(self.lag_ms):.0f}" if self.lag_ms else ""
        return (
            f"records={self.records} updated={self.updated} skipped={self.skipped}"
            f" failed={len(self.failed)}{lag}"
        )


def record_id(record: object) -> str:
    """The record's sequence number (what Lambda expects back), else its event id."""
    if isinstance(record, dict):
        change = record.get("dynamodb")
        if isinstance(change, dict) and change.get("SequenceNumber"):
            return str(change["SequenceNumber"])
        if record.get("eventID"):
            return str(record["eventID"])
    return repr(record)[:64]


def message_from_record(record: dict) -> Message:
    """The new message a record carries; NotAMessage for anything else.

    Messages are insert-only, so only INSERT matters: a MODIFY or REMOVE of a message
    item (an operator's cleanup, TTL) must not move an inbox. A message item that cannot
    be read raises, so the record is reported failed rather than silently dropped.
    """
    if record.get("eventName") != "INSERT":
        raise NotAMessage()
    image = record["dynamodb"].get("NewImage") or {}
    if not keys.is_message_pk(image.get("pk", {}).get("S", "")):
        raise NotAMessage()
    message = message_from_item(image)
    # Keys that disagree with the item's own fields would move an inbox to a message
    # that cannot be read back.
    if image["pk"]["S"] != keys.message_pk(message.group_uuid):
        raise ValueError("message item's pk does not match its group")
    if image.get("sk", {}).get("S") != message.sk:
        raise ValueError("message item's sk does not match its time and uuid")
    return message


def records_apply(
    *, records: Iterable[dict], table: MessagingTable, concurrency: int = CONCURRENCY
) -> FanoutResult:
    """Fan every record of the batch out to the inbox rows; report the failed ones."""
    records = list(records)
    result = FanoutResult(records=len(records))
    failed: list[tuple[int, str]] = []
    work: list[tuple[int, Message]] = []
    for index, record in enumerate(records):
        try:
            work.append((index, message_from_record(record)))
        except NotAMessage:
            result.skipped += 1
        except Exception as exc:
            # A poison record: fail it alone, so the batch's other records still apply.
            logger.warning("stream record %s unreadable (%s)", record_id(record), exc_name(exc))
            failed.append((index, record_id(record)))
    # The updates commute (forward-only, set-valued), so a batch can apply in parallel.
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(work)))) as pool:
        outcomes = list(pool.map(lambda item: _advance(table, item[1]), work))
    for (index, message), outcome in zip(work, outcomes, strict=True):
        if isinstance(outcome, Exception):
            logger.warning(
                "stream record %s failed (%s)", record_id(records[index]), exc_name(outcome)
            )
            failed.append((index, record_id(records[index])))
            if isinstance(outcome, StoreUnavailable):
                result.unavailable = str(outcome)
            continue
        changed, lag_ms = outcome
        result.updated += changed
        result.messages.append(message)
        result.lag_ms.append(lag_ms)
    result.failed = [record for _, record in sorted(failed)]
    _count(result)
    return result


def _advance(table: MessagingTable, message: Message) -> tuple[int, float] | Exception:
    try:
        changed = table.inbox_rows_advance(message=message)
    except Exception as exc:
        return exc
    return changed, (datetime.now(UTC) - message.created_at).total_seconds() * 1000


def exc_name(exc: Exception) -> str:
    # The type, not the message: botocore messages can quote the item, body included.
    return type(exc).__name__


def _count(result: FanoutResult) -> None:
    stats.incr("fanout.records", result.records)
    stats.incr("fanout.updated", result.updated)
    stats.incr("fanout.skipped", result.skipped)
    stats.incr("fanout.failed", len(result.failed))
    stats.incr("fanout.applied", len(result.messages))
    for lag in result.lag_ms:
        stats.observe("fanout.lag_ms", lag)
