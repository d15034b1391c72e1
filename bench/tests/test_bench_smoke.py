"""The bench harness end to end on tiny sizes, so it cannot rot: its own stack (and the
peer's) starts, every phase runs, the results and the report are written, and the stack
is gone after.

Asserts what was measured (counts, structure), never how fast: no timed assertions.
"""

import json
import shutil
import subprocess
import sys
import uuid

import psycopg2
import pytest

from bench import ROOT, report
from bench.stack import POSTGRES_ADMIN_URL

pytest.importorskip("pyinstrument", reason="bench tools not installed: make bench installs them")
if shutil.which("wrk") is None:
    pytest.skip("wrk not installed: make bench installs it", allow_module_level=True)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    database = f"cruddur_bench_smoke_{uuid.uuid4().hex[:8]}"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--quick",
            "--out",
            str(out),
            "--doc",
            str(out / "benchmarks.md"),
            "--database",
            database,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return {
        "results": json.loads((out / "latest.json").read_text()),
        "doc": (out / "benchmarks.md").read_text(),
        "out": out,
        "database": database,
        "stdout": completed.stdout,
    }


def test_quick_run_measures_every_phase(quick_run):
    results = quick_run["results"]
    assert {
        "meta",
        "request_cost",
        "http",
        "floors",
        "scale",
        "pages",
        "backlog",
        "seeding",
        "fanout",
        "profiles",
        "client_profile",
        "live",
        "targets",
    } <= results.keys()
    operations = {(row["operation"], row["variant"]) for row in results["request_cost"]}
    assert {
        ("inbox", "cache disabled"),
        ("inbox", "cache hit"),
        ("conversation", "cache disabled"),
        ("conversation", "cache hit"),
        ("send", "stream fan-out"),
        ("send", "inline fan-out"),
        ("start", "new pair"),
        ("start", "existing pair"),
    } == operations
    assert results["fanout"]["lost"] == 0
    assert results["fanout"]["sends"] == results["meta"]["sizes"]["fanout_sends"]
    assert [profile["cache"] for profile in results["profiles"]] == ["disabled", "hit"]
    assert results["client_profile"]["stages"]["HTTP round trip (incl. the engine)"] > 0


def _wrk_runs(results):
    for case in results["http"].values():
        yield from (run for runs in case["samples"].values() for run in runs)
    for section in ("floors", "scale", "pages"):
        for case in results[section].values():
            yield from (run for runs in case["samples"].values() for run in runs)


def test_every_http_run_answered_without_errors(quick_run):
    runs = list(_wrk_runs(quick_run["results"]))
    assert runs
    assert all(run["requests"] > 0 and run["errors"] == 0 for run in runs)


def test_every_side_is_sampled_once_per_round_with_its_load(quick_run):
    rounds = quick_run["results"]["meta"]["sizes"]["rounds"]
    for run in _wrk_runs(quick_run["results"]):
        assert "load_1m" in run
    for case in quick_run["results"]["pages"].values():
        assert {len(runs) for runs in case["samples"].values()} == {rounds}
        assert case["latency_ratio"]["rounds"] == rounds


def test_request_cost_comes_from_instrumentation(quick_run):
    costs = {
        (row["operation"], row["variant"]): row for row in quick_run["results"]["request_cost"]
    }
    uncached, hit = costs[("inbox", "cache disabled")], costs[("inbox", "cache hit")]
    assert uncached["dynamodb_by_operation"] == {"Query": 1}
    assert uncached["http_attempts"] >= uncached["dynamodb_requests"]
    assert uncached["read_capacity"] > 0
    assert hit["dynamodb_requests"] == 0
    assert hit["sql_queries"] == 0
    # The token's user and the rendered page, both from Redis.
    assert hit["cache"] == {"credentials.hit": 1, "rendered.hit": 1}
    inline = costs[("send", "inline fan-out")]
    assert inline["write_capacity"] > 0
    # INDEXES: the inbox rows' index writes are reported apart from the table's.
    assert inline["index_capacity"] > 0
    assert costs[("start", "new pair")]["dynamodb_by_operation"] == {"TransactWriteItems": 1}


def test_floors_replay_the_requests_the_endpoints_sent(quick_run):
    floors = quick_run["results"]["floor_requests"]
    assert floors["inbox"]["operations"] == ["Query"]
    assert floors["conversation"]["operations"] == ["BatchGetItem", "Query"]
    assert all(floor["rows"] > 0 for floor in floors.values())


def test_large_first_pages_read_no_more_items_than_small_ones(quick_run):
    scale = quick_run["results"]["scale"]
    for kind in ("conversation", "inbox"):
        assert scale[kind]["large"]["size"] > scale[kind]["small"]["size"]
        assert scale[kind]["large"]["items_read"] == scale[kind]["small"]["items_read"]


def test_pages_are_measured_against_the_peer(quick_run):
    pages = quick_run["results"]["pages"]
    for kind in ("conversation", "inbox"):
        assert set(pages[kind]["versus_peer"]) == {"small", "large"}
        assert set(pages[kind]["versus_peer_cached"]) == {"small", "large"}
        for label in ("small", "large"):
            assert pages[kind][label]["dynamodb_requests"] >= 1
            # As shipped, a warm inbox page reads nothing from DynamoDB; a conversation
            # page makes only its membership read.
            assert pages[kind][label]["cached"]["dynamodb_by_operation"] == (
                {"BatchGetItem": 1} if kind == "conversation" else {}
            )
            assert pages[kind][label]["rows"] == pages[kind]["peer"][label]["rows"]
            assert pages[kind]["peer"][label]["sql_queries"] >= 1


def test_backlog_rows_measure_both_fan_out_modes(quick_run):
    backlog = quick_run["results"]["backlog"]
    for mode in ("inline", "stream"):
        rows = backlog["modes"][mode]["rows"]
        assert set(rows) == {
            str(unread) for unread in quick_run["results"]["meta"]["sizes"]["backlogs"]
        }
        assert all(row["write_capacity"]["median"] > 0 for row in rows.values())
        larger = {str(unread) for unread in quick_run["results"]["meta"]["sizes"]["backlogs"][1:]}
        assert set(backlog["modes"][mode]["versus_small"]) == larger
    # Stream mode: the worker's two row updates are counted in the send's row.
    stream_rows = backlog["modes"]["stream"]["rows"].values()
    assert all(row["worker_writes"]["median"] >= 2 for row in stream_rows)


def test_the_stream_workers_and_the_lambdas_requests_are_in_the_fan_out_rows(quick_run):
    fanout = quick_run["results"]["fanout"]
    assert fanout["worker"]["dynamodb_by_operation"]["UpdateItem"] >= fanout["sends"]
    assert fanout["worker"]["dynamodb_by_operation"]["GetRecords"] >= 1
    # The Lambda, first to apply its sends, moves every recipient's row; it gets them in
    # batches, so it needs no more updates than the worker's two a send.
    function = fanout["lambda"]
    updates = function["dynamodb_by_operation"].get("UpdateItem", 0)
    assert function["sends"] >= 1
    assert 1 <= updates <= 2 * function["sends"]
    assert (function["failures"], function["unseen"]) == (0, 0)


def test_live_events_reach_open_streams_from_both_fan_out_modes(quick_run):
    live, sizes = quick_run["results"]["live"], quick_run["results"]["meta"]["sizes"]
    for case in (live["inline"], live["stream"], live["open_streams"]["delivery"]):
        assert case["sends"] == sizes["live_sends"]
        assert case["lost"] == 0


def test_open_streams_share_one_redis_connection_and_hold_no_postgres_one(quick_run):
    held = quick_run["results"]["live"]["open_streams"]
    assert (
        held["held_open"]
        == held["streams"]
        == quick_run["results"]["meta"]["sizes"]["live_streams"]
    )
    assert held["with_heartbeat"] == held["streams"]
    # The warm-up stream opened the process's one pub/sub connection already.
    assert held["held"]["redis_connections"] == held["before"]["redis_connections"] == 1
    # At most the two of the credential reads' pool, whatever the number of streams.
    assert held["held"]["postgres_connections"] <= 2


def test_seeding_compares_batch_and_single_puts_like_for_like(quick_run):
    seeding = quick_run["results"]["seeding"]
    batch, single = seeding["samples"]["batch"][0], seeding["samples"]["single"][0]
    assert batch["requests"] == -(-seeding["messages"] // 25)
    assert single["requests"] == seeding["messages"]
    assert seeding["like_for_like"]["rounds"] == quick_run["results"]["meta"]["sizes"]["rounds"]


def test_report_is_rendered_from_the_results(quick_run):
    results, doc = quick_run["results"], quick_run["doc"]
    assert doc == report.markdown(results)
    assert f"commit `{results['meta']['tree']['commit'][:7]}`" in doc
    for row in results["targets"]:
        assert row["target"] in doc
        assert row["result"] in doc
    # One round is too few for any spread verdict.
    assert {row["verdict"] for row in results["targets"] if row["load_1m"]} == {"inconclusive"}


def test_every_report_table_row_has_a_cell_per_column(quick_run):
    columns = None
    for line in quick_run["doc"].splitlines():
        if not line.startswith("|"):
            columns = None
        elif columns is None:
            columns = line.count("|")
        else:
            assert line.count("|") == columns, line


def test_stack_is_torn_down_after_the_run(quick_run):
    connection = psycopg2.connect(f"{POSTGRES_ADMIN_URL}/postgres")
    try:
        with connection.cursor() as cursor:
            for name in (quick_run["database"], f"{quick_run['database']}_peer"):
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                assert cursor.fetchone() is None
    finally:
        connection.close()
