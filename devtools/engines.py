"""The local engines' environment, written once for the tests, the bench and `make dev`.

    python -m devtools.engines env http://127.0.0.1:8001   # KEY=VALUE lines (for .env)

- `local_dynamodb_env`: what points boto3 (and the project's Streams client) at a local
  DynamoDB engine with throwaway credentials.
- `redis_cache`: Django's CACHES on a real Redis under a key prefix of the caller's own,
  so concurrent test sessions and bench runs never see each other's keys, and
  `redis_prefix_clear` to remove that prefix's keys afterwards.
"""

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

# Read from the environment that would otherwise reach a real account.
_AWS_CREDENTIAL_SOURCES = ("AWS_SESSION_TOKEN", "AWS_PROFILE")


def local_dynamodb_env(endpoint: str) -> dict[str, str]:
    # Local engines accept any credentials; real ones must never be sent to them.
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_DYNAMODBSTREAMS": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def local_dynamodb_environ_apply(endpoint: str) -> dict[str, str | None]:
    """Point this process at the local engine; returns what to hand to `environ_restore`."""
    env = local_dynamodb_env(endpoint)
    saved = {name: os.environ.get(name) for name in (*env, *_AWS_CREDENTIAL_SOURCES)}
    for name in _AWS_CREDENTIAL_SOURCES:
        os.environ.pop(name, None)
    os.environ.update(env)
    return saved


def environ_restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextmanager
def local_dynamodb_environ(endpoint: str) -> Iterator[dict[str, str]]:
    saved = local_dynamodb_environ_apply(endpoint)
    try:
        yield local_dynamodb_env(endpoint)
    finally:
        environ_restore(saved)


def test_redis_url() -> str:
    """The Redis the tests and the bench use (TEST_REDIS_URL, default the local one)."""
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_cache(*, prefix: str, url: str | None = None) -> dict:
    """Django's CACHES setting on Redis under `prefix`, with the app's own short timeouts."""
    return {
        "default": {
            "BACKEND": "cruddur.cache_backend.RedisCache",
            "LOCATION": url or test_redis_url(),
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def redis_prefix_clear(*, prefix: str, url: str | None = None) -> int:
    """Delete every key under `prefix`; how many there were."""
    import redis

    client = redis.Redis.from_url(url or test_redis_url())
    stale = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if stale:
        client.delete(*stale)
    return len(stale)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    env = commands.add_parser("env", help="print the local engine's environment")
    env.add_argument("endpoint", help="e.g. http://127.0.0.1:8001")
    args = parser.parse_args(argv)
    for name, value in local_dynamodb_env(args.endpoint).items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
