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


def token_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}", "Accept": "application/json"}


def session_headers(session_key: str, cookie: str = "sessionid") -> dict[str, str]:
    return {"Cookie": f"{cookie}={session_key}"}


def wrk_run(*, url: str, headers: dict[str, str], connections: int, seconds: float) -> dict:
    """GET `url` with `headers` from `connections` connections for `seconds` (bounded by
    wrk's own clock): requests/s, latency percentiles in milliseconds, and error counts
    (any non-2xx/3xx is an error)."""
    warm(url=url, headers=headers)
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
        env={**os.environ, "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items())},
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


def wrk_sampler(*, url: str, headers: dict[str, str], seconds: float, c: int):
    """One wrk run per call, for `stats.alternate`."""
    return lambda: wrk_run(url=url, headers=headers, connections=c, seconds=seconds)


_warmed: set[str] = set()


def warm(*, url: str, headers: dict[str, str], count: int = 8) -> None:
    """Before a URL is first timed, send it a few requests, so every worker has done its
    lazy imports and opened its connections; a failing URL stops the run here."""
    if url in _warmed:
        return
    _warmed.add(url)
    with requests.Session() as session:
        for _ in range(count):
            response = session.get(url, headers=headers, timeout=30, allow_redirects=False)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code} while warming")
