"""Any body to any JSON endpoint is a 4xx with a JSON `detail`, never a 500: nesting,
size, encoding (messaging/api/parsers.py)."""

import json

import pytest
from rest_framework.test import APIClient

DEEP = "[" * 1000 + "]" * 1000
ENDPOINTS = ["/api/auth/token", "/api/messages"]


def post_raw(client, path: str, body: bytes | str, content_type="application/json"):
    return client.generic("POST", path, body, content_type=content_type)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_json_nested_a_thousand_deep_is_400_not_500(as_alice, messaging_table, path):
    response = post_raw(as_alice, path, DEEP)

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_unauthenticated_token_endpoint_refuses_deep_json_with_400(db):
    response = post_raw(APIClient(), "/api/auth/token", json.dumps({"username": DEEP}))

    assert response.status_code == 400


def test_json_deeper_than_the_limit_but_within_the_decoder_is_400(as_alice, messaging_table):
    body = '{"message": ' + "[" * 40 + "]" * 40 + ', "handle": "bob"}'

    response = post_raw(as_alice, "/api/messages", body)

    assert response.status_code == 400
    assert "32" in response.json()["detail"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_over_the_upload_limit_is_413_json(as_alice, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"message": "x" * 1000, "handle": "bob", "username": "u", "password": "p"})

    response = post_raw(as_alice, path, body)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [b'{"username": "\xff\xfe", "password": "p"}', b"\x00\x01", b'{"username": NaN}'],
)
def test_bad_encoding_or_constants_are_400_json(db, body):
    response = post_raw(APIClient(), "/api/auth/token", body)

    assert response.status_code == 400
    assert response.json()["detail"]


def test_an_unknown_charset_is_not_looked_up(db, alice):
    response = post_raw(
        APIClient(),
        "/api/auth/token",
        json.dumps({"username": "alice", "password": "correct-horse-battery"}),
        content_type="application/json; charset=no-such-codec",
    )

    assert response.status_code == 200


@pytest.mark.parametrize("body", ["[]", "12345", '"text"', "null"])
def test_a_body_that_is_not_an_object_is_400(db, body):
    response = post_raw(APIClient(), "/api/auth/token", body)

    assert response.status_code == 400
