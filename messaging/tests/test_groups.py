"""Conversations of 2 to 8 people (DESIGN §4, v2) on DynamoDB Local: one conversation per
set of people, exact rows for every member in both fan-out modes, and a send that costs
the same at any unread backlog."""

import io
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from accounts.models import User
from messaging import selectors, services
from messaging.dynamo import Member, keys
from messaging.dynamo.bulk import BulkLoader, numbered
from messaging.dynamo.records import Message
from messaging.errors import Invalid, NotFound
from messaging.stream.core import records_apply
from messaging.tests.test_fanout import stream_record
from messaging.tests.test_stream import _unread_after_own_last, drain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(user_factory):
    return [user_factory(f"member{n}", display_name=f"Member {n}") for n in range(8)]


def test_group_uuid_is_the_pair_uuid_for_two_and_order_free_for_more(people):
    a, b, c = (person.uuid for person in people[:3])
    low, high = sorted([str(a), str(b)])
    assert keys.group_uuid_for_members([b, a]) == uuid.uuid5(keys.GROUP_NAMESPACE, f"{low}:{high}")
    assert keys.group_uuid_for_members([a, b, c]) == keys.group_uuid_for_members([c, a, b])


def test_group_start_gives_every_member_a_row_named_by_the_others(messaging_table, people):
    alice, bob, carol = people[:3]

    sent = services.group_start(sender=alice, handles=["member1", "@Member2"], body="hi all")

    for member in (alice, bob, carol):
        (row,) = selectors.inbox_list(user=member).items
        assert row.group_uuid == sent.group_uuid
        assert row.kind == "group"
        assert {p.uuid for p in row.members} == {alice.uuid, bob.uuid, carol.uuid} - {member.uuid}
        assert row.handle is None
    (bob_row,) = selectors.inbox_list(user=bob).items
    assert bob_row.title == "Member 0 and Member 2"
    assert bob_row.unread_count == 1
    assert selectors.inbox_list(user=alice).items[0].unread_count == 0


def test_starting_again_with_the_same_people_in_any_order_reopens_the_group(
    messaging_table, people
):
    alice, bob, carol = people[:3]
    first = services.group_start(sender=alice, handles=["member1", "member2"], body="one")
    second = services.group_start(sender=carol, handles=["member1", "member0"], body="two")

    assert second.group_uuid == first.group_uuid
    bodies = [m.body for m in selectors.message_list(user=bob, group_uuid=first.group_uuid).items]
    assert bodies == ["one", "two"]
    (bob_row,) = selectors.inbox_list(user=bob).items
    assert bob_row.unread_count == 2


@pytest.mark.parametrize(
    ("handles", "field"),
    [
        ([], "handles"),
        (["member0"], "handles"),
        ([f"member{n}" for n in range(1, 8)] + ["extra"], "handles"),
    ],
)
def test_no_one_own_handle_and_more_than_seven_others_are_invalid(
    messaging_table, people, handles, field
):
    with pytest.raises(Invalid) as error:
        services.group_start(sender=people[0], handles=handles, body="hi")
    assert error.value.field == field


def test_a_person_named_twice_in_any_case_is_one_member(messaging_table, people):
    alice, bob = people[:2]

    sent = services.group_start(sender=alice, handles=["member1", "@MEMBER1"], body="hi")

    assert (
        sent.group_uuid
        == services.conversation_start(sender=alice, handle="member1", body="again").group_uuid
    )
    (row,) = selectors.inbox_list(user=bob).items
    assert row.kind == "direct"


def test_an_unknown_handle_is_not_found_and_named(messaging_table, people):
    with pytest.raises(NotFound, match="@ghost"):
        services.group_start(sender=people[0], handles=["member1", "ghost"], body="hi")


def test_a_group_of_eight_started_concurrently_by_every_member_is_one_conversation(
    messaging_table, people
):
    barrier = threading.Barrier(len(people))
    sent, errors = [], []

    def start(person):
        others = [p.handle for p in people if p != person]
        barrier.wait()
        try:
            sent.append(services.group_start(sender=person, handles=others, body=person.handle))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len({message.group_uuid for message in sent}) == 1
    group = sent[0].group_uuid
    messages = selectors.message_list(user=people[0], group_uuid=group, page_size=50).items
    assert sorted(m.body for m in messages) == sorted(p.handle for p in people)
    for person in people:
        (row,) = selectors.inbox_list(user=person).items
        assert row.group_uuid == group
        assert row.unread_count == _unread_after_own_last(messages, person)


@pytest.mark.parametrize("fanout", ["inline", "stream"])
def test_twenty_threads_sending_into_a_group_leave_exact_rows_for_every_member(
    messaging_table, settings, people, fanout, tmp_path
):
    settings.MESSAGING_FANOUT = fanout
    members = people[:5]
    group = services.group_start(
        sender=members[0], handles=[p.handle for p in members[1:]], body="start"
    ).group_uuid
    barrier = threading.Barrier(20)
    errors = []

    def send(n):
        barrier.wait()
        try:
            services.message_create(
                sender=members[n % len(members)], group_uuid=group, body=f"burst {n}"
            )
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain(tmp_path / "checkpoint.json")

    assert errors == []
    messages = selectors.message_list(user=members[0], group_uuid=group, page_size=50).items
    assert len(messages) == 21
    for member in members:
        (row,) = selectors.inbox_list(user=member).items
        assert row.last_message == messages[-1].body
        assert row.unread_count == _unread_after_own_last(messages, member)


def test_replayed_reordered_and_duplicated_group_records_change_nothing(
    messaging_table, settings, people, table_admin
):
    settings.MESSAGING_FANOUT = "stream"
    members = people[:4]
    group = services.group_start(
        sender=members[0], handles=[p.handle for p in members[1:]], body="start"
    ).group_uuid
    for n in range(6):
        services.message_create(sender=members[n % 4], group_uuid=group, body=f"m{n}")
    message_items = [
        item
        for item in table_admin.scan()
        if item["pk"]["S"] == f"MSG#{group}" and item["seq"]["N"] != "1"
    ]
    records = [stream_record(item) for item in message_items]

    first = records_apply(records=[*reversed(records), *records], table=messaging_table)
    settled = [selectors.inbox_list(user=member).items for member in members]
    again = records_apply(
        records=[*records, *records[::2], *reversed(records)], table=messaging_table
    )

    assert first.failed == again.failed == []
    assert again.updated == 0
    assert [selectors.inbox_list(user=member).items for member in members] == settled
    messages = selectors.message_list(user=members[0], group_uuid=group).items
    for member, (row,) in zip(members, settled, strict=True):
        assert row.last_message == "m5"
        assert row.unread_count == _unread_after_own_last(messages, member)


def test_a_conversation_with_ten_thousand_unread_still_takes_sends_and_shows_99_plus(
    messaging_table, people, client
):
    alice, bob = people[:2]
    members = tuple(Member(p.uuid, p.handle, p.display_name) for p in (alice, bob))
    group = keys.group_uuid_for_members([alice.uuid, bob.uuid])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(milliseconds=10)
    backlog = numbered(
        [
            Message(
                uuid=uuid.uuid4(),
                group_uuid=group,
                sender_uuid=alice.uuid,
                member_uuids=frozenset({alice.uuid, bob.uuid}),
                body=f"unread {n}",
                created_at=start + step * n,
            )
            for n in range(10_000)
        ]
    )
    BulkLoader(messaging_table.name).conversation_load(
        members=members, messages=backlog, unread={bob.uuid: 10_000}, workers=8
    )

    services.message_create(sender=alice, group_uuid=group, body="and one more")

    (row,) = selectors.inbox_list(user=bob).items
    assert row.unread_count == 10_001
    assert selectors.inbox_unread_count(user=bob) == 1
    client.force_login(bob)
    page = client.get("/messages").content.decode()
    assert ">99+<" in page


def test_demo_seed_includes_a_group_of_three(messaging_table):
    call_command("ddb_seed", stdout=io.StringIO())

    londo = User.objects.get(handle="londo")
    kinds = sorted(c.kind for c in selectors.inbox_list(user=londo).items)
    assert kinds == ["direct", "direct", "group"]
