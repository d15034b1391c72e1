"""Fixtures for the API tests: an isolated slice of the real Redis cache (throttle
history, the JWKS) and DRF clients signed in with a token."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from devtools import dynamodb_local, engines
from messaging import events, services
from messaging.events.channels import user_channel

REDIS_URL = engines.test_redis_url()


@pytest.fixture
def api_cache(settings):
    """Django's default cache on Redis under a key prefix of this test's own, so throttle
    counts and cached keys never leak between tests or concurrent test runs."""
    prefix = f"test-api-{uuid.uuid4().hex[:12]}"
    settings.CACHES = engines.redis_cache(prefix=prefix)
    from django.core.cache import cache

    yield cache
    engines.redis_prefix_clear(prefix=prefix)


@pytest.fixture
def api_client(api_cache, db):
    """`api_client(user)`: a client sending `Authorization: Token <key>` for that user;
    `api_client()`: an anonymous one."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


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


TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def live_events(settings, redis_cache):
    """Live events on for this test: the real Redis, channels under the session's prefix."""
    settings.REDIS_URL = TEST_REDIS_URL
    return events.Target(redis_url=TEST_REDIS_URL, prefix=redis_cache)


@pytest.fixture
def channel_listener(live_events):
    """`listen(user)` subscribes to that user's channel; `.events()` waits for what came."""
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    pubsubs = []

    class Listener:
        def __init__(self, user_uuid):
            self.pubsub = client.pubsub(ignore_subscribe_messages=True)
            self.pubsub.subscribe(user_channel(prefix=live_events.prefix, user_uuid=user_uuid))
            pubsubs.append(self.pubsub)

        def events(self, *, wait: float = 0.5) -> list[events.Event]:
            found, deadline = [], time.monotonic() + wait
            while (remaining := deadline - time.monotonic()) > 0:
                message = self.pubsub.get_message(timeout=remaining)
                if message and message["type"] == "message":
                    found.append(events.Event.decode(message["data"]))
            return found

    yield lambda user: Listener(user.uuid)
    for pubsub in pubsubs:
        pubsub.close()
    client.close()


class AsgiServer:
    def __init__(self, url: str, log: Path):
        self.url = url
        self.log = log


@pytest.fixture
def start_asgi_server(transactional_db, messaging_table, live_events, settings, tmp_path):
    """`start_asgi_server(**env)`: the project under uvicorn (the ASGI server production
    runs) on a free loopback port, pointed at this test's database, table and Redis
    prefix, with `env` on top. Rows the test commits are visible to it, so it needs a
    transactional database. Stopped at the end of the test."""
    from django.db import connection

    database = connection.settings_dict
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the ASGI server shares the test database only on Postgres")
    processes = []

    def start(**extra_env) -> AsgiServer:
        port = dynamodb_local.free_port()
        env = {
            **os.environ,
            "DATABASE_URL": (
                f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@"
                f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
            ),
            "DATABASE_CONN_MAX_AGE": "0",
            "DJANGO_DEBUG": "1",
            "REDIS_URL": live_events.redis_url,
            "CACHE_KEY_PREFIX": live_events.prefix,
            "MESSAGING_TABLE": messaging_table.name,
            "MESSAGING_FANOUT": settings.MESSAGING_FANOUT,
            "MESSAGING_EVENTS_HEARTBEAT": "0.5",
            "MESSAGING_EVENTS_RETRY_MS": "500",
            "MESSAGING_TYPING_RATE": "1000/min",
            **extra_env,
        }
        env.pop("DJANGO_TEST_DATABASE_NAME", None)
        log_path = tmp_path / f"uvicorn-{port}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "cruddur.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--lifespan",
                    "off",
                    "--no-access-log",
                    # Open event streams would otherwise hold a shutdown forever.
                    "--timeout-graceful-shutdown",
                    "1",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        deadline = time.monotonic() + 30
        while not dynamodb_local.port_open(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        return AsgiServer(f"http://127.0.0.1:{port}", log_path)

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Postgres ends a dead client's sessions a moment later; the test database can only
    # be flushed or dropped once they are gone.
    deadline = time.monotonic() + 5
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)


@pytest.fixture
def asgi_server(start_asgi_server):
    return start_asgi_server()
