"""The bench harness end to end on tiny sizes, so it cannot rot: its own stack starts,
every phase runs, the results and the report are written, and the stack is gone after.

Asserts what was measured (counts, structure), never how fast: no timed assertions.
"""

import json
import shutil
import subprocess
import sys
import uuid

import psycopg2
import pytest

from bench import report
from bench.stack import POSTGRES_ADMIN_URL, ROOT

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
        "floor",
        "scale",
        "seeding",
        "fanout",
        "profiles",
        "client_profile",
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
    for endpoint in ("inbox", "conversation"):
        for label in ("cache_hit", "cache_disabled"):
            run = results["http"][endpoint][label]
            assert run["requests"] > 0
            assert run["errors"] == 0
    assert results["fanout"]["lost"] == 0
    assert results["fanout"]["sends"] == results["meta"]["sizes"]["fanout_sends"]
    assert [profile["cache"] for profile in results["profiles"]] == ["disabled", "hit"]
    assert all(profile["top_self"] for profile in results["profiles"])
    assert results["client_profile"]["stages"]["HTTP round trip (incl. the engine)"] > 0


def test_request_cost_comes_from_instrumentation(quick_run):
    costs = {
        (row["operation"], row["variant"]): row for row in quick_run["results"]["request_cost"]
    }
    uncached, hit = costs[("inbox", "cache disabled")], costs[("inbox", "cache hit")]
    assert uncached["dynamodb_by_operation"] == {"Query": 1}
    assert uncached["consumed_capacity"] > 0
    assert hit["dynamodb_requests"] == 0
    assert hit["cache"] == {"hit": 1}
    assert costs[("start", "new pair")]["dynamodb_by_operation"] == {"TransactWriteItems": 1}
    assert all(row["sql_queries"] >= 1 for row in costs.values())


def test_large_first_pages_read_no_more_items_than_small_ones(quick_run):
    scale = quick_run["results"]["scale"]
    for kind in ("conversation", "inbox"):
        assert scale[kind]["large"]["size"] > scale[kind]["small"]["size"]
        assert scale[kind]["large"]["items_read"] == scale[kind]["small"]["items_read"]
        assert (
            scale[kind]["large"]["consumed_capacity"] == scale[kind]["small"]["consumed_capacity"]
        )


def test_seeding_compares_batch_writes_with_one_put_per_message(quick_run):
    seeding = quick_run["results"]["seeding"]
    sizes = quick_run["results"]["meta"]["sizes"]
    assert seeding["batch"]["messages"] == sizes["seed_messages"]
    assert seeding["one_put_per_message"]["messages"] == sizes["seed_baseline_messages"]
    # BatchWriteItem: 25 messages a request (+1 transaction for the inbox rows).
    assert seeding["batch"]["write_requests"] < sizes["seed_messages"] / 20
    assert seeding["one_put_per_message"]["write_requests"] > sizes["seed_baseline_messages"]


def test_report_is_rendered_from_the_results(quick_run):
    results, doc = quick_run["results"], quick_run["doc"]
    assert doc == report.markdown(results)
    for row in results["targets"]:
        assert row["target"] in doc
        assert row["result"] in doc
    assert "target" in quick_run["stdout"]


def test_stack_is_torn_down_after_the_run(quick_run):
    connection = psycopg2.connect(f"{POSTGRES_ADMIN_URL}/postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [quick_run["database"]])
            assert cursor.fetchone() is None
    finally:
        connection.close()
