"""The request log: one JSON line a request with its id, user, status, timing and costs;
the id on every line of the request; and no body, token or password anywhere, even at
DEBUG level, over a whole scripted session."""

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cruddur.logs import JsonFormatter, TextFormatter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_lines():
    """The configured console handler, writing JSON into a buffer, with the root and
    Django loggers at DEBUG; returns a function giving the lines logged so far."""
    (console,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    buffer = io.StringIO()
    saved = console.stream, console.formatter
    levels = {name: logging.getLogger(name).level for name in ("", "django")}
    console.setStream(buffer)
    console.setFormatter(JsonFormatter())
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    console.setStream(saved[0])
    console.setFormatter(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "cruddur.request"]


def test_request_line_has_id_user_path_status_duration_and_costs(
    api_client, alice, bob, messaging_table, log_lines
):
    from messaging import services

    services.conversation_start(sender=alice, handle="bob", body="hello")
    client = api_client(alice)

    response = client.get("/api/message_groups?page_size=5")

    assert response.status_code == 200
    (line,) = request_lines(log_lines())
    assert line["request_id"] == response["X-Request-ID"]
    assert uuid.UUID(line["request_id"])
    assert line["user_uuid"] == str(alice.uuid)
    assert line["http"]["method"] == "GET"
    assert line["http"]["path"] == "/api/message_groups"
    assert line["http"]["status"] == 200
    assert line["http"]["duration_ms"] > 0
    assert line["dynamodb"]["requests"] == 1
    assert line["dynamodb"]["consumed_capacity"] > 0
    assert line["sql_queries"] >= 1
    assert "page_size" not in json.dumps(line)


def test_incoming_request_id_is_kept_and_returned(client, log_lines):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="Root=1-6744a1b2-abc123")

    assert response["X-Request-ID"] == "Root=1-6744a1b2-abc123"
    (line,) = request_lines(log_lines())
    assert line["request_id"] == "Root=1-6744a1b2-abc123"
    assert line["user_uuid"] is None


def test_request_id_that_is_not_plain_text_is_replaced(client, log_lines):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID='x" injected=1 ' * 20)

    assert uuid.UUID(response["X-Request-ID"])


def test_every_line_a_request_logs_carries_its_request_id(
    api_client, alice, messaging_table, settings, log_lines
):
    settings.MESSAGING_TABLE = "no-such-table"

    response = api_client(alice).get("/api/message_groups", HTTP_X_REQUEST_ID="req-42")

    assert response.status_code == 503
    lines = log_lines()
    warnings = [line for line in lines if line["level"] == "WARNING"]
    assert warnings
    assert {line["request_id"] for line in lines} == {"req-42"}, lines


def test_lines_outside_a_request_have_no_request_id(log_lines):
    logging.getLogger("messaging.stream").info("stream batch 0 records")

    assert [line["request_id"] for line in log_lines()] == ["-"]


def test_text_format_is_one_readable_line():
    record = logging.makeLogRecord(
        {"name": "cruddur.request", "levelname": "INFO", "msg": "GET /messages 200 3.1ms"}
    )

    assert (
        TextFormatter().format(record).endswith("INFO cruddur.request [-] GET /messages 200 3.1ms")
    )


@pytest.mark.parametrize(
    ("debug", "override", "expected"),
    [("0", None, "json"), ("1", None, "text"), ("0", "text", "text")],
)
def test_log_format_is_json_when_debug_is_off_unless_set(debug, override, expected):
    env = {**os.environ, "DJANGO_DEBUG": debug, "DJANGO_SETTINGS_MODULE": "cruddur.settings"}
    env.pop("DJANGO_LOG_FORMAT", None)
    if override:
        env["DJANGO_LOG_FORMAT"] = override
    code = (
        "from django.conf import settings;"
        " print(settings.LOGGING['handlers']['console']['formatter'])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )

    assert completed.stdout.strip() == expected, completed.stderr


SECRET_BODY = "the-launch-code-is-7781-zebra"
PASSWORD = "correct-horse-battery-staple-9"


def test_a_whole_session_logs_no_body_token_or_password(
    client, api_client, bob, messaging_table, log_lines, capfd
):
    signup = client.post(
        "/accounts/signup/",
        {
            "handle": "dana",
            "display_name": "Dana",
            "email": "dana@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert signup.status_code == 302
    client.post("/accounts/logout/")
    assert (
        client.post("/accounts/login/", {"username": "dana", "password": PASSWORD}).status_code
        == 302
    )
    first = client.post("/messages/new/bob", {"message": f"page: {SECRET_BODY}"})
    assert first.status_code == 302
    assert client.get(first["Location"]).status_code == 200

    api = api_client()
    token = api.post(
        "/api/auth/token", {"username": "dana", "password": PASSWORD}, format="json"
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    sent = api.post(
        "/api/messages",
        {"message": f"api: {SECRET_BODY}", "handle": "bob"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert sent.status_code == 201
    group = sent.json()["message_group_uuid"]
    assert api.get(f"/api/messages/{group}?page_size=2").status_code == 200
    assert api.get("/api/message_groups").status_code == 200
    # A rejected body is logged no more than an accepted one.
    assert (
        api.post("/api/messages", {"message": "", "handle": "bob"}, format="json").status_code
        == 400
    )
    assert (
        api.post(
            "/api/auth/token", {"username": "dana", "password": f"{PASSWORD}-wrong"}, format="json"
        ).status_code
        == 400
    )
    assert client.post("/accounts/logout/").status_code == 302

    lines = log_lines()
    captured = capfd.readouterr()
    everything = json.dumps(lines) + captured.out + captured.err
    assert len(request_lines(lines)) >= 11
    for secret in (SECRET_BODY, token, PASSWORD, "csrfmiddlewaretoken", "sessionid="):
        assert secret not in everything
