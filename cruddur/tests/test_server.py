"""The image's server command (the Dockerfile's CMD, run as is) with production settings
on loopback: ready when Postgres, Redis and the table answer; on SIGTERM it finishes the
request in flight, ends an open event stream, and exits 0 within the graceful timeout."""

import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devtools import dynamodb_local
from devtools.processes import alive, descendants

ROOT = Path(__file__).resolve().parents[2]
GRACEFUL_TIMEOUT = 6
# Seconds gunicorn may take past GRACEFUL_TIMEOUT to reap its workers and exit.
EXIT_SLACK = 5


def container_command() -> list[str]:
    """The Dockerfile's CMD, so the test runs exactly what the image runs."""
    (cmd,) = re.findall(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    command = json.loads(cmd)
    assert command[0] == "gunicorn"
    return [str(Path(sys.executable).with_name("gunicorn")), *command[1:]]


def production_env(*, port: int, table: str, tmp_path: Path, settings_module: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MESSAGING_TABLE": table,
        "HOST": dynamodb_local.HOST,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
        "CRUDDUR_VAR_DIR": str(tmp_path / "var"),
        "CRUDDUR_TEST_STARTED_FILE": str(tmp_path / "started"),
    }
    env.pop("DJANGO_TEST_DATABASE_NAME", None)
    env.pop("SENTRY_DSN", None)
    return env


class Server:
    def __init__(self, process: subprocess.Popen, port: int, env: dict, tmp_path: Path):
        self.process, self.port, self.env, self.tmp_path = process, port, env, tmp_path

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(dynamodb_local.HOST, self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def wait_alive(self, deadline_seconds: float = 60) -> None:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}: {self.output()}")
            try:
                if self.get("/healthz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"server not alive after {deadline_seconds} s: {self.output()}")

    def output(self) -> str:
        return (self.tmp_path / "server.log").read_text()


def _serve(settings_module: str, table: str, tmp_path: Path):
    port = dynamodb_local.free_port()
    env = production_env(
        port=port, table=table, tmp_path=tmp_path, settings_module=settings_module
    )
    with (tmp_path / "server.log").open("w") as log:
        # A session of its own: teardown ends gunicorn's workers with it (a SIGKILL of
        # the master alone left them running, orphaned, after every suite).
        process = subprocess.Popen(
            container_command(),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(process, port, env, tmp_path)
    try:
        running.wait_alive()
        yield running
    finally:
        # SIGTERM to the group, SIGKILL to what is left after 10 s.
        dynamodb_local.stop(process)


@pytest.fixture
def server(messaging_table, tmp_path):
    """The command with the production settings module itself."""
    yield from _serve("cruddur.settings", messaging_table.name, tmp_path)


@pytest.fixture
def server_with_test_views(messaging_table, tmp_path):
    """The same, plus a slow view and an endless event stream (server_urls.py)."""
    yield from _serve("cruddur.tests.server_settings", messaging_table.name, tmp_path)


def test_container_command_is_ready_with_production_settings(server):
    status, body = server.get("/readyz")

    assert status == 200, body
    assert json.loads(body)["status"] == "ok"
    assert server.get("/accounts/login/")[0] == 200
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    assert any(line.get("http", {}).get("path") == "/accounts/login/" for line in lines)


def test_probe_command_exits_0_when_ready_and_1_when_nothing_answers(server):
    manage = [sys.executable, "manage.py", "probe", "readyz"]
    ready = subprocess.run(
        [*manage, "--port", str(server.port)], cwd=ROOT, env=server.env, capture_output=True
    )
    down = subprocess.run(
        [*manage, "--port", str(dynamodb_local.free_port())],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
    )

    assert ready.returncode == 0, ready.stderr
    assert down.returncode == 1


def test_sigterm_finishes_the_request_in_flight_and_exits_0(server_with_test_views):
    server = server_with_test_views
    result = {}

    def slow_request():
        result["response"] = server.get("/test/slow?seconds=2", timeout=30)

    client = threading.Thread(target=slow_request)
    client.start()
    started = server.tmp_path / "started"
    for _ in range(100):
        if started.exists():
            break
        time.sleep(0.1)
    assert started.exists(), server.output()

    server.process.send_signal(signal.SIGTERM)
    client.join(timeout=30)

    assert result["response"] == (200, b"finished")
    assert server.process.wait(timeout=GRACEFUL_TIMEOUT + EXIT_SLACK) == 0, server.output()


def test_sigterm_ends_an_open_event_stream_and_exits_0(server_with_test_views):
    server = server_with_test_views
    connection = http.client.HTTPConnection(dynamodb_local.HOST, server.port, timeout=30)
    connection.request("GET", "/test/stream")
    response = connection.getresponse()
    assert response.status == 200
    assert response.readline() == b"data: tick\n"

    server.process.send_signal(signal.SIGTERM)
    try:
        while response.readline():
            pass
        ended = "cleanly"
    except http.client.IncompleteRead:
        ended = "mid-chunk"
    finally:
        connection.close()

    assert ended in {"cleanly", "mid-chunk"}
    assert server.process.wait(timeout=GRACEFUL_TIMEOUT + EXIT_SLACK) == 0, server.output()
    # The worker cut the stream itself and exited; gunicorn did not have to kill it.
    assert "timeout graceful shutdown exceeded" in server.output()
    assert "SIGKILL" not in server.output()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's process table")
def test_stopping_the_server_leaves_none_of_its_workers(messaging_table, tmp_path):
    serving = _serve("cruddur.settings", messaging_table.name, tmp_path)
    server = next(serving)
    assert server.get("/healthz")[0] == 200
    workers = descendants(server.process.pid)
    assert workers

    serving.close()

    assert [pid for pid in workers if alive(pid)] == []
