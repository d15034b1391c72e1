"""The measurements. Each phase returns plain data for results/latest.json."""

import re
import statistics
import threading
import time
import uuid
from pathlib import Path

import requests
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from bench import load
from bench.instrument import DynamoMeter
from bench.seed import Person
from bench.stack import ROOT
from messaging.dynamo.client import get_client
from messaging.store import messaging_table

SEED_OUTPUT = re.compile(
    r"messages written: (?P<messages>\d+) in (?P<requests>\d+) write requests,"
    r" (?P<seconds>[\d.]+)s \((?P<rate>\d+) messages/s\)"
)


def _auth(person: Person) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {person.token}"}


# --- 1. request cost ------------------------------------------------------------------


def request_cost(
    *, meter: DynamoMeter, alice: Person, bob: Person, group: uuid.UUID, strangers: list[Person]
) -> list[dict]:
    """Each operation through the whole Django stack in this process (token auth, DRF,
    selectors/services, gateway), once warm, with its cost as measured."""
    client = Client()
    inbox, conversation = "/api/message_groups", f"/api/messages/{group}"
    rows = []

    def run(operation: str, variant: str, call, expect: int) -> None:
        call()  # warm: imports, connections, the cache entry for a hit
        with meter.measure() as cost:
            response = call()
        if response.status_code != expect:
            raise RuntimeError(f"{operation} ({variant}) answered {response.status_code}")
        rows.append({"operation": operation, "variant": variant, **cost.as_dict()})

    for path, name in ((inbox, "inbox"), (conversation, "conversation")):
        with override_settings(MESSAGING_CACHE_TTL=0):
            run(name, "cache disabled", lambda path=path: client.get(path, **_auth(alice)), 200)
        run(name, "cache hit", lambda path=path: client.get(path, **_auth(alice)), 200)

    def send(body):
        return client.post(
            "/api/messages",
            {"message": body, "message_group_uuid": str(group)},
            content_type="application/json",
            **_auth(alice),
        )

    run("send", "stream fan-out", lambda: send("cost of a reply"), 201)
    with override_settings(MESSAGING_FANOUT="inline"):
        run("send", "inline fan-out", lambda: send("cost of a reply"), 201)

    def start(handle):
        return client.post(
            "/api/messages",
            {"message": "cost of a start", "handle": handle},
            content_type="application/json",
            **_auth(alice),
        )

    # `run` sends twice (warm, then measured), and each must meet a pair never seen.
    new_pairs = iter(strangers)
    run("start", "new pair", lambda: start(next(new_pairs).handle), 201)
    run("start", "existing pair", lambda: start(bob.handle), 201)
    return rows


# --- 2. throughput, cache hit vs disabled, and the floor -------------------------------


def throughput(
    *, cached_url: str, uncached_url: str, alice: Person, group: uuid.UUID, seconds: float
) -> dict:
    paths = {"inbox": "/api/message_groups", "conversation": f"/api/messages/{group}"}
    results = {}
    for name, path in paths.items():
        results[name] = {
            "cache_hit": load.wrk_run(
                url=cached_url + path, token=alice.token, connections=8, seconds=seconds
            ),
            "cache_disabled": load.wrk_run(
                url=uncached_url + path, token=alice.token, connections=8, seconds=seconds
            ),
        }
        hit, miss = results[name]["cache_hit"], results[name]["cache_disabled"]
        results[name]["speedup"] = round(hit["requests_per_s"] / miss["requests_per_s"], 2)
    return results


def floor(*, uncached_url: str, alice: Person, seconds: float, samples: int) -> dict:
    """Uncached GET /api/message_groups against the same inbox Query sent bare through
    boto3 (the gateway's own request, replayed): one at a time, so both are latency."""
    page = messaging_table().inbox_page(
        user_uuid=alice.user.uuid, position=None, limit=settings.MESSAGING_PAGE_SIZE
    )
    client = get_client()
    for _ in range(20):
        client.query(**page.request)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        client.query(**page.request)
        timings.append((time.perf_counter() - started) * 1000)
    http = load.wrk_run(
        url=uncached_url + "/api/message_groups",
        token=alice.token,
        connections=1,
        seconds=seconds,
    )
    bare = statistics.median(timings)
    return {
        "bare_query_p50_ms": round(bare, 3),
        "bare_query_samples": samples,
        "http_uncached": http,
        "ratio": round(http["p50_ms"] / bare, 2),
    }


# --- 3. scale -------------------------------------------------------------------------


def scale(
    *, meter: DynamoMeter, uncached_url: str, cases: dict, page_sizes: dict, seconds: float
) -> dict:
    """First page of a small and a large conversation / inbox: latency over HTTP (cache
    disabled, one connection) and what the page read, measured in process."""
    client = Client()
    results = {}
    for kind, sizes in cases.items():
        results[kind] = {"page_size": page_sizes[kind]}
        for label, (size, person, base) in sizes.items():
            path = f"{base}?page_size={page_sizes[kind]}"
            with override_settings(MESSAGING_CACHE_TTL=0):
                client.get(path, **_auth(person))
                with meter.measure() as cost:
                    response = client.get(path, **_auth(person))
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            http = load.wrk_run(
                url=uncached_url + path, token=person.token, connections=1, seconds=seconds
            )
            results[kind][label] = {"size": size, **cost.as_dict(), "http": http}
        small, large = results[kind]["small"], results[kind]["large"]
        results[kind]["latency_ratio"] = round(
            large["http"]["p50_ms"] / small["http"]["p50_ms"], 2
        )
        results[kind]["items_read_ratio"] = round(large["items_read"] / small["items_read"], 2)
        results[kind]["capacity_ratio"] = round(
            large["consumed_capacity"] / small["consumed_capacity"], 2
        )
    return results


# --- 4. seeding -----------------------------------------------------------------------


def seeding(*, stack, messages: int, baseline_messages: int) -> dict:
    """`manage.py ddb_seed --messages N` (BatchWriteItem, 4 threads) against the same
    command with --one-put-per-message, each in a process of its own."""
    results = {}
    for name, count, extra in (
        ("batch", messages, []),
        ("one_put_per_message", baseline_messages, ["--one-put-per-message"]),
    ):
        between = [f"bench_{name[:5]}_a", f"bench_{name[:5]}_b"]
        command = [
            "ddb_seed",
            "--messages",
            str(count),
            "--between",
            *between,
            "--create-users",
            *extra,
        ]
        engine_before = stack.engine_cpu_seconds()
        output = stack.manage(*command)
        engine_cpu = stack.engine_cpu_seconds() - engine_before
        match = SEED_OUTPUT.search(output)
        if match is None:
            raise RuntimeError(f"unexpected ddb_seed output: {output!r}")
        seconds = float(match["seconds"])
        results[name] = {
            "command": "manage.py " + " ".join(command),
            "messages": int(match["messages"]),
            "write_requests": int(match["requests"]),
            "seconds": seconds,
            "messages_per_s": round(int(match["messages"]) / seconds, 1),
            # Includes the command's start-up, so a little above the write phase's share.
            "engine_cpu_seconds": round(engine_cpu, 2),
            "engine_cpu_ms_per_message": round(engine_cpu * 1000 / int(match["messages"]), 3),
            "engine_cores_busy": round(engine_cpu / seconds, 2),
        }
    batch, baseline = results["batch"], results["one_put_per_message"]
    results["speedup"] = round(batch["messages_per_s"] / baseline["messages_per_s"], 1)
    results["engine_cpu_ratio"] = round(
        baseline["engine_cpu_ms_per_message"] / batch["engine_cpu_ms_per_message"], 1
    )
    return results


# --- 5. fan-out lag -------------------------------------------------------------------


def fanout_lag(*, url: str, pairs: list[tuple[Person, Person]], sends: int) -> dict:
    """Stream mode: from the 201 of POST /api/messages until the recipient's
    GET /api/message_groups (through the cache) shows that message. The pairs send in
    parallel, each waiting for its own message before the next."""
    groups = {}
    for sender, recipient in pairs:
        response = requests.post(
            url + "/api/messages",
            json={"message": "hello", "handle": recipient.handle},
            headers={"Authorization": f"Token {sender.token}"},
            timeout=10,
        )
        response.raise_for_status()
        groups[sender.handle] = response.json()["message_group_uuid"]
    # One untimed round trip per pair proves the worker follows the stream.
    warm = _lag_run(url=url, pairs=pairs, groups=groups, sends=1, timeout=60)
    if warm["lost"]:
        raise RuntimeError("the stream worker did not deliver the warm-up messages")
    per_pair = max(1, sends // len(pairs))
    return _lag_run(url=url, pairs=pairs, groups=groups, sends=per_pair, timeout=10)


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
                    headers={"Authorization": f"Token {sender.token}"},
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
            headers={"Authorization": f"Token {recipient.token}"},
            timeout=10,
        )
        if any(group["message"] == body for group in response.json()["results"]):
            return time.perf_counter()
        time.sleep(POLL_INTERVAL)
    return None


# --- 6. profile -----------------------------------------------------------------------


def profile(
    *, name: str, person: Person, path: str, cached: bool, requests_count: int, out_dir: Path
) -> dict:
    """pyinstrument over `requests_count` requests to `path` in process, with the cache
    disabled or (`cached`) every request a hit. The full tree goes to profile-<name>.*"""
    from pyinstrument import Profiler

    client = Client()
    with override_settings(MESSAGING_CACHE_TTL=600 if cached else 0):
        for _ in range(5):
            client.get(path, **_auth(person))
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(requests_count):
            client.get(path, **_auth(person))
        profiler.stop()
    session = profiler.last_session
    (out_dir / f"profile-{name}.txt").write_text(profiler.output_text(unicode=True))
    (out_dir / f"profile-{name}.html").write_text(profiler.output_html())
    root = session.root_frame()
    self_times: dict[str, float] = {}
    _self_times(root, self_times)
    total = session.duration
    top_self = sorted(self_times.items(), key=lambda item: item[1], reverse=True)[:12]
    project_times: dict[str, float] = {}
    _project_times(root, project_times)
    return {
        "name": name,
        "path": path,
        "cache": "hit" if cached else "disabled",
        "requests": requests_count,
        "seconds": round(total, 3),
        "ms_per_request": round(total * 1000 / requests_count, 2),
        "top_self": [
            {
                "frame": frame,
                "ms_per_request": round(seconds * 1000 / requests_count, 3),
                "share": round(seconds / total, 3),
            }
            for frame, seconds in top_self
        ],
        "by_layer": _layers(root, requests_count, LAYERS),
        "top_project": [
            {"frame": frame, "ms_per_request": round(seconds * 1000 / requests_count, 3)}
            for frame, seconds in sorted(
                project_times.items(), key=lambda item: item[1], reverse=True
            )[:10]
        ],
    }


def _frame_name(frame) -> str:
    return f"{frame.function} ({frame.file_path_short}:{frame.line_no})"


def _self_times(frame, into: dict[str, float]) -> None:
    # pyinstrument's synthetic "[self]" children repeat their parent's self time.
    if not frame.is_synthetic:
        name = _frame_name(frame)
        into[name] = into.get(name, 0.0) + frame.total_self_time
    for child in frame.children:
        _self_times(child, into)


PROJECT_DIRS = tuple(str(ROOT / name) for name in ("messaging", "accounts", "cruddur"))


def _project_times(frame, into: dict[str, float]) -> None:
    """Inclusive time of the project's own functions (not Django's, not the bench's)."""
    if not frame.is_synthetic and (frame.file_path or "").startswith(PROJECT_DIRS):
        name = f"{frame.function} ({Path(frame.file_path).relative_to(ROOT)}:{frame.line_no})"
        into[name] = into.get(name, 0.0) + frame.time
    for child in frame.children:
        _project_times(child, into)


LAYERS = (
    ("DynamoDB call (botocore + HTTP + engine)", "botocore"),
    ("SQL (psycopg2 + ORM)", "django/db"),
    ("DRF view and all under it", "rest_framework"),
    ("cache (Redis)", "redis"),
    ("DRF token authentication", "rest_framework/authentication.py"),
)


CLIENT_STAGES = (
    ("validate and serialize the request", "botocore/validate.py"),
    ("validate and serialize the request", "botocore/serialize.py"),
    ("SigV4 signing", "botocore/auth.py"),
    ("user-agent string", "botocore/useragent.py"),
    ("HTTP round trip (incl. the engine)", "urllib3/"),
    ("parse the response", "botocore/parsers.py"),
)


def client_profile(*, request: dict, calls: int, out_dir: Path) -> dict:
    """pyinstrument over `calls` bare Queries: where the boto3 client's own time goes,
    by stage, to tell whether any client setting could matter."""
    from pyinstrument import Profiler

    client = get_client()
    for _ in range(20):
        client.query(**request)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(calls):
        client.query(**request)
    profiler.stop()
    session = profiler.last_session
    (out_dir / "profile-bare-query.txt").write_text(
        profiler.output_text(unicode=True, show_all=True)
    )
    return {
        "calls": calls,
        "ms_per_call": round(session.duration * 1000 / calls, 3),
        "stages": _layers(session.root_frame(), calls, CLIENT_STAGES),
    }


def _layers(root, requests_count: int, layers: tuple) -> dict:
    """Inclusive time under the outermost frame of each layer, per request."""
    totals = dict.fromkeys((label for label, _ in layers), 0.0)

    def walk(frame, inside: set[str]):
        path = frame.file_path or ""
        for label, marker in layers:
            if label not in inside and marker in path:
                totals[label] += frame.time
                inside = inside | {label}
        for child in frame.children:
            walk(child, inside)

    walk(root, set())
    return {label: round(seconds * 1000 / requests_count, 3) for label, seconds in totals.items()}
