import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections

from messaging import selectors, services
from messaging.dynamo import Message, keys
from messaging.dynamo import table as table_module
from messaging.dynamo.bulk import BulkLoader
from messaging.errors import IdempotencyKeyReused, Invalid, NotFound

pytestmark = pytest.mark.django_db


def test_start_creates_one_group_with_both_inbox_rows(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="@bob", body="hi bob")

    alice_inbox = selectors.inbox_list(user=alice).items
    bob_inbox = selectors.inbox_list(user=bob).items
    assert [c.group_uuid for c in alice_inbox] == [sent.group_uuid]
    assert [c.group_uuid for c in bob_inbox] == [sent.group_uuid]
    assert alice_inbox[0].other.handle == "bob"
    assert bob_inbox[0].other.handle == "alice"
    assert bob_inbox[0].last_message == "hi bob"
    assert (alice_inbox[0].unread_count, bob_inbox[0].unread_count) == (0, 1)


def test_start_twice_reopens_the_same_group(messaging_table, alice, bob):
    first = services.conversation_start(sender=alice, handle="bob", body="one")
    second = services.conversation_start(sender=bob, handle="ALICE", body="two")
    third = services.conversation_start(sender=alice, handle="bob", body="three")

    assert first.group_uuid == second.group_uuid == third.group_uuid
    messages = selectors.message_list(user=alice, group_uuid=first.group_uuid).items
    assert [m.body for m in messages] == ["one", "two", "three"]
    assert len(selectors.inbox_list(user=alice).items) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_by_both_members_create_one_group(messaging_table, alice, bob):
    results = []

    def start(sender, handle):
        try:
            results.append(services.conversation_start(sender=sender, handle=handle, body="hey"))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=start, args=(alice, "bob")),
        threading.Thread(target=start, args=(bob, "alice")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({message.group_uuid for message in results}) == 1
    assert len(selectors.inbox_list(user=alice).items) == 1
    assert len(selectors.message_list(user=bob, group_uuid=results[0].group_uuid).items) == 2


def test_new_conversation_is_a_single_transaction(messaging_table, alice, bob, dynamodb_requests):
    services.conversation_start(sender=alice, handle="bob", body="hi")
    assert dynamodb_requests == {"TransactWriteItems": 1}


def test_reply_is_one_membership_read_and_one_transaction(
    messaging_table, alice, bob, dynamodb_requests
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    dynamodb_requests.reset()

    services.message_create(sender=bob, group_uuid=sent.group_uuid, body="hello")

    assert dynamodb_requests == {"BatchGetItem": 1, "TransactWriteItems": 1}


def test_reply_moves_both_inbox_rows_and_counts_unread_for_recipient_only(
    messaging_table, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    services.message_create(sender=alice, group_uuid=sent.group_uuid, body="are you there?")

    (bob_row,) = selectors.inbox_list(user=bob).items
    (alice_row,) = selectors.inbox_list(user=alice).items
    assert bob_row.last_message == alice_row.last_message == "are you there?"
    assert bob_row.unread_count == 2
    assert alice_row.unread_count == 0


def test_non_member_cannot_read_or_post_and_gets_not_found(
    messaging_table, alice, bob, user_factory
):
    mallory = user_factory("mallory")
    sent = services.conversation_start(sender=alice, handle="bob", body="secret")

    with pytest.raises(NotFound):
        selectors.message_list(user=mallory, group_uuid=sent.group_uuid)
    with pytest.raises(NotFound):
        services.message_create(sender=mallory, group_uuid=sent.group_uuid, body="let me in")
    with pytest.raises(NotFound):
        selectors.message_list(user=mallory, group_uuid=uuid.uuid4())
    assert [
        m.body for m in selectors.message_list(user=bob, group_uuid=sent.group_uuid).items
    ] == ["secret"]


@pytest.mark.parametrize(
    ("body", "field"),
    [("", "message"), ("   \n ", "message"), ("x" * 1025, "message"), (None, "message")],
)
def test_bad_message_body_is_invalid_and_writes_nothing(
    messaging_table, alice, bob, body, field, dynamodb_requests
):
    with pytest.raises(Invalid) as error:
        services.conversation_start(sender=alice, handle="bob", body=body)
    assert error.value.field == field
    assert dynamodb_requests == {}


def test_message_of_exactly_1024_characters_is_accepted(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="y" * 1024)
    assert len(sent.body) == 1024


def test_unknown_handle_is_not_found(messaging_table, alice):
    with pytest.raises(NotFound):
        services.conversation_start(sender=alice, handle="nobody_here", body="hello?")


def test_messaging_yourself_is_invalid(messaging_table, alice):
    with pytest.raises(Invalid) as error:
        services.conversation_start(sender=alice, handle="Alice", body="note to self")
    assert error.value.field == "handle"


def test_malformed_group_uuid_is_invalid(messaging_table, alice):
    with pytest.raises(Invalid) as error:
        services.message_create(sender=alice, group_uuid="not-a-uuid", body="hi")
    assert error.value.field == "message_group_uuid"


def test_two_messages_with_the_same_timestamp_both_survive(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="first")
    moment = datetime.now(UTC) + timedelta(seconds=1)
    BulkLoader(messaging_table.name).messages_put(
        [
            _message(sent.group_uuid, alice, bob, body, moment)
            for body in ("same instant A", "same instant B")
        ],
        batch=False,
    )

    bodies = [m.body for m in selectors.message_list(user=bob, group_uuid=sent.group_uuid).items]
    assert sorted(bodies[1:]) == ["same instant A", "same instant B"]


def test_message_put_never_overwrites_an_existing_message(messaging_table, alice, bob):
    from botocore.exceptions import ClientError

    sent = services.conversation_start(sender=alice, handle="bob", body="original")
    forged = _message(
        sent.group_uuid, alice, bob, "forged", sent.created_at, message_uuid=sent.uuid
    )

    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        BulkLoader(messaging_table.name).messages_put([forged], batch=False)
    messages = selectors.message_list(user=bob, group_uuid=sent.group_uuid).items
    assert [m.body for m in messages] == ["original"]


def test_idempotent_retry_returns_the_first_message_and_writes_nothing(
    messaging_table, alice, bob
):
    first = services.conversation_start(
        sender=alice, handle="bob", body="once", idempotency_key="k-1"
    )
    retry = services.conversation_start(
        sender=alice, handle="bob", body="once", idempotency_key="k-1"
    )
    again = services.message_create(
        sender=alice, group_uuid=first.group_uuid, body="twice", idempotency_key="k-2"
    )
    again_retry = services.message_create(
        sender=alice, group_uuid=first.group_uuid, body="twice", idempotency_key="k-2"
    )

    assert retry.uuid == first.uuid
    assert again_retry.uuid == again.uuid
    bodies = [m.body for m in selectors.message_list(user=bob, group_uuid=first.group_uuid).items]
    assert bodies == ["once", "twice"]
    assert selectors.inbox_list(user=bob).items[0].unread_count == 2


def test_reused_idempotency_key_with_another_body_is_rejected(messaging_table, alice, bob):
    services.conversation_start(sender=alice, handle="bob", body="once", idempotency_key="k")
    with pytest.raises(IdempotencyKeyReused):
        services.conversation_start(sender=alice, handle="bob", body="other", idempotency_key="k")


def test_mark_read_clears_unread_and_skips_the_write_when_already_read(
    messaging_table, alice, bob, dynamodb_requests
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    services.message_create(sender=alice, group_uuid=sent.group_uuid, body="hi again")

    assert services.conversation_mark_read(user=bob, group_uuid=sent.group_uuid) is True
    assert selectors.inbox_list(user=bob).items[0].unread_count == 0
    dynamodb_requests.reset()
    assert services.conversation_mark_read(user=bob, group_uuid=sent.group_uuid) is False
    assert dynamodb_requests == {"BatchGetItem": 1}


def test_message_after_mark_read_is_unread_again(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    services.conversation_mark_read(user=bob, group_uuid=sent.group_uuid)
    services.message_create(sender=alice, group_uuid=sent.group_uuid, body="new")
    assert selectors.inbox_list(user=bob).items[0].unread_count == 1


def test_reply_is_stamped_after_a_newer_message_from_a_skewed_clock(
    messaging_table, alice, bob, monkeypatch
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    future = datetime.now(UTC) + timedelta(minutes=5)

    class FastClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return future

    # Another web server whose clock runs five minutes fast sends first.
    with monkeypatch.context() as fast_server:
        fast_server.setattr(table_module, "datetime", FastClock)
        services.message_create(sender=alice, group_uuid=sent.group_uuid, body="from a fast clock")

    reply = services.message_create(sender=bob, group_uuid=sent.group_uuid, body="reply")

    assert reply.created_at > future
    (alice_row,) = selectors.inbox_list(user=alice).items
    assert alice_row.last_message == "reply"


def _message(group_uuid, sender, recipient, body, moment, message_uuid=None):
    return Message(
        uuid=message_uuid or uuid.uuid4(),
        group_uuid=group_uuid,
        sender_uuid=sender.uuid,
        member_uuids=frozenset({sender.uuid, recipient.uuid}),
        body=body,
        created_at=moment,
    )


def test_keys_order_by_time_across_years():
    december = keys.message_sk(datetime(2025, 12, 31, 23, 59, 59, 999999, UTC), uuid.uuid4())
    january = keys.message_sk(datetime(2026, 1, 1, 0, 0, 0, 0, UTC), uuid.uuid4())
    assert december < january


def test_fifty_concurrent_writers_into_one_conversation_are_all_accepted(
    messaging_table, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    barrier = threading.Barrier(50)
    errors = []

    def write(n):
        barrier.wait()
        try:
            services.message_create(sender=alice if n % 2 else bob, group_uuid=group, body=f"{n}")
        except Exception as exc:
            errors.append(exc)
        connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    bodies = []
    cursor = None
    while True:
        page = selectors.message_list(user=bob, group_uuid=group, page_size=100, cursor=cursor)
        bodies = [m.body for m in page.items] + bodies
        if not (cursor := page.next_cursor):
            break
    assert bodies[0] == "hi"
    assert sorted(bodies[1:]) == sorted(f"{n}" for n in range(50))
