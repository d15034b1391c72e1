"""`make dev` (devtools/dev.sh), started for real on free ports in a copy of the project:
it serves through the ASGI server with its own Redis, and a stop by SIGTERM (what a
process manager or `kill -- -PGID` sends) or by Ctrl-C leaves no process and no port."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from devtools.dynamodb_local import free_port, port_open
from devtools.processes import alive, descendants

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 180
STOP_SECONDS = 30

pytestmark = [
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
    pytest.mark.skipif(sys.platform != "linux", reason="reads processes from /proc"),
]


def project_copy(target: Path) -> Path:
    """The tracked files of this checkout (as they are on disk), sharing its installs, so
    the script's var/ and .env stay out of the real checkout."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            destination = target / name.decode()
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    for shared in (".venv", "node_modules"):
        (target / shared).symlink_to((ROOT / shared).resolve())
    return target


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    # One copy for both stops: the second start also shows a restart reuses var/.
    return project_copy(tmp_path_factory.mktemp("dev") / "project")


@pytest.fixture
def dev_env():
    ports = {"DEV_PORT": free_port(), "DYNAMODB_PORT": free_port(), "DEV_REDIS_PORT": free_port()}
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "DJANGO_", "DATABASE_URL", "REDIS_URL", "MESSAGING_"))
    }
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env, ports


# Each signal twice, 0.3 s apart, as a process manager repeating its SIGTERM or an
# impatient second Ctrl-C: the old script then died mid-stop and left ddb_stream running
# (2 of 3 tries).
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_dev_serves_over_asgi_and_a_stop_leaves_no_process_or_port(tmp_path, dev_env, stop_signal):
    env, ports = dev_env
    project = project_copy(tmp_path / "project")
    log_path = tmp_path / "dev.log"
    with log_path.open("w") as log:
        # Its own process group, as under make: the stop signal goes to the whole group,
        # as `kill -- -PGID` and a terminal's Ctrl-C do.
        script = subprocess.Popen(
            ["bash", "devtools/dev.sh"],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        login = f"http://127.0.0.1:{ports['DEV_PORT']}/accounts/login/"
        deadline = time.monotonic() + START_SECONDS
        while not http_ok(login):
            assert script.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.5)
        started = descendants(script.pid)
        commands = {
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in started
        }

        os.killpg(script.pid, stop_signal)
        time.sleep(0.3)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(script.pid, stop_signal)
        script.wait(timeout=STOP_SECONDS)
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait()

    output = log_path.read_text()
    assert any(b"uvicorn cruddur.asgi:application" in command for command in commands)
    assert any(b"redis-server" in command for command in commands)
    assert any(b"ddb_stream" in command for command in commands)
    assert "stopped." in output
    assert [pid for pid in started if alive(pid)] == []
    assert [name for name, port in ports.items() if port_open(port)] == []
    dotenv = (project / ".env").read_text()
    assert f"REDIS_URL=redis://127.0.0.1:{ports['DEV_REDIS_PORT']}/0" in dotenv
    assert f"http://127.0.0.1:{ports['DYNAMODB_PORT']}" in dotenv
