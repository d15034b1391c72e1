"""`ddb_migrate` on a table seeded with v1's item shapes (pairs, unread sets, read
positions, idempotency records), exactly as v1 wrote them: the same answers after the
migration as the v1 data said, reads and writes that work mid-way, and a second run that
changes nothing."""

import hashlib
import io
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from messaging import selectors, services
from messaging.dynamo import keys, schema
from messaging.dynamo.admin import TableAdmin
from messaging.dynamo.client import get_client

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2025, 12, 30, 12, 0, tzinfo=UTC)


def s(value) -> dict:
    return {"S": str(value)}


def v1_message(group, sender, recipient, body, at) -> dict:
    message_uuid = uuid.uuid4()
    return {
        "pk": s(f"MSG#{group}"),
        "sk": s(f"{keys.format_timestamp(at)}#{message_uuid}"),
        "message_uuid": s(message_uuid),
        "message_group_uuid": s(group),
        "sender_uuid": s(sender.uuid),
        "recipient_uuid": s(recipient.uuid),
        "body": s(body),
        "created_at": s(keys.format_timestamp(at)),
    }


def v1_row(owner, other, group, last: dict, *, unread: list[str], read_sk: str | None) -> dict:
    row = {
        "pk": s(f"GRP#{owner.uuid}"),
        "sk": s(f"GRP#{group}"),
        "message_group_uuid": s(group),
        "user_uuid": s(owner.uuid),
        "other_user_uuid": s(other.uuid),
        "other_user_handle": s(other.handle),
        "other_user_display_name": s(other.display_name),
        "last_message_body": last["body"],
        "last_message_sk": last["sk"],
        "last_message_at": last["created_at"],
        "last_sender_uuid": last["sender_uuid"],
    }
    if unread:
        row["unread_message_sks"] = {"SS": unread}
    if read_sk:
        row["last_read_sk"] = s(read_sk)
        row["last_read_at"] = s(keys.format_timestamp(START + timedelta(days=1)))
    return row


def v1_pair(table_name, first, second, script: list[tuple], read_upto: dict) -> uuid.UUID:
    """Messages as (sender, body); `read_upto[user]` is how many messages that user had
    read (v1 kept the rest of the other's messages in their unread set)."""
    group = keys.group_uuid_for_members([first.uuid, second.uuid])
    messages = []
    for n, (sender, body) in enumerate(script):
        recipient = second if sender == first else first
        messages.append(v1_message(group, sender, recipient, body, START + timedelta(hours=n)))
    items = list(messages)
    for owner, other in ((first, second), (second, first)):
        seen = read_upto[owner]
        unread = [
            m["sk"]["S"] for m in messages[seen:] if m["sender_uuid"]["S"] == str(other.uuid)
        ]
        read_sk = messages[seen - 1]["sk"]["S"] if seen else None
        items.append(v1_row(owner, other, group, messages[-1], unread=unread, read_sk=read_sk))
    client = get_client()
    for item in items:
        client.put_item(TableName=table_name, Item=item)
    return group


@pytest.fixture
def v1_table(dynamodb_endpoint, settings):
    name = f"test-v1-{uuid.uuid4().hex[:12]}"
    admin = TableAdmin(name)
    admin.create(definition=schema.v1_table_definition(name))
    settings.MESSAGING_TABLE = name
    yield admin
    admin.drop()


@pytest.fixture
def v1_data(v1_table, alice, bob, user_factory):
    carol = user_factory("carol", display_name="Carol Danvers")
    with_bob = v1_pair(
        v1_table.name,
        alice,
        bob,
        [(alice, "hi bob"), (bob, "hi alice"), (alice, "lunch?"), (alice, "12:30?")],
        {alice: 4, bob: 2},
    )
    with_carol = v1_pair(
        v1_table.name,
        carol,
        alice,
        [(carol, "new year!"), (carol, "you there?")],
        {carol: 2, alice: 0},
    )
    key = "retry-me"
    reply = v1_message(with_bob, bob, alice, "sure", START + timedelta(days=2))
    get_client().put_item(
        TableName=v1_table.name,
        Item={
            "pk": s(f"IDEM#{bob.uuid}"),
            "sk": s(key),
            "request_hash": s(hashlib.sha256(f"group:{with_bob}\nsure".encode()).hexdigest()),
            **{name: value for name, value in reply.items() if name not in {"pk", "sk"}},
            "expires_at": {"N": str(int(time.time()) + 3600)},
        },
    )
    get_client().put_item(TableName=v1_table.name, Item=reply | {"pk": s(f"MSG#{with_bob}")})
    return {
        "with_bob": with_bob,
        "with_carol": with_carol,
        "carol": carol,
        "key": key,
        "reply": reply,
    }


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def answers(alice, bob, carol, groups) -> dict:
    """What the v1 pages and API show each person."""
    result = {}
    for user in (alice, bob, carol):
        inbox = api(user).get("/api/message_groups").json()["results"]
        result[user.handle] = [
            (g["uuid"], g["handle"], g["display_name"], g["message"], g["unread_count"])
            for g in inbox
        ]
    for group in groups:
        page = api(alice).get(f"/api/messages/{group}").json()
        result[str(group)] = [
            (m["handle"], m["message"], m["created_at"]) for m in page["results"]
        ]
    return result


def test_migration_keeps_every_answer_v1_gave_and_a_second_run_changes_nothing(
    v1_data, v1_table, alice, bob, redis_cache
):
    carol, groups = v1_data["carol"], [v1_data["with_bob"], v1_data["with_carol"]]
    expected = {
        "alice": [
            (str(v1_data["with_bob"]), "bob", "Bob Builder", "12:30?", 0),
            (str(v1_data["with_carol"]), "carol", "Carol Danvers", "you there?", 2),
        ],
        "bob": [(str(v1_data["with_bob"]), "alice", "Alice Liddell", "12:30?", 2)],
        "carol": [(str(v1_data["with_carol"]), "alice", "Alice Liddell", "you there?", 0)],
    }

    dry = io.StringIO()
    call_command("ddb_migrate", "--dry-run", stdout=dry)
    assert (
        "indexes: would add inbox-by-activity, unread-by-member, message-by-uuid" in dry.getvalue()
    )
    assert "v1 conversations: 2 found, would convert 2" in dry.getvalue()
    assert v1_table.index_names() == {schema.V1_INBOX_INDEX}

    out = io.StringIO()
    call_command("ddb_migrate", stdout=out)
    assert "v1 conversations: 2 found, did convert 2" in out.getvalue()
    assert v1_table.index_names() == {
        schema.INBOX_INDEX,
        schema.UNREAD_INDEX,
        schema.MESSAGE_INDEX,
    }

    after = answers(alice, bob, carol, groups)
    for handle, inbox in expected.items():
        assert after[handle] == inbox
    assert [m[1] for m in after[str(v1_data["with_bob"])]] == [
        "hi bob",
        "hi alice",
        "lunch?",
        "12:30?",
        "sure",
    ]
    # The v1 idempotency record still binds: the retry replays, nothing is sent twice.
    retry = api(bob).post(
        "/api/messages",
        {"message": "sure", "message_group_uuid": str(v1_data["with_bob"])},
        format="json",
        HTTP_IDEMPOTENCY_KEY=v1_data["key"],
    )
    assert retry.status_code == 201
    assert retry.json()["uuid"] == v1_data["reply"]["message_uuid"]["S"]

    again = io.StringIO()
    call_command("ddb_migrate", stdout=again)
    assert "v1 conversations: 0 found" in again.getvalue()
    assert "indexes: did add none" in again.getvalue()
    assert answers(alice, bob, carol, groups) == after


def test_the_app_reads_and_writes_a_half_migrated_table(v1_data, v1_table, alice, bob):
    # Only the indexes so far (what ddb_schema_load does to an existing table).
    v1_table.indexes_ensure()

    inbox = selectors.inbox_list(user=bob).items
    assert [(c.other.handle, c.last_message, c.unread_count) for c in inbox] == [
        ("alice", "12:30?", 2)
    ]
    detail = selectors.conversation_detail(user=bob, group_uuid=v1_data["with_bob"])
    assert [m.body for m in detail.messages.items][-1] == "sure"

    # The first write to a v1 pair converts it, so its counts carry on exactly.
    services.message_create(sender=alice, group_uuid=v1_data["with_bob"], body="one more")
    (bob_row,) = selectors.inbox_list(user=bob).items
    assert (bob_row.last_message, bob_row.unread_count) == ("one more", 3)
    services.conversation_mark_read(user=bob, group_uuid=v1_data["with_bob"])
    assert selectors.inbox_list(user=bob).items[0].unread_count == 0

    out = io.StringIO()
    call_command("ddb_migrate", stdout=out)
    assert "v1 conversations: 1 found, did convert 1" in out.getvalue()
    assert selectors.inbox_unread_count(user=alice) == 1


def test_migrate_adds_the_message_index_to_a_v2_table_built_before_it(
    dynamodb_endpoint, settings, alice, bob
):
    name = f"test-pre-edit-{uuid.uuid4().hex[:12]}"
    definition = schema.table_definition(name)
    definition["GlobalSecondaryIndexes"] = [
        index
        for index in definition["GlobalSecondaryIndexes"]
        if index["IndexName"] != schema.MESSAGE_INDEX
    ]
    definition["AttributeDefinitions"] = [
        attribute
        for attribute in definition["AttributeDefinitions"]
        if attribute["AttributeName"] != "message_uuid"
    ]
    admin = TableAdmin(name)
    admin.create(definition=definition)
    settings.MESSAGING_TABLE = name
    try:
        sent = services.conversation_start(sender=alice, handle="bob", body="before the index")

        dry = io.StringIO()
        call_command("ddb_migrate", "--dry-run", stdout=dry)
        call_command("ddb_migrate", stdout=io.StringIO())

        assert "indexes: would add message-by-uuid" in dry.getvalue()
        assert schema.MESSAGE_INDEX in admin.index_names()
        edited = services.message_edit(
            user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="after it"
        )
        assert edited.body == "after it"
    finally:
        admin.drop()
