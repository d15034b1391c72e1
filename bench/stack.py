"""The bench's own stack on 127.0.0.1: DynamoDB Local (in memory), Postgres databases of
its own (the app's and the peer's), a Redis key prefix of its own, gunicorns and the
metered stream worker.

Everything started here is stopped by `Stack.close()`, which `run.py` calls from a
`finally` (so also on Ctrl-C, SIGTERM and errors).
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import requests
from psycopg2 import sql

from bench import ROOT
from bench.instrument import WRITE_OPERATIONS
from devtools import dynamodb_local, engines

HOST = dynamodb_local.HOST
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


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
    _databases: list[str] = field(default_factory=list)
    _logs: list = field(default_factory=list)

    # --- engines --------------------------------------------------------------------

    def start_engines(self) -> None:
        """DynamoDB Local, the Postgres database and the environment every process of
        the bench (this one included) runs with."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        port = dynamodb_local.free_port()
        self._dynamodb = dynamodb_local.start(port=port, log=self._log("dynamodb"))
        endpoint = f"http://{HOST}:{port}"
        self.database_create(self.database)
        prefix = f"bench-{uuid.uuid4().hex[:10]}"
        self.env = {
            **engines.local_dynamodb_env(endpoint),
            "DATABASE_URL": f"{POSTGRES_ADMIN_URL}/{self.database}",
            "REDIS_URL": engines.test_redis_url(),
            "CACHE_KEY_PREFIX": prefix,
            "CRUDDUR_VAR_DIR": str(self.workdir / "var"),
            "MESSAGING_TABLE": f"bench-{uuid.uuid4().hex[:8]}",
            # As in production: the request writes the message, the worker the inboxes.
            "MESSAGING_FANOUT": "stream",
            "MESSAGING_CACHE_TTL": "600",
            # The send benchmarks post far faster than a person; the limit is not measured.
            "MESSAGING_SEND_RATE": "1000000/min",
            # DynamoDB Local on a shared 2-core machine can stall for seconds where AWS
            # answers in milliseconds: a 503 would end the run, not measure anything.
            "DYNAMODB_READ_TIMEOUT": "20",
            "DYNAMODB_REQUEST_DEADLINE": "60",
            "DJANGO_DEBUG": "0",
            # 50+ characters: with debug off, cruddur/checks.py refuses a shorter key.
            "DJANGO_SECRET_KEY": f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost,testserver",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        engines.local_dynamodb_environ_apply(endpoint)
        os.environ.update(self.env)

    def database_create(self, name: str) -> str:
        """A new, empty Postgres database (dropped by `close()`); its URL."""
        with _admin_connection() as connection, connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._databases.append(name)
        return f"{POSTGRES_ADMIN_URL}/{name}"

    def manage(self, *args: str) -> str:
        """Run a management command in a process of its own; its output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.child_env(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
        return result.stdout

    # --- servers --------------------------------------------------------------------

    def start_gunicorn(
        self, name: str, *, app: str = "bench.wsgi:application", workers: int = 2, **env: str
    ) -> Server:
        """gunicorn on a free loopback port: by default the app with the bench's floor
        endpoints beside it (bench/wsgi.py), sync workers as gunicorn ships them. Returns
        at once; `wait_ready` waits for the servers started."""
        port = dynamodb_local.free_port()
        env.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                app,
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=self.child_env(**env),
            stdout=self._log(name),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(name=name, process=process, url=f"http://{HOST}:{port}")
        self.servers.append(server)
        return server

    def wait_ready(self) -> None:
        for server in self.servers:
            if server.url is not None:
                _wait_http(server)

    def start_process(self, name: str, command: list[str], **env: str) -> Server:
        """A helper process of the bench (stopped by `close()` if still running); its
        output goes to <name>.log in the work directory."""
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.child_env(**env),
            stdout=self._log(name),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(name=name, process=process)
        self.servers.append(server)
        return server

    def start_stream_worker(self) -> Server:
        # Started after seeding, at the stream's tip: the bench measures new messages,
        # not a backlog of 100,000 seeded ones.
        server = self.start_process(
            "stream",
            [sys.executable, "-m", "bench.worker", str(self.worker_stats), "--start", "latest"],
            DJANGO_LOG_LEVEL="WARNING",
        )
        process = server.process
        deadline = time.monotonic() + 60
        while not self.worker_stats.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the stream worker did not start (see its log)")
            time.sleep(0.1)
        return server

    @property
    def worker_stats(self) -> Path:
        return self.workdir / "worker-stats.json"

    @contextmanager
    def worker_paused(self):
        """The stream worker stopped (SIGSTOP) for the block, so something else may be
        the first to apply the stream's records; it carries on from where it was."""
        (worker,) = [server for server in self.servers if server.name == "stream"]
        os.killpg(worker.process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(worker.process.pid, signal.SIGCONT)

    def worker_counters(self) -> dict:
        """The stream worker's DynamoDB counters so far (see bench/worker.py)."""
        return json.loads(self.worker_stats.read_text())

    def engine_cpu_seconds(self) -> float:
        """CPU time DynamoDB Local has used so far (user + system, from /proc)."""
        fields = Path(f"/proc/{self._dynamodb.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 of the stat line, counted from the pid.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def worker_counters_settled(self, timeout: float = 10.0) -> dict:
        """The worker's counters once its writes have stopped moving (it keeps polling
        the stream, so only writes are compared)."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            counters = self.worker_counters()
            writes = (
                counters["write_capacity"],
                sum(counters["calls"].get(name, 0) for name in WRITE_OPERATIONS),
            )
            if writes == last:
                return counters
            last = writes
            time.sleep(0.3)
        raise RuntimeError(f"the stream worker kept writing for {timeout:.0f} s")

    # --- teardown -------------------------------------------------------------------

    def close(self) -> None:
        for server in reversed(self.servers):
            dynamodb_local.stop(server.process)
        self.servers.clear()
        if self._dynamodb is not None:
            dynamodb_local.stop(self._dynamodb)
            self._dynamodb = None
        if self.env.get("CACHE_KEY_PREFIX"):
            engines.redis_prefix_clear(prefix=self.env["CACHE_KEY_PREFIX"])
        if self._databases:
            _close_django_connections()
            with _admin_connection() as connection, connection.cursor() as cursor:
                for name in self._databases:
                    cursor.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )
            self._databases.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    # --- helpers --------------------------------------------------------------------

    def child_env(self, **overrides: str) -> dict[str, str]:
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


def _wait_http(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with code {server.process.returncode}")
        try:
            requests.get(f"{server.url}/accounts/login/", timeout=10).raise_for_status()
        except requests.HTTPError:
            # Any answer means the app is up.
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
            continue
        return
    raise RuntimeError(f"{server.name} did not answer on {server.url} within {timeout:.0f}s")
