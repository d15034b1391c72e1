"""Stream fan-out lag and read-aside cache hit rate, measured on a scripted session.

    .venv/bin/python bench/fanout_cache.py [--messages 200] [--pace 0.5] [--rounds 20]
        [--think 0.5]

Starts its own DynamoDB Local (in memory, on a free loopback port), a throwaway test
database and table, and the stream worker in a thread (the same StreamPoller and
fan-out as `manage.py ddb_stream`). The cache is whatever settings configure: Redis
when REDIS_URL is set, else the local file cache.

- Lag: creation time of each message (stamped by the request) to the moment the
  worker's fan-out of it completed, from the worker's own `fanout.lag_ms` samples.
  Two runs: a burst (all messages back to back) and paced sends (`--pace` seconds
  apart, which leaves the worker idle between messages).
- Hit rate: `rounds` of a two-person session through the selectors and services the
  pages and API call: open the inbox, open the conversation, reply, and reload the inbox.
  The hit rate is reported with the default settle delay and with none.

Prints one JSON object.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cruddur.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between paced sends")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--think", type=float, default=0.5, help="seconds between a reply and the next round"
    )
    args = parser.parse_args()

    from devtools import dynamodb_local

    port = dynamodb_local.free_port()
    engine = dynamodb_local.start(port=port)
    endpoint = f"http://{dynamodb_local.HOST}:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL_DYNAMODB=endpoint,
        AWS_ENDPOINT_URL_DYNAMODBSTREAMS=endpoint,
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        print(json.dumps(run(args), indent=2))
    finally:
        dynamodb_local.stop(engine)


def run(args) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    databases = setup_databases(verbosity=0, interactive=False)
    from messaging.dynamo import MessagingTable

    table = MessagingTable(f"bench-{uuid.uuid4().hex[:8]}")
    table.create()
    settings.MESSAGING_TABLE = table.name
    settings.MESSAGING_FANOUT = "stream"
    try:
        with worker(table.name, settings.VAR_DIR):
            return {
                "cache_backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
                "fanout_lag_burst_ms": lag(count=args.messages, pace=0),
                "fanout_lag_paced_ms": lag(count=max(1, args.messages // 4), pace=args.pace),
                "cache_session": session(rounds=args.rounds, think=args.think, settle=None),
                "cache_session_no_settle": session(
                    rounds=args.rounds, think=args.think, settle=0.0
                ),
            }
    finally:
        table.drop()
        teardown_databases(databases, verbosity=0)


class worker:
    """The stream worker in a thread, with a throwaway checkpoint."""

    def __init__(self, table_name: str, var_dir: Path):
        from messaging.dynamo.streams import FileCheckpoints, StreamPoller, StreamReader

        from messaging import services

        self._directory = tempfile.TemporaryDirectory(dir=var_dir if var_dir.exists() else None)
        checkpoint = Path(self._directory.name) / "checkpoint.json"
        self.stop = threading.Event()
        self.poller = StreamPoller(
            reader=StreamReader(table_name),
            checkpoints=FileCheckpoints(checkpoint),
            process=lambda records: services.inbox_fanout_apply(records=records).failed,
            dead_letters=checkpoint.with_suffix(".dead.jsonl"),
            idle_max=0.25,
        )
        self.thread = threading.Thread(target=self.poller.run, kwargs={"stop": self.stop})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self._directory.cleanup()


def _users(prefix: str):
    from accounts.models import User

    tag = uuid.uuid4().hex[:6]
    return [
        User.objects.create_user(f"{prefix}{tag}{n}", display_name=f"{prefix} {n}")
        for n in range(2)
    ]


def _wait_for_unread(user, group_uuid, count: int, *, seconds: float = 60.0) -> None:
    from messaging.store import messaging_table

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = messaging_table().inbox_row_get(user_uuid=user.uuid, group_uuid=group_uuid)
        if row.unread_count >= count:
            return
        time.sleep(0.01)
    raise RuntimeError("the stream worker did not catch up")


def lag(*, count: int, pace: float) -> dict:
    from messaging import services, stats

    sender, recipient = _users("lag")
    group = services.conversation_start(sender=sender, handle=recipient.handle, body="start")
    _wait_for_unread(recipient, group.group_uuid, 1)
    stats.reset()
    for n in range(count):
        services.message_create(sender=sender, group_uuid=group.group_uuid, body=f"m{n}")
        if pace:
            time.sleep(pace)
    _wait_for_unread(recipient, group.group_uuid, count + 1)
    samples = stats.snapshot()["fanout.lag_ms"]
    return {key: round(value, 1) if value else value for key, value in samples.items()}


def session(*, rounds: int, think: float, settle: float | None) -> dict:
    from django.conf import settings

    from messaging import selectors, services, stats

    if settle is not None:
        settings.MESSAGING_CACHE_SETTLE = settle
    first, second = _users("chat")
    group = services.conversation_start(
        sender=first, handle=second.handle, body="hello"
    ).group_uuid
    _wait_for_unread(second, group, 1)
    stats.reset()
    reads = 0
    for n in range(rounds):
        sender, reader = (first, second) if n % 2 else (second, first)
        for _ in range(3):
            selectors.inbox_list(user=reader)
            selectors.inbox_list(user=sender)
            reads += 2
        selectors.conversation_detail(user=reader, group_uuid=group)
        services.conversation_mark_read(user=reader, group_uuid=group)
        selectors.conversation_detail(user=sender, group_uuid=group)
        reads += 2
        services.message_create(sender=sender, group_uuid=group, body=f"round {n}")
        time.sleep(think)
    snapshot = stats.snapshot()
    return {
        "reads": reads,
        "cache_hits": snapshot.get("cache.hit", 0),
        "cache_misses": snapshot.get("cache.miss", 0),
        "cache_errors": snapshot.get("cache.error", 0),
        "hit_rate": round(stats.cache_hit_rate() or 0.0, 3),
        "settle_seconds": settings.MESSAGING_CACHE_SETTLE,
    }


if __name__ == "__main__":
    main()
