"""`GET /api/events` against the real ASGI server (uvicorn) and
`POST /api/message_groups/<uuid>/typing` in process, over the real Redis."""

import time
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from messaging import services

pytestmark = pytest.mark.django_db(transaction=True)


class Stream:
    """An open SSE response, read frame by frame with a bound on the wait."""

    def __init__(self, response):
        self.response = response
        self.lines = response.iter_lines(decode_unicode=True)

    def frames(self, *, until, seconds: float = 10.0) -> list[list[str]]:
        """Frames (each a list of lines) up to and including the first that `until`
        accepts; fails after `seconds`."""
        frames, current, deadline = [], [], time.monotonic() + seconds
        for line in self.lines:
            if time.monotonic() > deadline:
                break
            if line:
                current.append(line)
                continue
            if current:
                frames.append(current)
                if until(current):
                    return frames
            current = []
        pytest.fail(f"no matching frame within {seconds}s; got {frames}")

    def ends(self, *, seconds: float = 10.0) -> list[str]:
        """Every line until the server closes the stream."""
        rest, deadline = [], time.monotonic() + seconds
        for line in self.lines:
            rest.append(line)
            assert time.monotonic() < deadline, "the stream did not end"
        return rest


def open_stream(server, **headers) -> Stream:
    response = requests.get(f"{server.url}/api/events", headers=headers, stream=True, timeout=5)
    assert response.status_code == 200, response.text
    return Stream(response)


def token_for(user) -> dict:
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def is_event(name):
    return lambda frame: frame[0] == f"event: {name}"


def test_stream_without_credentials_is_a_json_401(asgi_server):
    response = requests.get(f"{asgi_server.url}/api/events", timeout=5)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_stream_with_a_bad_token_is_a_json_401(asgi_server):
    response = requests.get(
        f"{asgi_server.url}/api/events", headers={"Authorization": "Token nope"}, timeout=5
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_stream_refuses_other_methods_with_a_json_405(asgi_server, alice):
    response = requests.post(f"{asgi_server.url}/api/events", headers=token_for(alice), timeout=5)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


def test_stream_opens_with_a_retry_hint_and_sends_heartbeats(asgi_server, alice):
    stream = open_stream(asgi_server, **token_for(alice))

    assert stream.response.headers["Content-Type"].startswith("text/event-stream")
    assert stream.response.headers["Cache-Control"].startswith("no-cache")
    frames = stream.frames(until=lambda frame: frame == [": heartbeat"])
    assert frames[0] == ["retry: 500", ": connected"]


def test_a_message_reaches_the_recipients_open_stream(asgi_server, alice, bob):
    stream = open_stream(asgi_server, **token_for(bob))
    stream.frames(until=lambda frame: frame[0] == "retry: 500")

    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")

    frames = stream.frames(until=is_event("inbox"))
    message = next(frame for frame in frames if frame[0] == "event: message")
    assert f'"uuid":"{sent.uuid}"' in message[1] and '"message":"hi bob"' in message[1]


def test_someone_elses_messages_never_reach_a_stream(asgi_server, alice, bob, user_factory):
    carol = user_factory("carol")
    stream = open_stream(asgi_server, **token_for(carol))
    stream.frames(until=lambda frame: frame[0] == "retry: 500")

    services.conversation_start(sender=alice, handle="bob", body="hi bob")

    frames = stream.frames(until=lambda frame: frame == [": heartbeat"])
    assert not any(frame[0].startswith("event:") for frame in frames)


def test_revoking_the_token_ends_the_stream_within_a_heartbeat(asgi_server, alice):
    headers = token_for(alice)
    stream = open_stream(asgi_server, **headers)
    stream.frames(until=lambda frame: frame[0] == "retry: 500")

    Token.objects.filter(user=alice).delete()

    assert ": signed out" in stream.ends()


def test_logging_out_ends_a_session_stream(asgi_server, alice):
    browser = Client()
    browser.force_login(alice)
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    stream = open_stream(asgi_server, Cookie=f"{settings.SESSION_COOKIE_NAME}={cookie}")
    stream.frames(until=lambda frame: frame[0] == "retry: 500")

    browser.post("/accounts/logout/")

    assert not Session.objects.filter(session_key=cookie).exists()
    assert ": signed out" in stream.ends()


def test_typing_reaches_the_other_member_only(
    messaging_table, live_events, channel_listener, api_client, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    alice_events, bob_events = channel_listener(alice), channel_listener(bob)

    response = api_client(bob).post(f"/api/message_groups/{sent.group_uuid}/typing")

    assert response.status_code == 204
    assert [(e.name, e.data) for e in alice_events.events()] == [
        (
            "typing",
            {
                "message_group_uuid": str(sent.group_uuid),
                "handle": "bob",
                "display_name": "Bob Builder",
            },
        )
    ]
    assert bob_events.events(wait=0.2) == []


def test_typing_writes_nothing_to_dynamodb(
    messaging_table, live_events, api_client, alice, bob, dynamodb_requests
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    dynamodb_requests.reset()

    api_client(bob).post(f"/api/message_groups/{sent.group_uuid}/typing")

    assert dynamodb_requests == {"BatchGetItem": 1}


def test_typing_in_someone_elses_conversation_is_404(
    messaging_table, live_events, api_client, alice, bob, user_factory
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    carol = user_factory("carol")

    foreign = api_client(carol).post(f"/api/message_groups/{sent.group_uuid}/typing")
    malformed = api_client(carol).post("/api/message_groups/not-a-uuid/typing")

    assert foreign.status_code == malformed.status_code == 404
    assert foreign.json() == {"detail": "No such conversation."}


def test_typing_is_rate_limited(messaging_table, live_events, api_client, settings, alice, bob):
    settings.MESSAGING_TYPING_RATE = "2/min"
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    client = api_client(bob)

    codes = [
        client.post(f"/api/message_groups/{sent.group_uuid}/typing").status_code for _ in range(3)
    ]

    assert codes == [204, 204, 429]


def test_the_stream_under_a_wsgi_server_says_to_poll(api_client, alice):
    response = api_client(alice).get("/api/events")

    assert response.status_code == 503
    assert response.json() == {"detail": "Live events need the ASGI server; poll the API."}


def test_every_open_stream_of_a_user_gets_the_event_and_one_closing_leaves_the_others(
    asgi_server, alice, bob
):
    headers = token_for(bob)
    first, second, third = (open_stream(asgi_server, **headers) for _ in range(3))
    for stream in (first, second, third):
        stream.frames(until=lambda frame: frame[0] == "retry: 500")
    third.response.close()

    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")

    for stream in (first, second):
        frames = stream.frames(until=is_event("inbox"))
        assert any(f'"uuid":"{sent.uuid}"' in line for frame in frames for line in frame)


def test_an_expired_token_cannot_open_a_stream(asgi_server, alice):
    headers = token_for(alice)
    Token.objects.filter(user=alice).update(
        created=timezone.now() - timedelta(seconds=settings.API_TOKEN_LIFETIME + 1)
    )

    response = requests.get(f"{asgi_server.url}/api/events", headers=headers, timeout=5)

    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired."}


def server_database_connections(*, settle: float = 5.0) -> int:
    """Connections to the test database other than this process's own, once the count
    reaches 0 or `settle` seconds have passed: a backend leaves pg_stat_activity a moment
    after its client closes, and on a loaded machine that moment can outlast the query."""
    deadline = time.monotonic() + settle
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            count = cursor.fetchone()[0]
        if count == 0 or time.monotonic() >= deadline:
            return count
        time.sleep(0.05)


def test_open_streams_hold_no_database_connection(asgi_server, alice, bob):
    browser = Client()
    browser.force_login(alice)
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    streams = [
        open_stream(asgi_server, Cookie=f"{settings.SESSION_COOKIE_NAME}={cookie}"),
        open_stream(asgi_server, **token_for(alice)),
        open_stream(asgi_server, **token_for(bob)),
    ]
    for stream in streams:
        stream.frames(until=lambda frame: frame[0] == "retry: 500")

    assert server_database_connections() == 0


def test_revoking_a_token_ends_its_stream_without_waiting_for_a_heartbeat(
    start_asgi_server, alice
):
    server = start_asgi_server(MESSAGING_EVENTS_HEARTBEAT="60")
    stream = open_stream(server, **token_for(alice))
    stream.frames(until=lambda frame: frame[0] == "retry: 500")

    Token.objects.filter(user=alice).delete()

    assert stream.ends() == [": signed out", ""]


def test_a_password_change_ends_the_users_other_session_streams(asgi_server, alice):
    browser = Client()
    browser.force_login(alice)
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    stream = open_stream(asgi_server, Cookie=f"{settings.SESSION_COOKIE_NAME}={cookie}")
    stream.frames(until=lambda frame: frame[0] == "retry: 500")

    alice.set_password("a-new-long-passphrase")
    alice.save()

    assert ": signed out" in stream.ends()


def test_a_profile_edit_keeps_the_stream_and_tells_its_client_nothing(asgi_server, alice, bob):
    stream = open_stream(asgi_server, **token_for(bob))
    stream.frames(until=lambda frame: frame[0] == "retry: 500")

    bob.display_name = "Robert Builder"
    bob.save()
    services.conversation_start(sender=alice, handle="bob", body="still there?")

    frames = stream.frames(until=is_event("inbox"))
    assert not any("credentials" in line for frame in frames for line in frame)
    assert [": signed out"] not in frames
