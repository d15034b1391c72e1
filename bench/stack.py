"""The bench's own stack on 127.0.0.1: DynamoDB Local (in memory), a Postgres database
of its own, a Redis key prefix of its own, gunicorn and the stream worker.

Everything started here is stopped by `Stack.close()`, which `run.py` calls from a
`finally` (so also on Ctrl-C, SIGTERM and errors).
"""

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import redis
import requests
from psycopg2 import sql

from devtools import dynamodb_local

ROOT = Path(__file__).resolve().parent.parent
HOST = dynamodb_local.HOST
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    url: str | None = None


@dataclass
class Stack:
    workdir: Path
    database: str
    env: dict[str, str] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)
    _dynamodb: subprocess.Popen | None = None
    _database_created: bool = False
    _logs: list = field(default_factory=list)

    # --- engines --------------------------------------------------------------------

    def start_engines(self) -> None:
        """DynamoDB Local, the Postgres database and the environment every process of
        the bench (this one included) runs with."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        port = dynamodb_local.free_port()
        self._dynamodb = dynamodb_local.start(port=port, log=self._log("dynamodb"))
        endpoint = f"http://{HOST}:{port}"
        self._database_create()
        prefix = f"bench-{uuid.uuid4().hex[:10]}"
        self.env = {
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ENDPOINT_URL_DYNAMODBSTREAMS": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "DATABASE_URL": f"{POSTGRES_ADMIN_URL}/{self.database}",
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": prefix,
            "CRUDDUR_VAR_DIR": str(self.workdir / "var"),
            "MESSAGING_TABLE": f"bench-{uuid.uuid4().hex[:8]}",
            # As in production: the request writes the message, the worker the inboxes.
            "MESSAGING_FANOUT": "stream",
            "MESSAGING_CACHE_TTL": "600",
            # The send benchmarks post far faster than a person; the limit is not measured.
            "MESSAGING_SEND_RATE": "1000000/min",
            "DJANGO_DEBUG": "0",
            # 50+ characters: with debug off, cruddur/checks.py refuses a shorter key.
            "DJANGO_SECRET_KEY": f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost,testserver",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
            os.environ.pop(name, None)
        os.environ.update(self.env)

    def _database_create(self) -> None:
        with _admin_connection() as connection, connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.database)
                )
            )
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        self._database_created = True

    def manage(self, *args: str) -> str:
        """Run a management command in a process of its own; its output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self._child_env(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
        return result.stdout

    # --- servers --------------------------------------------------------------------

    def start_gunicorn(self, name: str, *, workers: int = 2, **env: str) -> Server:
        port = dynamodb_local.free_port()
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "cruddur.wsgi:application",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=self._child_env(**env),
            stdout=self._log(name),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(name=name, process=process, url=f"http://{HOST}:{port}")
        self.servers.append(server)
        _wait_http(server)
        return server

    def start_stream_worker(self) -> Server:
        # Started after seeding, at the stream's tip: the bench measures new messages,
        # not a backlog of 100,000 seeded ones.
        process = subprocess.Popen(
            [sys.executable, "manage.py", "ddb_stream", "--start", "latest"],
            cwd=ROOT,
            env=self._child_env(DJANGO_LOG_LEVEL="WARNING"),
            stdout=self._log("stream"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(name="stream", process=process)
        self.servers.append(server)
        return server

    def engine_cpu_seconds(self) -> float:
        """CPU time DynamoDB Local has used so far (user + system, from /proc)."""
        fields = Path(f"/proc/{self._dynamodb.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 of the stat line, counted from the pid.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # --- teardown -------------------------------------------------------------------

    def close(self) -> None:
        for server in reversed(self.servers):
            dynamodb_local.stop(server.process)
        self.servers.clear()
        if self._dynamodb is not None:
            dynamodb_local.stop(self._dynamodb)
            self._dynamodb = None
        if self.env.get("CACHE_KEY_PREFIX"):
            _redis_clear(self.env["CACHE_KEY_PREFIX"])
        if self._database_created:
            _close_django_connections()
            with _admin_connection() as connection, connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database)
                    )
                )
            self._database_created = False
        for log in self._logs:
            log.close()
        self._logs.clear()

    # --- helpers --------------------------------------------------------------------

    def _child_env(self, **overrides: str) -> dict[str, str]:
        env = {**os.environ, **self.env, **overrides}
        env["PYTHONPATH"] = str(ROOT)
        return env

    def _log(self, name: str):
        log = (self.workdir / f"{name}.log").open("w")
        self._logs.append(log)
        return log


class _admin_connection:
    """An autocommit connection to the server's `postgres` database (CREATE/DROP
    DATABASE cannot run in a transaction)."""

    def __enter__(self):
        self.connection = psycopg2.connect(f"{POSTGRES_ADMIN_URL}/postgres")
        self.connection.autocommit = True
        return self.connection

    def __exit__(self, *exc):
        self.connection.close()


def _close_django_connections() -> None:
    if "django" in sys.modules:
        from django.db import connections

        connections.close_all()


def _redis_clear(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        client.delete(key)


def _wait_http(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with code {server.process.returncode}")
        try:
            requests.get(f"{server.url}/api/message_groups", timeout=10).raise_for_status()
        except requests.HTTPError:
            # 401 without a token: the app is up.
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
            continue
        return
    raise RuntimeError(f"{server.name} did not answer on {server.url} within {timeout:.0f}s")
