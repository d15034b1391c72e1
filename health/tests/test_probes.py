"""/healthz and /readyz against the real Postgres, Redis and DynamoDB Local, and against
each of them missing or silent."""

import socket
import threading

import pytest

from devtools import dynamodb_local
from messaging.dynamo.client import reset_clients


@pytest.fixture
def ready_stack(messaging_table, db):
    return messaging_table


def test_healthz_is_200_and_touches_no_dependency(
    client, db, django_assert_num_queries, dynamodb_requests
):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert dynamodb_requests == {}


def test_readyz_is_200_when_postgres_redis_and_the_table_answer(client, ready_stack):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "dynamodb": "ok",
    }
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_is_503_when_the_table_is_missing(client, ready_stack, settings):
    settings.MESSAGING_TABLE = "no-such-table"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["dynamodb"]["status"] == "unavailable"
    assert response.json()["checks"]["database"]["status"] == "ok"


def test_readyz_is_503_when_redis_refuses(client, ready_stack, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{dynamodb_local.free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["status"] == "unavailable"
    assert response.json()["checks"]["dynamodb"]["status"] == "ok"


@pytest.fixture
def silent_dynamodb(monkeypatch, dynamodb_endpoint):
    """An endpoint that accepts connections and never answers."""
    listener = socket.create_server((dynamodb_local.HOST, 0))
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setenv(
        "AWS_ENDPOINT_URL_DYNAMODB", f"http://{dynamodb_local.HOST}:{listener.getsockname()[1]}"
    )
    monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", "1")
    reset_clients()
    yield
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()
    monkeypatch.undo()
    reset_clients()


def test_readyz_reports_a_check_that_outlives_its_deadline_as_a_timeout(
    client, db, settings, silent_dynamodb
):
    settings.HEALTH_CHECK_TIMEOUT = 0.2

    response = client.get("/readyz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["dynamodb"]["status"] == "timeout"
    assert checks["database"]["status"] == "ok"


def test_probes_answer_the_load_balancers_ip_host_header(client, ready_stack, settings):
    settings.ALLOWED_HOSTS = ["cruddur.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz", HTTP_HOST="10.0.1.23").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.1.23").status_code == 200
    assert client.get("/api/message_groups", HTTP_HOST="10.0.1.23").status_code == 400


def test_probes_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
