"""Live notices that touch no table: typing."""

import uuid

from accounts.models import User
from messaging import events, selectors
from messaging.events.web import target as events_target


def typing_announce(*, user: User, group_uuid: uuid.UUID | str) -> None:
    """Tell the other members that `user` is typing: pub/sub only, never DynamoDB
    writes. 1 BatchGetItem (membership: a non-member gets NotFound)."""
    membership = selectors.membership_get(user=user, group_uuid=group_uuid)
    events.publish_typing(
        target=events_target(),
        group_uuid=membership.row.group_uuid,
        typist_uuid=user.uuid,
        handle=user.handle,
        display_name=user.display_name,
        members=sorted(membership.conversation.member_uuids),
    )
