"""Stream fan-out on DynamoDB Local's real stream: the worker (`manage.py ddb_stream`),
its checkpoints, and stream mode against inline mode."""

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from conftest import TEST_REDIS_URL
from messaging import selectors, services
from messaging.dynamo import Member, Message, MessagingTable, keys
from messaging.dynamo.admin import TableAdmin
from messaging.dynamo.items import inbox_row_from_item, message_item
from messaging.dynamo.stream_reader import TRIM_HORIZON, StreamReader
from messaging.stream.checkpoints import FileCheckpoints
from messaging.stream.poller import StreamPoller

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stream_mode(settings):
    settings.MESSAGING_FANOUT = "stream"


@pytest.fixture
def checkpoint(tmp_path):
    return tmp_path / "stream" / "checkpoint.json"


def drain(checkpoint: Path, *options: str) -> str:
    out = io.StringIO()
    call_command("ddb_stream", "--once", "--checkpoint", str(checkpoint), *options, stdout=out)
    return out.getvalue()


def every_record(table: MessagingTable) -> list[dict]:
    reader = StreamReader(table.name)
    arn = reader.stream_arn()
    records = []
    for shard in reader.shards(arn):
        iterator = reader.iterator(arn, shard.shard_id, after=None, start=TRIM_HORIZON)
        while iterator:
            batch, iterator = reader.read(iterator, limit=1000)
            if not batch:
                break
            records.extend(batch)
    return records


def row(table, user, group_uuid):
    return table.membership_get(user_uuid=user.uuid, group_uuid=group_uuid).row


def raw_message(group, sender, recipient, body, *, seq):
    return message_item(
        Message(
            uuid=uuid.uuid4(),
            group_uuid=group,
            sender_uuid=sender.uuid,
            member_uuids=frozenset({sender.uuid, recipient.uuid}),
            body=body,
            created_at=datetime.now(UTC),
            seq=seq,
        )
    )


def test_worker_moves_both_inboxes_for_messages_written_in_stream_mode(
    messaging_table, stream_mode, alice, bob, checkpoint
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    for body in ("one", "two", "three"):
        services.message_create(sender=alice, group_uuid=group, body=body)
    assert row(messaging_table, bob, group).last_message_body == "hi"

    output = drain(checkpoint)

    assert row(messaging_table, bob, group).last_message_body == "three"
    assert row(messaging_table, alice, group).last_message_body == "three"
    assert row(messaging_table, bob, group).unread_count == 4
    assert row(messaging_table, alice, group).unread_count == 0
    assert ", 0 set aside" in output
    assert ", 0 records" in drain(checkpoint)


def test_real_stream_batch_with_duplicates_reordering_remove_foreign_and_poison(
    messaging_table, stream_mode, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    services.message_create(sender=alice, group_uuid=group, body="one")
    poison = raw_message(group, alice, bob, "poison", seq=99)
    del poison["sender_uuid"]
    messaging_table.client.put_item(TableName=messaging_table.name, Item=poison)
    services.message_create(sender=bob, group_uuid=group, body="two")
    services.message_create(sender=alice, group_uuid=group, body="three")
    # An operator deleting the poison item: a REMOVE record for a message key.
    messaging_table.client.delete_item(
        TableName=messaging_table.name, Key={"pk": poison["pk"], "sk": poison["sk"]}
    )
    records = every_record(messaging_table)
    messages = [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"].startswith("MSG#")]
    events = [r["eventName"] for r in records]
    assert events.count("REMOVE") == 1
    # Foreign items: the two inbox rows and the conversation item (created, then moved on
    # by each of the three sends).
    assert len(records) - len(messages) == 6
    poison_sequence = next(
        r["dynamodb"]["SequenceNumber"]
        for r in messages
        if r["eventName"] == "INSERT" and "sender_uuid" not in r["dynamodb"]["NewImage"]
    )
    batch = [*records, *reversed(messages), *records]

    result = services.inbox_fanout_apply(records=batch)

    assert result.failed == [poison_sequence] * 3
    alice_row, bob_row = row(messaging_table, alice, group), row(messaging_table, bob, group)
    assert alice_row.last_message_body == bob_row.last_message_body == "three"
    # Sending reads the conversation up to the sent message, as in every chat product.
    assert bob_row.unread_count == 1  # three, after his own "two"
    assert alice_row.unread_count == 0  # she sent the last one
    assert services.inbox_fanout_apply(records=batch).updated == 0


def test_worker_sets_a_poison_record_aside_and_goes_on(
    messaging_table, stream_mode, alice, bob, checkpoint
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    poison = raw_message(group, alice, bob, "secret body", seq=99)
    poison["created_at"] = {"S": "yesterday"}
    messaging_table.client.put_item(TableName=messaging_table.name, Item=poison)
    services.message_create(sender=alice, group_uuid=group, body="after the poison")

    output = drain(checkpoint, "--max-attempts", "2")

    assert row(messaging_table, bob, group).last_message_body == "after the poison"
    assert row(messaging_table, bob, group).unread_count == 2
    dead = checkpoint.with_suffix(".dead.jsonl").read_text().splitlines()
    assert len(dead) == 1
    assert json.loads(dead[0])["keys"]["sk"] == poison["sk"]
    assert "secret body" not in dead[0]
    assert ", 1 set aside" in output
    assert ", 0 records" in drain(checkpoint)


def _script(table: MessagingTable, *, inline: bool, between) -> uuid.UUID:
    """The same conversation, message for message, in either fan-out mode; `between`
    runs wherever a member would look at their inbox."""
    members = (Member(uuid.UUID(int=1), "alice", "Alice"), Member(uuid.UUID(int=2), "bob", "Bob"))
    alice, bob = (member.uuid for member in members)
    table.conversation_create(members=members, sender_uuid=alice, body="message 0")

    def send(sender, n):
        membership = table.membership_get(user_uuid=sender, group_uuid=group)
        table.message_send(membership=membership, body=f"message {n}", fanout_inline=inline)

    group = keys.group_uuid_for_members([alice, bob])
    for n in (1, 2, 3):
        send(alice, n)
    between()
    table.conversation_mark_read(membership=table.membership_get(user_uuid=bob, group_uuid=group))
    for n in (4, 5):
        send(bob, n)
    send(alice, 6)
    between()
    return group


def _row_states(table: MessagingTable, group: uuid.UUID) -> list:
    """What each member's inbox shows, without the ids and times each run draws anew."""
    states = []
    for user in (1, 2):
        row = table.membership_get(user_uuid=uuid.UUID(int=user), group_uuid=group).row
        states.append((row.last_message_body, row.last_sender_uuid, row.unread_count, row.kind))
    return states


def test_inline_and_stream_reach_identical_inbox_rows_and_both_together_change_nothing(
    messaging_table, settings, tmp_path
):
    stream_table = MessagingTable(f"test-messages-{uuid.uuid4().hex[:12]}")
    TableAdmin(stream_table.name).create()
    try:
        settings.MESSAGING_TABLE = stream_table.name
        group = _script(
            stream_table, inline=False, between=lambda: drain(tmp_path / "stream.json")
        )
        settings.MESSAGING_TABLE = messaging_table.name
        _script(messaging_table, inline=True, between=lambda: None)
        inline_rows = _row_states(messaging_table, group)

        assert _row_states(stream_table, group) == inline_rows
        assert inline_rows[0] == ("message 6", uuid.UUID(int=1), 0, "direct")
        assert inline_rows[1] == ("message 6", uuid.UUID(int=1), 1, "direct")

        drain(tmp_path / "inline.json")
        assert _row_states(messaging_table, group) == inline_rows
    finally:
        TableAdmin(stream_table.name).drop()


def _unread_after_own_last(messages, user) -> int:
    """Messages from others after the user's own last one (sending reads up to it)."""
    count = 0
    for message in reversed(messages):
        if message.sender.uuid == user.uuid:
            break
        count += 1
    return count


@pytest.mark.parametrize("fanout", ["inline", "stream"])
def test_twenty_concurrent_senders_into_one_conversation(
    messaging_table, settings, fanout, alice, bob, checkpoint
):
    settings.MESSAGING_FANOUT = fanout
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    errors = []
    barrier = threading.Barrier(20)

    def send(sender, n):
        barrier.wait()
        try:
            services.message_create(sender=sender, group_uuid=group, body=f"burst {n}")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(alice if n % 2 else bob, n)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain(checkpoint)

    assert errors == []
    messages = selectors.message_list(user=bob, group_uuid=group, page_size=50).items
    assert len(messages) == 21
    assert len({m.created_at for m in messages}) == 21
    newest = messages[-1]
    for user in (alice, bob):
        (conversation,) = selectors.inbox_list(user=user).items
        assert conversation.last_message == newest.body
        assert conversation.last_message_at == newest.created_at
        assert conversation.unread_count == _unread_after_own_last(messages, user)


def test_replay_from_an_older_checkpoint_changes_nothing(
    messaging_table, stream_mode, alice, bob, checkpoint
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    for n in range(5):
        services.message_create(sender=alice, group_uuid=group, body=f"first {n}")
    drain(checkpoint, "--batch-size", "2")
    older = checkpoint.with_name("older.json")
    shutil.copy(checkpoint, older)
    for n in range(5):
        services.message_create(sender=bob, group_uuid=group, body=f"second {n}")
    drain(checkpoint, "--batch-size", "2")
    settled = (row(messaging_table, alice, group), row(messaging_table, bob, group))

    # A worker that died after applying the second run but before checkpointing it.
    shutil.copy(older, checkpoint)
    output = drain(checkpoint, "--batch-size", "2")

    replayed = int(re.search(r"(\d+) records", output).group(1))
    assert 5 <= replayed < len(every_record(messaging_table))
    assert (row(messaging_table, alice, group), row(messaging_table, bob, group)) == settled
    assert settled[0].unread_count == 5
    assert settled[1].unread_count == 0
    assert settled[1].last_message_body == "second 4"


def _wait_until(condition, *, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def _checkpointed(path: Path) -> str | None:
    try:
        shards = json.loads(path.read_text())["shards"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None
    sequences = [shard.get("sequence") for shard in shards.values() if shard.get("sequence")]
    return max(sequences, default=None)


def test_worker_killed_mid_stream_resumes_without_losing_or_repeating_updates(
    messaging_table, stream_mode, alice, bob, checkpoint, redis_cache
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    for n in range(30):
        services.message_create(sender=alice, group_uuid=group, body=f"before {n}")
    env = {
        **os.environ,
        "MESSAGING_TABLE": messaging_table.name,
        "REDIS_URL": TEST_REDIS_URL,
        "CACHE_KEY_PREFIX": redis_cache,
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "manage.py",
        "ddb_stream",
        "--checkpoint",
        str(checkpoint),
        "--batch-size",
        "3",
    ]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    _wait_until(lambda: _checkpointed(checkpoint) is not None)
    worker.kill()
    worker.wait()
    for n in range(10):
        services.message_create(sender=alice, group_uuid=group, body=f"after {n}")
    last_sequence = every_record(messaging_table)[-1]["dynamodb"]["SequenceNumber"]

    restarted = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # The worker's own row updates come back as MODIFY records, so it checkpoints past
    # the last message record.
    _wait_until(lambda: int(_checkpointed(checkpoint)) >= int(last_sequence))
    restarted.send_signal(signal.SIGINT)
    stdout, stderr = restarted.communicate(timeout=30)

    assert restarted.returncode == 0, stderr
    # It resumed after the killed worker's checkpoint rather than starting over.
    resumed = int(re.search(r"(\d+) records", stdout).group(1))
    assert resumed <= len(every_record(messaging_table)) - 3
    # Log lines go to stdout (settings.LOGGING), beside the command's own output.
    batch_lines = [line for line in stdout.splitlines() if "stream batch records=" in line]
    assert batch_lines
    assert not any("after" in line or "before" in line for line in batch_lines)
    (conversation,) = selectors.inbox_list(user=bob).items
    assert conversation.last_message == "after 9"
    assert conversation.unread_count == 41
    assert row(messaging_table, alice, group).last_message_body == "after 9"


def test_worker_replaying_seeded_conversations_keeps_their_unread_counts(
    messaging_table, checkpoint
):
    call_command("ddb_seed", "--password", "seed-password-123", stdout=io.StringIO())

    def unread_counts():
        return sorted(
            (item["pk"]["S"], item["sk"]["S"], inbox_row_from_item(item).unread_count)
            for item in TableAdmin(messaging_table.name).scan()
            if item["pk"]["S"].startswith("GRP#")
        )

    seeded = unread_counts()
    drain(checkpoint)

    assert unread_counts() == seeded
    assert any(count for *_, count in seeded)


def test_worker_waits_out_a_missing_table_and_then_follows_it(
    dynamodb_endpoint, settings, alice, bob, tmp_path
):
    table = MessagingTable(f"test-messages-{uuid.uuid4().hex[:12]}")
    admin = TableAdmin(table.name)
    settings.MESSAGING_TABLE = table.name
    settings.MESSAGING_FANOUT = "stream"
    poller = StreamPoller(
        reader=StreamReader(table.name),
        checkpoints=FileCheckpoints(tmp_path / "checkpoint.json"),
        process=lambda records: services.inbox_fanout_apply(records=records).failed,
        dead_letters=tmp_path / "dead.jsonl",
        idle_max=0.05,
        outage_delay=0.05,
    )
    stop = threading.Event()
    worker = threading.Thread(target=poller.run, kwargs={"stop": stop})
    worker.start()
    try:
        admin.create()
        group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
        services.message_create(sender=alice, group_uuid=group, body="after the outage")
        _wait_until(lambda: row(table, bob, group).last_message_body == "after the outage")
    finally:
        stop.set()
        worker.join()
        admin.drop()
    assert poller.totals.dead_lettered == 0


def test_worker_carries_an_edit_and_a_deletion_to_the_previews_in_stream_mode(
    messaging_table, stream_mode, alice, bob, checkpoint
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    reply = services.message_create(sender=alice, group_uuid=group, body="see you at 5")
    drain(checkpoint)
    services.message_edit(user=alice, group_uuid=group, message_uuid=reply.uuid, body="at 6")
    assert row(messaging_table, bob, group).last_message_body == "see you at 5"

    drain(checkpoint)
    assert row(messaging_table, bob, group).last_message_body == "at 6"
    services.message_delete(user=alice, group_uuid=group, message_uuid=reply.uuid)
    output = drain(checkpoint)

    bob_row = row(messaging_table, bob, group)
    assert (bob_row.last_message_body, bob_row.last_message_deleted) == ("", True)
    assert bob_row.unread_count == 2
    assert row(messaging_table, alice, group).last_message_deleted
    assert ", 0 set aside" in output
