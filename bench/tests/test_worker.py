"""The metered stream worker's counters file (bench/worker.py): the stream core calls
DynamoDB from several threads at once, and the meter must neither fail those calls nor
lose their counts."""

import json
import threading

import boto3

from bench.instrument import Meter
from bench.worker import counters_file_install

THREADS = 8
CALLS = 40


def test_counters_file_takes_concurrent_calls_without_failing_them(dynamodb_endpoint, tmp_path):
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    path = tmp_path / "worker-stats.json"
    counters_file_install(meter=Meter(), clients=(client,), path=path)
    failures: list[Exception] = []

    def calls() -> None:
        for _ in range(CALLS):
            try:
                client.list_tables()
            except Exception as exc:
                failures.append(exc)

    threads = [threading.Thread(target=calls) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert json.loads(path.read_text())["calls"] == {"ListTables": THREADS * CALLS}
