"""Read state: marking a conversation read."""

import uuid

from accounts.models import User
from messaging import cache, events, selectors
from messaging.dynamo.errors import NotAMember
from messaging.errors import NotFound
from messaging.events.web import target as events_target
from messaging.store import messaging_table
from messaging.types import ConversationDetail


def conversation_mark_read(
    *, user: User, group_uuid: uuid.UUID | str, detail: ConversationDetail | None = None
) -> bool:
    """Mark the conversation read up to its newest message, or up to the newest message
    `detail` showed (a conversation page the caller just read, which may be ahead of the
    stream). Passing `detail` skips the membership read; no write when nothing is unread.
    1 TransactWriteItems (the reader's row and their read position)."""
    if detail is not None and detail.read_marker is not None:
        membership, through = detail.read_marker  # type: ignore[misc]
    else:
        membership, through = selectors.membership_get(user=user, group_uuid=group_uuid), None
    try:
        marked = messaging_table().conversation_mark_read(membership=membership, through=through)
    except NotAMember as exc:
        raise NotFound("No such conversation.") from exc
    if marked is not None:
        cache.conversation_invalidate(user_uuids=(user.uuid,))
        events.publish_read(
            target=events_target(),
            group_uuid=membership.row.group_uuid,
            reader_uuid=user.uuid,
            members=sorted(membership.conversation.member_uuids),
            last_read_at=marked.at,
            send_read_receipts=user.send_read_receipts,
        )
    return marked is not None
