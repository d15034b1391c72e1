"""People's controls over their conversations: block someone, mute or hide a
conversation. Each is one write by the gateway, enforced there (DESIGN invariant 7 for
blocks), not only in the page."""

import uuid
from collections.abc import Iterable

from accounts.models import User
from messaging import cache, events, selectors
from messaging.dynamo.errors import Blocked, NotAMember
from messaging.errors import Forbidden, Invalid, NotFound
from messaging.events.web import target as events_target
from messaging.store import messaging_table

SELF_BLOCK = "That's you. You can't block yourself."
# A group refused for a block between two other people says no more than this: naming
# them would tell a third person who blocked whom.
GROUP_BLOCKED = "You can't start a conversation with these people."


def blocked_message(handle: str) -> str:
    """The same words whoever blocked whom, so the refusal does not say which."""
    return f"You can't message @{handle}."


def blocked_refusal(
    blocked: Blocked, *, sender: User, others: Iterable[tuple[uuid.UUID, str]]
) -> Forbidden:
    """What a sender is told when a block refused their message to `others` (uuid and
    handle of each): the person they can't message, or, when the block is between two
    other people, no names."""
    for other_uuid, handle in others:
        if frozenset((sender.uuid, other_uuid)) in blocked.pairs:
            return Forbidden(blocked_message(handle))
    return Forbidden(GROUP_BLOCKED)


def user_block(*, user: User, handle: str) -> User:
    """Block @handle: from now on neither can message the other directly or start a
    conversation holding both (their existing group conversations carry on). 1 SQL
    query + 1 TransactWriteItems. Blocking twice is the same as once."""
    other = _other(user=user, handle=handle)
    messaging_table().block_set(user_uuid=user.uuid, other_uuid=other.uuid, blocked=True)
    return other


def user_unblock(*, user: User, handle: str) -> User:
    """Lift the caller's block on @handle (a block the other made stays). 1 SQL query +
    1 TransactWriteItems; unblocking someone not blocked changes nothing."""
    other = _other(user=user, handle=handle)
    messaging_table().block_set(user_uuid=user.uuid, other_uuid=other.uuid, blocked=False)
    return other


def _other(*, user: User, handle: str) -> User:
    other = selectors.user_get_by_handle(handle=handle)
    if other.pk == user.pk:
        raise Invalid("handle", SELF_BLOCK)
    return other


def conversation_mute(*, user: User, group_uuid: uuid.UUID | str, muted: bool) -> None:
    """Mute (or unmute) a conversation for the caller: its messages still arrive and
    count on its own row, but add nothing to the navigation badge. 1 BatchGetItem
    (membership: a non-member gets NotFound) + 1 UpdateItem."""
    membership = selectors.membership_get(user=user, group_uuid=group_uuid)
    try:
        messaging_table().conversation_mute_set(membership=membership, muted=muted)
    except NotAMember as exc:
        raise NotFound("No such conversation.") from exc
    _inbox_changed(user=user, group_uuids=[membership.row.group_uuid])


def conversation_hide(*, user: User, group_uuid: uuid.UUID | str) -> bool:
    """Take a conversation out of the caller's inbox until its next message, read up to
    what it held; the other members see no change. 1 BatchGetItem (membership) + 1 or 2
    UpdateItem. False when nothing was hidden: already hidden, or a message reached the
    row after the membership read (it stays, with that message)."""
    membership = selectors.membership_get(user=user, group_uuid=group_uuid)
    try:
        hidden = messaging_table().conversation_hide(membership=membership)
    except NotAMember as exc:
        raise NotFound("No such conversation.") from exc
    if hidden:
        _inbox_changed(user=user, group_uuids=[membership.row.group_uuid])
    return hidden


def _inbox_changed(*, user: User, group_uuids: Iterable[uuid.UUID]) -> None:
    """The caller's inbox and badge changed: drop their cached pages and tell their other
    tabs (an `inbox` event makes a page re-read its list and badge)."""
    group_uuids = list(group_uuids)
    cache.conversation_invalidate(user_uuids=(user.uuid,))
    events.publish(
        target=events_target(),
        deliveries=[(user.uuid, events.inbox_event(group_uuid=group)) for group in group_uuids],
    )
