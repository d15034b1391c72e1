"""The stream worker as the bench runs it: `manage.py ddb_stream` in a process of its own,
with a Meter on that process's DynamoDB and Streams clients, so the fan-out's own
requests and capacity are counted too.

    python -m bench.worker STATS_FILE [ddb_stream options]

After every call the counters are written to STATS_FILE (JSON, replaced atomically);
`bench.stack.Stack.worker_counters()` reads it.
"""

import json
import os
import sys
import threading
from pathlib import Path


def counters_file_install(*, meter, clients, path: Path) -> None:
    """Install `meter` on `clients` and rewrite `path` with its counters after every call.

    The stream core makes its UpdateItems from several threads, and whatever an
    `after-call` hook raises fails the call it follows: two threads sharing the partial
    file raced (one renamed it away under the other), the worker failed healthy records
    until it set them aside, and the fan-out phase reported their messages lost. So one
    write at a time.
    """
    partial = path.with_suffix(".partial")
    lock = threading.Lock()

    def flush(**_) -> None:
        with lock:
            partial.write_text(json.dumps(meter.counters()))
            partial.replace(path)

    for client in clients:
        meter.install(client)
        client.meta.events.register("after-call", flush)
    flush()


def main(argv: list[str]) -> None:
    stats_file, options = Path(argv[0]), argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cruddur.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.instrument import Meter
    from messaging.dynamo.client import get_client, get_streams_client

    counters_file_install(
        meter=Meter(), clients=(get_client(), get_streams_client()), path=stats_file
    )
    call_command("ddb_stream", *options)


if __name__ == "__main__":
    main(sys.argv[1:])
