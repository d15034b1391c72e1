"""The bench's data: users with API tokens, conversations of chosen lengths (through the
project's own seeding, BatchWriteItem), and inboxes of chosen widths.

A wide inbox is seeded many conversations per BatchWriteItem with the bulk loader's
`inbox_load`; `conversation_load` would cost a read and a transaction per conversation.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from messaging import seeding
from messaging.dynamo import Member, Message
from messaging.dynamo.bulk import numbered
from messaging.dynamo.keys import group_uuid_for_members
from messaging.store import bulk_loader

User = get_user_model()


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
    return one, other, group_uuid_for_members([one.user.uuid, other.user.uuid])


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
    firsts = []
    for index, peer in enumerate(peers):
        message = Message(
            uuid=uuid.uuid4(),
            group_uuid=group_uuid_for_members([owner.user.uuid, peer.uuid]),
            sender_uuid=peer.uuid,
            member_uuids=frozenset({owner.user.uuid, peer.uuid}),
            body=f"hello from {peer.handle}",
            created_at=newest - timedelta(minutes=index),
            seq=1,
        )
        firsts.append((_member(peer), message))
    return bulk_loader().inbox_load(owner=owner_member, firsts=firsts, workers=workers)


def _member(user) -> Member:
    return Member(uuid=user.uuid, handle=user.handle, display_name=user.display_name)


def group_seed(*, people: list[Person], messages: int = 3) -> uuid.UUID:
    """A conversation of all `people` (2 to 8), `messages` long, everyone read up to the
    end but the first person's last message, with the bulk loader."""
    members = tuple(_member(person.user) for person in people)
    newest = datetime.now(UTC) - timedelta(minutes=1)
    script = seeding.conversation_script(
        members=list(members),
        count=messages,
        start=newest - timedelta(seconds=messages),
        end=newest,
    )
    bulk_loader().conversation_load(
        members=members,
        messages=script,
        unread={member.uuid: seeding.unread_backlog(script, member.uuid) for member in members},
    )
    return script[-1].group_uuid


def backlog_seed(*, sender: Person, recipient: Person, unread: int) -> uuid.UUID:
    """A conversation in which `recipient` has `unread` unread messages from `sender`
    (after one message of their own), loaded with the bulk loader. Raises what the
    gateway raises when the recipient's row cannot hold that backlog."""
    group_uuid = group_uuid_for_members([sender.user.uuid, recipient.user.uuid])
    newest = datetime.now(UTC) - timedelta(minutes=1)
    authors = [recipient.user] + [sender.user] * unread
    members = frozenset({sender.user.uuid, recipient.user.uuid})
    messages = numbered(
        [
            Message(
                uuid=uuid.uuid5(group_uuid, str(index)),
                group_uuid=group_uuid,
                sender_uuid=author.uuid,
                member_uuids=members,
                body=f"backlog {index}",
                created_at=newest - timedelta(milliseconds=len(authors) - index),
            )
            for index, author in enumerate(authors)
        ]
    )
    bulk_loader().conversation_load(
        members=(_member(sender.user), _member(recipient.user)),
        messages=messages,
        unread={recipient.user.uuid: unread},
    )
    return group_uuid
