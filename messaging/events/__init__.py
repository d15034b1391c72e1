"""Live events (DESIGN §5): after a conversation's rows move, each member's channel on
Redis pub/sub gets an event, and `GET /api/events` streams a user's channel as SSE.

The publish half (`channels`, `payloads`, `publish`) imports nothing from Django, so the
stream Lambda publishes exactly as the web process does; `web` reads Django's settings.
"""

from messaging.events.payloads import (
    CREDENTIALS_CHANGED,
    Event,
    credentials_changed_event,
    inbox_event,
    message_event,
    message_updated_event,
    read_event,
    typing_event,
)
from messaging.events.publisher import (
    Target,
    publish,
    publish_after_fanout,
    publish_credentials_changed,
    publish_message_updates,
    publish_read,
    publish_typing,
)

__all__ = [
    "CREDENTIALS_CHANGED",
    "Event",
    "Target",
    "credentials_changed_event",
    "inbox_event",
    "message_event",
    "message_updated_event",
    "publish",
    "publish_after_fanout",
    "publish_credentials_changed",
    "publish_message_updates",
    "publish_read",
    "publish_typing",
    "read_event",
    "typing_event",
]
