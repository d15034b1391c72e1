"""What requests cost, measured rather than assumed, through botocore's event hooks:

- `before-parameter-build` adds `ReturnConsumedCapacity=INDEXES` to every operation that
  accepts it, so capacity is counted for writes and GetItems too, split table / index;
- `before-call` fires once per API call, `before-send` once per HTTP attempt (retries
  included), so retried attempts are counted;
- `after-call` reads the consumed capacity and the items a read touched.

The bench process opens `Meter.measure()` around what it measures (SQL through Django's
CaptureQueriesContext, cache through messaging.stats); the stream worker installs a
Meter for good and writes its counters to a file (bench/worker.py).
"""

import collections
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from messaging.dynamo.client import CAPACITY_OPERATIONS

WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
COUNTERS = ("read_capacity", "write_capacity", "table_capacity", "index_capacity", "items_read")


@dataclass
class Cost:
    calls: collections.Counter = field(default_factory=collections.Counter)
    attempts: collections.Counter = field(default_factory=collections.Counter)
    read_capacity: float = 0.0
    write_capacity: float = 0.0
    table_capacity: float = 0.0
    index_capacity: float = 0.0
    items_read: int = 0
    sql_queries: int = 0
    cache: dict = field(default_factory=dict)
    ms: float = 0.0

    def counters(self) -> dict:
        """The DynamoDB counters as plain data (what the worker writes to its file)."""
        return {
            "calls": dict(self.calls),
            "attempts": dict(self.attempts),
            **{name: getattr(self, name) for name in COUNTERS},
        }

    @classmethod
    def between(cls, before: dict, after: dict) -> "Cost":
        """The cost of what happened between two `counters()` snapshots."""
        cost = cls()
        for name in ("calls", "attempts"):
            counter = collections.Counter(after[name])
            counter.subtract(before[name])
            setattr(cost, name, +counter)
        for name in COUNTERS:
            setattr(cost, name, after[name] - before[name])
        return cost

    def as_dict(self) -> dict:
        calls, attempts = sum(self.calls.values()), sum(self.attempts.values())
        return {
            "dynamodb_requests": calls,
            "dynamodb_by_operation": dict(sorted(self.calls.items())),
            "http_attempts": attempts,
            "retries": attempts - calls,
            "consumed_capacity": round(self.read_capacity + self.write_capacity, 2),
            "read_capacity": round(self.read_capacity, 2),
            "write_capacity": round(self.write_capacity, 2),
            "table_capacity": round(self.table_capacity, 2),
            "index_capacity": round(self.index_capacity, 2),
            "items_read": self.items_read,
            "sql_queries": self.sql_queries,
            "cache": self.cache,
            "ms": round(self.ms, 2),
        }


class Meter:
    def __init__(self):
        self.cost = Cost()
        self._lock = threading.Lock()
        self.hooks = (
            ("before-parameter-build", self._ask_capacity),
            ("before-call", self._count_call),
            ("before-send", self._count_attempt),
            ("after-call", self._consumed),
        )

    # Each handler returns None: a value from before-call or before-send would replace
    # the request.
    def _ask_capacity(self, params, model, **_) -> None:
        if model.name in CAPACITY_OPERATIONS:
            params["ReturnConsumedCapacity"] = "INDEXES"

    def _count_call(self, model, **_) -> None:
        with self._lock:
            self.cost.calls[model.name] += 1

    def _count_attempt(self, event_name, **_) -> None:
        with self._lock:
            self.cost.attempts[event_name.rsplit(".", 1)[-1]] += 1

    def _consumed(self, parsed, model, **_) -> None:
        consumed = parsed.get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        total = sum(entry.get("CapacityUnits", 0.0) for entry in entries)
        table = sum(entry.get("Table", {}).get("CapacityUnits", 0.0) for entry in entries)
        indexes = sum(
            index.get("CapacityUnits", 0.0)
            for entry in entries
            for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
            for index in entry.get(kind, {}).values()
        )
        with self._lock:
            if model.name in WRITE_OPERATIONS:
                self.cost.write_capacity += total
            else:
                self.cost.read_capacity += total
            self.cost.table_capacity += table
            self.cost.index_capacity += indexes
            # Items the engine read to answer (before any filter): what a read is billed on.
            if model.name in {"Query", "Scan"}:
                self.cost.items_read += parsed.get("ScannedCount", 0)
            elif model.name == "GetItem" and parsed.get("Item"):
                self.cost.items_read += 1
            elif model.name == "BatchGetItem":
                self.cost.items_read += sum(map(len, parsed.get("Responses", {}).values()))

    def counters(self) -> dict:
        """A snapshot of the counters, safe while other threads' calls update them."""
        with self._lock:
            return self.cost.counters()

    def install(self, client) -> None:
        for event, handler in self.hooks:
            client.meta.events.register(event, handler)

    def uninstall(self, client) -> None:
        for event, handler in self.hooks:
            client.meta.events.unregister(event, handler)

    @contextmanager
    def measure(self):
        """The cost of the block in this process: DynamoDB (hooks on the process's client
        only while open, so nothing else the bench times pays for them), SQL and cache."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from messaging import stats
        from messaging.dynamo.client import get_client

        cost = self.cost = Cost()
        before = stats.snapshot()
        client = get_client()
        self.install(client)
        started = time.perf_counter()
        try:
            with CaptureQueriesContext(connection) as queries:
                yield cost
        finally:
            cost.ms = (time.perf_counter() - started) * 1000
            self.uninstall(client)
        cost.sql_queries = len(queries.captured_queries)
        after = stats.snapshot()
        cost.cache = {
            name.removeprefix("cache."): after.get(name, 0) - before.get(name, 0)
            for name in (
                "cache.credentials.hit",
                "cache.credentials.miss",
                "cache.rendered.hit",
                "cache.rendered.miss",
                "cache.hit",
                "cache.miss",
                "cache.error",
            )
            if after.get(name, 0) != before.get(name, 0)
        }
