"""Demo and benchmark data. Every timestamp is in the past; re-running adds nothing twice
(a conversation whose inbox rows exist is left alone)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from accounts.models import User
from messaging.dynamo import Member, Message
from messaging.dynamo.bulk import numbered
from messaging.dynamo.keys import group_uuid_for_members
from messaging.errors import NotFound
from messaging.store import bulk_loader

DEMO_USERS = {
    "andrewbrown": "Andrew Brown",
    "bayko": "Andrew Bayko",
    "londo": "Londo Mollari",
}

LINES = [
    "Have you seen the new single-table design notes?",
    "Yes! The inbox index is sparse, so it only holds inbox rows.",
    "Nice. And the sort keys are UTC with microseconds, right?",
    "Right, string order is time order in every year.",
    "Let's pair on the stream consumer tomorrow.",
    "Sounds good. Coffee first?",
    "Always coffee first.",
    "Did the deploy go out?",
    "It did, the Lambda reports partial batch failures now.",
    "Great work on that.",
    "Can you review my pull request?",
    "On it.",
]


@dataclass(frozen=True)
class SeedResult:
    users_created: int
    conversations_created: int
    conversations_skipped: int
    messages_written: int
    write_requests: int


def _member(user: User) -> Member:
    return Member(uuid=user.uuid, handle=user.handle, display_name=user.display_name)


def users_ensure(*, users: dict[str, str], password: str | None) -> tuple[list, int]:
    """The users with these handles, created if missing; `password` is set on all of them
    when given (demo logins), otherwise new ones get an unusable password."""
    found, created = [], 0
    with transaction.atomic():
        for handle, display_name in users.items():
            user = User.objects.filter(handle__iexact=handle).first()
            if user is None:
                user = User.objects.create_user(handle, display_name=display_name)
                created += 1
            if password is not None:
                user.set_password(password)
                user.save(update_fields=["password"])
            elif not user.has_usable_password():
                user.set_unusable_password()
            found.append(user)
    return found, created


def conversation_script(
    *, members: list, count: int, start: datetime, end: datetime
) -> list[Message]:
    """`count` messages taking turns between `members` (the first speaks most), spread
    evenly over [start, end], with uuids derived from the group and position so reruns
    match."""
    member_uuids = frozenset(member.uuid for member in members)
    group_uuid = group_uuid_for_members(member_uuids)
    step = (end - start) / max(count - 1, 1)
    messages = []
    for index in range(count):
        # Two of three lines from the first member, as in a chat where one leads.
        sender = members[0] if index % 3 != 1 else members[1 + (index // 3) % (len(members) - 1)]
        messages.append(
            Message(
                uuid=uuid.uuid5(group_uuid, str(index)),
                group_uuid=group_uuid,
                sender_uuid=sender.uuid,
                member_uuids=member_uuids,
                body=LINES[index % len(LINES)],
                created_at=start + step * index,
            )
        )
    return numbered(messages)


def unread_backlog(messages: list[Message], member_uuid: uuid.UUID) -> int:
    """How many messages came after the member's own last one: they have not read those."""
    for count, message in enumerate(reversed(messages)):
        if message.sender_uuid == member_uuid:
            return count
    return len(messages)


def demo_data_seed(*, password: str | None = None, now: datetime | None = None) -> SeedResult:
    """andrewbrown, bayko and londo, with a 120-message conversation between the first two
    that spans more than a year (so it crosses a new year), two shorter pairs, and a
    group of all three."""
    (andrew, bayko, londo), users_created = users_ensure(users=DEMO_USERS, password=password)
    # Anchored to the start of the day, so a rerun the same day produces identical items.
    today = (now or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    plans = [
        ([andrew, bayko], 120, today - timedelta(days=400), today - timedelta(minutes=5)),
        ([londo, andrew], 8, today - timedelta(days=3), today - timedelta(hours=2)),
        ([bayko, londo], 5, today - timedelta(days=380), today - timedelta(days=370)),
        ([londo, andrew, bayko], 9, today - timedelta(days=2), today - timedelta(hours=5)),
    ]
    return _load(plans, users_created=users_created)


def conversation_bulk_seed(
    *,
    handles: tuple[str, str],
    count: int,
    password: str | None = None,
    batch: bool = True,
    create_users: bool = False,
    now: datetime | None = None,
) -> SeedResult:
    """One conversation of `count` messages between two users, one second apart and
    ending a minute ago: benchmark data. The users must exist unless `create_users`
    (a mistyped handle would otherwise become a new user); NotFound names the missing."""
    if not create_users:
        missing = [h for h in handles if not User.objects.filter(handle__iexact=h).exists()]
        if missing:
            raise NotFound("no such user: " + ", ".join(f"@{handle}" for handle in missing))
    (first, second), users_created = users_ensure(
        users={handle: handle for handle in handles}, password=password
    )
    end = (now or datetime.now(UTC)) - timedelta(minutes=1)
    start = end - timedelta(seconds=max(count - 1, 0))
    return _load([([first, second], count, start, end)], users_created=users_created, batch=batch)


def _load(plans: list, *, users_created: int, batch: bool = True) -> SeedResult:
    loader = bulk_loader()
    created = skipped = written = requests = 0
    for users, count, start, end in plans:
        members = tuple(_member(user) for user in users)
        messages = conversation_script(members=list(members), count=count, start=start, end=end)
        cost = loader.conversation_load(
            members=members,
            messages=messages,
            unread={member.uuid: unread_backlog(messages, member.uuid) for member in members},
            batch=batch,
        )
        if cost is None:
            skipped += 1
            continue
        created += 1
        written += len(messages)
        requests += cost
    return SeedResult(
        users_created=users_created,
        conversations_created=created,
        conversations_skipped=skipped,
        messages_written=written,
        write_requests=requests,
    )
