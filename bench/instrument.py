"""What one request costs, measured rather than assumed: DynamoDB requests and consumed
capacity through botocore's event hooks on the process's client, SQL queries through
Django's CaptureQueriesContext, cache hits and misses through messaging.stats."""

import collections
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging import stats
from messaging.dynamo.client import get_client

# Operations that accept ReturnConsumedCapacity. The bench asks for it on every call so
# capacity is counted for writes and GetItems too, not only for the gateway's Queries.
CAPACITY_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
}


@dataclass
class Cost:
    dynamodb: collections.Counter = field(default_factory=collections.Counter)
    capacity: float = 0.0
    items_read: int = 0
    sql_queries: int = 0
    cache: dict = field(default_factory=dict)
    ms: float = 0.0

    def as_dict(self) -> dict:
        return {
            "dynamodb_requests": sum(self.dynamodb.values()),
            "dynamodb_by_operation": dict(sorted(self.dynamodb.items())),
            "consumed_capacity": round(self.capacity, 2),
            "items_read": self.items_read,
            "sql_queries": self.sql_queries,
            "cache": self.cache,
            "ms": round(self.ms, 2),
        }


class DynamoMeter:
    """Hooks on the shared DynamoDB client, registered only while `measure()` is open
    so that nothing else the bench times (the bare Query floor) pays for them."""

    HOOKS = (
        ("provide-client-params.dynamodb", "_ask_capacity"),
        ("before-call.dynamodb", "_count"),
        ("after-call.dynamodb", "_consumed"),
    )

    def __init__(self):
        self.cost = Cost()

    def _ask_capacity(self, params, model, **_):
        if model.name in CAPACITY_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, model, **_):
        self.cost.dynamodb[model.name] += 1

    def _consumed(self, parsed, model, **_):
        consumed = parsed.get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        self.cost.capacity += sum(entry.get("CapacityUnits", 0.0) for entry in entries)
        # Items the engine read to answer (before any filter), what a Query is billed on.
        if model.name in {"Query", "Scan"}:
            self.cost.items_read += parsed.get("ScannedCount", 0)
        elif model.name == "GetItem" and parsed.get("Item"):
            self.cost.items_read += 1

    @contextmanager
    def measure(self):
        cost = self.cost = Cost()
        before = stats.snapshot()
        events = get_client().meta.events
        for event, handler in self.HOOKS:
            events.register(event, getattr(self, handler))
        started = time.perf_counter()
        try:
            with CaptureQueriesContext(connection) as queries:
                yield cost
        finally:
            cost.ms = (time.perf_counter() - started) * 1000
            for event, handler in self.HOOKS:
                events.unregister(event, getattr(self, handler))
        cost.sql_queries = len(queries.captured_queries)
        after = stats.snapshot()
        cost.cache = {
            name.removeprefix("cache."): after.get(name, 0) - before.get(name, 0)
            for name in ("cache.hit", "cache.miss", "cache.error")
            if after.get(name, 0) != before.get(name, 0)
        }
