"""The API contract of DESIGN §6, row by row, with its error cases."""

import re
import threading
import time
import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from messaging import selectors, services

pytestmark = pytest.mark.django_db(transaction=True)

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
MESSAGE_KEYS = {"uuid", "message_group_uuid", "handle", "display_name", "message", "created_at"}
GROUP_KEYS = {"uuid", "handle", "display_name", "message", "created_at", "unread_count"}


@pytest.fixture
def as_alice(api_client, alice):
    return api_client(alice)


@pytest.fixture
def as_bob(api_client, bob):
    return api_client(bob)


@pytest.fixture
def group(messaging_table, alice, bob):
    """Alice and Bob's conversation, opened by Alice."""
    return services.conversation_start(sender=alice, handle="bob", body="hi bob").group_uuid


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

    record = messaging_table.idempotency_get(user_uuid=bob.uuid, key="ttl-1")

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
    assert count(lambda: as_bob.get(f"/api/messages/{group}")) == {"GetItem": 1, "Query": 1}
    assert count(lambda: send(as_bob, message_group_uuid=str(group))) == {
        "GetItem": 1,
        "TransactWriteItems": 1,
    }
    assert count(lambda: as_alice.post(f"/api/message_groups/{group}/read")) == {
        "GetItem": 1,
        "UpdateItem": 1,
    }


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
