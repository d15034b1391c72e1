"""Two request shapes every access pattern shares: a transaction whose parts have names
(so a cancellation is read as `reasons["sender_row"]`, never `reasons[1]`), and one page
of a Query.
"""

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from messaging.dynamo import items
from messaging.dynamo.client import time_left
from messaging.dynamo.errors import StoreUnavailable
from messaging.dynamo.records import Page

T = TypeVar("T")

# DynamoDB cancels a transaction that races another on the same item; the retry is
# cheap and the race short. Without a request deadline (workers, commands) this bounds it.
CONFLICT_ATTEMPTS = 20
CONDITION_FAILED = "ConditionalCheckFailed"


class Transaction:
    """The parts of one TransactWriteItems, each under a name."""

    def __init__(self, table_name: str):
        self.table_name = table_name
        self.parts: dict[str, dict[str, Any]] = {}

    def put(self, name: str, item: items.Item, *, condition: str, **extra: Any) -> None:
        self._add(name, "Put", {"Item": item, "ConditionExpression": condition, **extra})

    def update(self, name: str, **request: Any) -> None:
        self._add(name, "Update", request)

    def check(self, name: str, **request: Any) -> None:
        self._add(name, "ConditionCheck", request)

    def delete(self, name: str, **request: Any) -> None:
        self._add(name, "Delete", request)

    def _add(self, name: str, action: str, request: dict[str, Any]) -> None:
        if name in self.parts:
            raise ValueError(f"transaction part {name!r} given twice")
        self.parts[name] = {action: {"TableName": self.table_name, **request}}

    def run(self, client: Any) -> "Cancelled | None":
        """None on success, else the cancellation reasons by part name.

        Conflicts with a concurrent transaction (and throttling) are retried here, with
        jittered backoff, while the request's deadline allows; condition failures are
        the caller's to read.
        """
        names = list(self.parts)
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                client.transact_write_items(TransactItems=[self.parts[name] for name in names])
                return None
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [dict(reason) for reason in exc.response.get("CancellationReasons", [])]
                cancelled = Cancelled(dict(zip(names, reasons, strict=False)))
                if cancelled.any_failed() or not cancelled.codes() & {
                    "TransactionConflict",
                    "ThrottlingError",
                }:
                    return cancelled
            pause = min(0.2, 0.005 * 2**attempt) * random.uniform(0.5, 1.5)
            remaining = time_left()
            if remaining is not None and remaining < pause + 0.1:
                break
            time.sleep(pause)
        raise StoreUnavailable("transaction kept conflicting with concurrent writes")


class Cancelled:
    """Why a transaction was cancelled, part by part."""

    def __init__(self, reasons: dict[str, dict[str, Any]]):
        self.reasons = reasons

    def failed(self, name: str) -> bool:
        return self.reasons.get(name, {}).get("Code") == CONDITION_FAILED

    def old_item(self, name: str) -> items.Item | None:
        """The item as it was, for a failed part that asked for ALL_OLD."""
        return self.reasons.get(name, {}).get("Item") if self.failed(name) else None

    def failed_parts(self) -> list[str]:
        return [name for name in self.reasons if self.failed(name)]

    def any_failed(self) -> bool:
        return bool(self.failed_parts())

    def codes(self) -> set[str]:
        return {reason.get("Code", "?") for reason in self.reasons.values()}

    def describe(self) -> str:
        return ", ".join(f"{name}={reason.get('Code')}" for name, reason in self.reasons.items())


def pause_before_retry(attempt: int) -> bool:
    """Sleep a little before another optimistic attempt; False if the deadline is near."""
    pause = random.uniform(0, min(0.05, 0.002 * 2**attempt))
    remaining = time_left()
    if remaining is not None and remaining < pause + 0.1:
        return False
    time.sleep(pause)
    return True


def query_page(
    client: Any,
    request: dict[str, Any],
    *,
    limit: int,
    parse: Callable[[items.Item], T],
    position_of: Callable[[T], dict[str, Any]],
) -> Page[T]:
    """One page of a Query, newest first as the request orders it, with the position
    to resume after. One extra item tells whether another page exists without a
    trailing empty page."""
    request = {**request, "Limit": limit + 1, "ReturnConsumedCapacity": "TOTAL"}
    response = client.query(**request)
    found = [parse(item) for item in response["Items"]]
    next_position = None
    if len(found) > limit:
        found = found[:limit]
        next_position = position_of(found[-1])
    return Page(
        items=found,
        next_position=next_position,
        request=request,
        consumed_capacity=response.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0),
    )
