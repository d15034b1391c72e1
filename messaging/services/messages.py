"""Sending in an existing conversation."""

import uuid

from accounts.models import User
from messaging import rules, selectors
from messaging.dynamo import Membership
from messaging.dynamo.errors import Blocked, IdempotentReplay, NotAMember
from messaging.errors import Invalid, NotFound
from messaging.services.controls import blocked_refusal
from messaging.services.delivery import Outgoing, after_send, fanout_inline
from messaging.store import messaging_table
from messaging.types import ChatMessage


def message_create(
    *,
    sender: User,
    group_uuid: uuid.UUID | str,
    body: object,
    idempotency_key: str | None = None,
) -> ChatMessage:
    """Reply in a conversation the sender belongs to: 1 BatchGetItem (membership and the
    conversation's head) + 1 TransactWriteItems (the message, the head, and in inline
    mode every member's row)."""
    group_uuid = rules.uuid_clean(group_uuid)
    outgoing = Outgoing.build(
        sender=sender, body=body, target=f"group:{group_uuid}", idempotency_key=idempotency_key
    )
    membership = selectors.membership_get(user=sender, group_uuid=group_uuid)
    if not selectors.conversation_has_recipients(membership=membership, sender=sender):
        raise Invalid("message", rules.NOBODY_TO_MESSAGE)
    return message_send_into(membership=membership, outgoing=outgoing)


def message_send_into(*, membership: Membership, outgoing: Outgoing) -> ChatMessage:
    """The send itself, once the sender's membership is known: 1 TransactWriteItems."""
    inline = fanout_inline()
    try:
        message = messaging_table().message_send(
            membership=membership,
            body=outgoing.body,
            fanout_inline=inline,
            idempotency=outgoing.idempotency,
        )
    except IdempotentReplay as replay:
        return outgoing.replayed(replay)
    except NotAMember as exc:
        raise NotFound("No such conversation.") from exc
    except Blocked as blocked:
        others = [(member.uuid, member.handle) for member in membership.row.members]
        raise blocked_refusal(blocked, sender=outgoing.sender, others=others) from blocked
    after_send(message, sender=outgoing.sender, rows_moved=inline)
    return outgoing.sent(message)
