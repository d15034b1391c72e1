"""Reading the table's DynamoDB stream: the local stand-in for Lambda's event source.

`StreamPoller` does for `manage.py ddb_stream` what the Lambda event source mapping does
in AWS: it follows every shard of the stream (parents before children, new shards as they
appear, closed shards to their end), hands batches of records to a callback, retries the
records the callback reports failed, sets a record aside after a bounded number of
attempts, and checkpoints the last processed sequence number per shard so a restarted
worker resumes where it stopped.

Checkpoints live in a JSON file (under var/ by default), not in the table: a checkpoint
item would itself be written to the stream, and the worker would wake itself up forever.

Imports nothing from Django.
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from messaging.dynamo.errors import IteratorExpired, StoreUnavailable, TrimmedData
from messaging.dynamo.stream_reader import MAX_BATCH_SIZE, TRIM_HORIZON, StreamReader
from messaging.stream.checkpoints import FileCheckpoints

logger = logging.getLogger("messaging.stream")

# Shards split and close over time (about every four hours in AWS).
SHARD_REFRESH_SECONDS = 10.0


@dataclass
class PollTotals:
    batches: int = 0
    records: int = 0
    failed_attempts: int = 0
    dead_lettered: int = 0


class StreamPoller:
    """Follows every shard of the stream and feeds `process` one batch at a time.

    `process(records)` returns the sequence numbers that failed. Records before the
    first failure are checkpointed; from the first failure on, the batch is retried (its
    later records again too, harmlessly) up to `max_attempts` times, then the failing
    record goes to the dead-letter file, like Lambda's on-failure destination, and the
    shard moves on rather than stalling behind one poison record.
    """

    def __init__(
        self,
        *,
        reader: StreamReader,
        checkpoints: FileCheckpoints,
        process: Callable[[list[dict[str, Any]]], list[str]],
        dead_letters: Path,
        batch_size: int = 100,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        idle_delay: float = 0.05,
        idle_max: float = 0.25,
        outage_delay: float = 2.0,
        start: str = TRIM_HORIZON,
    ):
        self.reader = reader
        self.checkpoints = checkpoints
        self.process = process
        self.dead_letters = Path(dead_letters)
        self.batch_size = max(1, min(batch_size, MAX_BATCH_SIZE))
        self.max_attempts = max(1, max_attempts)
        self.retry_delay = retry_delay
        self.idle_delay = idle_delay
        self.idle_max = idle_max
        self.outage_delay = outage_delay
        self.start = start
        self.totals = PollTotals()
        self._iterators: dict[str, str] = {}
        self._stream_arn: str | None = None

    def run(self, *, stop: threading.Event | None = None, once: bool = False) -> PollTotals:
        """Poll until `stop` is set; with `once`, until every shard is drained.

        A long-running worker outlives an engine restart or throttling: it waits and
        resumes from its checkpoints. With `once` the error is raised instead.
        """
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                self._follow(stop, once=once)
                break
            except StoreUnavailable as exc:
                if once:
                    raise
                logger.warning("stream unreadable (%s); retrying in %.0fs", exc, self.outage_delay)
                self._iterators.clear()
                stop.wait(self.outage_delay)
        return self.totals

    def _follow(self, stop: threading.Event, *, once: bool) -> None:
        self._stream_arn = self.reader.stream_arn()
        self.checkpoints.bind(self._stream_arn)
        self._refresh_shards()
        refreshed_at = _now()
        delay = self.idle_delay
        while not stop.is_set():
            progressed, shard_closed = self._poll_once(stop)
            if shard_closed or _now() - refreshed_at > SHARD_REFRESH_SECONDS:
                self._refresh_shards()
                refreshed_at = _now()
            if progressed or shard_closed:
                delay = self.idle_delay
                continue
            if once:
                return
            # Idle: back off so an empty stream costs a few requests a second, not hundreds.
            stop.wait(delay)
            delay = min(delay * 2, self.idle_max)

    def _poll_once(self, stop: threading.Event) -> tuple[bool, bool]:
        progressed = shard_closed = False
        for shard_id in list(self._iterators):
            if stop.is_set():
                break
            try:
                records, next_iterator = self.reader.read(
                    self._iterators[shard_id], limit=self.batch_size
                )
            except IteratorExpired:
                self._open(shard_id)
                continue
            if records:
                progressed = True
                if not self._deliver(shard_id, records, stop):
                    # Stopped mid-retry: the shard's state stays at its checkpoint.
                    break
            if next_iterator is None:
                self.checkpoints.finish(shard_id)
                del self._iterators[shard_id]
                shard_closed = True
            else:
                self._iterators[shard_id] = next_iterator
        return progressed, shard_closed

    def _deliver(
        self, shard_id: str, records: list[dict[str, Any]], stop: threading.Event
    ) -> bool:
        """Process and checkpoint the batch; False if stopped before it was done."""
        self.totals.batches += 1
        self.totals.records += len(records)
        pending, attempt = records, 1
        while pending:
            failed = set(self.process(pending))
            first = next(
                (i for i, record in enumerate(pending) if _sequence(record) in failed), None
            )
            if first is None:
                self.checkpoints.advance(shard_id, _sequence(pending[-1]))
                return True
            if first > 0:
                self.checkpoints.advance(shard_id, _sequence(pending[first - 1]))
            pending = pending[first:]
            self.totals.failed_attempts += 1
            if attempt >= self.max_attempts:
                self._dead_letter(shard_id, pending[0], attempts=attempt)
                self.checkpoints.advance(shard_id, _sequence(pending[0]))
                pending, attempt = pending[1:], 1
                continue
            if stop.wait(self.retry_delay * 2 ** (attempt - 1)):
                # Stopping: leave the failed records to the next run, not the dead letters.
                return False
            attempt += 1
        return True

    def _dead_letter(self, shard_id: str, record: dict[str, Any], *, attempts: int) -> None:
        change = record.get("dynamodb", {}) if isinstance(record, dict) else {}
        # Keys and ids only: the record's image holds the message body.
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "stream_arn": self._stream_arn,
            "shard_id": shard_id,
            "sequence_number": _sequence(record),
            "event_name": record.get("eventName") if isinstance(record, dict) else None,
            "keys": change.get("Keys"),
            "attempts": attempts,
        }
        self.dead_letters.parent.mkdir(parents=True, exist_ok=True)
        with self.dead_letters.open("a") as file:
            file.write(json.dumps(entry) + "\n")
        self.totals.dead_lettered += 1
        logger.error(
            "stream record %s failed %d times; set aside in %s",
            entry["sequence_number"],
            attempts,
            self.dead_letters,
        )

    def _bound_arn(self) -> str:
        if self._stream_arn is None:
            raise StoreUnavailable("the stream was not opened")
        return self._stream_arn

    def _refresh_shards(self) -> None:
        shards = self.reader.shards(self._bound_arn())
        listed = {shard.shard_id for shard in shards}
        self.checkpoints.forget_except(listed)
        for shard in shards:
            if shard.shard_id in self._iterators or self.checkpoints.finished(shard.shard_id):
                continue
            parent = shard.parent_shard_id
            if parent in listed and not self.checkpoints.finished(parent):
                # A child's records come after its parent's: start it once the parent
                # is read to its end.
                continue
            self._open(shard.shard_id)

    def _open(self, shard_id: str) -> None:
        after = self.checkpoints.sequence(shard_id)
        try:
            iterator = self.reader.iterator(
                self._bound_arn(), shard_id, after=after, start=self.start
            )
        except TrimmedData:
            logger.warning(
                "shard %s: checkpoint %s is past the stream's retention; resuming from"
                " the oldest record still held",
                shard_id,
                after,
            )
            iterator = self.reader.iterator(
                self._bound_arn(), shard_id, after=None, start=TRIM_HORIZON
            )
        if iterator is None:
            self.checkpoints.finish(shard_id)
        else:
            self._iterators[shard_id] = iterator


def _sequence(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _now() -> float:
    return time.monotonic()
