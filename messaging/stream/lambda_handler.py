"""AWS Lambda entry point for the table's stream (deploy/template.yaml).

Runs the same fan-out core as `manage.py ddb_stream` over every record of the event and
reports the failed ones, so Lambda retries only those (`ReportBatchItemFailures`).
Imports no Django: its environment is MESSAGING_TABLE and, to invalidate the web
processes' cache, REDIS_URL and CACHE_KEY_PREFIX.
"""

import logging
import os
from typing import Any

from messaging import cache_keys, events
from messaging.dynamo.table import MessagingTable
from messaging.stream.core import FanoutResult, records_apply

logger = logging.getLogger("messaging.stream")
logger.setLevel(logging.INFO)

_redis_clients: dict[str, object] = {}


def handler(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    table = MessagingTable(os.environ.get("MESSAGING_TABLE", "cruddur-messages"))
    result = records_apply(records=event.get("Records") or [], table=table)
    _invalidate(result)
    # Live events once the rows have moved; a Redis outage never fails the batch.
    target = events.Target(
        redis_url=os.environ.get("REDIS_URL", ""),
        prefix=os.environ.get("CACHE_KEY_PREFIX", "cruddur"),
    )
    events.publish_after_fanout(messages=result.messages, target=target)
    events.publish_message_updates(messages=result.changes, target=target)
    logger.info("stream batch %s", result.summary())
    return {"batchItemFailures": result.batch_item_failures()}


def _invalidate(result: FanoutResult) -> None:
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url or not result.members:
        return
    keys = cache_keys.keys_for(group_uuids=result.groups, user_uuids=result.members)
    try:
        cache_keys.redis_invalidate(
            _redis(redis_url), keys=keys, prefix=os.environ.get("CACHE_KEY_PREFIX", "cruddur")
        )
    except Exception as exc:
        # The rows are already right; a cached inbox expires after MESSAGING_CACHE_TTL.
        # Failing the batch would only replay updates that are already applied.
        logger.warning("cache invalidation failed (%s)", type(exc).__name__)


def _redis(url: str) -> Any:
    if url not in _redis_clients:
        import redis

        _redis_clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=0.5
        )
    return _redis_clients[url]
