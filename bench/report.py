"""docs/benchmarks.md and the terminal summary, rendered from one run's results
(bench/results/latest.json): every number and every verdict in the report is computed
from that file; the prose around them says only how things were measured.

    python -m bench.report [bench/results/latest.json]   # re-render docs/benchmarks.md
"""

import json
import sys
from pathlib import Path

from bench import DOC, RESULTS, freshness, stats
from bench.report_sections import SECTIONS, md_table


def _spread_target(name: str, stat: dict, *, at_most=None, at_least=None, detail="") -> dict:
    bound = f"<= {at_most}" if at_most is not None else f">= {at_least}"
    return {
        "target": f"{name} {bound}",
        "verdict": stats.verdict(stat, at_most=at_most, at_least=at_least),
        "result": f"{stats.describe(stat)}{detail}",
        "load_1m": stat.get("load_1m"),
    }


def _exact_target(name: str, met: bool, result: str) -> dict:
    return {
        "target": name,
        "verdict": stats.MET if met else stats.NOT_MET,
        "result": result,
        "load_1m": None,
    }


def _cache_targets(results: dict) -> list[dict]:
    costs = {(row["operation"], row["variant"]): row for row in results["request_cost"]}
    rows = []
    # Invariant 5: every read of a conversation makes the strongly consistent membership
    # read, so its floor on a hit is that one BatchGetItem, not none.
    floors = {"inbox": {}, "conversation": {"BatchGetItem": 1}}
    for name, allowed in floors.items():
        hit = costs[(name, "cache hit")]
        wanted = "only the membership read" if allowed else "0 DynamoDB requests"
        rows.append(
            _exact_target(
                f"API {name}: {wanted} on a cache hit",
                hit["dynamodb_by_operation"] == allowed,
                f"{hit['dynamodb_requests']} ({operations(hit['dynamodb_by_operation'])})",
            )
        )
    for name, case in results["http"].items():
        rows.append(
            _spread_target(
                f"API {name}: cache-hit throughput / cache disabled (c=8)",
                case["speedup"],
                at_least=5,
            )
        )
    return rows


def _floor_targets(results: dict) -> list[dict]:
    rows = []
    for name, case in results["floors"].items():
        ratios = case["ratios"]
        rows.append(
            _spread_target(
                f"API {name}: uncached p50 / bare WSGI p50",
                ratios["api_uncached/bare_wsgi"],
                at_most=2,
            )
        )
        rows.append(
            _spread_target(
                f"API {name}: cache-hit p50 / no-I/O Django view p50",
                ratios["api_hit/django_no_io"],
                at_most=1.5,
            )
        )
    return rows


def _scale_targets(results: dict) -> list[dict]:
    rows = []
    for kind, case in results["scale"].items():
        sizes = f"{case['small']['size']:,} vs {case['large']['size']:,}"
        rows.append(
            _spread_target(
                f"API {kind} first page ({sizes}): latency ratio",
                case["latency_ratio"],
                at_most=1.25,
            )
        )
        small, large = case["small"]["items_read"], case["large"]["items_read"]
        rows.append(
            _exact_target(
                f"API {kind} first page ({sizes}): items read equal",
                small == large,
                f"{small} vs {large} items",
            )
        )
    for kind, case in results["pages"].items():
        sizes = f"{case['small']['size']:,} vs {case['large']['size']:,}"
        rows.append(
            _spread_target(
                f"{kind} page ({sizes}): latency ratio", case["latency_ratio"], at_most=1.25
            )
        )
        for versus, cache in (("versus_peer", "disabled"), ("versus_peer_cached", "on")):
            for label, stat in case.get(versus, {}).items():
                rows.append(
                    _spread_target(
                        f"{kind} page at {case[label]['size']:,}, our cache {cache}:"
                        " postman p50 / ours",
                        stat,
                        at_least=1,
                    )
                )
    return rows


def _backlog_targets(results: dict) -> list[dict]:
    backlog, rows = results["backlog"], []
    for mode, case in backlog["modes"].items():
        for unread, row in case["rows"].items():
            if int(unread) == backlog["small"]:
                continue
            name = f"one {mode} send, {int(unread):,} vs {backlog['small']:,} unread"
            if "error" in row:
                rows.append(_exact_target(f"{name}: accepted", False, f"fails: {row['error']}"))
                continue
            for key, label in (("write_capacity", "write capacity"), ("ms", "latency")):
                stat = case["versus_small"][unread][key]
                rows.append(_spread_target(f"{name}: {label} ratio", stat, at_most=1.1))
    return rows


LIVE_P95_MS = 250
LIVE_STREAMS = 2_000


def _live_targets(results: dict) -> list[dict]:
    live, rows = results["live"], []
    held = live["open_streams"]
    cases = [(f"{mode} fan-out", live[mode]) for mode in ("inline", "stream")]
    cases.append((f"stream fan-out, {held['streams']:,} streams open", held["delivery"]))
    for label, case in cases:
        rows.append(
            _exact_target(
                f"live delivery p95 < {LIVE_P95_MS} ms ({label}), none lost",
                case["p95_ms"] is not None and case["p95_ms"] < LIVE_P95_MS and not case["lost"],
                f"p95 {case['p95_ms']} ms over {case['sends']} sends, {case['lost']} lost",
            )
        )
    rows.append(
        _exact_target(
            f"one ASGI process holds {LIVE_STREAMS:,} open streams",
            held["held_open"] >= LIVE_STREAMS,
            f"{held['held_open']:,} of {held['streams']:,} held, {held['kib_per_stream']} KiB"
            f" each, {held['held']['redis_connections']} Redis and"
            f" {held['held']['postgres_connections']} Postgres connections",
        )
    )
    return rows


def targets(results: dict) -> list[dict]:
    seeding, fanout = results["seeding"], results["fanout"]
    return [
        *_cache_targets(results),
        *_floor_targets(results),
        *_scale_targets(results),
        *_backlog_targets(results),
        _spread_target(
            "seeding: BatchWriteItem (4 threads) / one PutItem at a time (1 thread)",
            seeding["best_vs_naive"],
            at_least=10,
        ),
        _exact_target(
            "fan-out lag p95 < 1 s (stream mode), none lost",
            fanout["p95_ms"] is not None and fanout["p95_ms"] < 1000 and not fanout["lost"],
            f"p95 {fanout['p95_ms']} ms over {fanout['sends']} sends, {fanout['lost']} lost",
        ),
        *_live_targets(results),
    ]


def operations(by_operation: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in by_operation.items()) or "none"


def _load(value) -> str:
    return "-" if not value else f"{value[0]}-{value[1]}"


def table(results: dict) -> str:
    width = max(len(row["target"]) for row in results["targets"])
    lines = [f"{'target':<{width}}  {'verdict':12}  result", "-" * (width + 70)]
    for row in results["targets"]:
        lines.append(f"{row['target']:<{width}}  {row['verdict']:12}  {row['result']}")
    lines.append(f"\n(whole run: {results['meta']['seconds']} s)")
    return "\n".join(lines)


COMMANDS = [
    "```",
    "make bench                        # installs wrk (Debian) if missing, runs it all",
    ".venv/bin/python -m bench.run     # the same, without the install step",
    ".venv/bin/python -m bench.report  # re-render this file from latest.json",
    ".venv/bin/python -m bench.freshness --mark-stale  # after a runtime change",
    "```",
]


def _header(results: dict) -> list[str]:
    meta, machine = results["meta"], results["meta"]["machine"]
    tree = meta["tree"]
    state = "clean" if not tree["dirty"] else "dirty"
    if tree.get("dirty_paths") and not tree["dirty_runtime_paths"]:
        state += " outside runtime code (" + ", ".join(tree["dirty_paths"][:5]) + ")"
    if tree["dirty_runtime_paths"]:
        state += " (runtime paths changed: " + ", ".join(tree["dirty_runtime_paths"]) + ")"
    lines = ["# Benchmarks", ""]
    if tree["dirty_runtime_paths"]:
        lines += [
            f"{freshness.STALE_MARKER} it was measured on uncommitted runtime changes, so"
            f" it describes no commit. Rerun `make bench` on a committed tree.",
            "",
        ]
    return [
        *lines,
        "Generated by `make bench` from `bench/results/latest.json`"
        " (`python -m bench.report` re-renders it); no number below is typed by hand.",
        "",
        *COMMANDS,
        "",
        "## Machine and run",
        "",
        f"- Run at {meta['started_at']}, commit `{tree['commit'][:7]}`, working tree {state},"
        f" whole run {meta['seconds']} s (`{meta['command']}`).",
        f"- {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB RAM;"
        f" {machine['os']}; Python {machine['python']}.",
        f"- Load average (1, 5, 15 min) at start:"
        f" {', '.join(map(str, machine['load_average_at_start']))}; at the end:"
        f" {', '.join(map(str, machine['load_average_at_end']))}.",
        f"- {meta['engines']}; app: {meta['app']}; peer: django-postman"
        f" {results['peer']['version']} on gunicorn, 2 sync workers, its own Postgres database.",
        f"- Load tool: {meta['tools']['wrk']} (from Debian). Java: {meta['tools']['java']}.",
        f"- Seeding the data took {results['seed_seconds']} s (ours) and"
        f" {results['peer']['seconds']} s (the peer).",
        "",
        "How to read it: each comparison measures its sides in turn, round after round"
        f" ({meta['sizes']['rounds']} rounds, A B A B ...), and a ratio is taken per round."
        " The report gives the median and the spread (min-max) of those per-round ratios"
        " and the 1-minute load average seen while they ran. A verdict is *met* or"
        " *not met* only when the whole spread is on one side of the target, and"
        " *inconclusive* when it straddles the target (or fewer than"
        f" {stats.MIN_ROUNDS} rounds ran).",
        "",
    ]


def markdown(results: dict) -> str:
    out = _header(results)
    out += [
        "## Results against the targets",
        "",
        md_table(
            ["target", "verdict", "median (spread over rounds)", "load 1m"],
            [
                [row["target"], row["verdict"], row["result"], _load(row["load_1m"])]
                for row in results["targets"]
            ],
        ),
        "",
    ]
    for section in SECTIONS:
        out += section(results)
    return "\n".join(out) + "\n"


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "latest.json"
    DOC.write_text(markdown(json.loads(source.read_text())))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
