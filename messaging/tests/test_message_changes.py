"""Editing and deleting messages (services/message_changes.py and the gateway's
conditional updates under them), on DynamoDB Local."""

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from messaging import selectors, services
from messaging.dynamo import Message, schema
from messaging.dynamo.errors import MessageChangeRefused
from messaging.dynamo.items import message_item
from messaging.errors import Forbidden, Invalid, NotFound

pytestmark = pytest.mark.django_db


def record(table, user, group_uuid, message_uuid) -> Message:
    found = table.message_find(group_uuid=group_uuid, message_uuid=message_uuid)
    assert found is not None
    return found


def preview(user, group_uuid):
    (row,) = [c for c in selectors.inbox_list(user=user).items if c.group_uuid == group_uuid]
    return row


def test_sender_edits_within_the_window_and_the_message_shows_edited(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="helo")

    edited = services.message_edit(
        user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body=" hello "
    )

    assert edited.body == "hello" and edited.edited_at is not None and not edited.deleted
    (shown,) = selectors.message_list(user=bob, group_uuid=sent.group_uuid).items
    assert (shown.body, shown.edited_at) == ("hello", edited.edited_at)
    assert record(messaging_table, alice, sent.group_uuid, sent.uuid).version == 1


def test_edit_of_the_last_message_moves_every_members_preview_without_unread(
    messaging_table, user_factory, alice, bob
):
    user_factory("carol")
    sent = services.group_start(sender=alice, handles=["bob", "carol"], body="lunch at 12?")
    carol = selectors.user_get_by_handle(handle="carol")

    services.message_edit(
        user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="lunch at 1?"
    )

    for member in (alice, bob, carol):
        assert preview(member, sent.group_uuid).last_message == "lunch at 1?"
    assert preview(bob, sent.group_uuid).unread_count == 1
    assert preview(alice, sent.group_uuid).unread_count == 0


def test_edit_of_an_older_message_leaves_the_previews_on_the_newest(
    messaging_table, alice, bob, dynamodb_requests
):
    first = services.conversation_start(sender=alice, handle="bob", body="first")
    services.message_create(sender=bob, group_uuid=first.group_uuid, body="newest")
    dynamodb_requests.reset()

    services.message_edit(
        user=alice, group_uuid=first.group_uuid, message_uuid=first.uuid, body="first!"
    )

    # Membership, the uuid index, the item, the change: no preview update was needed.
    assert dynamodb_requests == {
        "BatchGetItem": 1,
        "Query": 1,
        "GetItem": 1,
        "TransactWriteItems": 1,
    }
    assert preview(alice, first.group_uuid).last_message == "newest"
    assert preview(bob, first.group_uuid).last_message == "newest"


def test_only_the_sender_may_edit_or_delete(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="mine")

    with pytest.raises(Forbidden):
        services.message_edit(
            user=bob, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="x"
        )
    with pytest.raises(Forbidden):
        services.message_delete(user=bob, group_uuid=sent.group_uuid, message_uuid=sent.uuid)

    (shown,) = selectors.message_list(user=alice, group_uuid=sent.group_uuid).items
    assert (shown.body, shown.deleted, shown.edited_at) == ("mine", False, None)


def test_bad_body_is_invalid_and_changes_nothing(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="mine")

    for body in ("", "   ", 12345, "x" * 1025, "bell\x07"):
        with pytest.raises(Invalid):
            services.message_edit(
                user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body=body
            )

    assert record(messaging_table, alice, sent.group_uuid, sent.uuid).version == 0


def test_an_edit_past_the_window_is_refused(messaging_table, settings, alice, bob):
    settings.MESSAGING_EDIT_WINDOW = 0
    sent = services.conversation_start(sender=alice, handle="bob", body="too late")

    with pytest.raises(Forbidden, match="can be edited for 0 seconds after sending"):
        services.message_edit(
            user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="fixed"
        )


def _aged_message(table, alice, bob, *, age: timedelta):
    """A message of alice's sent `age` ago, written straight into the conversation."""
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    old = Message(
        uuid=uuid.uuid4(),
        group_uuid=sent.group_uuid,
        sender_uuid=alice.uuid,
        member_uuids=frozenset({alice.uuid, bob.uuid}),
        body="from a while ago",
        created_at=datetime.now(UTC) - age,
        seq=1,
    )
    table.client.put_item(TableName=table.name, Item=message_item(old))
    membership = table.membership_get(user_uuid=alice.uuid, group_uuid=sent.group_uuid)
    return membership, old


def test_the_tables_condition_refuses_an_edit_one_second_past_the_window(
    messaging_table, alice, bob
):
    window = timedelta(seconds=900)
    membership, old = _aged_message(messaging_table, alice, bob, age=window + timedelta(seconds=1))

    # The gateway directly: no service check stands in front of the condition.
    with pytest.raises(MessageChangeRefused) as refused:
        messaging_table.message_edit(membership=membership, message=old, body="x", window=window)
    edited = messaging_table.message_edit(
        membership=membership, message=old, body="y", window=window + timedelta(seconds=30)
    )

    assert refused.value.reason == "window"
    assert edited.body == "y"
    assert record(messaging_table, alice, old.group_uuid, old.uuid).body == "y"


def test_the_tables_condition_refuses_someone_elses_edit_even_from_the_gateway(
    messaging_table, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="mine")
    bobs = messaging_table.membership_get(user_uuid=bob.uuid, group_uuid=sent.group_uuid)
    message = record(messaging_table, alice, sent.group_uuid, sent.uuid)

    with pytest.raises(MessageChangeRefused) as refused:
        messaging_table.message_edit(
            membership=bobs, message=message, body="x", window=timedelta(hours=1)
        )
    with pytest.raises(MessageChangeRefused):
        messaging_table.message_delete(membership=bobs, message=message)

    assert refused.value.reason == "sender"
    assert record(messaging_table, alice, sent.group_uuid, sent.uuid).body == "mine"


def test_an_edit_from_a_stale_read_applies_after_the_change_it_lost_to(
    messaging_table, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="v0")
    membership = messaging_table.membership_get(user_uuid=alice.uuid, group_uuid=sent.group_uuid)
    stale = record(messaging_table, alice, sent.group_uuid, sent.uuid)
    window = timedelta(hours=1)

    messaging_table.message_edit(membership=membership, message=stale, body="v1", window=window)
    last = messaging_table.message_edit(
        membership=membership, message=stale, body="v2", window=window
    )

    assert last.version == 2
    assert record(messaging_table, alice, sent.group_uuid, sent.uuid).body == "v2"


def test_no_edit_after_a_deletion_even_from_a_read_made_before_it(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="oops")
    membership = messaging_table.membership_get(user_uuid=alice.uuid, group_uuid=sent.group_uuid)
    before = record(messaging_table, alice, sent.group_uuid, sent.uuid)
    services.message_delete(user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid)

    with pytest.raises(MessageChangeRefused) as refused:
        messaging_table.message_edit(
            membership=membership, message=before, body="back", window=timedelta(hours=1)
        )
    with pytest.raises(Forbidden):
        services.message_edit(
            user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="back"
        )

    assert refused.value.reason == "deleted"


def test_a_deleted_messages_body_is_absent_from_a_table_scan(
    messaging_table, table_admin, alice, bob
):
    secret = "my door code is 4711"
    sent = services.conversation_start(
        sender=alice, handle="bob", body=secret, idempotency_key="start-1"
    )
    reply = services.message_create(
        sender=alice, group_uuid=sent.group_uuid, body=secret + "!", idempotency_key="reply-1"
    )
    assert secret in json.dumps(list(table_admin.scan()))

    services.message_delete(user=alice, group_uuid=sent.group_uuid, message_uuid=reply.uuid)
    services.message_delete(user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid)

    # Not in the messages, the idempotency records' copies or any inbox preview.
    assert secret not in json.dumps(list(table_admin.scan()))


def test_a_deleted_message_stays_in_place_as_deleted_and_pages_hold(messaging_table, alice, bob):
    first = services.conversation_start(sender=alice, handle="bob", body="one")
    second = services.message_create(sender=alice, group_uuid=first.group_uuid, body="two")
    services.message_create(sender=bob, group_uuid=first.group_uuid, body="three")

    services.message_delete(user=alice, group_uuid=first.group_uuid, message_uuid=second.uuid)
    # Deleting again is not an error and changes nothing.
    services.message_delete(user=alice, group_uuid=first.group_uuid, message_uuid=second.uuid)

    page = selectors.message_list(user=bob, group_uuid=first.group_uuid, page_size=2)
    assert [(m.body, m.deleted) for m in page.items] == [("", True), ("three", False)]
    older = selectors.message_list(user=bob, group_uuid=first.group_uuid, cursor=page.next_cursor)
    assert [m.body for m in older.items] == ["one"]
    assert record(messaging_table, alice, first.group_uuid, second.uuid).version == 1


def test_deleting_the_last_message_empties_every_preview(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="regret")

    services.message_delete(user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid)

    for member in (alice, bob):
        row = preview(member, sent.group_uuid)
        assert (row.last_message, row.last_message_deleted) == ("", True)


def test_non_members_and_other_conversations_get_not_found(
    messaging_table, user_factory, alice, bob
):
    mallory = user_factory("mallory")
    sent = services.conversation_start(sender=alice, handle="bob", body="private")
    elsewhere = services.conversation_start(sender=alice, handle="mallory", body="hi")

    with pytest.raises(NotFound):
        services.message_edit(
            user=mallory, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="x"
        )
    with pytest.raises(NotFound):
        services.message_delete(user=mallory, group_uuid=sent.group_uuid, message_uuid=sent.uuid)
    # A member of both, naming the message under the wrong conversation.
    with pytest.raises(NotFound):
        services.message_delete(
            user=alice, group_uuid=elsewhere.group_uuid, message_uuid=sent.uuid
        )
    with pytest.raises(NotFound):
        services.message_delete(user=alice, group_uuid=sent.group_uuid, message_uuid=uuid.uuid4())

    assert selectors.message_list(user=bob, group_uuid=sent.group_uuid).items[0].body == "private"


def test_a_message_the_uuid_index_does_not_list_yet_is_found_among_the_newest(
    messaging_table, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="just now")
    events = messaging_table.client.meta.events

    def lagging_index(parsed, model, **_):
        # AWS's index is eventually consistent: a message sent a moment ago may be absent.
        # Only the index's answers hold nothing but keys (KEYS_ONLY).
        index_answer = parsed.get("Items") and set(parsed["Items"][0]) == {
            "pk",
            "sk",
            "message_uuid",
        }
        if model.name == "Query" and index_answer:
            parsed["Items"], parsed["Count"] = [], 0

    events.register("after-call.dynamodb.Query", lagging_index)
    try:
        found = messaging_table.message_find(group_uuid=sent.group_uuid, message_uuid=sent.uuid)
    finally:
        events.unregister("after-call.dynamodb.Query", lagging_index)

    assert found is not None and found.body == "just now"


def test_an_edit_shows_on_the_next_read_of_a_cached_page(messaging_table, settings, alice, bob):
    settings.MESSAGING_CACHE_TTL = 600
    sent = services.conversation_start(sender=alice, handle="bob", body="before")
    assert selectors.message_list(user=bob, group_uuid=sent.group_uuid).items[0].body == "before"

    services.message_edit(
        user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="after"
    )

    assert selectors.message_list(user=bob, group_uuid=sent.group_uuid).items[0].body == "after"
    assert preview(bob, sent.group_uuid).last_message == "after"


def test_the_edit_moves_the_conversation_version_that_keys_cached_pages(
    messaging_table, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="before")
    version = messaging_table.membership_get(
        user_uuid=bob.uuid, group_uuid=sent.group_uuid
    ).conversation.version

    services.message_edit(
        user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="after"
    )
    services.message_delete(user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid)

    after = messaging_table.membership_get(user_uuid=bob.uuid, group_uuid=sent.group_uuid)
    assert after.conversation.version == version + 2
    assert replace(after.row, unread_count=0).last_message_deleted


def test_the_refusal_names_the_configured_window(messaging_table, alice, bob):
    _, old = _aged_message(messaging_table, alice, bob, age=timedelta(minutes=16))

    with pytest.raises(Forbidden, match="can be edited for 15 minutes after sending"):
        services.message_edit(
            user=alice, group_uuid=old.group_uuid, message_uuid=old.uuid, body="x"
        )


def test_a_deletion_still_lands_when_the_idempotency_record_it_scrubs_has_expired(
    messaging_table, table_admin, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    reply = services.message_create(sender=alice, group_uuid=sent.group_uuid, body="soon gone")
    events = messaging_table.client.meta.events

    def lagging_index(parsed, model, **_):
        # The index still lists a record that TTL's sweeper has just deleted.
        if (
            model.name == "Query"
            and parsed.get("Items")
            and set(parsed["Items"][0])
            == {
                "pk",
                "sk",
                "message_uuid",
            }
        ):
            parsed["Items"].append(
                {
                    "pk": {"S": f"IDEM#{alice.uuid}"},
                    "sk": {"S": "swept-key"},
                    "message_uuid": {"S": str(reply.uuid)},
                }
            )

    events.register("after-call.dynamodb.Query", lagging_index)
    try:
        services.message_delete(user=alice, group_uuid=sent.group_uuid, message_uuid=reply.uuid)
    finally:
        events.unregister("after-call.dynamodb.Query", lagging_index)

    (shown,) = [
        m for m in selectors.message_list(user=bob, group_uuid=sent.group_uuid).items if m.deleted
    ]
    assert shown.uuid == reply.uuid
    # No record was made up for the key that was gone.
    assert not [item for item in table_admin.scan() if item["sk"]["S"] == "swept-key"]


@pytest.fixture
def index_capacity(messaging_table):
    """Write capacity by index, as DynamoDB reports it (ReturnConsumedCapacity=INDEXES on
    every TransactWriteItems)."""
    events = messaging_table.client.meta.events
    consumed: list[dict] = []

    def ask(params, **_):
        params["ReturnConsumedCapacity"] = "INDEXES"

    def seen(parsed, **_):
        for entry in parsed.get("ConsumedCapacity", []):
            consumed.append(
                {
                    name: index["CapacityUnits"]
                    for name, index in entry.get("GlobalSecondaryIndexes", {}).items()
                }
            )

    events.register("before-parameter-build.dynamodb.TransactWriteItems", ask)
    events.register("after-call.dynamodb.TransactWriteItems", seen)
    yield consumed
    events.unregister("before-parameter-build.dynamodb.TransactWriteItems", ask)
    events.unregister("after-call.dynamodb.TransactWriteItems", seen)


def test_the_uuid_index_costs_a_send_one_small_entry_and_an_edit_nothing(
    messaging_table, alice, bob, index_capacity
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    index_capacity.clear()

    reply = services.message_create(sender=alice, group_uuid=sent.group_uuid, body="x" * 1000)
    services.message_edit(
        user=alice, group_uuid=sent.group_uuid, message_uuid=reply.uuid, body="y" * 1000
    )

    send, edit = index_capacity
    # One keys-only entry, whatever the body's size (DynamoDB Local bills a transactional
    # write twice: 2.0 here is one write unit).
    assert send[schema.MESSAGE_INDEX] == 2.0
    assert schema.MESSAGE_INDEX not in edit
