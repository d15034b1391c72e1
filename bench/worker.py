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
from pathlib import Path


def main(argv: list[str]) -> None:
    stats_file, options = Path(argv[0]), argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cruddur.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.instrument import Meter
    from messaging.dynamo.client import get_client, get_streams_client

    meter = Meter()
    partial = stats_file.with_suffix(".partial")

    def flush(**_) -> None:
        partial.write_text(json.dumps(meter.cost.counters()))
        partial.replace(stats_file)

    for client in (get_client(), get_streams_client()):
        meter.install(client)
        client.meta.events.register("after-call", flush)
    flush()
    call_command("ddb_stream", *options)


if __name__ == "__main__":
    main(sys.argv[1:])
