"""Section 6: fan-out lag in stream mode, with the worker's own requests, and the
Lambda's requests for the same kind of sends."""

import statistics
import threading
import time
import uuid

import requests

from bench import load
from bench.instrument import WRITE_OPERATIONS, Cost, Meter
from bench.seed import Person
from messaging.dynamo.keys import MESSAGE_PREFIX
from messaging.dynamo.stream_reader import LATEST, MAX_BATCH_SIZE, StreamReader
from messaging.stream import lambda_handler

# What deploy/template.yaml gives the function's event source mapping.
LAMBDA_BATCH_SIZE = 100


def fanout_lag(
    *, url: str, stack, meter: Meter, pairs: list[tuple[Person, Person]], sends: int
) -> dict:
    """Stream mode: from the 201 of POST /api/messages until the recipient's
    GET /api/message_groups (through the cache) shows that message. The pairs send in
    parallel, each waiting for its own message before the next. The worker's own
    requests over the timed sends come from its counters; then `lambda_cost` measures
    the Lambda's over as many sends."""
    groups = {}
    for sender, recipient in pairs:
        response = requests.post(
            url + "/api/messages",
            json={"message": "hello", "handle": recipient.handle},
            headers=load.token_headers(sender.token),
            timeout=10,
        )
        response.raise_for_status()
        groups[sender.handle] = response.json()["message_group_uuid"]
    # One untimed round trip per pair proves the worker follows the stream.
    warm = _lag_run(url=url, pairs=pairs, groups=groups, sends=1, timeout=60)
    if warm["lost"]:
        raise RuntimeError("the stream worker did not deliver the warm-up messages")
    per_pair = max(1, sends // len(pairs))
    before = stack.worker_counters_settled()
    result = _lag_run(url=url, pairs=pairs, groups=groups, sends=per_pair, timeout=10)
    worker = Cost.between(before, stack.worker_counters_settled()).as_dict()
    result["worker"] = worker
    result["worker_writes_per_send"] = round(
        sum(worker["dynamodb_by_operation"].get(name, 0) for name in WRITE_OPERATIONS)
        / max(result["sends"], 1),
        2,
    )
    result["worker_write_capacity_per_send"] = round(
        worker["write_capacity"] / max(result["sends"], 1), 2
    )
    result["lambda"] = lambda_cost(
        url=url, stack=stack, meter=meter, pairs=pairs, groups=groups, per_pair=per_pair
    )
    return result


def lambda_cost(*, url, stack, meter: Meter, pairs, groups, per_pair: int) -> dict:
    """The stream Lambda's requests for `per_pair` sends from each pair: the worker
    paused, the sends' stream records (everything the stream took meanwhile, as the
    event source mapping would deliver it) handed to `lambda_handler.handler` in this
    process in batches of LAMBDA_BATCH_SIZE, metered like the app's requests. Each
    recipient's inbox must then show its pair's last message. The worker resumes
    afterwards; its replay of those records changes nothing (conditional writes)."""
    reader = StreamReader(stack.env["MESSAGING_TABLE"])
    arn = reader.stream_arn()
    bodies = []
    with stack.worker_paused():
        iterators = [
            reader.iterator(arn, shard.shard_id, after=None, start=LATEST)
            for shard in reader.shards(arn)
        ]
        with requests.Session() as session:
            for sender, recipient in pairs:
                for index in range(per_pair):
                    body = f"via lambda {index} {uuid.uuid4().hex[:8]}"
                    _send(session, url, sender, groups[sender.handle], body)
                    bodies.append((recipient, body))
        records = _records_until(reader, iterators, count=len(bodies))
        batches = [
            records[start : start + LAMBDA_BATCH_SIZE]
            for start in range(0, len(records), LAMBDA_BATCH_SIZE)
        ]
        failures = 0
        with meter.measure() as cost:
            for batch in batches:
                failures += len(lambda_handler.handler({"Records": batch})["batchItemFailures"])
        # An inbox row shows its conversation's newest message: each pair's last send.
        newest = {recipient.handle: (recipient, body) for recipient, body in bodies}
        with requests.Session() as session:
            unseen = sum(
                _wait_visible(session, url, recipient, body, timeout=10) is None
                for recipient, body in newest.values()
            )
    measured = cost.as_dict()
    writes = sum(measured["dynamodb_by_operation"].get(name, 0) for name in WRITE_OPERATIONS)
    return {
        **measured,
        "sends": len(bodies),
        "records": len(records),
        "batches": len(batches),
        "failures": failures,
        "unseen": unseen,
        "writes_per_send": round(writes / max(len(bodies), 1), 2),
        "write_capacity_per_send": round(measured["write_capacity"] / max(len(bodies), 1), 2),
    }


def _records_until(reader, iterators, *, count: int, timeout: float = 30.0) -> list[dict]:
    """Every record from `iterators` until `count` new messages are among them and a
    read finds nothing more."""
    records: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = []
        for position, iterator in enumerate(iterators):
            if iterator is None:
                continue
            batch, iterators[position] = reader.read(iterator, limit=MAX_BATCH_SIZE)
            fresh.extend(batch)
        records.extend(fresh)
        inserted = sum(
            1
            for record in records
            if record.get("eventName") == "INSERT"
            and record["dynamodb"]["Keys"]["pk"]["S"].startswith(MESSAGE_PREFIX)
        )
        if inserted >= count and not fresh:
            return records
        time.sleep(0.1)
    raise RuntimeError(f"the stream did not show {count} new messages within {timeout:.0f} s")


def _lag_run(*, url, pairs, groups, sends: int, timeout: float) -> dict:
    lags: list[float] = []
    lost = [0]
    lock = threading.Lock()

    def pair_run(sender: Person, recipient: Person) -> None:
        with requests.Session() as session:
            for index in range(sends):
                body = f"fan-out {index} {uuid.uuid4().hex[:8]}"
                _send(session, url, sender, groups[sender.handle], body)
                created = time.perf_counter()
                seen = _wait_visible(session, url, recipient, body, timeout)
                with lock:
                    if seen is None:
                        lost[0] += 1
                    else:
                        lags.append((seen - created) * 1000)

    threads = [threading.Thread(target=pair_run, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    quantiles = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) > 1 else []
    return {
        "sends": len(lags) + lost[0],
        "pairs": len(pairs),
        "lost": lost[0],
        "p50_ms": round(statistics.median(lags), 1) if lags else None,
        "p95_ms": round(quantiles[94], 1) if quantiles else None,
        "max_ms": round(max(lags), 1) if lags else None,
    }


def _send(session, url: str, sender: Person, group_uuid: str, body: str) -> None:
    """One reply through the API; anything but a 201 ends the run."""
    response = session.post(
        url + "/api/messages",
        json={"message": body, "message_group_uuid": group_uuid},
        headers=load.token_headers(sender.token),
        timeout=10,
    )
    if response.status_code != 201:
        raise RuntimeError(f"send answered {response.status_code}")


POLL_INTERVAL = 0.01


def _wait_visible(session, url: str, recipient: Person, body: str, timeout: float):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        response = session.get(
            url + "/api/message_groups",
            headers=load.token_headers(recipient.token),
            timeout=10,
        )
        if any(group["message"] == body for group in response.json()["results"]):
            return time.perf_counter()
        time.sleep(POLL_INTERVAL)
    return None
