"""Shared fixtures: a real DynamoDB Local over HTTP for the session, a fresh table per
test built from the one table definition, users from a factory, and a DynamoDB request
counter built on botocore's event hooks."""

import collections
import itertools
import os
import uuid

import pytest

from devtools import dynamodb_local, engines
from messaging.dynamo import MessagingTable
from messaging.dynamo.admin import TableAdmin
from messaging.dynamo.client import get_client, reset_clients

_handles = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # Django's default PBKDF2 costs ~0.5 s a hash by design; tests only need a real hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Room for DynamoDB Local on a loaded machine; the deadline's own tests set 4.5 s.
    settings.DYNAMODB_REQUEST_DEADLINE = 120


@pytest.fixture(scope="session")
def dynamodb_endpoint(tmp_path_factory):
    """DynamoDB Local on a free loopback port, in memory, for the whole test session."""
    port = dynamodb_local.free_port()
    log = (tmp_path_factory.mktemp("dynamodb") / "engine.log").open("w")
    process = dynamodb_local.start(port=port, log=log, short_lived=True)
    endpoint = f"http://{dynamodb_local.HOST}:{port}"
    saved_timeout = os.environ.get("DYNAMODB_READ_TIMEOUT")
    # DynamoDB Local on a busy 2-core machine can take seconds to answer what AWS answers
    # in milliseconds; the deadline tests set production's values.
    os.environ["DYNAMODB_READ_TIMEOUT"] = "20"
    with engines.local_dynamodb_environ(endpoint):
        reset_clients()
        yield endpoint
        dynamodb_local.stop(process)
        log.close()
    engines.environ_restore({"DYNAMODB_READ_TIMEOUT": saved_timeout})
    reset_clients()


TEST_REDIS_URL = engines.test_redis_url()


@pytest.fixture(scope="session", autouse=True)
def redis_cache():
    """Every test caches in the real Redis, under a prefix of its own session, so
    parallel runs never see each other's keys; the keys are removed at the end."""
    import redis
    from django.test.utils import override_settings

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.exit(
            f"the tests use a real Redis and none answers at {TEST_REDIS_URL} ({exc}) -"
            " start redis-server or set TEST_REDIS_URL",
            returncode=2,
        )
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    override = override_settings(
        CACHES=engines.redis_cache(prefix=prefix), CACHE_KEY_PREFIX=prefix
    )
    override.enable()
    yield prefix
    override.disable()
    engines.redis_prefix_clear(prefix=prefix)


@pytest.fixture
def messaging_table(dynamodb_endpoint, settings):
    """A new, empty table (from schema.table_definition) for this test only."""
    name = f"test-messages-{uuid.uuid4().hex[:12]}"
    admin = TableAdmin(name)
    admin.create()
    settings.MESSAGING_TABLE = name
    yield MessagingTable(name)
    admin.drop()


@pytest.fixture
def table_admin(messaging_table):
    """Operators' view of the test's table (scans, indexes)."""
    return TableAdmin(messaging_table.name)


@pytest.fixture
def user_factory(db):
    from accounts.models import User

    def make(handle: str | None = None, **extra) -> User:
        handle = handle or f"user{next(_handles)}"
        extra.setdefault("display_name", handle.title())
        extra.setdefault("password", "correct-horse-battery")
        return User.objects.create_user(handle, **extra)

    return make


@pytest.fixture
def alice(user_factory):
    return user_factory("alice", display_name="Alice Liddell")


@pytest.fixture
def bob(user_factory):
    return user_factory("bob", display_name="Bob Builder")


class RequestCounter:
    """Counts DynamoDB API calls by operation, as sent over the wire."""

    def __init__(self):
        self.calls: collections.Counter[str] = collections.Counter()

    def __call__(self, model, **_):
        self.calls[model.name] += 1

    def reset(self) -> None:
        self.calls.clear()

    def __eq__(self, other):
        return dict(self.calls) == other

    def __repr__(self):
        return repr(dict(self.calls))


@pytest.fixture
def dynamodb_requests(dynamodb_endpoint):
    counter = RequestCounter()
    events = get_client().meta.events
    events.register("before-call.dynamodb", counter)
    yield counter
    events.unregister("before-call.dynamodb", counter)
