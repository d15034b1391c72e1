"""API tokens (messaging/api/tokens.py): they expire after API_TOKEN_LIFETIME, end on a
password change, and DELETE /api/auth/token signs the token out, also once the token is
in the cache."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

# A revocation reaches the cache once its transaction commits: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)

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


# Who a token signs in is cached (messaging.cache.credentials): every way of ending a
# token or changing its user reaches a token already in the cache at once.


@pytest.fixture
def warm(messaging_table, token, settings):
    """A client whose token has been used once, so who it signs in is cached."""
    settings.MESSAGING_CACHE_TTL = 600
    client = with_token(token.key)
    assert client.get("/api/message_groups").status_code == 200
    return client


def test_a_cached_token_signs_in_with_no_sql(warm, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = warm.get("/api/message_groups")

    assert response.status_code == 200


# Alice's inbox is empty (no names to look up): the token is a request's only possible query.
@pytest.mark.parametrize(
    ("setting", "queries"),
    [
        # The token has a TTL of its own: it stays cached with the page cache off.
        ("MESSAGING_CACHE_TTL", 0),
        # Its own TTL at 0 looks it up on every request.
        ("API_TOKEN_CACHE_TTL", 1),
    ],
)
def test_a_tokens_own_ttl_alone_decides_whether_it_is_cached(
    messaging_table, token, settings, django_assert_num_queries, setting, queries
):
    setattr(settings, setting, 0)
    client = with_token(token.key)
    assert client.get("/api/message_groups").status_code == 200

    with django_assert_num_queries(queries):
        assert client.get("/api/message_groups").status_code == 200


def test_deactivating_the_user_refuses_their_cached_token_at_once(warm, alice):
    alice.is_active = False
    alice.save()

    response = warm.get("/api/message_groups")

    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted."}


def test_a_password_change_refuses_the_cached_token_at_once(warm, alice):
    alice.set_password("another-horse-battery")
    alice.save()

    assert warm.get("/api/message_groups").status_code == 401


def test_a_cached_token_still_expires(warm, settings):
    settings.API_TOKEN_LIFETIME = 0

    response = warm.get("/api/message_groups")

    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired."}


def test_a_cached_user_shows_a_profile_change_at_once(warm, alice, bob):
    alice.display_name = "Alice Renamed"
    alice.save()

    response = warm.post(
        "/api/message_groups", {"handles": ["bob"], "message": "hello"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["display_name"] == "Alice Renamed"


def test_the_cache_holds_no_token_and_no_password_hash(warm, alice, token, redis_cache):
    import redis

    from conftest import TEST_REDIS_URL

    client = redis.Redis.from_url(TEST_REDIS_URL)
    stored = b"".join(
        (key or b"") + (client.get(key) or b"")
        for key in client.scan_iter(match=f"{redis_cache}:*credentials*")
    )

    assert b"credentials" in stored
    assert token.key.encode() not in stored
    assert alice.password.encode() not in stored


def test_made_up_tokens_write_nothing_to_the_cache(messaging_table, settings, redis_cache):
    import redis

    from conftest import TEST_REDIS_URL

    settings.MESSAGING_CACHE_TTL = 600
    client = redis.Redis.from_url(TEST_REDIS_URL)
    before = sum(1 for _ in client.scan_iter(match=f"{redis_cache}:*credentials*"))

    for n in range(5):
        assert with_token(f"{n:040x}").get("/api/message_groups").status_code == 401

    assert sum(1 for _ in client.scan_iter(match=f"{redis_cache}:*credentials*")) == before


def test_a_token_deleted_while_its_first_entry_loads_is_never_served(
    messaging_table, token, settings
):
    from messaging import cache
    from messaging.api.tokens import _credentials_load

    settings.MESSAGING_CACHE_TTL = 600

    def load_then_sign_out():
        found = _credentials_load(token.key)
        Token.objects.filter(key=token.key).delete()
        return found

    cache.credentials(token_key=token.key, load=load_then_sign_out)

    assert with_token(token.key).get("/api/message_groups").status_code == 401
