"""One lazily built boto3 DynamoDB client per process, and the request deadline.

Endpoints come from the environment (`AWS_ENDPOINT_URL_DYNAMODB`,
`AWS_ENDPOINT_URL_DYNAMODBSTREAMS`), so the same code talks to DynamoDB Local, moto or AWS.
This module imports nothing from Django: the Lambda uses it too.

Timeouts bound one attempt; a deadline bounds the whole request. botocore retries a
timed-out attempt, so a DynamoDB that hangs instead of refusing would otherwise hold a
web request for attempts x read timeout. Inside `deadline(seconds)` every attempt is
checked before it is sent (botocore's `before-send` fires per attempt, retries
included): a retry that could not finish in time is not started, nor is anything once
the time is up, and the caller gets `StoreUnavailable` while there is still time to
answer 503.
"""

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import boto3
import botocore
from botocore.config import Config

from messaging.dynamo.errors import DeadlineExceeded

# The operations that accept ReturnConsumedCapacity (the request log and the bench
# read the capacity they report).
CAPACITY_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
}

USER_AGENT = f"Boto3/{boto3.__version__} Botocore/{botocore.__version__} cruddur-messaging"

_lock = threading.Lock()
_clients: dict[str, Any] = {}
# Called as hook(service, client) on every client, built or to be built: how the request
# log (cruddur/logs.py) counts DynamoDB calls without this module importing Django.
_client_hooks: list[Callable[[str, Any], None]] = []


class _Deadline:
    """When the current request must have its answer."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds


_deadline: ContextVar[_Deadline | None] = ContextVar("dynamodb_deadline", default=None)


def _read_timeout() -> float:
    return float(os.environ.get("DYNAMODB_READ_TIMEOUT", "3"))


def _config() -> Config:
    # Standard retries back off on throttling and transient 5xx; the timeouts keep a
    # dead endpoint from hanging a request for botocore's default 60 s. DynamoDB answers
    # in milliseconds; 3 s leaves room for a local engine warming up, and a request's
    # deadline (below) still answers a hanging endpoint in time.
    return Config(
        retries={
            "mode": "standard",
            "max_attempts": int(os.environ.get("DYNAMODB_MAX_ATTEMPTS", "4")),
        },
        connect_timeout=float(os.environ.get("DYNAMODB_CONNECT_TIMEOUT", "1")),
        read_timeout=_read_timeout(),
        max_pool_connections=int(os.environ.get("DYNAMODB_MAX_POOL_CONNECTIONS", "25")),
        # A fixed string: otherwise botocore rebuilds and sanitises its composite
        # user-agent twice on every request, a cost the bench's profile showed on each
        # DynamoDB call.
        user_agent=USER_AGENT,
    )


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _endpoint_url(service: str) -> str | None:
    # botocore reads AWS_ENDPOINT_URL_DYNAMODB itself, but spells the streams variable
    # AWS_ENDPOINT_URL_DYNAMODB_STREAMS; accept the project's documented name as well.
    if service == "dynamodbstreams":
        return os.environ.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS") or os.environ.get(
            "AWS_ENDPOINT_URL_DYNAMODBSTREAMS"
        )
    return None


def _refuse_late_attempt(request: Any = None, **_: Any) -> None:
    """Before every attempt: a call's first attempt goes while any time is left; a retry
    only if a whole read timeout still fits before the deadline (botocore counts the
    attempts in the request's context)."""
    current = _deadline.get()
    if current is None:
        return
    remaining = current.at - time.monotonic()
    context = getattr(request, "context", None) or {}
    attempt = context.get("retries", {}).get("attempt", 1)
    if remaining <= 0 or (attempt > 1 and remaining < _read_timeout()):
        raise DeadlineExceeded(remaining=max(remaining, 0.0))


def _build(service: str) -> Any:
    with _lock:
        if service not in _clients:
            session = boto3.session.Session()
            client = session.client(
                service,  # type: ignore[call-overload]
                region_name=_region(),
                config=_config(),
                endpoint_url=_endpoint_url(service),
            )
            client.meta.events.register("before-send", _refuse_late_attempt)
            for hook in _client_hooks:
                hook(service, client)
            _clients[service] = client
        return _clients[service]


def get_client() -> Any:
    """The process's DynamoDB client."""
    return _clients.get("dynamodb") or _build("dynamodb")


def get_streams_client() -> Any:
    """The process's DynamoDB Streams client."""
    return _clients.get("dynamodbstreams") or _build("dynamodbstreams")


def reset_clients() -> None:
    """Forget the clients, so the next call picks up a changed endpoint (tests, workers)."""
    with _lock:
        _clients.clear()


def add_client_hook(hook: Callable[[str, Any], None]) -> None:
    """Run `hook(service, client)` on each client now and on each one built later."""
    with _lock:
        if hook not in _client_hooks:
            _client_hooks.append(hook)
        for service, client in _clients.items():
            hook(service, client)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every DynamoDB call inside must be answered within `seconds` from now."""
    token = _deadline.set(_Deadline(seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds left before the current deadline, or None outside one."""
    current = _deadline.get()
    return None if current is None else current.at - time.monotonic()


def endpoint_description() -> str:
    """Where requests go, for error messages an operator can act on."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    return endpoint or f"AWS ({_region()})"
