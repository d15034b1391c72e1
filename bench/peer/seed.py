"""Seed the peer's database with Cruddur's scale shape and sign its readers in.

    DJANGO_SETTINGS_MODULE=bench.peer.settings BENCH_PEER_DATABASE_URL=... \\
        python -m bench.peer.seed OUT.json --inbox 10 5000 --conversation 100 100000

An inbox of N conversations: N other people have sent its owner one message each. A
conversation of N messages: one thread between two people, alternating as Cruddur's
seeding does, all read. Writes to OUT.json, per kind and size, the page's path, a
session key for its reader and what one view costs in SQL.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

BATCH = 5000


def _users(prefix: str, count: int) -> list:
    from django.contrib.auth.models import User

    User.objects.bulk_create(
        [User(username=f"{prefix}{index:05d}", password="!") for index in range(count)],
        batch_size=BATCH,
    )
    return list(User.objects.filter(username__startswith=prefix).order_by("username"))


def inbox_seed(size: int) -> tuple:
    from django.utils import timezone
    from postman.models import STATUS_ACCEPTED, Message

    (owner,) = _users(f"inbox{size}_owner", 1)
    newest = timezone.now() - timedelta(minutes=1)
    Message.objects.bulk_create(
        [
            Message(
                sender=peer,
                recipient=owner,
                subject="hello",
                body=f"hello from {peer.username}",
                sent_at=newest - timedelta(minutes=index),
                moderation_status=STATUS_ACCEPTED,
            )
            for index, peer in enumerate(_users(f"inbox{size}_peer", size))
        ],
        batch_size=BATCH,
    )
    return owner, "/messages/inbox/"


def conversation_seed(size: int) -> tuple:
    from django.utils import timezone
    from postman.models import STATUS_ACCEPTED, Message

    first, second = _users(f"conv{size}_", 2)
    end = timezone.now() - timedelta(minutes=1)
    messages = []
    for index in range(size):
        sender, recipient = (first, second) if index % 3 != 1 else (second, first)
        sent_at = end - timedelta(seconds=size - 1 - index)
        messages.append(
            Message(
                sender=sender,
                recipient=recipient,
                subject="hello",
                body=f"message {index}",
                sent_at=sent_at,
                read_at=sent_at,
                moderation_status=STATUS_ACCEPTED,
            )
        )
    Message.objects.bulk_create(messages, batch_size=BATCH)
    thread = Message.objects.filter(sender__in=[first, second]).order_by("sent_at", "pk")
    head = thread.first()
    thread.update(thread=head)
    return first, f"/pages/conversation/{head.pk}/"


def reader(owner, path: str) -> dict:
    """A session for `owner` and what one view of `path` costs (after a warm view)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(owner)
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return {
        "path": path,
        "session": client.cookies["sessionid"].value,
        "sql_queries": len(queries.captured_queries),
        "bytes": len(response.content),
        # One checkbox per inbox row, one block per message of a conversation.
        "rows": response.content.count(b'type="checkbox"')
        + response.content.count(b'<div class="pm_message'),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--inbox", type=int, nargs=2, required=True)
    parser.add_argument("--conversation", type=int, nargs=2, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer.settings")
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    result: dict = {"inbox": {}, "conversation": {}}
    for kind, sizes, seed in (
        ("inbox", args.inbox, inbox_seed),
        ("conversation", args.conversation, conversation_seed),
    ):
        for label, size in zip(("small", "large"), sizes, strict=True):
            owner, path = seed(size)
            result[kind][label] = {"size": size, **reader(owner, path)}
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
