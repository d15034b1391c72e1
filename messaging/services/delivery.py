"""What every send shares: the request from validation to commit, idempotency, the
fan-out mode, and what happens after the write."""

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from accounts.models import User
from messaging import cache, events, presenters, rules
from messaging.dynamo import IdempotencyRequest, Message
from messaging.dynamo.errors import IdempotentReplay
from messaging.errors import IdempotencyKeyReused
from messaging.events.web import target as events_target
from messaging.types import ChatMessage

IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Outgoing:
    """A validated send: who, what, and the idempotency its retry will be matched on."""

    sender: User
    body: str
    idempotency: IdempotencyRequest | None

    @classmethod
    def build(
        cls, *, sender: User, body: object, target: str, idempotency_key: str | None
    ) -> "Outgoing":
        """Validate the body and key; `target` names where it goes (a group, a set of
        people), so a key reused for another target or body is told apart."""
        clean_body = rules.message_body_clean(body)
        key = rules.idempotency_key_clean(idempotency_key)
        idempotency = None
        if key is not None:
            idempotency = IdempotencyRequest(
                key=key,
                request_hash=hashlib.sha256(f"{target}\n{clean_body}".encode()).hexdigest(),
                expires_at=int(time.time() + IDEMPOTENCY_TTL.total_seconds()),
            )
        return cls(sender=sender, body=clean_body, idempotency=idempotency)

    def replayed(self, replay: IdempotentReplay) -> ChatMessage:
        """The first response again, for a retry with the same key and request."""
        if self.idempotency is None or replay.record.request_hash != self.idempotency.request_hash:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for another message."
            )
        return self.sent(replay.record.message)

    def sent(self, message: Message) -> ChatMessage:
        people = {self.sender.uuid: presenters.person_from_user(self.sender)}
        return presenters.chat_message_from_record(message, people)


def fanout_inline() -> bool:
    return settings.MESSAGING_FANOUT != "stream"


def after_send(message: Message, *, sender: User, rows_moved: bool) -> None:
    """The message's page changed; the members' inboxes too when the request moved the
    rows, and then the members hear of it live (in stream mode the consumer moves the
    rows, invalidates and publishes)."""
    cache.conversation_invalidate(
        group_uuids=[message.group_uuid], user_uuids=message.member_uuids if rows_moved else ()
    )
    if rows_moved:
        events.publish_after_fanout(
            messages=[message],
            target=events_target(),
            senders={sender.uuid: {"handle": sender.handle, "display_name": sender.display_name}},
        )
