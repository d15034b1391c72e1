"""The API contract of DESIGN §6, row by row, with its error cases."""

import re
import threading
import time
import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from messaging import selectors, services
from messaging.dynamo.items import idempotency_from_item

pytestmark = pytest.mark.django_db(transaction=True)

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
# v1's fields, and v2's additions (DESIGN §6).
MESSAGE_KEYS = {
    "uuid",
    "message_group_uuid",
    "handle",
    "display_name",
    "message",
    "created_at",
} | {
    "edited_at",
    "deleted",
}
GROUP_KEYS = {"uuid", "handle", "display_name", "message", "created_at", "unread_count"} | {
    "kind",
    "members",
    "muted",
}


def send(client, body="hello", **target):
    return client.post("/api/messages", {"message": body, **target}, format="json")


def walk(client, url, **params):
    """Every page from the first to the last `next`; returns the pages' results."""
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, query)
        assert response.status_code == 200, response.json()
        pages.append(response.json()["results"])
        cursor = response.json()["next"]
        if cursor is None:
            return pages


# --- POST /api/auth/token ----------------------------------------------------------


def test_token_is_issued_for_handle_and_password_any_case(api_client, alice):
    response = api_client().post(
        "/api/auth/token",
        {"username": "ALICE", "password": "correct-horse-battery"},
        format="json",
    )

    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    me = api_client()
    me.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert me.get("/api/message_groups").status_code != 401


def test_token_with_wrong_password_is_400_without_a_token(api_client, alice):
    response = api_client().post(
        "/api/auth/token", {"username": "alice", "password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()
    assert response.json()["non_field_errors"]


@pytest.mark.parametrize(
    "payload",
    [
        {"username": 12345, "password": "correct-horse-battery"},
        {"username": "alice", "password": 12345},
        {"username": ["alice"], "password": "correct-horse-battery"},
    ],
)
def test_token_with_a_non_string_credential_is_400_naming_it(api_client, alice, payload):
    response = api_client().post("/api/auth/token", payload, format="json")

    assert response.status_code == 400
    (field,) = response.json()
    assert not isinstance(payload[field], str)


def test_token_without_fields_lists_each_missing_field(api_client, db):
    response = api_client().post("/api/auth/token", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


# --- GET /api/message_groups -------------------------------------------------------


def test_message_groups_show_the_other_member_and_last_message_newest_first(
    messaging_table, as_alice, alice, bob, user_factory
):
    carol = user_factory("carol", display_name="Carol Danvers")
    with_bob = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    services.conversation_start(sender=carol, handle="alice", body="hi alice")
    services.message_create(sender=bob, group_uuid=with_bob.group_uuid, body="latest")

    response = as_alice.get("/api/message_groups")

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert [set(group) for group in body["results"]] == [GROUP_KEYS, GROUP_KEYS]
    first, second = body["results"]
    assert first["uuid"] == str(with_bob.group_uuid)
    assert (first["handle"], first["display_name"]) == ("bob", "Bob Builder")
    assert (first["message"], first["unread_count"]) == ("latest", 1)
    assert (second["handle"], second["message"], second["unread_count"]) == (
        "carol",
        "hi alice",
        1,
    )
    assert TIMESTAMP.match(first["created_at"])
    assert first["created_at"] > second["created_at"]


def test_message_groups_walk_returns_every_conversation_once(
    messaging_table, as_alice, alice, user_factory
):
    for number in range(5):
        services.conversation_start(
            sender=user_factory(f"friend{number}"),
            handle="alice",
            body=f"hi {number}",
        )

    pages = walk(as_alice, "/api/message_groups", page_size=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    handles = [group["handle"] for page in pages for group in page]
    assert handles == [f"friend{number}" for number in reversed(range(5))]


def test_message_groups_walk_is_unchanged_by_conversations_started_meanwhile(
    messaging_table, as_alice, alice, user_factory
):
    for number in range(5):
        services.conversation_start(
            sender=user_factory(f"friend{number}"), handle="alice", body="hi"
        )
    pages, cursor, newcomers = [], None, 0
    while True:
        query = {"page_size": 2, **({"cursor": cursor} if cursor else {})}
        body = as_alice.get("/api/message_groups", query).json()
        pages.append([group["handle"] for group in body["results"]])
        services.conversation_start(
            sender=user_factory(f"newcomer{newcomers}"), handle="alice", body="yo"
        )
        newcomers += 1
        cursor = body["next"]
        if cursor is None:
            break

    # New conversations go to the top of the inbox, behind the walk: none is seen twice
    # and none of the earlier ones is missed.
    assert [handle for page in pages for handle in page] == [
        f"friend{number}" for number in reversed(range(5))
    ]


def test_message_groups_default_page_is_20(messaging_table, as_alice, user_factory):
    for number in range(21):
        services.conversation_start(
            sender=user_factory(f"pal{number}"), handle="alice", body="hello"
        )

    body = as_alice.get("/api/message_groups").json()

    assert len(body["results"]) == 20
    assert body["next"] is not None


def test_message_groups_require_authentication(api_client, messaging_table):
    response = api_client().get("/api/message_groups")

    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize("page_size", ["0", "101", "ten", "-1"])
def test_message_groups_reject_a_page_size_out_of_range(
    messaging_table, as_alice, page_size, dynamodb_requests
):
    response = as_alice.get("/api/message_groups", {"page_size": page_size})

    assert response.status_code == 400
    assert response.json()["page_size"]
    assert dynamodb_requests == {}


def test_page_size_of_100_is_accepted(messaging_table, as_alice):
    assert as_alice.get("/api/message_groups", {"page_size": "100"}).status_code == 200


# --- cursors ------------------------------------------------------------------------


@pytest.fixture
def inbox_cursor(messaging_table, as_alice, alice, user_factory):
    for number in range(3):
        services.conversation_start(sender=user_factory(f"mate{number}"), handle="alice", body="x")
    return as_alice.get("/api/message_groups", {"page_size": 1}).json()["next"]


def _edited(cursor: str) -> str:
    last = cursor[-1]
    return cursor[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize(
    "forge",
    [_edited, lambda cursor: "x" + cursor, lambda cursor: "not-a-cursor", lambda cursor: "::"],
    ids=["edited-signature", "edited-payload", "garbage", "separators"],
)
def test_forged_or_edited_cursor_is_400(as_alice, inbox_cursor, forge):
    response = as_alice.get("/api/message_groups", {"cursor": forge(inbox_cursor)})

    assert response.status_code == 400
    assert response.json()["cursor"]


def test_inbox_cursor_is_rejected_by_the_message_list(as_alice, inbox_cursor, alice):
    (row,) = selectors.inbox_list(user=alice, page_size=1).items

    response = as_alice.get(f"/api/messages/{row.group_uuid}", {"cursor": inbox_cursor})

    assert response.status_code == 400
    assert response.json()["cursor"]


def test_another_users_cursor_only_ever_reads_the_callers_own_inbox(
    messaging_table, api_client, as_alice, user_factory
):
    mallory = user_factory("mallory")
    services.conversation_start(sender=user_factory("zed"), handle="mallory", body="x")
    for number in range(3):
        services.conversation_start(sender=user_factory(f"mate{number}"), handle="alice", body="x")
    alices_cursor = as_alice.get("/api/message_groups", {"page_size": 1}).json()["next"]

    response = api_client(mallory).get("/api/message_groups", {"cursor": alices_cursor})

    assert response.status_code == 200
    assert [group["handle"] for group in response.json()["results"]] == ["zed"]


# --- GET /api/messages/<group_uuid> ---------------------------------------------------


def test_messages_page_holds_the_newest_in_time_order_and_next_leads_older(
    messaging_table, as_alice, alice, bob, group
):
    for number in range(24):
        services.message_create(sender=bob, group_uuid=group, body=f"m{number}")

    first = as_alice.get(f"/api/messages/{group}").json()
    older = as_alice.get(f"/api/messages/{group}", {"cursor": first["next"]}).json()

    assert [m["message"] for m in first["results"]] == [f"m{n}" for n in range(4, 24)]
    assert [m["message"] for m in older["results"]] == ["hi bob", "m0", "m1", "m2", "m3"]
    assert older["next"] is None
    message = first["results"][-1]
    assert set(message) == MESSAGE_KEYS
    assert (message["handle"], message["display_name"]) == ("bob", "Bob Builder")
    assert message["message_group_uuid"] == str(group)
    assert TIMESTAMP.match(message["created_at"])


def test_message_walk_returns_every_message_once_while_new_ones_arrive(
    messaging_table, as_alice, alice, bob, group
):
    for number in range(11):
        services.message_create(sender=bob, group_uuid=group, body=f"old{number}")
    before = [m.body for m in selectors.message_list(user=alice, group_uuid=group).items]
    pages, cursor, arrived = [], None, 0
    while True:
        response = as_alice.get(
            f"/api/messages/{group}", {"page_size": 3, **({"cursor": cursor} if cursor else {})}
        )
        pages.append([m["message"] for m in response.json()["results"]])
        # Two messages land between every pair of page reads.
        for _ in range(2):
            services.message_create(sender=bob, group_uuid=group, body=f"new{arrived}")
            arrived += 1
        cursor = response.json()["next"]
        if cursor is None:
            break

    walked = [body for page in reversed(pages) for body in page]
    assert walked == before
    assert arrived == 2 * len(pages)


def test_message_walk_under_a_concurrent_sender_has_no_duplicates_or_gaps(
    messaging_table, as_alice, alice, bob, group
):
    for number in range(9):
        services.message_create(sender=bob, group_uuid=group, body=f"old{number}")
    before = [m.uuid for m in selectors.message_list(user=alice, group_uuid=group).items]
    stop = threading.Event()

    def keep_sending():
        number = 0
        while not stop.is_set() and number < 200:
            services.message_create(sender=bob, group_uuid=group, body=f"new{number}")
            number += 1

    sender = threading.Thread(target=keep_sending)
    sender.start()
    try:
        pages = walk(as_alice, f"/api/messages/{group}", page_size=2)
    finally:
        stop.set()
        sender.join()

    walked = [m for page in reversed(pages) for m in page]
    uuids = [m["uuid"] for m in walked]
    assert len(uuids) == len(set(uuids))
    assert {str(u) for u in before} <= set(uuids)
    created = [m["created_at"] for m in walked]
    assert created == sorted(created)


def test_messages_of_a_conversation_the_caller_is_not_in_are_404_like_a_missing_one(
    messaging_table, api_client, group, user_factory
):
    mallory = api_client(user_factory("mallory"))

    foreign = mallory.get(f"/api/messages/{group}")
    missing = mallory.get(f"/api/messages/{uuid.uuid4()}")
    malformed = mallory.get("/api/messages/not-a-uuid")

    assert foreign.status_code == missing.status_code == malformed.status_code == 404
    assert foreign.json() == missing.json() == malformed.json()


def test_messages_require_authentication(api_client, group):
    assert api_client().get(f"/api/messages/{group}").status_code == 401


# --- POST /api/messages ---------------------------------------------------------------


def test_reply_in_a_conversation_is_201_with_the_message(as_bob, group, alice):
    response = send(as_bob, "  hello alice  ", message_group_uuid=str(group))

    assert response.status_code == 201
    body = response.json()
    assert set(body) == MESSAGE_KEYS
    assert (body["handle"], body["display_name"], body["message"]) == (
        "bob",
        "Bob Builder",
        "hello alice",
    )
    assert body["message_group_uuid"] == str(group)
    assert TIMESTAMP.match(body["created_at"])
    latest = selectors.message_list(user=alice, group_uuid=group).items[-1]
    assert str(latest.uuid) == body["uuid"]


def test_message_by_handle_starts_then_reopens_the_pairs_one_conversation(
    messaging_table, as_alice, as_bob, alice
):
    first = send(as_alice, "hi", handle="@Bob")
    second = send(as_bob, "hey", handle="alice")

    assert first.status_code == second.status_code == 201
    assert first.json()["message_group_uuid"] == second.json()["message_group_uuid"]
    assert len(selectors.inbox_list(user=alice).items) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"message": ""}, "message"),
        ({"message": "   \n "}, "message"),
        ({"message": "x" * 1025}, "message"),
        ({"message": None}, "message"),
        ({"message": ["a list"]}, "message"),
        ({}, "message"),
        ({"message": "hi", "handle": "bob", "message_group_uuid": "GROUP"}, "non_field_errors"),
        ({"message": "hi"}, "non_field_errors"),
        ({"message": "hi", "message_group_uuid": "not-a-uuid"}, "message_group_uuid"),
        ({"message": "hi", "handle": "alice"}, "handle"),
        ({"message": "nul\x00byte", "handle": "bob"}, "message"),
        ({"message": 12345, "handle": "bob"}, "message"),
        ({"message": True, "handle": "bob"}, "message"),
        ({"message": 1.5, "handle": "bob"}, "message"),
        ({"message": {"text": "hi"}, "handle": "bob"}, "message"),
        ({"message": "hi", "handle": 12345}, "handle"),
        ({"message": "hi", "message_group_uuid": 12345}, "message_group_uuid"),
        ({"message": "hi", "handle": "ab"}, "handle"),
    ],
    ids=[
        "blank",
        "whitespace",
        "too-long",
        "null",
        "not-text",
        "missing",
        "both-targets",
        "no-target",
        "bad-uuid",
        "yourself",
        "nul-character",
        "integer-message",
        "boolean-message",
        "float-message",
        "object-message",
        "integer-handle",
        "integer-uuid",
        "short-handle",
    ],
)
def test_bad_message_input_is_400_naming_the_field_and_writes_nothing(
    as_alice, group, payload, field, dynamodb_requests
):
    payload = {name: str(group) if value == "GROUP" else value for name, value in payload.items()}
    dynamodb_requests.reset()

    response = as_alice.post("/api/messages", payload, format="json")

    assert response.status_code == 400
    assert response.json()[field]
    assert "TransactWriteItems" not in dynamodb_requests.calls


def test_message_of_exactly_1024_characters_is_sent(as_alice, group):
    response = send(as_alice, "y" * 1024, message_group_uuid=str(group))

    assert response.status_code == 201
    assert len(response.json()["message"]) == 1024


def test_message_to_an_unknown_handle_or_foreign_group_is_404(
    messaging_table, api_client, group, user_factory
):
    mallory = api_client(user_factory("mallory"))

    assert send(mallory, handle="nobody_here").status_code == 404
    assert send(mallory, message_group_uuid=str(group)).status_code == 404
    assert send(mallory, message_group_uuid=str(uuid.uuid4())).status_code == 404


def test_malformed_json_is_400_and_a_form_body_is_415(as_alice, group):
    broken = as_alice.post("/api/messages", "{not json", content_type="application/json")
    form = as_alice.post("/api/messages", "message=hi&handle=bob", content_type="text/plain")

    assert broken.status_code == 400
    assert broken.json()["detail"]
    assert form.status_code == 415
    assert form.json()["detail"]


def test_get_on_the_send_endpoint_is_405(as_alice, messaging_table):
    response = as_alice.get("/api/messages")

    assert response.status_code == 405
    assert response.json()["detail"]


def test_send_requires_authentication(api_client, group):
    assert send(api_client(), message_group_uuid=str(group)).status_code == 401


# --- Idempotency-Key --------------------------------------------------------------------


def test_retry_with_the_same_idempotency_key_returns_the_first_201_and_writes_nothing(
    as_bob, alice, bob, group
):
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}
    first = as_bob.post(
        "/api/messages",
        {"message": "once", "message_group_uuid": str(group)},
        format="json",
        **headers,
    )
    retry = as_bob.post(
        "/api/messages",
        {"message": "once", "message_group_uuid": str(group)},
        format="json",
        **headers,
    )

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    bodies = [m.body for m in selectors.message_list(user=alice, group_uuid=group).items]
    assert bodies == ["hi bob", "once"]
    (alice_row,) = selectors.inbox_list(user=alice).items
    assert alice_row.unread_count == 1


def test_retry_of_a_new_conversation_with_the_same_key_returns_the_first_201(
    messaging_table, as_alice, alice, bob
):
    headers = {"HTTP_IDEMPOTENCY_KEY": "start-1"}
    first = as_alice.post(
        "/api/messages", {"message": "hi", "handle": "bob"}, format="json", **headers
    )
    retry = as_alice.post(
        "/api/messages", {"message": "hi", "handle": "bob"}, format="json", **headers
    )

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    group_uuid = first.json()["message_group_uuid"]
    assert len(selectors.message_list(user=bob, group_uuid=group_uuid).items) == 1
    assert selectors.inbox_list(user=bob).items[0].unread_count == 1


def test_same_idempotency_key_with_a_different_body_is_422(as_bob, alice, group):
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-2"}
    as_bob.post(
        "/api/messages",
        {"message": "one", "message_group_uuid": str(group)},
        format="json",
        **headers,
    )
    reused = as_bob.post(
        "/api/messages",
        {"message": "two", "message_group_uuid": str(group)},
        format="json",
        **headers,
    )

    assert reused.status_code == 422
    assert reused.json()["detail"]
    bodies = [m.body for m in selectors.message_list(user=alice, group_uuid=group).items]
    assert bodies == ["hi bob", "one"]


def test_idempotency_keys_are_per_user(as_alice, as_bob, alice, group):
    headers = {"HTTP_IDEMPOTENCY_KEY": "shared-key"}
    payload = {"message": "same words", "message_group_uuid": str(group)}

    by_alice = as_alice.post("/api/messages", payload, format="json", **headers)
    by_bob = as_bob.post("/api/messages", payload, format="json", **headers)

    assert by_alice.status_code == by_bob.status_code == 201
    assert by_alice.json()["uuid"] != by_bob.json()["uuid"]


def test_idempotency_record_is_in_dynamodb_with_a_24_hour_ttl(messaging_table, as_bob, bob, group):
    sent = as_bob.post(
        "/api/messages",
        {"message": "kept", "message_group_uuid": str(group)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="ttl-1",
    ).json()

    item = messaging_table.client.get_item(
        TableName=messaging_table.name,
        Key={"pk": {"S": f"IDEM#{bob.uuid}"}, "sk": {"S": "ttl-1"}},
        ConsistentRead=True,
    )["Item"]
    record = idempotency_from_item(item)

    assert str(record.message.uuid) == sent["uuid"]
    assert abs(record.expires_at - (time.time() + 24 * 3600)) < 300


def test_over_long_idempotency_key_is_400(as_bob, group):
    response = as_bob.post(
        "/api/messages",
        {"message": "x", "message_group_uuid": str(group)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 256,
    )

    assert response.status_code == 400
    assert response.json()["idempotency_key"]


# --- throttle -----------------------------------------------------------------------------


def test_sending_past_the_rate_is_429_with_retry_after(
    as_bob, as_alice, group, settings, api_cache, bob
):
    settings.MESSAGING_SEND_RATE = "2/min"

    statuses = [send(as_bob, f"n{n}", message_group_uuid=str(group)).status_code for n in range(2)]
    throttled = send(as_bob, "one too many", message_group_uuid=str(group))

    assert statuses == [201, 201]
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json()["detail"]
    # The history lives in the shared cache, so every worker sees the same count.
    assert len(api_cache.get(f"throttle_message_send_{bob.pk}")) == 2
    assert send(as_alice, "others still send", message_group_uuid=str(group)).status_code == 201


# --- POST /api/message_groups/<group_uuid>/read --------------------------------------------


def test_mark_read_is_204_and_clears_the_unread_count(as_bob, bob, group):
    response = as_bob.post(f"/api/message_groups/{group}/read")

    assert response.status_code == 204
    assert response.content == b""
    (row,) = selectors.inbox_list(user=bob).items
    assert row.unread_count == 0


def test_mark_read_of_a_foreign_or_missing_group_is_404(api_client, group, user_factory):
    mallory = api_client(user_factory("mallory"))

    assert mallory.post(f"/api/message_groups/{group}/read").status_code == 404
    assert mallory.post(f"/api/message_groups/{uuid.uuid4()}/read").status_code == 404
    assert mallory.post("/api/message_groups/nope/read").status_code == 404


def test_mark_read_requires_authentication(api_client, group):
    assert api_client().post(f"/api/message_groups/{group}/read").status_code == 401


# --- GET /api/users/@<handle>/short ------------------------------------------------------------


def test_user_short_gives_uuid_handle_and_display_name(as_alice, bob):
    response = as_alice.get("/api/users/@BOB/short")

    assert response.status_code == 200
    assert response.json() == {
        "uuid": str(bob.uuid),
        "handle": "bob",
        "display_name": "Bob Builder",
    }


@pytest.mark.parametrize("handle", ["nobody_here", "x%00y", "%F0%9F%98%80", "a" * 300])
def test_user_short_for_an_unknown_handle_is_404(as_alice, handle):
    response = as_alice.get(f"/api/users/@{handle}/short")

    assert response.status_code == 404
    assert response.json()["detail"]


def test_user_short_requires_authentication(api_client, bob):
    assert api_client().get("/api/users/@bob/short").status_code == 401


# --- session authentication ----------------------------------------------------------------------


def test_session_client_must_send_the_csrf_token_to_post(messaging_table, group, bob):
    client = APIClient(enforce_csrf_checks=True)
    # A browser app gets the CSRF cookie from a page with a form (here the sign-in page).
    client.get(reverse("accounts:login"))
    client.force_login(bob)
    payload = {"message": "via session", "message_group_uuid": str(group)}

    assert client.get("/api/message_groups").status_code == 200
    refused = client.post("/api/messages", payload, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]

    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/messages", payload, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


# --- DynamoDB unavailable ------------------------------------------------------------------------


def test_missing_table_is_503_with_retry_after_and_no_internals(
    messaging_table, as_alice, settings
):
    settings.MESSAGING_TABLE = "no-such-table"

    response = as_alice.get("/api/message_groups")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json() == {
        "detail": "Messages are temporarily unavailable. Try again shortly."
    }


# --- DynamoDB request counts ---------------------------------------------------------------------


def test_api_makes_the_same_dynamodb_requests_as_the_pages(
    as_bob, bob, group, settings, client, dynamodb_requests
):
    settings.MESSAGING_CACHE_TTL = 0
    client.force_login(bob)

    def count(call):
        dynamodb_requests.reset()
        response = call()
        assert response.status_code < 400
        return dict(dynamodb_requests.calls)

    assert count(lambda: as_bob.get("/api/message_groups")) == count(
        lambda: client.get(reverse("messaging:inbox"))
    )
    assert count(lambda: send(as_bob, "api reply", message_group_uuid=str(group))) == count(
        lambda: client.post(
            reverse("messaging:conversation", kwargs={"group_uuid": group}),
            {"message": "page reply"},
        )
    )


def test_api_request_counts_per_operation(as_alice, as_bob, group, settings, dynamodb_requests):
    settings.MESSAGING_CACHE_TTL = 0

    def count(call):
        dynamodb_requests.reset()
        assert call().status_code < 400
        return dynamodb_requests

    assert count(lambda: as_bob.get("/api/message_groups")) == {"Query": 1}
    assert count(lambda: as_bob.get(f"/api/messages/{group}")) == {
        "BatchGetItem": 1,
        "Query": 1,
    }
    assert count(lambda: send(as_bob, message_group_uuid=str(group))) == {
        "BatchGetItem": 1,
        "TransactWriteItems": 1,
    }
    assert count(lambda: as_alice.post(f"/api/message_groups/{group}/read")) == {
        "BatchGetItem": 1,
        "TransactWriteItems": 1,
    }


# --- v2: groups --------------------------------------------------------------------------


def test_starting_a_group_is_201_and_the_group_lists_its_members(
    messaging_table, as_alice, alice, bob, user_factory, api_client
):
    carol = user_factory("carol", display_name="Carol Danvers")
    response = as_alice.post(
        "/api/message_groups",
        {"handles": ["bob", "@carol"], "message": "hello both"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="group-1",
    )
    retry = as_alice.post(
        "/api/message_groups",
        {"handles": ["bob", "@carol"], "message": "hello both"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="group-1",
    )

    assert response.status_code == retry.status_code == 201
    assert set(response.json()) == MESSAGE_KEYS
    assert retry.json()["uuid"] == response.json()["uuid"]
    group = response.json()["message_group_uuid"]
    detail = api_client(carol).get(f"/api/message_groups/{group}").json()
    assert set(detail) == GROUP_KEYS
    assert (detail["kind"], detail["handle"], detail["unread_count"]) == ("group", None, 1)
    assert detail["display_name"] == "Alice Liddell and Bob Builder"
    assert [m["handle"] for m in detail["members"]] == ["alice", "bob"]
    alice_entry = detail["members"][0]
    assert alice_entry["last_read_at"] is not None
    assert detail["members"][1]["last_read_at"] is None
    listed = api_client(bob).get("/api/message_groups").json()["results"]
    assert [g["uuid"] for g in listed] == [group]


@pytest.mark.parametrize(
    ("handles", "status"),
    [
        (["alice"], 400),
        ([f"u{n:03}" for n in range(8)], 400),
        (["ghost"], 404),
        ("bob", 400),
        ([], 400),
    ],
)
def test_group_start_refuses_bad_member_lists(messaging_table, as_alice, bob, handles, status):
    response = as_alice.post(
        "/api/message_groups", {"handles": handles, "message": "hi"}, format="json"
    )
    assert response.status_code == status
    body = response.json()
    if status == 404:
        assert body == {"detail": "No user @ghost."}
    else:
        assert "handles" in body


def test_a_handle_named_twice_in_any_case_starts_the_pair(messaging_table, as_alice, bob):
    response = as_alice.post(
        "/api/message_groups", {"handles": ["bob", "BOB"], "message": "hi"}, format="json"
    )

    assert response.status_code == 201
    (group,) = as_alice.get("/api/message_groups").json()["results"]
    assert (group["kind"], group["handle"]) == ("direct", "bob")


def test_a_group_is_404_to_someone_outside_it(
    messaging_table, as_alice, group, user_factory, api_client
):
    outsider = api_client(user_factory("mallory"))
    assert outsider.get(f"/api/message_groups/{group}").status_code == 404
    assert as_alice.get(f"/api/message_groups/{group}").status_code == 200


# --- hardening -----------------------------------------------------------------------------


def test_an_expired_idempotency_key_is_free_again(messaging_table, as_bob, bob, group):
    first = as_bob.post(
        "/api/messages",
        {"message": "day one", "message_group_uuid": str(group)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="daily",
    ).json()
    # 25 hours later: the record is past its expiry, though TTL has not swept it yet.
    messaging_table.client.update_item(
        TableName=messaging_table.name,
        Key={"pk": {"S": f"IDEM#{bob.uuid}"}, "sk": {"S": "daily"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 3600)}},
    )

    same = as_bob.post(
        "/api/messages",
        {"message": "day one", "message_group_uuid": str(group)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="daily",
    )
    other = as_bob.post(
        "/api/messages",
        {"message": "day two", "message_group_uuid": str(group)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="daily",
    )

    assert same.status_code == 201 and same.json()["uuid"] != first["uuid"]
    assert other.status_code == 422
    bodies = [m.body for m in selectors.message_list(user=bob, group_uuid=group).items]
    assert bodies == ["hi bob", "day one", "day one"]


def test_crlf_newlines_are_stored_as_one_character(messaging_table, as_bob, group):
    body = "x" * 1000 + "\r\n" * 23 + "y"
    response = send(as_bob, body, message_group_uuid=str(group))
    assert response.status_code == 201
    assert response.json()["message"] == "x" * 1000 + "\n" * 23 + "y"


def test_a_message_with_terminal_control_characters_is_400(messaging_table, as_bob, group):
    response = send(as_bob, "\x1b]0;pwned\x07", message_group_uuid=str(group))
    assert response.status_code == 400
    assert "control characters" in response.json()["message"][0]


class HangingEndpoint:
    """A TCP server on loopback that accepts connections and never answers: DynamoDB
    hanging rather than refusing."""

    def __init__(self):
        import socket

        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.connections = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections.append(connection)

    def close(self):
        self.stop.set()
        self.thread.join()
        for connection in self.connections:
            connection.close()
        self.server.close()


@pytest.fixture
def hanging_dynamodb(dynamodb_endpoint, monkeypatch, settings):
    """DynamoDB hangs; the client and deadline have production's default settings."""
    from messaging.dynamo.client import reset_clients

    endpoint = HangingEndpoint()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint.url)
    monkeypatch.delenv("DYNAMODB_READ_TIMEOUT")
    settings.DYNAMODB_REQUEST_DEADLINE = 4.5
    reset_clients()
    yield endpoint
    monkeypatch.undo()
    reset_clients()
    endpoint.close()


def test_a_hanging_dynamodb_answers_503_within_the_deadline_for_every_sender(
    messaging_table, alice, bob, group, hanging_dynamodb, api_client
):
    clients = [api_client(alice if n % 2 else bob) for n in range(20)]
    results = []

    def send_one(client):
        started = time.monotonic()
        response = send(client, "are you there?", message_group_uuid=str(group))
        results.append((response, time.monotonic() - started))

    threads = [threading.Thread(target=send_one, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 20
    for response, elapsed in results:
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert "temporarily unavailable" in response.json()["detail"]
        # The contract (DESIGN §6): an answer within 5 s, not a read timeout per attempt.
        assert elapsed < 5


def test_the_page_form_shows_the_503_and_keeps_the_draft(
    messaging_table, alice, group, client, hanging_dynamodb
):
    client.force_login(alice)
    response = client.post(
        reverse("messaging:conversation", kwargs={"group_uuid": group}),
        {"message": "a draft worth keeping"},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "it was not sent" in page
    assert ">a draft worth keeping</textarea>" in page


# --- strict spellings (what the schema says is what is accepted) ----------------------------


@pytest.mark.parametrize("page_size", [" 5", "5.0", "5 ", "1e1", ""])
def test_page_size_not_written_as_digits_is_400(as_alice, messaging_table, page_size):
    response = as_alice.get("/api/message_groups", {"page_size": page_size})

    assert response.status_code == 400
    assert response.json()["page_size"]


def test_a_cursor_of_whitespace_is_400_not_the_first_page(as_alice, messaging_table):
    response = as_alice.get("/api/message_groups", {"cursor": "\x85\x85"})

    assert response.status_code == 400
    assert response.json()["cursor"]


def test_a_group_uuid_in_another_spelling_is_400_in_a_body_and_404_in_a_path(as_alice, group):
    bare_hex = group.hex
    reply = as_alice.post(
        "/api/messages", {"message": "hi", "message_group_uuid": bare_hex}, format="json"
    )
    listing = as_alice.get(f"/api/messages/{{{group}}}")

    assert reply.status_code == 400
    assert reply.json()["message_group_uuid"]
    assert listing.status_code == 404
    assert as_alice.get(f"/api/messages/{str(group).upper()}").status_code == 200


@pytest.mark.parametrize("query", ["cursor=&cursor=", "page_size=1&page_size=2"])
def test_a_repeated_page_parameter_is_400(as_alice, messaging_table, query):
    response = as_alice.get(f"/api/message_groups?{query}")

    assert response.status_code == 400
    (field,) = response.json()
    assert field in query


def test_an_empty_cursor_is_the_first_page(as_alice, messaging_table):
    assert as_alice.get("/api/message_groups?cursor=").status_code == 200
