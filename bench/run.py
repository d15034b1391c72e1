"""`make bench`: start a private stack, seed it, measure, write results.

    python -m bench.run                 # the full run (writes docs/benchmarks.md too)
    python -m bench.run --quick --out DIR --doc DIR/benchmarks.md   # tiny sizes (smoke test)

Results go to bench/results/latest.json (and the profiles beside it); the report
docs/benchmarks.md is rendered from that file by bench/report.py, never typed by hand.
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import DOC, RESULTS, ROOT, freshness, report
from bench.stack import Stack
from devtools import dynamodb_local

FULL = {
    "conversation_small": 100,
    "conversation_large": 100_000,
    # A full first page and one more: the small inbox's page renders as many rows as the
    # large one's and also needs the badge query, so the ratio measures the inbox's
    # length. At 10 it compared a 10-row page with a 20-row one.
    "inbox_small": 21,
    "inbox_large": 5_000,
    "throughput_inbox": 21,
    "backlogs": [0, 1_000, 10_000],
    # Sends timed per side and round, the round's sample their median: one send's
    # latency on a shared 2-core machine is noise.
    "backlog_sends": 5,
    "seed_messages": 2_000,
    "seed_threads": 4,
    "fanout_sends": 200,
    "fanout_pairs": 4,
    "http_seconds": 5,
    "latency_seconds": 3,
    "rounds": 3,
    "profile_requests": 200,
    "live_sends": 200,
    "live_streams": 2_000,
}
QUICK = {
    "conversation_small": 30,
    "conversation_large": 200,
    "inbox_small": 3,
    "inbox_large": 30,
    "throughput_inbox": 5,
    "backlogs": [0, 20],
    "backlog_sends": 1,
    "seed_messages": 100,
    "seed_threads": 4,
    "fanout_sends": 8,
    "fanout_pairs": 2,
    "http_seconds": 1,
    "latency_seconds": 1,
    # One round keeps the smoke test fast; its verdicts say "inconclusive".
    "rounds": 1,
    "profile_requests": 10,
    "live_sends": 5,
    "live_streams": 20,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--doc", type=Path, default=DOC, help="report to write")
    parser.add_argument("--database", default="cruddur_bench", help="Postgres database to use")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    args.out.mkdir(parents=True, exist_ok=True)

    # SIGTERM unwinds like Ctrl-C, so the `finally` below stops what was started.
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.perf_counter()
    given = sys.argv[1:] if argv is None else argv
    meta = _meta(sizes, quick=args.quick, command=" ".join(["python -m bench.run", *given]))
    with tempfile.TemporaryDirectory(prefix="cruddur-bench-") as workdir:
        stack = Stack(workdir=Path(workdir), database=args.database)
        try:
            results = {"meta": meta, **_run(stack, sizes=sizes, out=args.out)}
        except KeyboardInterrupt:
            print("interrupted: stopping the bench's stack", file=sys.stderr)
            return 130
        finally:
            stack.close()
    meta["seconds"] = round(time.perf_counter() - started, 1)
    meta["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    results["targets"] = report.targets(results)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(report.table(results))
    args.doc.write_text(report.markdown(results))
    print(f"\nwrote {args.out / 'latest.json'} and {args.doc}")
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def step(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _run(stack: Stack, *, sizes: dict, out: Path) -> dict:
    step("starting DynamoDB Local and a Postgres database")
    stack.start_engines()
    stack.manage("migrate", "--no-input")
    stack.manage("ddb_schema_load")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cruddur.settings"
    import django

    django.setup()
    from bench import measure

    return measure.everything(stack=stack, sizes=sizes, out=out, step=step)


def _meta(sizes: dict, *, quick: bool, command: str) -> dict:
    return {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "quick": quick,
        "sizes": sizes,
        "tree": freshness.tree_state(),
        "machine": {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "memory_gb": _memory_gb(),
            "os": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        },
        "tools": {"wrk": _version(["wrk", "--version"]), "java": _version(["java", "-version"])},
        "engines": f"{_dynamodb_engine()} (in memory), PostgreSQL, Redis, all on 127.0.0.1",
        "app": "gunicorn, 2 sync workers, DJANGO_DEBUG=0, MESSAGING_FANOUT=stream",
    }


def _dynamodb_engine() -> str:
    # devtools falls back to moto_server without a JDK; a run on it is not comparable.
    problem = dynamodb_local.java_problem()
    return "DynamoDB Local" if problem is None else f"moto_server ({problem})"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _version(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


if __name__ == "__main__":
    sys.exit(main())
