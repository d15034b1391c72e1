"""Section 5: bulk loading, like for like. The items are built before the clock starts
(fixed costs outside the window); then the same number of messages is written with
BatchWriteItem (25 a request) and with one PutItem per message at the same number of
threads, and with one PutItem at a time on one thread (the naive loader)."""

import time
import uuid
from datetime import UTC, datetime, timedelta

from bench import stats
from messaging.dynamo import Message
from messaging.store import bulk_loader


def _messages(count: int) -> list[Message]:
    """`count` messages of a group of their own (fresh keys for every run)."""
    group_uuid, sender, recipient = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start = datetime.now(UTC) - timedelta(days=1)
    return [
        Message(
            uuid=uuid.uuid4(),
            group_uuid=group_uuid,
            sender_uuid=sender,
            member_uuids=frozenset({sender, recipient}),
            body=f"seeded message {index}",
            created_at=start + timedelta(milliseconds=index),
            seq=index + 1,
        )
        for index in range(count)
    ]


def _writer(*, messages: int, threads: int, batch: bool, stack):
    loader = bulk_loader()

    def run() -> dict:
        prepared = loader.messages_prepare(_messages(messages))
        engine_before = stack.engine_cpu_seconds()
        started = time.perf_counter()
        requests = loader.prepared_put(prepared, batch=batch, workers=threads)
        seconds = time.perf_counter() - started
        engine_cpu = stack.engine_cpu_seconds() - engine_before
        return {
            "seconds": round(seconds, 3),
            "messages_per_s": round(messages / seconds, 1),
            "requests": requests,
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
