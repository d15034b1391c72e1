"""Section 5: bulk loading, like for like. The items are built before the clock starts
(fixed costs outside the window); then the same number of messages is written with
BatchWriteItem (25 a request) and with one PutItem per message at the same number of
threads, and with one PutItem at a time on one thread (the naive loader)."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from bench import stats
from messaging.dynamo import Message
from messaging.dynamo.items import message_item
from messaging.store import messaging_table

BATCH = 25


def _items(count: int) -> list[dict]:
    """`count` message items of a group of their own (fresh keys for every run)."""
    group_uuid, sender, recipient = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start = datetime.now(UTC) - timedelta(days=1)
    return [
        message_item(
            Message(
                uuid=uuid.uuid4(),
                group_uuid=group_uuid,
                sender_uuid=sender,
                recipient_uuid=recipient,
                body=f"seeded message {index}",
                created_at=start + timedelta(milliseconds=index),
            )
        )
        for index in range(count)
    ]


def _writer(*, messages: int, threads: int, batch: bool, stack):
    table = messaging_table()

    def run() -> dict:
        items = _items(messages)
        units = [items[i : i + BATCH] for i in range(0, len(items), BATCH)] if batch else items
        write = table.batch_put if batch else table.put_item
        engine_before = stack.engine_cpu_seconds()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(write, units))
        seconds = time.perf_counter() - started
        engine_cpu = stack.engine_cpu_seconds() - engine_before
        return {
            "seconds": round(seconds, 3),
            "messages_per_s": round(messages / seconds, 1),
            "requests": len(units),
            "engine_cpu_ms_per_message": round(engine_cpu * 1000 / messages, 3),
        }

    return run


def seeding(*, stack, messages: int, threads: int, rounds: int) -> dict:
    sides = {
        "batch": _writer(messages=messages, threads=threads, batch=True, stack=stack),
        "single": _writer(messages=messages, threads=threads, batch=False, stack=stack),
        "naive": _writer(messages=messages, threads=1, batch=False, stack=stack),
    }
    samples = stats.alternate(sides, rounds=rounds)
    return {
        "messages": messages,
        "threads": threads,
        "samples": samples,
        "like_for_like": stats.ratio(
            samples["batch"], samples["single"], key="messages_per_s", digits=1
        ),
        "best_vs_naive": stats.ratio(
            samples["batch"], samples["naive"], key="messages_per_s", digits=1
        ),
    }
