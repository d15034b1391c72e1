"""The stream consumer's half of a send (stream fan-out mode, the local worker)."""

from typing import Any

from messaging import cache, events
from messaging.errors import StoreUnavailable
from messaging.events.web import target as events_target
from messaging.store import messaging_table
from messaging.stream.core import FanoutResult, records_apply


def inbox_fanout_apply(*, records: list[dict[str, Any]]) -> FanoutResult:
    """Move every member's inbox row for each new message in a batch of stream records
    (and each preview for an edit or deletion), then invalidate their cached inboxes and
    the conversations' pages.

    Invalidates for every message applied, even a replay that changed nothing: a worker
    killed between the update and the invalidation must not leave a stale inbox.
    Raises StoreUnavailable when the table itself failed, so the worker waits and
    retries the batch instead of setting healthy records aside as poison.
    """
    result = records_apply(records=records, table=messaging_table())
    cache.conversation_invalidate(group_uuids=result.groups, user_uuids=result.members)
    events.publish_after_fanout(messages=result.messages, target=events_target())
    events.publish_message_updates(messages=result.changes, target=events_target())
    if result.unavailable:
        raise StoreUnavailable(result.unavailable)
    return result
