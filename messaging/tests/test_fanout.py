"""The pure fan-out core and the Lambda handler, fed fabricated stream records (the
shape DynamoDB Streams and Lambda deliver) against a real DynamoDB Local table."""

import itertools
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from messaging import services, stats
from messaging.dynamo import Member, Message, MessagingTable
from messaging.dynamo.items import inbox_item, message_item
from messaging.stream import lambda_handler
from messaging.stream.core import records_apply

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
_sequence = itertools.count(1)


@pytest.fixture
def group(messaging_table, settings, alice, bob):
    """A conversation in stream mode: rows and first message exist, nothing fanned out."""
    settings.MESSAGING_FANOUT = "stream"
    return services.conversation_start(sender=alice, handle="bob", body="hi bob").group_uuid


def stream_record(item: dict, event_name: str = "INSERT") -> dict:
    sequence = f"{next(_sequence):021d}"
    change = {
        "Keys": {"pk": item["pk"], "sk": item["sk"]},
        "SequenceNumber": sequence,
        "StreamViewType": "NEW_IMAGE",
    }
    if event_name != "REMOVE":
        change["NewImage"] = item
    return {"eventID": uuid.uuid4().hex, "eventName": event_name, "dynamodb": change}


def replies(group_uuid, sender, recipient, count) -> list[Message]:
    start = datetime.now(UTC)
    return [
        Message(
            uuid=uuid.uuid4(),
            group_uuid=group_uuid,
            sender_uuid=sender.uuid,
            member_uuids=frozenset({sender.uuid, recipient.uuid}),
            body=f"reply {n}",
            created_at=start + timedelta(milliseconds=n),
            # The conversation's first message took 1.
            seq=1 + n,
        )
        for n in range(1, count + 1)
    ]


def rows(table, group_uuid, *users):
    return [table.membership_get(user_uuid=u.uuid, group_uuid=group_uuid).row for u in users]


def test_replayed_record_does_not_raise_unread_count(messaging_table, group, alice, bob):
    (message,) = replies(group, alice, bob, 1)
    record = stream_record(message_item(message))

    first = records_apply(records=[record], table=messaging_table)
    again = records_apply(records=[record, record], table=messaging_table)

    alice_row, bob_row = rows(messaging_table, group, alice, bob)
    assert (first.updated, again.updated) == (2, 0)
    assert bob_row.unread_count == 2
    assert alice_row.unread_count == 0
    assert alice_row.position == bob_row.position == message.position


def test_out_of_order_records_end_on_the_newest_message_and_count_each_once(
    messaging_table, group, alice, bob
):
    messages = replies(group, alice, bob, 4)
    shuffled = [messages[2], messages[0], messages[3], messages[1]]

    result = records_apply(
        records=[stream_record(message_item(m)) for m in shuffled], table=messaging_table
    )

    alice_row, bob_row = rows(messaging_table, group, alice, bob)
    assert result.failed == []
    assert bob_row.last_message_body == alice_row.last_message_body == "reply 4"
    assert bob_row.position == messages[3].position
    assert bob_row.unread_count == 5


def test_a_burst_into_one_conversation_moves_each_row_once(
    messaging_table, group, alice, bob, dynamodb_requests
):
    messages = replies(group, alice, bob, 20)
    dynamodb_requests.reset()

    result = records_apply(
        records=[stream_record(message_item(m)) for m in messages], table=messaging_table
    )
    requests = dict(dynamodb_requests.calls)

    alice_row, bob_row = rows(messaging_table, group, alice, bob)
    assert requests == {"UpdateItem": 2}
    assert (result.failed, result.updated, len(result.messages)) == ([], 2, 20)
    assert bob_row.last_message_body == alice_row.last_message_body == "reply 20"
    assert (alice_row.unread_count, bob_row.unread_count) == (0, 21)


def test_each_sender_in_a_batch_reads_up_to_their_own_last_message(
    messaging_table, group, alice, bob, dynamodb_requests
):
    first, second, third = replies(group, alice, bob, 3)
    bobs = replace(second, sender_uuid=bob.uuid, body="from bob")
    dynamodb_requests.reset()

    records_apply(
        records=[stream_record(message_item(m)) for m in (third, bobs, first)],
        table=messaging_table,
    )
    requests = dict(dynamodb_requests.calls)

    alice_row, bob_row = rows(messaging_table, group, alice, bob)
    # The newest moves both rows; Bob's own message moves his read position.
    assert requests == {"UpdateItem": 3}
    assert bob_row.last_message_body == alice_row.last_message_body == "reply 3"
    assert (alice_row.unread_count, bob_row.unread_count) == (0, 1)


def test_remove_modify_and_foreign_items_are_skipped_and_change_nothing(
    messaging_table, group, alice, bob
):
    (message,) = replies(group, alice, bob, 1)
    member = Member(uuid=alice.uuid, handle=alice.handle, display_name=alice.display_name)
    foreign_row = inbox_item(owner=member, members=(member,), message=message, read=False)
    before = rows(messaging_table, group, alice, bob)

    result = records_apply(
        records=[
            stream_record(message_item(message), "REMOVE"),
            stream_record(message_item(message), "MODIFY"),
            stream_record(foreign_row),
            stream_record({"pk": {"S": "IDEM#x"}, "sk": {"S": "key"}}),
            stream_record({"pk": {"S": "SOMETHING#else"}, "sk": {"S": "1"}}),
        ],
        table=messaging_table,
    )

    assert (result.records, result.skipped, result.updated, result.failed) == (5, 5, 0, [])
    assert rows(messaging_table, group, alice, bob) == before


def test_poison_record_mid_batch_fails_alone_and_the_rest_apply(
    messaging_table, group, alice, bob
):
    messages = replies(group, alice, bob, 2)
    poison_item = message_item(messages[0])
    del poison_item["member_uuids"]
    poison_item["sk"] = {"S": "not a sort key"}
    poison = stream_record(poison_item)
    batch = [
        stream_record(message_item(messages[0])),
        poison,
        stream_record(message_item(messages[1])),
    ]

    result = records_apply(records=batch, table=messaging_table)

    assert result.failed == [poison["dynamodb"]["SequenceNumber"]]
    assert result.batch_item_failures() == [{"itemIdentifier": result.failed[0]}]
    alice_row, bob_row = rows(messaging_table, group, alice, bob)
    assert bob_row.last_message_body == alice_row.last_message_body == "reply 2"
    assert bob_row.unread_count == 3


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("pk", "MSG#a7c24482-4b2d-42b4-a398-4d4928218063"),
        ("sk", "2020-01-01T00:00:00.000000Z#3cb14538-9626-47fa-be21-6a7fc0fd4a9c"),
    ],
)
def test_message_whose_keys_disagree_with_its_fields_is_a_failure_not_a_write(
    messaging_table, group, alice, bob, key, value
):
    (message,) = replies(group, alice, bob, 1)
    forged = message_item(message)
    forged[key] = {"S": value}
    record = stream_record(forged)

    result = records_apply(records=[record], table=messaging_table)

    assert result.failed == [record["dynamodb"]["SequenceNumber"]]
    assert rows(messaging_table, group, bob)[0].unread_count == 1


def test_unreachable_table_fails_every_message_record_for_retry(
    messaging_table, group, alice, bob
):
    messages = replies(group, alice, bob, 3)
    batch = [stream_record(message_item(m)) for m in messages]

    result = records_apply(records=batch, table=MessagingTable(f"missing-{uuid.uuid4().hex}"))

    assert result.failed == [record["dynamodb"]["SequenceNumber"] for record in batch]
    assert result.messages == []


def test_summary_line_has_counts_and_no_message_body(messaging_table, group, alice, bob):
    (message,) = replies(group, alice, bob, 1)
    result = records_apply(records=[stream_record(message_item(message))], table=messaging_table)
    assert result.summary().startswith("records=1 updated=2 skipped=0 failed=0")
    assert "reply" not in result.summary()


def test_lambda_handler_reports_only_the_failed_records(
    messaging_table, group, alice, bob, monkeypatch
):
    monkeypatch.setenv("MESSAGING_TABLE", messaging_table.name)
    monkeypatch.delenv("REDIS_URL", raising=False)
    (message,) = replies(group, alice, bob, 1)
    good = stream_record(message_item(message))
    poison = stream_record({"pk": {"S": f"MSG#{group}"}, "sk": {"S": "x"}})

    response = lambda_handler.handler({"Records": [poison, good, good]}, None)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]
    }
    assert rows(messaging_table, group, bob)[0].last_message_body == "reply 1"


def test_lambda_handler_with_no_records_succeeds(messaging_table, monkeypatch):
    monkeypatch.setenv("MESSAGING_TABLE", messaging_table.name)
    assert lambda_handler.handler({"Records": []}, None) == {"batchItemFailures": []}


def test_lambda_module_imports_without_django():
    code = (
        "import sys, messaging.stream.lambda_handler, messaging.stream.core;"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert completed.returncode == 0, completed.stderr


def test_lag_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert (stats.percentile(values, 0.5), stats.percentile(values, 0.95)) == (50.0, 95.0)
    assert stats.percentile([7.0], 0.95) == 7.0
    assert stats.percentile([], 0.5) is None


# --- edits and deletions (MODIFY records) ----------------------------------------------


def _changes(message: Message) -> tuple[Message, Message]:
    edited = replace(message, body="edited", version=1, edited_at=datetime.now(UTC))
    deleted = replace(message, body="", deleted=True, version=2, edited_at=edited.edited_at)
    return edited, deleted


def test_edit_and_delete_records_in_any_order_and_replayed_leave_the_previews_deleted(
    messaging_table, group, alice, bob
):
    messages = replies(group, alice, bob, 6)
    for number, order in enumerate(itertools.permutations(range(3))):
        message = messages[number]
        edited, deleted = _changes(message)
        records = [
            stream_record(message_item(message)),
            stream_record(message_item(edited), "MODIFY"),
            stream_record(message_item(deleted), "MODIFY"),
        ]
        # One record a batch, so the order is the one given; then the lot again.
        for index in order:
            records_apply(records=[records[index]], table=messaging_table)
        for applied in ("in this order", "and replayed"):
            alice_row, bob_row = rows(messaging_table, group, alice, bob)
            assert bob_row.last_message_uuid == message.uuid, (order, applied)
            assert (bob_row.last_message_deleted, alice_row.last_message_deleted) == (
                True,
                True,
            ), (order, applied)
            assert (bob_row.last_message_body, alice_row.last_message_body) == ("", "")
            # Each message counted once, whichever record brought it.
            assert bob_row.unread_count == number + 2, (order, applied)
            assert alice_row.unread_count == 0
            records_apply(records=records, table=messaging_table)


def test_an_edit_record_counts_nothing_unread_again(messaging_table, group, alice, bob):
    (message,) = replies(group, bob, alice, 1)
    records_apply(records=[stream_record(message_item(message))], table=messaging_table)
    alice_membership = messaging_table.membership_get(user_uuid=alice.uuid, group_uuid=group)
    messaging_table.conversation_mark_read(membership=alice_membership)
    edited, _ = _changes(message)

    result = records_apply(
        records=[stream_record(message_item(edited), "MODIFY")] * 2, table=messaging_table
    )

    alice_row, bob_row = rows(messaging_table, group, alice, bob)
    assert result.updated == 2 and result.changes == [edited, edited]
    assert (alice_row.last_message_body, alice_row.unread_count) == ("edited", 0)
    assert bob_row.last_message_body == "edited"


def test_a_change_to_an_older_message_leaves_the_preview_on_the_newest(
    messaging_table, group, alice, bob
):
    older, newer = replies(group, alice, bob, 2)
    records_apply(
        records=[stream_record(message_item(older)), stream_record(message_item(newer))],
        table=messaging_table,
    )
    _, deleted = _changes(older)

    result = records_apply(
        records=[stream_record(message_item(deleted), "MODIFY")], table=messaging_table
    )

    alice_row, bob_row = rows(messaging_table, group, alice, bob)
    assert result.updated == 0
    assert bob_row.last_message_body == alice_row.last_message_body == "reply 2"
    assert bob_row.unread_count == 3
