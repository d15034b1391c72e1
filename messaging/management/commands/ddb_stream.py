"""`manage.py ddb_stream`: the local stream worker (what the Lambda is in AWS).

Checkpoints go to a JSON file per table under var/stream/ (see
messaging/stream/checkpoints.py for why not the table); records that keep failing are set
aside in a .dead.jsonl file beside it.
"""

import logging
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from messaging import services
from messaging.dynamo.errors import StoreUnavailable
from messaging.dynamo.stream_reader import LATEST, MAX_BATCH_SIZE, TRIM_HORIZON, StreamReader
from messaging.stream.checkpoints import FileCheckpoints
from messaging.stream.poller import StreamPoller

logger = logging.getLogger("messaging.stream")


def checkpoint_path(table_name: str) -> Path:
    return Path(settings.VAR_DIR) / "stream" / f"{table_name}.json"


class Command(BaseCommand):
    help = "Apply the messaging table's stream to the inbox rows (stream fan-out mode)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="drain every shard, then exit (tests, cron)"
        )
        parser.add_argument("--batch-size", type=int, default=100, help="records per GetRecords")
        parser.add_argument(
            "--checkpoint", type=Path, help="checkpoint file (default var/stream/<table>.json)"
        )
        parser.add_argument(
            "--start",
            choices=["trim-horizon", "latest"],
            default="trim-horizon",
            help="where a shard without a checkpoint starts (default: its oldest record)",
        )
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=3,
            help="tries per failing record before it is set aside",
        )
        # Lambda polls each shard about four times a second; match it, so local lag
        # looks like production's.
        parser.add_argument(
            "--idle-max", type=float, default=0.25, help="longest idle pause between polls (s)"
        )

    def handle(self, *args, **options):
        if not 1 <= options["batch_size"] <= MAX_BATCH_SIZE:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}")
        table_name = settings.MESSAGING_TABLE
        checkpoint = options["checkpoint"] or checkpoint_path(table_name)
        poller = StreamPoller(
            reader=StreamReader(table_name),
            checkpoints=FileCheckpoints(checkpoint),
            process=self._process,
            dead_letters=checkpoint.with_suffix(".dead.jsonl"),
            batch_size=options["batch_size"],
            max_attempts=options["max_attempts"],
            idle_max=options["idle_max"],
            start=LATEST if options["start"] == "latest" else TRIM_HORIZON,
        )
        stop = threading.Event()
        restore = _stop_on_signals(stop)
        if not options["once"]:
            self.stdout.write(f"following the stream of {table_name} (Ctrl-C stops)")
        try:
            totals = poller.run(stop=stop, once=options["once"])
        except StoreUnavailable as exc:
            raise CommandError(str(exc)) from exc
        finally:
            restore()
        self.stdout.write(
            f"stream worker stopped: {totals.batches} batches, {totals.records} records,"
            f" {totals.dead_lettered} set aside"
        )

    def _process(self, records: list[dict]) -> list[str]:
        result = services.inbox_fanout_apply(records=records)
        logger.info("stream batch %s", result.summary())
        return result.failed


def _stop_on_signals(stop: threading.Event):
    """Ctrl-C and SIGTERM finish the current batch and checkpoint, then exit."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }

    def restore():
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore
