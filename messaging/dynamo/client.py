"""One lazily built boto3 DynamoDB client per process.

Endpoints come from the environment (`AWS_ENDPOINT_URL_DYNAMODB`,
`AWS_ENDPOINT_URL_DYNAMODBSTREAMS`), so the same code talks to DynamoDB Local, moto or AWS.
This module imports nothing from Django: the Lambda uses it too.
"""

import os
import threading
from collections.abc import Callable

import boto3
import botocore
from botocore.config import Config

USER_AGENT = f"Boto3/{boto3.__version__} Botocore/{botocore.__version__} cruddur-messaging"

_lock = threading.Lock()
_clients: dict[str, object] = {}
# Called as hook(service, client) on every client, built or to be built: how the request
# log (cruddur/logs.py) counts DynamoDB calls without this module importing Django.
_client_hooks: list[Callable[[str, object], None]] = []


def _config() -> Config:
    # Standard retries back off on throttling and transient 5xx; the timeouts keep a
    # dead endpoint from hanging a web request for botocore's default 60 s.
    return Config(
        retries={
            "mode": "standard",
            "max_attempts": int(os.environ.get("DYNAMODB_MAX_ATTEMPTS", "4")),
        },
        connect_timeout=float(os.environ.get("DYNAMODB_CONNECT_TIMEOUT", "2")),
        read_timeout=float(os.environ.get("DYNAMODB_READ_TIMEOUT", "5")),
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


def _build(service: str):
    with _lock:
        if service not in _clients:
            session = boto3.session.Session()
            _clients[service] = session.client(
                service,
                region_name=_region(),
                config=_config(),
                endpoint_url=_endpoint_url(service),
            )
            for hook in _client_hooks:
                hook(service, _clients[service])
        return _clients[service]


def get_client():
    """The process's DynamoDB client."""
    return _clients.get("dynamodb") or _build("dynamodb")


def get_streams_client():
    """The process's DynamoDB Streams client."""
    return _clients.get("dynamodbstreams") or _build("dynamodbstreams")


def add_client_hook(hook: Callable[[str, object], None]) -> None:
    """Run `hook(service, client)` on each client now and on each one built later."""
    with _lock:
        if hook not in _client_hooks:
            _client_hooks.append(hook)
        for service, client in _clients.items():
            hook(service, client)


def reset_clients() -> None:
    """Forget the clients, so the next call picks up a changed endpoint (tests, workers)."""
    with _lock:
        _clients.clear()


def endpoint_description() -> str:
    """Where requests go, for error messages an operator can act on."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    return endpoint or f"AWS ({_region()})"
