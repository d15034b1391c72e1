"""Section 6: fan-out lag in stream mode, with the worker's own requests."""

import statistics
import threading
import time
import uuid

import requests

from bench import load
from bench.instrument import WRITE_OPERATIONS, Cost
from bench.seed import Person


def fanout_lag(*, url: str, stack, pairs: list[tuple[Person, Person]], sends: int) -> dict:
    """Stream mode: from the 201 of POST /api/messages until the recipient's
    GET /api/message_groups (through the cache) shows that message. The pairs send in
    parallel, each waiting for its own message before the next. The worker's own
    requests over the timed sends come from its counters."""
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
    return result


def _lag_run(*, url, pairs, groups, sends: int, timeout: float) -> dict:
    lags: list[float] = []
    lost = [0]
    lock = threading.Lock()

    def pair_run(sender: Person, recipient: Person) -> None:
        with requests.Session() as session:
            for index in range(sends):
                body = f"fan-out {index} {uuid.uuid4().hex[:8]}"
                response = session.post(
                    url + "/api/messages",
                    json={"message": body, "message_group_uuid": groups[sender.handle]},
                    headers=load.token_headers(sender.token),
                    timeout=10,
                )
                if response.status_code != 201:
                    raise RuntimeError(f"send answered {response.status_code}")
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
