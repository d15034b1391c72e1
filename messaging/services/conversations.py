"""Starting (or reopening) a conversation with one person or a small group."""

from collections.abc import Sequence

from accounts.models import User
from messaging import rules, selectors
from messaging.dynamo import Member
from messaging.dynamo.errors import Blocked, ConversationExists, IdempotentReplay
from messaging.dynamo.keys import group_uuid_for_members
from messaging.errors import Invalid
from messaging.services.controls import blocked_refusal
from messaging.services.delivery import Outgoing, after_send
from messaging.services.messages import message_send_into
from messaging.store import messaging_table
from messaging.types import ChatMessage


def conversation_start(
    *, sender: User, handle: str, body: object, idempotency_key: str | None = None
) -> ChatMessage:
    """Message someone by @handle, in the pair's one conversation (1 SQL query)."""
    # Bad input is refused before anything is looked up.
    rules.message_body_clean(body)
    rules.idempotency_key_clean(idempotency_key)
    recipient = selectors.user_get_by_handle(handle=handle)
    return conversation_open(
        sender=sender, recipients=[recipient], body=body, idempotency_key=idempotency_key
    )


def group_start(
    *, sender: User, handles: object, body: object, idempotency_key: str | None = None
) -> ChatMessage:
    """Message 1 to 7 people by @handle, in that set of people's one conversation."""
    rules.message_body_clean(body)
    rules.idempotency_key_clean(idempotency_key)
    recipients = selectors.users_get_by_handles(
        handles=rules.handles_clean(handles, own_handle=sender.handle)
    )
    return conversation_open(
        sender=sender, recipients=recipients, body=body, idempotency_key=idempotency_key
    )


def conversation_open(
    *,
    sender: User,
    recipients: Sequence[User],
    body: object,
    idempotency_key: str | None = None,
) -> ChatMessage:
    """The conversation of the sender and `recipients` (already looked up), with `body`.

    New set of people: 1 TransactWriteItems (the conversation, every member's row, the
    first message, and a check that no member blocked another: Forbidden if one did).
    Existing: that transaction is cancelled and returns the sender's row and the
    conversation, then 1 more transaction sends the message (Forbidden in a pair where
    either blocked the other); no extra read.
    """
    if any(recipient.pk == sender.pk for recipient in recipients):
        raise Invalid("handle", rules.SELF_MESSAGE)
    if len(recipients) > rules.MAX_OTHERS:
        raise Invalid("handles", rules.TOO_MANY_MEMBERS)
    members = tuple(_member(user) for user in (sender, *recipients))
    target = "people:" + ",".join(sorted(str(member.uuid) for member in members))
    outgoing = Outgoing.build(
        sender=sender, body=body, target=target, idempotency_key=idempotency_key
    )
    table = messaging_table()
    try:
        message = table.conversation_create(
            members=members,
            sender_uuid=sender.uuid,
            body=outgoing.body,
            idempotency=outgoing.idempotency,
        )
    except IdempotentReplay as replay:
        return outgoing.replayed(replay)
    except Blocked as blocked:
        others = [(user.uuid, user.handle) for user in recipients]
        raise blocked_refusal(blocked, sender=sender, others=others) from blocked
    except ConversationExists as exists:
        membership = exists.membership or selectors.membership_get(
            user=sender, group_uuid=group_uuid_for_members(member.uuid for member in members)
        )
        return message_send_into(membership=membership, outgoing=outgoing)
    # Every member's row was written by the request, in either fan-out mode.
    after_send(message, sender=sender, rows_moved=True)
    return outgoing.sent(message)


def _member(user: User) -> Member:
    return Member(uuid=user.uuid, handle=user.handle, display_name=user.display_name)
