"""A person's export: GET /api/me/export and `manage.py ddb_export_user`, one document
streamed a page at a time (docs/api.md, "Export")."""

import io
import json
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.test import AsyncClient

from messaging import services
from messaging.dynamo import Member, Message, items, keys
from messaging.dynamo.bulk import numbered
from messaging.dynamo.client import get_client
from messaging.store import bulk_loader

pytestmark = pytest.mark.django_db

EXPORT_URL = "/api/me/export"


def read_export(response) -> dict:
    assert response.streaming
    return json.loads(b"".join(response.streaming_content))


def test_export_needs_credentials(messaging_table, api_client):
    response = api_client().get(EXPORT_URL)

    assert response.status_code == 401
    assert response.json()["detail"]


def test_export_holds_every_conversation_with_every_message_oldest_first(
    messaging_table, as_alice, alice, bob, user_factory
):
    user_factory("carol", display_name="Carol Ann")
    pair = services.conversation_start(sender=alice, handle="bob", body="one").group_uuid
    services.message_create(sender=bob, group_uuid=pair, body="two")
    services.message_create(sender=alice, group_uuid=pair, body="three")
    trio = services.group_start(sender=bob, handles=["alice", "carol"], body="all of us")

    response = as_alice.get(EXPORT_URL)
    document = read_export(response)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="cruddur-export-alice.json"'
    assert document["user"]["handle"] == "alice"
    assert document["user"]["uuid"] == str(alice.uuid)
    assert set(document) == {"user", "exported_at", "conversations"}
    by_uuid = {conversation["uuid"]: conversation for conversation in document["conversations"]}
    assert set(by_uuid) == {str(pair), str(trio.group_uuid)}
    assert [m["message"] for m in by_uuid[str(pair)]["messages"]] == ["one", "two", "three"]
    assert [m["handle"] for m in by_uuid[str(pair)]["messages"]] == ["alice", "bob", "alice"]
    assert by_uuid[str(pair)]["kind"] == "direct"
    assert [p["handle"] for p in by_uuid[str(pair)]["members"]] == ["alice", "bob"]
    assert by_uuid[str(trio.group_uuid)]["kind"] == "group"
    assert [p["handle"] for p in by_uuid[str(trio.group_uuid)]["members"]] == [
        "alice",
        "bob",
        "carol",
    ]


def test_exported_messages_are_the_api_s_message_json(messaging_table, as_alice, alice, bob):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    services.message_create(sender=bob, group_uuid=group, body="hello <b>you</b>\nthere")

    exported = read_export(as_alice.get(EXPORT_URL))["conversations"][0]["messages"]
    listed = as_alice.get(f"/api/messages/{group}").json()["results"]

    assert exported == listed


def test_hidden_conversations_are_exported(messaging_table, as_alice, alice, bob, user_factory):
    user_factory("carol")
    kept = services.conversation_start(sender=alice, handle="bob", body="kept").group_uuid
    hidden = services.conversation_start(sender=alice, handle="carol", body="hidden").group_uuid
    # A hidden row as hiding leaves it: its position moved out of the inbox index.
    get_client().update_item(
        TableName=messaging_table.name,
        Key=items.inbox_key(alice.uuid, hidden),
        UpdateExpression=f"SET {items.HIDDEN_SK} = {items.LAST_MESSAGE_SK}"
        f" REMOVE {items.LAST_MESSAGE_SK}",
    )
    inbox = as_alice.get("/api/message_groups").json()["results"]

    exported = read_export(as_alice.get(EXPORT_URL))["conversations"]

    assert [group["uuid"] for group in inbox] == [str(kept)]
    assert {conversation["uuid"] for conversation in exported} == {str(kept), str(hidden)}


def test_a_deleted_message_is_exported_as_deleted_without_its_body(
    messaging_table, as_alice, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="regret this")
    message = messaging_table.message_page(group_uuid=sent.group_uuid, position=None, limit=1)
    # A message as deleting leaves it: flagged, its body gone from the item.
    get_client().update_item(
        TableName=messaging_table.name,
        Key=items.message_key(sent.group_uuid, message.items[0].sk),
        UpdateExpression=f"SET {items.DELETED} = :yes REMOVE {items.BODY}",
        ExpressionAttributeValues={":yes": {"BOOL": True}},
    )

    raw = b"".join(as_alice.get(EXPORT_URL).streaming_content)
    [exported] = json.loads(raw)["conversations"][0]["messages"]

    assert exported["deleted"] is True
    assert exported["message"] == ""
    assert b"regret" not in raw


def test_an_empty_history_is_a_valid_document(messaging_table, as_alice):
    document = read_export(as_alice.get(EXPORT_URL))

    assert document["conversations"] == []


def test_session_sign_in_exports_too(messaging_table, client, alice, bob):
    services.conversation_start(sender=alice, handle="bob", body="hi")
    client.force_login(alice)

    document = read_export(client.get(EXPORT_URL))

    assert len(document["conversations"]) == 1


def test_exports_past_the_rate_are_429_with_retry_after(messaging_table, as_alice, settings):
    settings.MESSAGING_EXPORT_RATE = "2/hour"

    statuses = [as_alice.get(EXPORT_URL).status_code for _ in range(3)]
    refused = as_alice.get(EXPORT_URL)

    assert statuses == [200, 200, 429]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "detail" in refused.json()


def test_under_asgi_the_export_streams_from_an_async_iterator(messaging_table, alice, bob):
    services.conversation_start(sender=alice, handle="bob", body="hi")
    client = AsyncClient()
    async_to_sync(client.aforce_login)(alice)

    response = async_to_sync(client.get)(EXPORT_URL)

    # A synchronous iterator would be read into a list by Django before sending.
    assert response.is_async

    async def body() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    assert json.loads(async_to_sync(body)())["conversations"][0]["messages"][0]["message"] == "hi"


def test_command_writes_the_same_document_to_stdout_and_to_a_file(
    messaging_table, as_alice, alice, bob, tmp_path
):
    services.conversation_start(sender=alice, handle="bob", body="hi")
    out = io.StringIO()

    call_command("ddb_export_user", "@alice", stdout=out)
    call_command("ddb_export_user", "alice", "--output", str(tmp_path / "alice.json"))
    api = read_export(as_alice.get(EXPORT_URL))

    printed, written = (
        json.loads(out.getvalue()),
        json.loads((tmp_path / "alice.json").read_text()),
    )
    for document in (printed, written, api):
        document.pop("exported_at")
    assert printed == written == api


def test_command_names_an_unknown_handle(messaging_table):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user @nobody"):
        call_command("ddb_export_user", "nobody")


# --- memory --------------------------------------------------------------------------


def _conversation_of(owner, other, count: int) -> uuid.UUID:
    """A pair conversation of `count` messages, loaded in bulk."""
    members = (
        Member(uuid=owner.uuid, handle=owner.handle, display_name=owner.display_name),
        Member(uuid=other.uuid, handle=other.handle, display_name=other.display_name),
    )
    group_uuid = keys.group_uuid_for_members(member.uuid for member in members)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    messages = numbered(
        [
            Message(
                uuid=uuid.uuid4(),
                group_uuid=group_uuid,
                sender_uuid=members[index % 2].uuid,
                member_uuids=frozenset(member.uuid for member in members),
                body=f"message {index}: " + "lorem ipsum dolor sit amet " * 6,
                created_at=start + timedelta(seconds=index),
            )
            for index in range(count)
        ]
    )
    bulk_loader().conversation_load(members=members, messages=messages, unread={})
    return group_uuid


def _export_peak(client) -> tuple[int, int]:
    """(peak bytes allocated while the export is requested and read, messages read)."""
    tracemalloc.start()
    try:
        response = client.get(EXPORT_URL)
        size, opened = 0, 0
        for chunk in response.streaming_content:
            size += len(chunk)
            opened += chunk.count(b'"message_group_uuid"')
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    return peak, opened


def test_exporting_10000_messages_holds_no_more_memory_than_1000(
    messaging_table, api_client, user_factory
):
    small, large, peer = user_factory("small"), user_factory("large"), user_factory("peer")
    _conversation_of(small, peer, 1_000)
    _conversation_of(large, peer, 10_000)
    # A first export warms what any request allocates once (imports, caches).
    _export_peak(api_client(small))

    small_peak, small_count = _export_peak(api_client(small))
    large_peak, large_count = _export_peak(api_client(large))

    print(f"export peak: 1,000 messages {small_peak:,} B; 10,000 messages {large_peak:,} B")
    assert (small_count, large_count) == (1_000, 10_000)
    # Holding the whole history would cost ~10x the small export's peak.
    assert large_peak < 2 * small_peak
