"""Live events, publish half: channel names, payloads, and publishing after the rows
move (inline sends, the stream worker, the Lambda, mark-read), over the real Redis."""

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from rest_framework.authtoken.models import Token

from devtools import dynamodb_local
from messaging import events, selectors, services
from messaging.dynamo import Message
from messaging.dynamo.items import message_item
from messaging.events import payloads
from messaging.events import publisher as publish_module
from messaging.events.channels import user_channel
from messaging.stream import lambda_handler
from messaging.tests.test_fanout import stream_record

pytestmark = pytest.mark.django_db(transaction=True)


def names(found):
    return [event.name for event in found]


def a_message(sender, *others, body="hello") -> Message:
    return Message(
        uuid=uuid.uuid4(),
        group_uuid=uuid.uuid4(),
        sender_uuid=sender.uuid,
        member_uuids=frozenset({sender.uuid, *(other.uuid for other in others)}),
        body=body,
        created_at=datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC),
        seq=1,
    )


@pytest.fixture
def redis_down():
    """A Target whose Redis refuses connections, with the outage memory reset."""
    publish_module._paused_until.clear()
    publish_module._warned_at.clear()
    yield events.Target(
        redis_url=f"redis://127.0.0.1:{dynamodb_local.free_port()}/0", prefix="unused"
    )
    publish_module._paused_until.clear()
    publish_module._warned_at.clear()


def test_channels_are_per_user_under_the_cache_prefix():
    user_uuid = uuid.uuid4()

    assert (
        user_channel(prefix="test-abc", user_uuid=user_uuid) == f"test-abc:events:user:{user_uuid}"
    )


def test_message_event_has_the_api_message_shape_plus_the_sender_uuid(alice, bob):
    message = a_message(alice, bob)

    event = events.message_event(
        message, sender={"handle": "alice", "display_name": "Alice Liddell"}
    )

    assert event.name == "message"
    assert event.data == {
        "uuid": str(message.uuid),
        "message_group_uuid": str(message.group_uuid),
        "sender_uuid": str(alice.uuid),
        "handle": "alice",
        "display_name": "Alice Liddell",
        "message": "hello",
        "created_at": "2026-11-30T12:00:00.123456Z",
        "edited_at": None,
        "deleted": False,
    }


def test_deleted_message_update_carries_no_body(alice, bob):
    event = events.message_updated_event(a_message(alice, bob, body="secret"), deleted=True)

    assert event.name == "message_updated"
    assert event.data["message"] == "" and event.data["deleted"] is True


def test_sse_frame_is_one_event_line_and_one_data_line_even_for_multiline_text(alice, bob):
    frame = events.message_event(a_message(alice, bob, body="two\nlines")).sse()

    lines = frame.split("\n")
    assert lines[0] == "event: message"
    assert lines[1].startswith("data: {") and '"two\\nlines"' in lines[1]
    assert lines[2:] == ["", ""]


@pytest.mark.parametrize(
    "raw", [b"not json", b"[]", b'{"event": "shutdown", "data": {}}', b'{"event": "typing"}']
)
def test_decoding_refuses_anything_but_a_known_event(raw):
    with pytest.raises(ValueError):
        events.Event.decode(raw)


def test_publish_after_fanout_gives_every_member_the_message_and_an_inbox_change(
    live_events, channel_listener, alice, bob
):
    alice_events, bob_events = channel_listener(alice), channel_listener(bob)
    message = a_message(alice, bob)

    assert events.publish_after_fanout(messages=[message], target=live_events)

    for found in (alice_events.events(), bob_events.events()):
        assert names(found) == ["message", "inbox"]
        assert found[0].data["uuid"] == str(message.uuid)
        assert found[1].data == {
            "message_group_uuid": str(message.group_uuid),
            "last_message_at": "2026-11-30T12:00:00.123456Z",
        }


def test_publish_after_fanout_reaches_every_member_of_a_group_and_no_one_else(
    live_events, channel_listener, alice, bob, user_factory
):
    carol, mallory = user_factory("carol"), user_factory("mallory")
    carol_events, mallory_events = channel_listener(carol), channel_listener(mallory)
    message = a_message(alice, bob, carol)

    events.publish_after_fanout(messages=[message], target=live_events)

    assert names(carol_events.events()) == ["message", "inbox"]
    assert mallory_events.events(wait=0.2) == []


def test_a_redis_outage_never_raises_and_warns_once_per_interval(redis_down, alice, bob, caplog):
    with caplog.at_level(logging.WARNING, logger="messaging.events"):
        first = events.publish_after_fanout(messages=[a_message(alice, bob)], target=redis_down)
        # Within the pause after a failure, publishing does not even try to connect.
        publish_module._paused_until.clear()
        second = events.publish_after_fanout(messages=[a_message(alice, bob)], target=redis_down)

    assert first is False and second is False
    warnings = [r for r in caplog.records if r.name == "messaging.events"]
    assert len(warnings) == 1
    assert "live events unavailable (ConnectionError)" in warnings[0].getMessage()
    assert "hello" not in caplog.text


def test_after_a_failure_publishing_pauses_instead_of_paying_a_timeout_per_send(
    redis_down, alice, bob, monkeypatch
):
    events.publish_after_fanout(messages=[a_message(alice, bob)], target=redis_down)
    attempts = []
    monkeypatch.setattr(publish_module, "_client", lambda url: attempts.append(url))

    events.publish_after_fanout(messages=[a_message(alice, bob)], target=redis_down)

    assert attempts == []


def test_no_redis_url_means_no_live_events(alice, bob):
    target = events.Target(redis_url="", prefix="cruddur")

    assert events.publish_after_fanout(messages=[a_message(alice, bob)], target=target) is False


def test_inline_sends_publish_to_both_members_after_the_rows_move(
    messaging_table, live_events, channel_listener, alice, bob
):
    alice_events, bob_events = channel_listener(alice), channel_listener(bob)

    first = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    reply = services.message_create(sender=bob, group_uuid=first.group_uuid, body="hi alice")

    found = bob_events.events()
    assert names(found) == ["message", "inbox", "message", "inbox"]
    assert [e.data["uuid"] for e in found if e.name == "message"] == [
        str(first.uuid),
        str(reply.uuid),
    ]
    assert found[0].data["handle"] == "alice" and found[0].data["message"] == "hi bob"
    assert names(alice_events.events()) == ["message", "inbox", "message", "inbox"]


def test_a_send_succeeds_while_redis_is_down(messaging_table, settings, redis_down, alice, bob):
    settings.REDIS_URL = redis_down.redis_url

    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")

    assert messaging_table.membership_get(user_uuid=bob.uuid, group_uuid=sent.group_uuid)


def test_stream_mode_publishes_from_the_worker_not_the_request(
    messaging_table, live_events, channel_listener, settings, alice, bob
):
    first = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    settings.MESSAGING_FANOUT = "stream"
    bob_events = channel_listener(bob)
    reply = services.message_create(sender=alice, group_uuid=first.group_uuid, body="again")
    assert bob_events.events(wait=0.3) == []

    services.inbox_fanout_apply(
        records=[stream_record(message_item(_record_of(reply, bob, seq=2)))]
    )

    found = bob_events.events()
    assert names(found) == ["message", "inbox"]
    assert found[0].data["uuid"] == str(reply.uuid)
    assert found[0].data["sender_uuid"] == str(alice.uuid)


def _record_of(chat_message, recipient, *, seq=1) -> Message:
    return Message(
        uuid=chat_message.uuid,
        group_uuid=chat_message.group_uuid,
        sender_uuid=chat_message.sender.uuid,
        member_uuids=frozenset({chat_message.sender.uuid, recipient.uuid}),
        body=chat_message.body,
        created_at=chat_message.created_at,
        seq=seq,
    )


def test_the_lambda_publishes_after_the_rows_move(
    messaging_table, live_events, channel_listener, monkeypatch, alice, bob
):
    first = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    bob_events = channel_listener(bob)
    bob_events.events(wait=0.2)
    monkeypatch.setenv("MESSAGING_TABLE", messaging_table.name)
    monkeypatch.setenv("REDIS_URL", live_events.redis_url)
    monkeypatch.setenv("CACHE_KEY_PREFIX", live_events.prefix)
    record = _record_of(first, bob)

    lambda_handler.handler({"Records": [stream_record(message_item(record))]})

    assert names(bob_events.events()) == ["message", "inbox"]


def test_marking_read_tells_the_other_member_and_the_readers_own_tabs(
    messaging_table, live_events, channel_listener, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    alice_events, bob_events = channel_listener(alice), channel_listener(bob)

    services.conversation_mark_read(user=bob, group_uuid=sent.group_uuid)

    # When bob read: the same time GET /api/message_groups/<uuid> gives as his last_read_at.
    read_at = selectors.conversation_get(user=alice, group_uuid=sent.group_uuid)
    (state,) = read_at.conversation.member_states
    assert [(e.name, e.data) for e in alice_events.events()] == [
        (
            "read",
            {
                "message_group_uuid": str(sent.group_uuid),
                "member_uuid": str(bob.uuid),
                "last_read_at": state.last_read_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
        )
    ]
    assert state.last_read_at >= sent.created_at
    assert names(bob_events.events()) == ["inbox"]


def test_no_read_event_for_someone_who_turned_read_receipts_off(
    messaging_table, live_events, channel_listener, alice, bob
):
    bob.send_read_receipts = False
    bob.save()
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    alice_events, bob_events = channel_listener(alice), channel_listener(bob)

    services.conversation_mark_read(user=bob, group_uuid=sent.group_uuid)

    assert alice_events.events() == []
    assert names(bob_events.events()) == ["inbox"]


def test_nothing_to_mark_read_publishes_nothing(
    messaging_table, live_events, channel_listener, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    services.conversation_mark_read(user=bob, group_uuid=sent.group_uuid)
    alice_events = channel_listener(alice)

    services.conversation_mark_read(user=bob, group_uuid=sent.group_uuid)

    assert alice_events.events(wait=0.3) == []


def test_an_inline_edit_and_deletion_reach_every_member_as_message_updated(
    messaging_table, live_events, channel_listener, user_factory, alice, bob
):
    user_factory("carol")
    sent = services.group_start(sender=alice, handles=["bob", "carol"], body="draft")
    carol = selectors.user_get_by_handle(handle="carol")
    listeners = {user.handle: channel_listener(user) for user in (alice, bob, carol)}

    services.message_edit(
        user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="final"
    )
    services.message_delete(user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid)

    for listener in listeners.values():
        found = listener.events()
        updates = [event.data for event in found if event.name == "message_updated"]
        assert names(found) == ["message_updated", "inbox", "message_updated", "inbox"]
        assert [(u["uuid"], u["message"], u["deleted"]) for u in updates] == [
            (str(sent.uuid), "final", False),
            (str(sent.uuid), "", True),
        ]
        assert updates[0]["edited_at"] is not None


def test_the_lambda_publishes_message_updated_for_an_edit_record(
    messaging_table, live_events, channel_listener, monkeypatch, alice, bob
):
    first = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    bob_events = channel_listener(bob)
    monkeypatch.setenv("MESSAGING_TABLE", messaging_table.name)
    monkeypatch.setenv("REDIS_URL", live_events.redis_url)
    monkeypatch.setenv("CACHE_KEY_PREFIX", live_events.prefix)
    edited = replace(_record_of(first, bob), body="hi Bob", version=1)

    lambda_handler.handler({"Records": [stream_record(message_item(edited), "MODIFY")]})

    found = bob_events.events()
    assert names(found) == ["message_updated", "inbox"]
    assert found[0].data["message"] == "hi Bob"
    assert selectors.inbox_list(user=bob).items[0].last_message == "hi Bob"


def test_deleting_a_token_tells_its_users_streams(live_events, channel_listener, alice, bob):
    Token.objects.create(user=alice)
    Token.objects.create(user=bob)
    alice_events, bob_events = channel_listener(alice), channel_listener(bob)

    Token.objects.filter(user=alice).delete()

    assert names(alice_events.events()) == [events.CREDENTIALS_CHANGED]
    assert bob_events.events(wait=0.2) == []


def test_logging_out_tells_the_users_streams(live_events, channel_listener, client, alice):
    client.force_login(alice)
    listener = channel_listener(alice)

    client.post("/accounts/logout/")

    assert names(listener.events()) == [events.CREDENTIALS_CHANGED]


def test_a_password_change_tells_the_users_streams(live_events, channel_listener, alice):
    listener = channel_listener(alice)

    alice.set_password("a-new-long-passphrase")
    alice.save()

    # The user's save, then the deletion of each token it ends (none here).
    assert names(listener.events()) == [events.CREDENTIALS_CHANGED]


def test_signing_in_tells_no_stream(live_events, channel_listener, client, alice):
    listener = channel_listener(alice)

    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "correct-horse-battery"}
    )

    assert response.status_code == 302
    assert listener.events(wait=0.2) == []


def test_credential_notices_are_never_sse_frames_for_clients():
    assert events.CREDENTIALS_CHANGED not in payloads.NAMES
    assert events.Event.decode(events.credentials_changed_event().encode()).name == (
        events.CREDENTIALS_CHANGED
    )
