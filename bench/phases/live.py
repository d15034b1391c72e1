"""Section 8: live events. How long a message takes from the sender's 201 to a subscribed
recipient's open `GET /api/events` stream (inline and stream fan-out), and how many open
streams one ASGI process (uvicorn, as `make dev` runs it) holds: its memory per stream and
the delivery latency while they are all open and heartbeating.

The streams are read by a small asyncio HTTP/1.1 client below (one coroutine and one
socket per stream, no thread), so the bench process itself holds thousands cheaply.
"""

import asyncio
import json
import os
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path

import requests
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from bench import load
from bench.seed import Person
from devtools import dynamodb_local

HOST = dynamodb_local.HOST
# Short, so that holding the streams for the timed sends spans heartbeats of every
# stream: a per-heartbeat cost (a query, as there once was) would show in the latency.
HEARTBEAT_SECONDS = 5
DELIVERY_TIMEOUT = 10.0
# Bounds opening every stream (2,000 took 20-35 s on the 2-core machine, under load).
OPEN_TIMEOUT = 300.0
# Streams being opened at once: a burst of reconnects, as after a deploy.
OPEN_CONCURRENCY = 50
# Sockets the bench process needs besides the streams (engines, servers, logs).
SPARE_FILES = 512


def uvicorn_start(stack):
    """One uvicorn process serving the app (the ASGI server `make dev` runs)."""
    port = dynamodb_local.free_port()
    server = stack.start_process(
        "uvicorn-events",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cruddur.asgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--no-access-log",
            # Its open streams would otherwise hold the bench's teardown.
            "--timeout-graceful-shutdown",
            "1",
        ],
        DJANGO_SETTINGS_MODULE="cruddur.settings",
        MESSAGING_EVENTS_HEARTBEAT=str(HEARTBEAT_SECONDS),
    )
    server.url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while not dynamodb_local.port_open(port):
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start (see uvicorn-events.log)")
        time.sleep(0.1)
    return server


def files_limit_raise(*, streams: int) -> dict:
    """Raise this process's soft open-files limit (inherited by the servers it starts
    after) to fit `streams` sockets; the limits in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = streams + SPARE_FILES
    if soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return {"soft": soft, "hard": hard}


def tokens_ensure(*, count: int, prefix: str = "bench_live") -> list[str]:
    """`count` users, each with an API token (bulk inserts): one stream each."""
    User = get_user_model()
    handles = [f"{prefix}_{index:05d}" for index in range(count)]
    existing = set(User.objects.filter(handle__in=handles).values_list("handle", flat=True))
    User.objects.bulk_create(
        [User(handle=h, display_name=h, password="!") for h in handles if h not in existing]
    )
    users = list(User.objects.filter(handle__in=handles).order_by("handle"))
    with_token = set(Token.objects.filter(user__in=users).values_list("user_id", flat=True))
    Token.objects.bulk_create(
        [Token(user=user, key=Token.generate_key()) for user in users if user.pk not in with_token]
    )
    keys = dict(Token.objects.filter(user__in=users).values_list("user_id", "key"))
    return [keys[user.pk] for user in users]


class Stream:
    """One open `GET /api/events` over HTTP/1.1 (chunked, as uvicorn sends it)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self._buffer = ""

    @classmethod
    async def open(cls, url: str, token: str) -> "Stream":
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Token {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        status = await reader.readline()
        headers = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        if b" 200 " not in status or "transfer-encoding: chunked" not in headers:
            writer.close()
            raise RuntimeError(f"GET /api/events answered {status.decode().strip()}")
        return cls(reader, writer)

    async def frame(self) -> str:
        """The next SSE frame (its lines, without the blank line ending it); EOFError
        once the server ends the stream."""
        while "\n\n" not in self._buffer:
            size = int((await self.reader.readline()).split(b";")[0] or b"0", 16)
            if size == 0:
                raise EOFError("the stream ended")
            chunk = await self.reader.readexactly(size + 2)
            self._buffer += chunk[:-2].decode()
        frame, self._buffer = self._buffer.split("\n\n", 1)
        return frame

    async def connected(self) -> None:
        while ": connected" not in await self.frame():
            pass

    def close(self) -> None:
        self.writer.close()


def _percentiles(lags: list[float], lost: int) -> dict:
    quantiles = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) > 1 else []
    return {
        "sends": len(lags) + lost,
        "lost": lost,
        "p50_ms": round(statistics.median(lags), 1) if lags else None,
        "p95_ms": round(quantiles[94], 1) if quantiles else None,
        "max_ms": round(max(lags), 1) if lags else None,
    }


async def _deliveries(
    *, send_url: str, events_url: str, sender: Person, recipient: Person, sends: int
) -> dict:
    """`sends` messages one after another; each waits for its `message` event on the
    recipient's stream (opened first), DELIVERY_TIMEOUT at most, before the next is
    sent. An event that arrives before the sender has read its 201 counts as 0 ms; one
    that never arrives (DELIVERY_TIMEOUT after the last send) is lost."""
    stream = await Stream.open(events_url, recipient.token)
    await stream.connected()
    arrived: dict[str, float] = {}
    waiting: dict[str, asyncio.Event] = {}

    async def read() -> None:
        while True:
            frame = await stream.frame()
            if not frame.startswith("event: message\n"):
                continue
            body = json.loads(frame.split("\ndata: ", 1)[1])["message"]
            arrived[body] = time.perf_counter()
            if body in waiting:
                waiting[body].set()

    reader = asyncio.create_task(read())
    session = requests.Session()
    group = None

    def send(body: str) -> tuple[float, dict]:
        target = {"message_group_uuid": group} if group else {"handle": recipient.handle}
        response = session.post(
            send_url + "/api/messages",
            json={"message": body, **target},
            headers=load.token_headers(sender.token),
            timeout=DELIVERY_TIMEOUT,
        )
        answered = time.perf_counter()
        if response.status_code != 201:
            raise RuntimeError(f"send answered {response.status_code}")
        return answered, response.json()

    lags: list[float] = []
    late: dict[str, float] = {}
    try:
        for index in range(sends + 1):
            body = f"live {index} {uuid.uuid4().hex[:8]}"
            waiting[body] = asyncio.Event()
            answered, message = await asyncio.to_thread(send, body)
            group = message["message_group_uuid"]
            waiter = asyncio.create_task(waiting[body].wait())
            await asyncio.wait(
                {waiter, reader}, timeout=DELIVERY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
            waiter.cancel()
            if reader.done():
                raise RuntimeError("the recipient's stream ended") from reader.exception()
            # The first send starts the conversation and warms both paths: untimed.
            if index == 0:
                continue
            if body in arrived:
                lags.append(max(0.0, arrived[body] - answered) * 1000)
            else:
                late[body] = answered
        # Later than DELIVERY_TIMEOUT is still delivered: counted with its lag.
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while set(late) - set(arrived) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        lags.extend(
            (arrived[body] - answered) * 1000 for body, answered in late.items() if body in arrived
        )
    finally:
        reader.cancel()
        stream.close()
        session.close()
    lost = len(set(late) - set(arrived))
    return _percentiles(lags, lost)


def delivery(
    *, send_url: str, events_url: str, sender: Person, recipient: Person, sends: int
) -> dict:
    """Live-delivery latency for `sends` sends through `send_url` (its fan-out mode)."""
    return asyncio.run(
        _deliveries(
            send_url=send_url,
            events_url=events_url,
            sender=sender,
            recipient=recipient,
            sends=sends,
        )
    )


REDIS_PORT, POSTGRES_PORT = 6379, 5432


def _connections_to(pid: int, port: int) -> int:
    """The process's open TCP connections to `port` (its sockets' inodes, matched in
    /proc/net/tcp against the remote port)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port, state, inode = int(fields[2].split(":")[1], 16), fields[3], fields[9]
        # 01: ESTABLISHED.
        count += remote_port == port and state == "01" and inode in inodes
    return count


def _process(pid: int) -> dict:
    """The server's resident memory (KiB), threads and connections, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {
        "rss_kib": int(fields["VmRSS"].split()[0]),
        "threads": int(fields["Threads"]),
        "redis_connections": _connections_to(pid, REDIS_PORT),
        "postgres_connections": _connections_to(pid, POSTGRES_PORT),
    }


async def _hold(
    *, server, tokens: list[str], send_url: str, sender: Person, recipient: Person, sends: int
) -> dict:
    # One stream opened and closed first: the imports and the shared pub/sub
    # connection are in the baseline, not in the per-stream memory.
    warm = await Stream.open(server.url, tokens[0])
    await warm.connected()
    warm.close()
    await asyncio.sleep(0.5)
    before = _process(server.process.pid)
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    heartbeats = [0] * len(tokens)
    ended = [0]

    async def opened(token: str) -> Stream:
        async with gate:
            stream = await Stream.open(server.url, token)
            await stream.connected()
            return stream

    started = time.perf_counter()
    streams = await asyncio.wait_for(
        asyncio.gather(*(opened(token) for token in tokens)), timeout=OPEN_TIMEOUT
    )
    open_seconds = time.perf_counter() - started
    await asyncio.sleep(1.0)
    held = _process(server.process.pid)

    async def follow(index: int, stream: Stream) -> None:
        try:
            while True:
                if await stream.frame() == ": heartbeat":
                    heartbeats[index] += 1
        except (EOFError, ConnectionError, asyncio.IncompleteReadError):
            ended[0] += 1

    followers = [asyncio.create_task(follow(i, s)) for i, s in enumerate(streams)]
    try:
        latency = await _deliveries(
            send_url=send_url,
            events_url=server.url,
            sender=sender,
            recipient=recipient,
            sends=sends,
        )
        # Every stream through at least one heartbeat while the sends above were timed.
        deadline = time.monotonic() + HEARTBEAT_SECONDS * 3
        while min(heartbeats) == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        after = _process(server.process.pid)
    finally:
        for task in followers:
            task.cancel()
        for stream in streams:
            stream.close()
    return {
        "streams": len(tokens),
        "held_open": len(streams) - ended[0],
        "ended_early": ended[0],
        "with_heartbeat": sum(1 for count in heartbeats if count),
        "heartbeat_seconds": HEARTBEAT_SECONDS,
        "open_concurrency": OPEN_CONCURRENCY,
        "open_seconds": round(open_seconds, 2),
        "opens_per_second": round(len(tokens) / open_seconds, 1),
        "kib_per_stream": round((held["rss_kib"] - before["rss_kib"]) / len(tokens), 1),
        "before": before,
        "held": held,
        "after_sends": after,
        "delivery": latency,
    }


def open_streams(
    *, server, tokens: list[str], send_url: str, sender: Person, recipient: Person, sends: int
) -> dict:
    """`len(tokens)` streams (one user each) held open in one ASGI process, then the
    delivery latency to one more stream while they stay open."""
    return asyncio.run(
        _hold(
            server=server,
            tokens=tokens,
            send_url=send_url,
            sender=sender,
            recipient=recipient,
            sends=sends,
        )
    )


def live(*, stack, stream_url: str, sizes: dict) -> dict:
    """The whole section: an inline gunicorn beside `stream_url` (stream fan-out), one
    uvicorn for the event streams."""
    from bench import seed

    limits = files_limit_raise(streams=sizes["live_streams"])
    inline = stack.start_gunicorn("gunicorn-inline", workers=1, MESSAGING_FANOUT="inline")
    server = uvicorn_start(stack)
    stack.wait_ready()
    results: dict = {"files_limit": limits}
    for mode, url in (("inline", inline.url), ("stream", stream_url)):
        results[mode] = delivery(
            send_url=url,
            events_url=server.url,
            sender=seed.person(f"bench_live_{mode}_sender"),
            recipient=seed.person(f"bench_live_{mode}_recipient"),
            sends=sizes["live_sends"],
        )
    results["open_streams"] = open_streams(
        server=server,
        tokens=tokens_ensure(count=sizes["live_streams"]),
        send_url=stream_url,
        sender=seed.person("bench_live_held_sender"),
        recipient=seed.person("bench_live_held_recipient"),
        sends=sizes["live_sends"],
    )
    # Publishing skips events for a few seconds after a Redis error, and logs it: the
    # one way an event is lost once its rows have moved. Counted over the whole run.
    results["publish_outages"] = {
        mode: (stack.workdir / f"{log}.log").read_text().count("live events unavailable")
        for mode, log in (("inline", "gunicorn-inline"), ("stream", "stream"))
    }
    return results
