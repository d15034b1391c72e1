"""Where the local stream worker has got to in each shard, kept in a JSON file.

Checkpoints live in a file (under var/ by default), not in the table: a checkpoint item
would itself be written to the stream, and the worker would wake itself up forever.
Imports nothing from Django.
"""

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger("messaging.stream")


class FileCheckpoints:
    """The last processed sequence number of each shard of one stream, in a JSON file.

    Written atomically (temp file + rename) after every batch, so a worker killed at any
    moment leaves either the old or the new checkpoint, and at worst replays one batch:
    the fan-out is idempotent, so a replay is harmless; a skip would not be.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.stream_arn: str | None = None
        self.shards: dict[str, dict[str, Any]] = {}

    def bind(self, stream_arn: str) -> None:
        """Load the checkpoints kept for this stream; a different (recreated) stream
        starts afresh."""
        saved = {}
        if self.path.exists():
            saved = json.loads(self.path.read_text() or "{}")
        if saved.get("stream_arn") == stream_arn:
            self.shards = saved.get("shards", {})
        else:
            if saved.get("stream_arn"):
                logger.info("stream changed (table recreated?): checkpoints start afresh")
            self.shards = {}
        self.stream_arn = stream_arn

    def sequence(self, shard_id: str) -> str | None:
        return self.shards.get(shard_id, {}).get("sequence")

    def finished(self, shard_id: str) -> bool:
        return bool(self.shards.get(shard_id, {}).get("finished", False))

    def advance(self, shard_id: str, sequence: str) -> None:
        self.shards.setdefault(shard_id, {})["sequence"] = sequence
        self._save()

    def finish(self, shard_id: str) -> None:
        self.shards.setdefault(shard_id, {})["finished"] = True
        self._save()

    def forget_except(self, shard_ids: set[str]) -> None:
        """Drop shards the stream no longer holds (past the 24-hour retention)."""
        gone = set(self.shards) - shard_ids
        if gone:
            for shard_id in gone:
                del self.shards[shard_id]
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"stream_arn": self.stream_arn, "shards": self.shards}, indent=1)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".checkpoint-")
        with os.fdopen(handle, "w") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)
