"""The order of a run, once Django is set up in the bench process: seed everything, then
start the servers and the worker, then measure phase by phase (bench/phases/)."""

import json
import sys
import time
from pathlib import Path

from django.conf import settings

from bench import seed
from bench.instrument import Meter
from bench.phases import backlog, cost, fanout, http, live, profile, scale, seeding
from bench.stack import Stack
from messaging.store import messaging_table


def everything(*, stack: Stack, sizes: dict, out: Path, step) -> dict:
    step("seeding the scale cases, the backlogs and the senders; the peer's beside them")
    seeded = time.perf_counter()
    peer_seed = _peer_seed_start(stack, sizes)
    people = _people(sizes)
    results: dict = {"seed_seconds": round(time.perf_counter() - seeded, 1)}
    # Waited for here, so nothing else runs while the seeding strategies are timed.
    peer = _peer_start(stack, peer_seed)
    results["peer"] = {key: peer[key] for key in ("seconds", "version")}
    step("seeding, like for like: BatchWriteItem vs PutItem")
    results["seeding"] = seeding.seeding(
        stack=stack,
        messages=sizes["seed_messages"],
        threads=sizes["seed_threads"],
        rounds=sizes["rounds"],
    )
    endpoints = {
        "inbox": (people["grace"], "/api/message_groups"),
        "conversation": (people["alice"], f"/api/messages/{people['small_group']}"),
    }
    floor_file = stack.workdir / "floors.json"
    results["floor_requests"] = http.floor_record(endpoints=endpoints, out=floor_file)
    step("starting gunicorn (cache on, cache off) and the metered stream worker")
    cached = stack.start_gunicorn("gunicorn-cached", BENCH_FLOOR_FILE=str(floor_file))
    uncached = stack.start_gunicorn(
        "gunicorn-uncached", BENCH_FLOOR_FILE=str(floor_file), MESSAGING_CACHE_TTL="0"
    )
    stack.start_stream_worker()
    stack.wait_ready()
    meter = Meter()
    results.update(_requests(meter, people, endpoints, cached.url, uncached.url, sizes, step))
    results.update(_scale(meter, people, peer, cached.url, uncached.url, sizes, step))
    step("one send at each unread backlog, inline and stream")
    results["backlog"] = backlog.backlog(
        meter=meter,
        stack=stack,
        cases=people["backlogs"],
        rounds=sizes["rounds"],
        sends=sizes["backlog_sends"],
    )
    step("one send in a group of 8 against one in a pair (inline)")
    results["group_of_8"] = backlog.group_versus_pair(
        meter=meter,
        stack=stack,
        pair=people["backlogs"][min(people["backlogs"])],
        group=people["group_of_8"],
        rounds=sizes["rounds"],
        sends=sizes["backlog_sends"],
    )
    step(f"fan-out lag over {sizes['fanout_sends']} sends (stream mode)")
    results["fanout"] = fanout.fanout_lag(
        url=cached.url,
        stack=stack,
        meter=meter,
        pairs=people["pairs"],
        sends=sizes["fanout_sends"],
    )
    step(
        f"live events: {sizes['live_sends']} sends per fan-out mode to an open stream, then"
        f" {sizes['live_streams']:,} streams held by one uvicorn"
    )
    results["live"] = live.live(stack=stack, stream_url=cached.url, sizes=sizes)
    step("profiles: the conversation uncached, an inbox cache hit, the bare client")
    results.update(_profiles(people, endpoints, sizes, out))
    step("stopping the stack")
    return results


def _people(sizes: dict) -> dict:
    alice, bob, small_group = seed.conversation_seed(
        first="bench_alice", second="bench_bob", messages=sizes["conversation_small"]
    )
    carol, _, large_group = seed.conversation_seed(
        first="bench_carol", second="bench_dave", messages=sizes["conversation_large"]
    )
    peers = seed.peers_ensure(count=max(sizes["inbox_large"], sizes["throughput_inbox"]))
    inboxes = {}
    for handle, width in (
        ("bench_erin", sizes["inbox_small"]),
        ("bench_frank", sizes["inbox_large"]),
        ("bench_grace", sizes["throughput_inbox"]),
    ):
        inboxes[handle] = seed.person(handle)
        seed.inbox_seed(owner=inboxes[handle], peers=peers[:width])
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "small_group": small_group,
        "large_group": large_group,
        "erin": inboxes["bench_erin"],
        "frank": inboxes["bench_frank"],
        "grace": inboxes["bench_grace"],
        "backlogs": {unread: _backlog(unread) for unread in sizes["backlogs"]},
        "group_of_8": _group_of_8(),
        "strangers": [seed.person(f"bench_stranger_{index}") for index in range(2)],
        "pairs": [
            (seed.person(f"bench_sender_{index}"), seed.person(f"bench_recipient_{index}"))
            for index in range(sizes["fanout_pairs"])
        ],
    }


def _group_of_8() -> dict:
    people = [seed.person(f"bench_group_{index}") for index in range(8)]
    group = seed.group_seed(people=people)
    return {"sender": people[0], "recipient": people[1], "group": group, "members": 8}


def _backlog(unread: int) -> dict:
    sender = seed.person(f"bench_backlog_{unread}_sender")
    recipient = seed.person(f"bench_backlog_{unread}_recipient")
    try:
        group = seed.backlog_seed(sender=sender, recipient=recipient, unread=unread)
    except Exception as exc:  # the v1 row passes 400 KB: report it, do not crash
        error = getattr(exc, "response", {}).get("Error", {})
        reason = (
            f"{error['Code']}: {error['Message']}" if error else f"{type(exc).__name__}: {exc}"
        )
        return {"error": f"seeding failed: {reason[:200]}"}
    return {"sender": sender, "recipient": recipient, "group": group}


def _peer_seed_start(stack: Stack, sizes: dict) -> dict:
    """Seed the peer's database in a process of its own (its own settings), beside the
    bench's own seeding; `_peer_start` waits for it."""
    url = stack.database_create(f"{stack.database}_peer")
    env = {"DJANGO_SETTINGS_MODULE": "bench.peer.settings", "BENCH_PEER_DATABASE_URL": url}
    out = stack.workdir / "peer.json"
    command = [sys.executable, "-m", "bench.peer.seed", str(out)]
    command += ["--inbox", str(sizes["inbox_small"]), str(sizes["inbox_large"])]
    command += ["--conversation", str(sizes["conversation_small"])]
    command += [str(sizes["conversation_large"])]
    seeder = stack.start_process("peer-seed", command, **env)
    return {"seeder": seeder, "env": env, "out": out}


def _peer_start(stack: Stack, started: dict) -> dict:
    """The seeded peer and its gunicorn, configured as ours."""
    if started["seeder"].process.wait(timeout=600) != 0:
        raise RuntimeError(f"seeding the peer failed (see {stack.workdir}/peer-seed.log)")
    peer = json.loads(started["out"].read_text())
    server = stack.start_gunicorn(
        "gunicorn-peer", app="bench.peer.wsgi:application", **started["env"]
    )
    from importlib.metadata import version

    return {**peer, "url": server.url, "version": version("django-postman")}


def _requests(meter, people, endpoints, cached_url, uncached_url, sizes, step) -> dict:
    step("request cost per operation")
    results = {
        "request_cost": cost.request_cost(
            meter=meter,
            alice=people["alice"],
            bob=people["bob"],
            group=people["small_group"],
            strangers=people["strangers"],
        )
    }
    step("throughput at concurrency 8: cache hit vs cache disabled, alternated")
    results["http"] = http.throughput(
        cached_url=cached_url,
        uncached_url=uncached_url,
        endpoints=endpoints,
        seconds=sizes["http_seconds"],
        rounds=sizes["rounds"],
    )
    step("floors: each endpoint against a bare WSGI Query and a no-I/O Django view")
    results["floors"] = http.floors(
        cached_url=cached_url,
        uncached_url=uncached_url,
        endpoints=endpoints,
        seconds=sizes["latency_seconds"],
        rounds=sizes["rounds"],
    )
    return results


def _scale(meter, people, peer, cached_url, uncached_url, sizes, step) -> dict:
    conversation = {
        "small": (sizes["conversation_small"], people["alice"], people["small_group"]),
        "large": (sizes["conversation_large"], people["carol"], people["large_group"]),
    }
    inbox = {
        "small": (sizes["inbox_small"], people["erin"]),
        "large": (sizes["inbox_large"], people["frank"]),
    }
    step("scale: API first pages, small vs large, alternated")
    api = scale.api_scale(
        meter=meter,
        uncached_url=uncached_url,
        cases={
            "conversation": {
                k: (n, p, f"/api/messages/{g}") for k, (n, p, g) in conversation.items()
            },
            "inbox": {k: (n, p, "/api/message_groups") for k, (n, p) in inbox.items()},
        },
        # The same, full page from both sides: a small side that cannot fill the default
        # page asks for one less than it holds, as a shorter page would flatter it.
        page_sizes={
            kind: min(settings.MESSAGING_PAGE_SIZE, sizes[f"{kind}_small"] - 1)
            for kind in ("conversation", "inbox")
        },
        seconds=sizes["latency_seconds"],
        rounds=sizes["rounds"],
    )
    step("scale: the pages, small vs large, ours and the peer's, alternated")
    pages = scale.page_scale(
        meter=meter,
        cached_url=cached_url,
        uncached_url=uncached_url,
        cases={
            "conversation": {k: (n, p, f"/messages/{g}") for k, (n, p, g) in conversation.items()},
            "inbox": {k: (n, p, "/messages") for k, (n, p) in inbox.items()},
        },
        peer=peer,
        seconds=sizes["latency_seconds"],
        rounds=sizes["rounds"],
    )
    return {"scale": api, "pages": pages}


def _profiles(people, endpoints, sizes, out) -> dict:
    alice, conversation_path = endpoints["conversation"]
    inbox_request = messaging_table().inbox_page(
        user_uuid=alice.user.uuid, position=None, limit=settings.MESSAGING_PAGE_SIZE
    )
    return {
        "profiles": [
            profile.profile(
                name="conversation-uncached",
                person=alice,
                path=conversation_path,
                cached=False,
                requests_count=sizes["profile_requests"],
                out_dir=out,
            ),
            profile.profile(
                name="inbox-hit",
                person=people["grace"],
                path=endpoints["inbox"][1],
                cached=True,
                requests_count=sizes["profile_requests"],
                out_dir=out,
            ),
        ],
        "client_profile": profile.client_profile(
            request=inbox_request.request, calls=sizes["profile_requests"], out_dir=out
        ),
    }
