"""`make bench`: start a private stack, seed it, measure, write results.

    python -m bench.run                 # the full run (writes docs/benchmarks.md too)
    python -m bench.run --quick --out DIR --no-doc   # tiny sizes (the smoke test)

Results go to bench/results/latest.json (and profile.txt/html beside it); the report
docs/benchmarks.md is rendered from that file, never typed by hand.
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

from bench.stack import ROOT, Stack
from devtools import dynamodb_local

RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"

FULL = {
    "conversation_small": 100,
    "conversation_large": 100_000,
    "inbox_small": 10,
    "inbox_large": 5_000,
    "seed_messages": 20_000,
    "seed_baseline_messages": 5_000,
    "fanout_sends": 200,
    "fanout_pairs": 4,
    "http_seconds": 10,
    "scale_seconds": 5,
    "floor_samples": 500,
    "profile_requests": 300,
}
QUICK = {
    "conversation_small": 30,
    "conversation_large": 200,
    "inbox_small": 3,
    "inbox_large": 30,
    "seed_messages": 200,
    "seed_baseline_messages": 50,
    "fanout_sends": 8,
    "fanout_pairs": 2,
    "http_seconds": 1,
    "scale_seconds": 1,
    "floor_samples": 20,
    "profile_requests": 10,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--doc", type=Path, default=DOC, help="report to write")
    parser.add_argument("--no-doc", action="store_true", help="write no report")
    parser.add_argument("--database", default="cruddur_bench", help="Postgres database to use")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    args.out.mkdir(parents=True, exist_ok=True)

    # SIGTERM unwinds like Ctrl-C, so the `finally` below stops what was started.
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cruddur-bench-") as workdir:
        stack = Stack(workdir=Path(workdir), database=args.database)
        try:
            results = _run(stack, sizes=sizes, out=args.out, quick=args.quick)
        except KeyboardInterrupt:
            print("interrupted: stopping the bench's stack", file=sys.stderr)
            return 130
        finally:
            stack.close()
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    results["meta"]["machine"]["load_average_at_end"] = [
        round(value, 2) for value in os.getloadavg()
    ]

    from bench import report

    results["targets"] = report.targets(results)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(report.table(results))
    if not args.no_doc:
        args.doc.write_text(report.markdown(results))
        print(f"\nwrote {args.out / 'latest.json'} and {args.doc}")
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _step(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _run(stack: Stack, *, sizes: dict, out: Path, quick: bool) -> dict:
    _step("starting DynamoDB Local and a Postgres database")
    stack.start_engines()
    stack.manage("migrate", "--no-input")
    stack.manage("ddb_schema_load")

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "cruddur.settings"
    django.setup()
    from django.conf import settings

    from bench import phases, seed
    from bench.instrument import DynamoMeter
    from messaging.store import messaging_table

    results: dict = {"meta": _meta(sizes, quick=quick)}

    _step("seeding the scale cases")
    seeded = time.perf_counter()
    alice, bob, small_group = seed.conversation_seed(
        first="bench_alice", second="bench_bob", messages=sizes["conversation_small"]
    )
    carol, _, large_group = seed.conversation_seed(
        first="bench_carol", second="bench_dave", messages=sizes["conversation_large"]
    )
    peers = seed.peers_ensure(count=sizes["inbox_large"])
    erin, frank = seed.person("bench_erin"), seed.person("bench_frank")
    seed.inbox_seed(owner=erin, peers=peers[: sizes["inbox_small"]])
    seed.inbox_seed(owner=frank, peers=peers)
    strangers = [seed.person(f"bench_stranger_{index}") for index in range(2)]
    pairs = [
        (seed.person(f"bench_sender_{index}"), seed.person(f"bench_recipient_{index}"))
        for index in range(sizes["fanout_pairs"])
    ]
    results["meta"]["scale_seed_seconds"] = round(time.perf_counter() - seeded, 1)

    # After the scale data, so both strategies meet an engine whose JIT has warmed up:
    # the first seconds of a fresh DynamoDB Local are several times slower.
    _step(f"seeding: ddb_seed --messages {sizes['seed_messages']} vs one put per message")
    results["seeding"] = phases.seeding(
        stack=stack,
        messages=sizes["seed_messages"],
        baseline_messages=sizes["seed_baseline_messages"],
    )

    _step("starting gunicorn (cache on, cache off) and the stream worker")
    cached = stack.start_gunicorn("gunicorn-cached")
    uncached = stack.start_gunicorn("gunicorn-uncached", MESSAGING_CACHE_TTL="0")
    stack.start_stream_worker()

    meter = DynamoMeter()
    _step("request cost per operation")
    results["request_cost"] = phases.request_cost(
        meter=meter, alice=alice, bob=bob, group=small_group, strangers=strangers
    )

    _step("throughput at concurrency 8: cache hit vs cache disabled")
    results["http"] = phases.throughput(
        cached_url=cached.url,
        uncached_url=uncached.url,
        alice=alice,
        group=small_group,
        seconds=sizes["http_seconds"],
    )
    results["floor"] = phases.floor(
        uncached_url=uncached.url,
        alice=alice,
        seconds=sizes["scale_seconds"],
        samples=sizes["floor_samples"],
    )

    _step("scale: small vs large conversation and inbox")
    results["scale"] = phases.scale(
        meter=meter,
        uncached_url=uncached.url,
        cases={
            "conversation": {
                "small": (sizes["conversation_small"], alice, f"/api/messages/{small_group}"),
                "large": (sizes["conversation_large"], carol, f"/api/messages/{large_group}"),
            },
            "inbox": {
                "small": (sizes["inbox_small"], erin, "/api/message_groups"),
                "large": (sizes["inbox_large"], frank, "/api/message_groups"),
            },
        },
        page_sizes={
            # The same, full page from both sides: a 10-conversation inbox cannot fill the
            # default 20-row page, and a shorter page would flatter the small case.
            kind: min(settings.MESSAGING_PAGE_SIZE, sizes[f"{kind}_small"] - 1)
            for kind in ("conversation", "inbox")
        },
        seconds=sizes["scale_seconds"],
    )

    _step(f"fan-out lag over {sizes['fanout_sends']} sends (stream mode)")
    results["fanout"] = phases.fanout_lag(url=cached.url, pairs=pairs, sends=sizes["fanout_sends"])

    paths = {"inbox": "/api/message_groups", "conversation": f"/api/messages/{small_group}"}
    slowest = max(paths, key=lambda name: results["http"][name]["cache_disabled"]["p50_ms"])
    _step(f"profiling the slowest endpoint ({slowest}, cache disabled) and an inbox cache hit")
    results["profiles"] = [
        phases.profile(
            name=f"{slowest}-uncached",
            person=alice,
            path=paths[slowest],
            cached=False,
            requests_count=sizes["profile_requests"],
            out_dir=out,
        ),
        phases.profile(
            name="inbox-hit",
            person=alice,
            path=paths["inbox"],
            cached=True,
            requests_count=sizes["profile_requests"],
            out_dir=out,
        ),
    ]
    inbox_request = messaging_table().inbox_page(
        user_uuid=alice.user.uuid, position=None, limit=settings.MESSAGING_PAGE_SIZE
    )
    results["client_profile"] = phases.client_profile(
        request=inbox_request.request, calls=sizes["profile_requests"], out_dir=out
    )
    _step("stopping the stack")
    return results


def _meta(sizes: dict, *, quick: bool) -> dict:
    return {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "make bench" if not quick else "python -m bench.run --quick",
        "quick": quick,
        "sizes": sizes,
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
        "git_commit": _version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
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
        result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


if __name__ == "__main__":
    sys.exit(main())
