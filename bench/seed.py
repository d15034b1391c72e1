"""The bench's data: users with API tokens, conversations of chosen lengths (through the
project's own seeding, BatchWriteItem), and inboxes of chosen widths.

A wide inbox is seeded many conversations per BatchWriteItem with the gateway's item
builders; `conversation_load` would cost a read and a transaction per conversation.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from messaging import seeding
from messaging.dynamo import Member, Message
from messaging.dynamo.items import inbox_item, message_item
from messaging.dynamo.keys import group_uuid_for_pair
from messaging.store import messaging_table

User = get_user_model()

BATCH = 25


@dataclass(frozen=True)
class Person:
    user: object
    token: str

    @property
    def handle(self) -> str:
        return self.user.handle


def person(handle: str) -> Person:
    """The user with this handle (created if missing, no usable password) and a token."""
    user = User.objects.filter(handle=handle).first()
    if user is None:
        user = User.objects.create_user(handle, display_name=handle.replace("_", " ").title())
    token, _ = Token.objects.get_or_create(user=user)
    return Person(user=user, token=token.key)


def conversation_seed(
    *, first: str, second: str, messages: int
) -> tuple[Person, Person, uuid.UUID]:
    """A conversation of `messages` messages between two users, via `ddb_seed`'s code."""
    seeding.conversation_bulk_seed(handles=(first, second), count=messages, create_users=True)
    one, other = person(first), person(second)
    return one, other, group_uuid_for_pair(one.user.uuid, other.user.uuid)


def peers_ensure(*, count: int, prefix: str = "bench_peer") -> list:
    """`count` users to be the other side of inbox conversations: one bulk INSERT."""
    handles = [f"{prefix}_{index:05d}" for index in range(count)]
    existing = set(User.objects.filter(handle__in=handles).values_list("handle", flat=True))
    User.objects.bulk_create(
        [
            User(handle=handle, display_name=handle.replace("_", " ").title(), password="!")
            for handle in handles
            if handle not in existing
        ],
        batch_size=1000,
    )
    return list(User.objects.filter(handle__in=handles).order_by("handle"))


def inbox_seed(*, owner: Person, peers: list, workers: int = 4) -> int:
    """One conversation (one message from the peer, both inbox rows) between `owner`
    and each peer, minutes apart, the newest a minute ago. Returns the items written."""
    owner_member = _member(owner.user)
    newest = datetime.now(UTC) - timedelta(minutes=1)
    items = []
    for index, peer in enumerate(peers):
        peer_member = _member(peer)
        message = Message(
            uuid=uuid.uuid4(),
            group_uuid=group_uuid_for_pair(owner.user.uuid, peer.uuid),
            sender_uuid=peer.uuid,
            recipient_uuid=owner.user.uuid,
            body=f"hello from {peer.handle}",
            created_at=newest - timedelta(minutes=index),
        )
        items.append(message_item(message))
        items.append(
            inbox_item(owner=owner_member, other=peer_member, message=message, unread=True)
        )
        items.append(
            inbox_item(owner=peer_member, other=owner_member, message=message, unread=False)
        )
    table = messaging_table()
    chunks = [items[start : start + BATCH] for start in range(0, len(items), BATCH)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(table.batch_put, chunks))
    return len(items)


def _member(user) -> Member:
    return Member(uuid=user.uuid, handle=user.handle, display_name=user.display_name)
