"""HTTP load with wrk (Debian's package): C, event-driven, so on a 2-core machine the
load generator takes little of the CPU the app under test needs."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import requests

SCRIPT = Path(__file__).with_name("report.lua")


class WrkMissing(RuntimeError):
    pass


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing(
            "wrk not found: run `make bench` (it installs wrk) or apt-get install wrk"
        )
    return path


def wrk_run(*, url: str, token: str, connections: int, seconds: float) -> dict:
    """GET `url` from `connections` connections for `seconds`: requests/s, latency
    percentiles in milliseconds, and error counts (any non-2xx/3xx is an error)."""
    warm(url=url, token=token)
    threads = max(1, min(2, connections))
    result = subprocess.run(
        [
            wrk_path(),
            "--threads",
            str(threads),
            "--connections",
            str(connections),
            "--duration",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--script",
            str(SCRIPT),
            url,
        ],
        env={**os.environ, "BENCH_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
    )
    raw = json.loads(result.stdout.strip().splitlines()[-1])
    errors = sum(raw["errors"].values())
    seconds_run = raw["duration_us"] / 1e6
    return {
        "connections": connections,
        "seconds": round(seconds_run, 2),
        "requests": raw["requests"],
        "errors": errors,
        "requests_per_s": round(raw["requests"] / seconds_run, 1),
        "p50_ms": raw["latency_us"]["p50"] / 1000,
        "p95_ms": raw["latency_us"]["p95"] / 1000,
        "p99_ms": raw["latency_us"]["p99"] / 1000,
        "max_ms": raw["latency_us"]["max"] / 1000,
    }


def warm(*, url: str, token: str, count: int = 40) -> None:
    """Send a few requests first, so every worker has done its lazy imports and opened
    its connections before anything is timed."""
    with requests.Session() as session:
        for _ in range(count):
            session.get(url, headers={"Authorization": f"Token {token}"}, timeout=30)
