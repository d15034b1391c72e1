"""Section 4: what one send costs as the recipient's unread backlog grows, inline and
stream fan-out. Inline, the request's transaction moves both rows; stream, the request
writes the message and the worker moves the rows, so the worker's own counters (from
bench/worker.py) are added to the request's."""

import statistics
import time

from django.test import Client
from django.test.utils import override_settings

from bench import stats
from bench.instrument import WRITE_OPERATIONS, Cost, Meter
from bench.phases.cost import auth
from messaging.store import messaging_table

MODES = ("inline", "stream")


def backlog(*, meter: Meter, stack, cases: dict, rounds: int, sends: int) -> dict:
    """`cases`: unread backlog -> {"sender", "recipient", "group"} or {"error"} when the
    backlog could not be seeded. Every seeded backlog and mode once per round, each
    time `sends` sends (the round's sample: their median latency, their mean cost)."""
    client = Client()
    sides = {}
    for unread, case in cases.items():
        if "error" in case:
            continue
        for mode in MODES:
            sides[f"{mode}_{unread}"] = _sender(client, meter, stack, case, mode, sends)
    samples = stats.alternate(sides, rounds=rounds) if sides else {}
    results = {"modes": {}}
    small = min(cases)
    for mode in MODES:
        rows = {}
        for unread, case in cases.items():
            runs = samples.get(f"{mode}_{unread}")
            rows[str(unread)] = {"error": case["error"]} if runs is None else _row(runs)
        results["modes"][mode] = {
            "rows": rows,
            # Each larger backlog against the smallest, where both could be measured.
            "versus_small": {
                str(unread): {
                    key: stats.ratio(
                        samples[f"{mode}_{unread}"], samples[f"{mode}_{small}"], key=key
                    )
                    for key in ("write_capacity", "ms")
                }
                for unread in cases
                if unread != small and "error" not in rows[str(unread)] | rows[str(small)]
            },
        }
    results["small"], results["large"] = small, max(cases)
    return results


def group_versus_pair(
    *, meter: Meter, stack, pair: dict, group: dict, rounds: int, sends: int
) -> dict:
    """One inline send in a conversation of 8 against one in a pair, alternated: the
    transaction also moves every member's row, so its capacity grows with the members
    and with nothing else."""
    client = Client()
    samples = stats.alternate(
        {
            "pair": _sender(client, meter, stack, pair, "inline", sends),
            "group": _sender(client, meter, stack, group, "inline", sends),
        },
        rounds=rounds,
    )
    rows = {"pair": _row(samples["pair"]), "group": _row(samples["group"])}
    measured = not any("error" in row for row in rows.values())
    return {
        **rows,
        "members": group["members"],
        "versus_pair": {
            key: stats.ratio(samples["group"], samples["pair"], key=key)
            for key in ("write_capacity", "ms")
        }
        if measured
        else None,
    }


def _row(runs: list[dict]) -> dict:
    failed = [run["error"] for run in runs if "error" in run]
    if failed:
        return {"error": failed[0]}
    return {
        "samples": runs,
        **{key: stats.spread([run[key] for run in runs]) for key in runs[0] if key != "load_1m"},
    }


def _sender(client: Client, meter: Meter, stack, case: dict, mode: str, sends: int):
    body = {"message": "one more", "message_group_uuid": str(case["group"])}

    def one() -> dict:
        before = stack.worker_counters_settled()
        unread_before = _unread(case)
        with override_settings(MESSAGING_FANOUT=mode), meter.measure() as cost:
            response = client.post(
                "/api/messages", body, content_type="application/json", **auth(case["sender"])
            )
        if response.status_code != 201:
            return {"error": f"send answered {response.status_code}: {response.content[:200]!r}"}
        sample = {"ms": cost.ms}
        if mode == "stream":
            sample["applied_ms"] = _wait_unread_above(case, unread_before)
            worker = Cost.between(before, stack.worker_counters_settled())
            cost.write_capacity += worker.write_capacity
            cost.table_capacity += worker.table_capacity
            cost.index_capacity += worker.index_capacity
            sample["worker_writes"] = sum(worker.calls[name] for name in WRITE_OPERATIONS)
        sample.update(
            write_capacity=cost.write_capacity,
            table_capacity=cost.table_capacity,
            index_capacity=cost.index_capacity,
        )
        return sample

    def send() -> dict:
        runs = [one() for _ in range(sends)]
        failed = [run for run in runs if "error" in run]
        if failed:
            return failed[0]
        timed = {"ms", "applied_ms"}
        return {
            key: round(
                (statistics.median if key in timed else statistics.fmean)(
                    run[key] for run in runs
                ),
                2,
            )
            for key in runs[0]
        }

    return send


def _unread(case: dict) -> int:
    membership = messaging_table().membership_get(
        user_uuid=case["recipient"].user.uuid, group_uuid=case["group"]
    )
    return membership.row.unread_count if membership else 0


def _wait_unread_above(case: dict, count: int, timeout: float = 10.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if _unread(case) > count:
            return round((time.perf_counter() - started) * 1000, 1)
        time.sleep(0.01)
    raise RuntimeError("the stream worker did not apply a send within 10 s")
