"""API tokens (messaging/api/tokens.py): they expire after API_TOKEN_LIFETIME, end on a
password change, and DELETE /api/auth/token signs the token out."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery"


@pytest.fixture
def token(alice):
    return Token.objects.create(user=alice)


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def age(token: Token, seconds: int) -> None:
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(seconds=seconds))


def test_a_token_within_its_lifetime_authenticates(messaging_table, token, settings):
    settings.API_TOKEN_LIFETIME = 3600
    age(token, 3500)

    assert with_token(token.key).get("/api/message_groups").status_code == 200


def test_an_expired_token_is_401_saying_so(messaging_table, token, settings):
    settings.API_TOKEN_LIFETIME = 3600
    age(token, 3601)

    response = with_token(token.key).get("/api/message_groups")

    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired."}


def test_signing_in_after_expiry_issues_a_new_token(alice, token, settings):
    settings.API_TOKEN_LIFETIME = 3600
    age(token, 4000)

    response = APIClient().post(
        "/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["token"] != token.key
    assert not Token.objects.filter(key=token.key).exists()


def test_signing_in_again_within_the_lifetime_returns_the_same_token(alice, token):
    response = APIClient().post(
        "/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
    )

    assert response.json() == {"token": token.key}


def test_delete_signs_the_token_out(messaging_table, token):
    client = with_token(token.key)

    signed_out = client.delete("/api/auth/token")

    assert signed_out.status_code == 204
    assert client.get("/api/message_groups").status_code == 401


def test_delete_without_a_token_is_401(db):
    response = APIClient().delete("/api/auth/token")

    assert response.status_code == 401
    assert response.json()["detail"]


def test_delete_with_an_expired_token_is_401(token, settings):
    settings.API_TOKEN_LIFETIME = 60
    age(token, 61)

    assert with_token(token.key).delete("/api/auth/token").json() == {"detail": "Token expired."}


def test_a_password_change_ends_the_token(messaging_table, alice, token):
    alice.set_password("a-brand-new-password")
    alice.save()

    assert with_token(token.key).get("/api/message_groups").status_code == 401


def test_saving_a_profile_without_a_password_change_keeps_the_token(messaging_table, alice, token):
    alice.display_name = "Alice L."
    alice.save()

    assert with_token(token.key).get("/api/message_groups").status_code == 200
