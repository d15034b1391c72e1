"""The read-aside cache (DESIGN §5) on the real Redis of the test session: hits, fresh
reads after every write path (request, stream worker, Lambda), and Redis being down."""

import io
import json
import logging
import time

import pytest
import redis
from django.core.cache import cache
from django.core.management import call_command

from conftest import TEST_REDIS_URL
from devtools.dynamodb_local import free_port
from messaging import cache as messaging_cache
from messaging import cache_keys, selectors, services, stats
from messaging.stream import lambda_handler
from messaging.tests.test_stream import every_record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cached(settings):
    """Cache pages for the full TTL at once: the settle window after a write exists for
    AWS's index lag, and would otherwise make these back-to-back reads depend on timing."""
    settings.MESSAGING_CACHE_TTL = 600
    settings.MESSAGING_CACHE_SETTLE = 0


def test_second_inbox_read_is_served_from_the_cache(
    messaging_table, cached, group, bob, dynamodb_requests
):
    first = selectors.inbox_list(user=bob)
    dynamodb_requests.reset()
    hits = stats.snapshot().get("cache.hit", 0)

    second = selectors.inbox_list(user=bob)

    assert dynamodb_requests == {}
    assert second == first
    assert stats.snapshot()["cache.hit"] == hits + 1


def test_conversation_reads_always_check_membership_but_cache_the_messages(
    messaging_table, cached, group, bob, dynamodb_requests
):
    selectors.conversation_detail(user=bob, group_uuid=group)
    dynamodb_requests.reset()

    detail = selectors.conversation_detail(user=bob, group_uuid=group)

    assert dynamodb_requests == {"BatchGetItem": 1}
    assert [m.body for m in detail.messages.items] == ["hi bob"]


def test_later_pages_and_other_page_sizes_are_not_cached(
    messaging_table, cached, group, bob, dynamodb_requests
):
    selectors.inbox_list(user=bob, page_size=5)
    selectors.inbox_list(user=bob, page_size=5)
    assert dynamodb_requests == {"Query": 2}


def test_inline_write_is_visible_on_the_next_read_for_both_members(
    messaging_table, cached, group, alice, bob
):
    for user in (alice, bob):
        selectors.inbox_list(user=user)
        selectors.conversation_detail(user=user, group_uuid=group)

    services.message_create(sender=bob, group_uuid=group, body="fresh reply")

    for user in (alice, bob):
        (conversation,) = selectors.inbox_list(user=user).items
        assert conversation.last_message == "fresh reply"
        messages = selectors.conversation_detail(user=user, group_uuid=group).messages.items
        assert messages[-1].body == "fresh reply"
    assert selectors.inbox_list(user=alice).items[0].unread_count == 1


def test_mark_read_is_visible_on_the_next_inbox_read(messaging_table, cached, group, bob):
    assert selectors.inbox_list(user=bob).items[0].unread_count == 1
    services.conversation_mark_read(user=bob, group_uuid=group)
    assert selectors.inbox_list(user=bob).items[0].unread_count == 0


def test_display_name_change_shows_on_a_cached_inbox(messaging_table, cached, group, alice, bob):
    selectors.inbox_list(user=bob)
    alice.display_name = "Alice Renamed"
    alice.save()
    assert selectors.inbox_list(user=bob).items[0].other.display_name == "Alice Renamed"


def test_names_on_a_warm_inbox_come_from_the_cache(
    messaging_table, cached, group, bob, django_assert_num_queries
):
    selectors.inbox_list(user=bob)

    with django_assert_num_queries(0):
        again = selectors.inbox_list(user=bob)

    assert again.items[0].other.display_name == "Alice Liddell"


def test_a_name_read_while_the_profile_changes_is_never_served_afterwards(cached, alice):
    def load_then_rename(uuids):
        profiles = selectors._profiles_load(uuids)
        alice.display_name = "Alice Renamed"
        alice.save()
        return profiles

    stale = messaging_cache.values(
        keys={messaging_cache.person_key(alice.uuid): alice.uuid}, load=load_then_rename, ttl=600
    )

    assert stale[alice.uuid]["display_name"] == "Alice Liddell"
    assert selectors.people_by_uuid(uuids=[alice.uuid])[alice.uuid].display_name == (
        "Alice Renamed"
    )


def test_each_member_sees_only_their_own_cached_inbox(messaging_table, cached, group, alice, bob):
    for _ in range(2):
        assert [c.other.handle for c in selectors.inbox_list(user=alice).items] == ["bob"]
        assert [c.other.handle for c in selectors.inbox_list(user=bob).items] == ["alice"]


def test_stream_worker_invalidates_both_inboxes_it_moves(
    messaging_table, cached, settings, group, alice, bob, tmp_path
):
    settings.MESSAGING_FANOUT = "stream"
    for user in (alice, bob):
        selectors.inbox_list(user=user)
    services.message_create(sender=alice, group_uuid=group, body="via the stream")
    # The request invalidated the messages at once; the inboxes wait for the worker.
    assert selectors.conversation_detail(user=bob, group_uuid=group).messages.items[-1].body == (
        "via the stream"
    )

    call_command(
        "ddb_stream", "--once", "--checkpoint", str(tmp_path / "c.json"), stdout=io.StringIO()
    )

    for user in (alice, bob):
        assert selectors.inbox_list(user=user).items[0].last_message == "via the stream"


def test_lambda_invalidates_the_web_cache_through_redis(
    messaging_table, cached, settings, group, alice, bob, redis_cache, monkeypatch
):
    settings.MESSAGING_FANOUT = "stream"
    selectors.inbox_list(user=bob)
    services.message_create(sender=alice, group_uuid=group, body="via lambda")
    monkeypatch.setenv("MESSAGING_TABLE", messaging_table.name)
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("CACHE_KEY_PREFIX", redis_cache)

    response = lambda_handler.handler({"Records": every_record(messaging_table)}, None)

    assert response == {"batchItemFailures": []}
    assert selectors.inbox_list(user=bob).items[0].last_message == "via lambda"


def test_a_page_read_while_a_write_lands_is_never_served_afterwards(
    messaging_table, cached, group, alice, bob
):
    def load_then_write():
        page = messaging_table.inbox_page(user_uuid=bob.uuid, position=None, limit=20)
        services.message_create(sender=alice, group_uuid=group, body="landed mid-read")
        return page

    stale = messaging_cache.first_page(
        key=messaging_cache.inbox_key(bob.uuid), position=None, limit=20, load=load_then_write
    )

    assert stale.items[0].last_message_body == "hi bob"
    assert selectors.inbox_list(user=bob).items[0].last_message == "landed mid-read"


def test_a_page_read_before_the_write_settles_is_cached_only_until_it_settles(
    messaging_table, settings, group, alice, bob, redis_cache
):
    redis_client = redis.Redis.from_url(TEST_REDIS_URL)
    stored = cache_keys.redis_key(cache_keys.inbox_key(bob.uuid), prefix=redis_cache)
    settings.MESSAGING_CACHE_SETTLE = 30
    selectors.inbox_list(user=bob)
    assert 0 < redis_client.ttl(stored) <= 30

    settings.MESSAGING_CACHE_SETTLE = 0
    services.message_create(sender=alice, group_uuid=group, body="settled")
    selectors.inbox_list(user=bob)
    assert redis_client.ttl(stored) > 30


def test_ttl_zero_disables_the_cache(messaging_table, settings, group, bob, dynamodb_requests):
    settings.MESSAGING_CACHE_TTL = 0
    settings.MESSAGING_CACHE_SETTLE = 0
    selectors.inbox_list(user=bob)
    selectors.inbox_list(user=bob)
    assert dynamodb_requests == {"Query": 2}
    assert cache.get(cache_keys.inbox_key(bob.uuid)) is None


def test_pages_read_from_dynamodb_still_take_names_from_the_cache(
    messaging_table, settings, group, alice, bob, dynamodb_requests, django_assert_num_queries
):
    settings.MESSAGING_CACHE_TTL = 0
    selectors.inbox_list(user=bob)
    dynamodb_requests.reset()

    with django_assert_num_queries(0):
        page = selectors.inbox_list(user=bob)
    alice.display_name = "Alice Renamed"
    alice.save()
    renamed = selectors.inbox_list(user=bob)

    assert dynamodb_requests == {"Query": 2}
    assert page.items[0].other.display_name == "Alice Liddell"
    assert renamed.items[0].other.display_name == "Alice Renamed"


def test_people_ttl_zero_reads_names_from_postgres_each_time(
    messaging_table, settings, group, bob, django_assert_num_queries
):
    settings.MESSAGING_PEOPLE_CACHE_TTL = 0
    selectors.inbox_list(user=bob)

    with django_assert_num_queries(1):
        selectors.inbox_list(user=bob)


def test_reads_and_writes_work_with_redis_down_and_warn_once(
    messaging_table, settings, alice, bob, caplog, monkeypatch
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.MESSAGING_CACHE_SETTLE = 0
    monkeypatch.setattr(messaging_cache, "_warned_at", None)
    errors = stats.snapshot().get("cache.error", 0)

    with caplog.at_level(logging.WARNING, logger="messaging.cache"):
        group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
        services.message_create(sender=bob, group_uuid=group, body="still works")
        services.conversation_mark_read(user=alice, group_uuid=group)
        for user in (alice, bob):
            (conversation,) = selectors.inbox_list(user=user).items
            assert conversation.last_message == "still works"
            detail = selectors.conversation_detail(user=user, group_uuid=group)
            assert [m.body for m in detail.messages.items] == ["hi", "still works"]

    warnings = [r for r in caplog.records if r.name == "messaging.cache"]
    assert len(warnings) == 1
    assert "carrying on without it" in warnings[0].getMessage()
    # At least the three writes' invalidations failed; the keys they named were then read
    # from DynamoDB directly until a retry reaches Redis.
    assert stats.snapshot()["cache.error"] >= errors + 3


@pytest.fixture
def redis_blip(settings):
    """`with redis_blip():` Redis is unreachable inside the block, back after it."""
    from contextlib import contextmanager

    working = settings.CACHES

    @contextmanager
    def blip():
        settings.CACHES = {
            "default": {
                **working["default"],
                "LOCATION": f"redis://127.0.0.1:{free_port()}",
                "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
            }
        }
        try:
            yield
        finally:
            settings.CACHES = working

    return blip


@pytest.mark.parametrize("fanout", ["inline", "stream"])
def test_a_redis_blip_during_a_send_leaves_no_stale_page(
    messaging_table, cached, settings, alice, bob, group, redis_blip, fanout, tmp_path
):
    settings.MESSAGING_FANOUT = fanout
    # Both pages are cached...
    assert selectors.inbox_list(user=bob).items[0].last_message == "hi bob"
    assert [m.body for m in selectors.message_list(user=bob, group_uuid=group).items] == ["hi bob"]

    # ...when Redis goes away for the moment of a send, so its invalidation is lost.
    with redis_blip():
        services.message_create(sender=alice, group_uuid=group, body="during the blip")
    if fanout == "stream":
        call_command(
            "ddb_stream", "--once", "--checkpoint", str(tmp_path / "c.json"), stdout=io.StringIO()
        )

    # The conversation page checks its version on the membership read it makes anyway.
    bodies = [m.body for m in selectors.message_list(user=bob, group_uuid=group).items]
    assert bodies == ["hi bob", "during the blip"]
    # The inbox's invalidation is retried until Redis takes it; meanwhile its key skips
    # the cache, and afterwards the stored generation has moved on for every process.
    assert selectors.inbox_list(user=bob).items[0].last_message == "during the blip"
    deadline = time.monotonic() + 10
    while messaging_cache.pending_invalidations() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert messaging_cache.pending_invalidations() == []
    assert selectors.inbox_list(user=bob).items[0].last_message == "during the blip"


# The API's first inbox page kept rendered (cache.rendered, selectors.inbox_first_page_rendered).


@pytest.fixture
def bobs_inbox(messaging_table, cached, group, as_bob):
    """`bobs_inbox()`: GET /api/message_groups as Bob, the body as bytes."""

    def get(**extra) -> bytes:
        response = as_bob.get("/api/message_groups", **extra)
        assert response.status_code == 200
        return response.content

    return get


def test_a_warm_inbox_request_is_served_rendered_with_no_sql_or_dynamodb(
    bobs_inbox, dynamodb_requests, django_assert_num_queries
):
    first = bobs_inbox()
    dynamodb_requests.reset()
    hits = stats.snapshot().get("cache.rendered.hit", 0)

    with django_assert_num_queries(0):
        second = bobs_inbox()

    assert second == first
    assert dynamodb_requests == {}
    assert stats.snapshot()["cache.rendered.hit"] == hits + 1


def test_the_rendered_inbox_is_the_body_the_serializer_gives(bobs_inbox):
    warm = bobs_inbox()
    assert bobs_inbox() == warm

    # Asked for indented, the page is rendered afresh: the same JSON.
    indented = bobs_inbox(HTTP_ACCEPT="application/json; indent=2")
    assert indented != warm
    assert json.loads(indented) == json.loads(warm)


def test_a_new_message_retires_the_rendered_inbox(bobs_inbox, alice, group):
    bobs_inbox()

    services.message_create(sender=alice, group_uuid=group, body="a newer one")

    assert b"a newer one" in bobs_inbox()


def test_a_profile_change_retires_the_rendered_inbox(bobs_inbox, alice):
    assert b"Alice Liddell" in bobs_inbox()

    alice.display_name = "Alice Renamed"
    alice.save()

    assert b"Alice Renamed" in bobs_inbox()


def test_with_names_uncached_a_profile_change_still_shows_in_the_next_inbox_body(
    bobs_inbox, alice, settings
):
    settings.MESSAGING_PEOPLE_CACHE_TTL = 0
    assert b"Alice Liddell" in bobs_inbox()

    alice.display_name = "Alice Renamed"
    alice.save()

    assert b"Alice Renamed" in bobs_inbox()


def test_the_stream_workers_move_retires_the_rendered_inbox(
    bobs_inbox, settings, alice, group, tmp_path
):
    settings.MESSAGING_FANOUT = "stream"
    bobs_inbox()

    services.message_create(sender=alice, group_uuid=group, body="through the stream")
    call_command(
        "ddb_stream", "--once", "--checkpoint", str(tmp_path / "c.json"), stdout=io.StringIO()
    )

    assert b"through the stream" in bobs_inbox()


def test_a_body_built_while_a_write_lands_is_never_served_afterwards(
    messaging_table, cached, group, alice, bob
):
    def render_then_send():
        body = repr(selectors.inbox_list(user=bob).items[0].last_message).encode()
        services.message_create(sender=alice, group_uuid=group, body="landed meanwhile")
        return body

    key = messaging_cache.inbox_body_key(bob.uuid)
    stale = messaging_cache.rendered(key=key, build=render_then_send)
    fresh = messaging_cache.rendered(
        key=key, build=lambda: repr(selectors.inbox_list(user=bob).items[0].last_message).encode()
    )

    assert stale == b"'hi bob'"
    assert fresh == b"'landed meanwhile'"


def test_a_body_with_a_part_read_around_the_cache_is_not_kept(
    messaging_table, cached, group, bob, redis_blip
):
    key = messaging_cache.inbox_body_key(bob.uuid)
    builds = []

    def build():
        builds.append(1)
        with redis_blip():
            return repr(selectors.inbox_list(user=bob).items).encode()

    messaging_cache.rendered(key=key, build=build)
    messaging_cache.rendered(key=key, build=build)

    assert len(builds) == 2


# The API's first page of a conversation's messages kept rendered
# (selectors.messages_first_page_rendered): one body for every member, after each one's
# membership read.


def test_a_warm_messages_request_costs_only_the_membership_read(
    messaging_table, cached, group, as_alice, as_bob, dynamodb_requests, django_assert_num_queries
):
    url = f"/api/messages/{group}"
    first = as_bob.get(url).content
    as_alice.get("/api/message_groups")
    dynamodb_requests.reset()

    with django_assert_num_queries(0):
        again = as_bob.get(url).content
        alices = as_alice.get(url).content

    assert again == first == alices
    assert dynamodb_requests == {"BatchGetItem": 2}
    # The same JSON as the page rendered afresh (asked for indented).
    indented = as_bob.get(url, HTTP_ACCEPT="application/json; indent=2").content
    assert json.loads(indented) == json.loads(first)


def test_a_non_member_gets_404_even_with_the_body_kept(
    messaging_table, cached, group, as_bob, api_client, user_factory
):
    url = f"/api/messages/{group}"
    as_bob.get(url)

    response = api_client(user_factory("mallory")).get(url)

    assert response.status_code == 404


def test_an_edit_retires_the_rendered_messages(messaging_table, cached, group, alice, as_bob):
    url = f"/api/messages/{group}"
    (message,) = as_bob.get(url).json()["results"]

    services.message_edit(
        user=alice, group_uuid=group, message_uuid=message["uuid"], body="hi, bob"
    )

    assert as_bob.get(url).json()["results"][0]["message"] == "hi, bob"


def test_the_senders_own_rename_retires_the_rendered_messages(
    messaging_table, cached, group, alice, as_alice
):
    url = f"/api/messages/{group}"
    assert as_alice.get(url).json()["results"][0]["display_name"] == "Alice Liddell"

    alice.display_name = "Alice Renamed"
    alice.save()

    assert as_alice.get(url).json()["results"][0]["display_name"] == "Alice Renamed"
