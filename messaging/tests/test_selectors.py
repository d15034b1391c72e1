import uuid
from datetime import UTC, datetime, timedelta

import pytest

from messaging import presenters, selectors, services
from messaging.cursors import cursor_encode
from messaging.dynamo import Member
from messaging.dynamo.bulk import BulkLoader
from messaging.errors import Invalid, InvalidCursor, NotFound
from messaging.seeding import conversation_script, unread_backlog

pytestmark = pytest.mark.django_db


def _load(table, first, second, count, start, end):
    members = tuple(Member(user.uuid, user.handle, user.display_name) for user in (first, second))
    messages = conversation_script(members=list(members), count=count, start=start, end=end)
    BulkLoader(table.name).conversation_load(
        members=members,
        messages=messages,
        unread={member.uuid: unread_backlog(messages, member.uuid) for member in members},
    )
    return messages


def test_messages_from_last_december_still_list_in_january(messaging_table, alice, bob):
    december = datetime(2025, 12, 30, 22, 0, tzinfo=UTC)
    january = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    _load(messaging_table, alice, bob, 6, december, january)

    (conversation,) = selectors.inbox_list(user=alice).items
    messages = selectors.message_list(user=alice, group_uuid=conversation.group_uuid).items

    assert [m.created_at.year for m in messages] == [2025, 2025, 2025, 2026, 2026, 2026]
    assert messages == sorted(messages, key=lambda m: m.created_at)


def test_conversations_from_years_ago_show_in_the_inbox(messaging_table, alice, bob, user_factory):
    carol = user_factory("carol")
    now = datetime.now(UTC)
    _load(messaging_table, alice, bob, 2, now - timedelta(days=900), now - timedelta(days=899))
    _load(messaging_table, alice, carol, 2, now - timedelta(days=2), now - timedelta(days=1))

    handles = [c.other.handle for c in selectors.inbox_list(user=alice).items]
    assert handles == ["carol", "bob"]


def test_walking_message_cursors_returns_every_message_once_in_order(messaging_table, alice, bob):
    now = datetime.now(UTC)
    written = _load(messaging_table, alice, bob, 53, now - timedelta(days=1), now)
    group_uuid = written[0].group_uuid

    seen, cursor, pages = [], None, 0
    while True:
        page = selectors.message_list(user=bob, group_uuid=group_uuid, cursor=cursor, page_size=10)
        seen = page.items + seen
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert pages == 6
    assert [m.uuid for m in seen] == [m.uuid for m in written]


def test_walking_inbox_cursors_returns_every_conversation_once(
    messaging_table, alice, user_factory
):
    now = datetime.now(UTC)
    others = [user_factory(f"friend{i}") for i in range(7)]
    for index, other in enumerate(others):
        moment = now - timedelta(hours=index)
        _load(messaging_table, other, alice, 1, moment, moment)

    seen, cursor = [], None
    while True:
        page = selectors.inbox_list(user=alice, cursor=cursor, page_size=3)
        seen.extend(c.other.handle for c in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [other.handle for other in others]


def test_last_page_has_no_next_cursor(messaging_table, alice, bob):
    services.conversation_start(sender=alice, handle="bob", body="only one")
    page = selectors.inbox_list(user=alice, page_size=1)
    assert len(page.items) == 1
    assert page.next_cursor is None


def test_tampered_cursor_is_rejected(messaging_table, alice, bob):
    now = datetime.now(UTC)
    _load(messaging_table, alice, bob, 5, now - timedelta(hours=1), now)
    group_uuid = selectors.inbox_list(user=alice).items[0].group_uuid
    cursor = selectors.message_list(user=alice, group_uuid=group_uuid, page_size=2).next_cursor

    for bad in (cursor[:-2] + "xx", "garbage", cursor.replace(":", ";", 1)):
        with pytest.raises(InvalidCursor):
            selectors.message_list(user=alice, group_uuid=group_uuid, cursor=bad)


def test_signed_cursor_with_a_foreign_key_shape_is_rejected(messaging_table, alice):
    forged = cursor_encode(kind="messages", position={"sk": "GRP#not-a-message-key"})
    inbox_cursor_in_messages = cursor_encode(
        kind="inbox", position={"last_message_sk": "x", "group_uuid": "y"}
    )
    with pytest.raises(InvalidCursor):
        selectors.inbox_list(user=alice, cursor=forged)
    with pytest.raises(InvalidCursor):
        selectors.inbox_list(user=alice, cursor=inbox_cursor_in_messages)


def test_a_cursor_from_another_user_only_pages_the_readers_own_inbox(
    messaging_table, alice, bob, user_factory
):
    carol = user_factory("carol")
    dave = user_factory("dave")
    now = datetime.now(UTC)
    _load(messaging_table, alice, bob, 1, now - timedelta(hours=2), now - timedelta(hours=2))
    _load(messaging_table, alice, carol, 1, now - timedelta(hours=1), now - timedelta(hours=1))
    alice_cursor = selectors.inbox_list(user=alice, page_size=1).next_cursor

    page = selectors.inbox_list(user=dave, cursor=alice_cursor)

    assert page.items == []


def test_page_size_out_of_range_is_invalid(messaging_table, alice):
    for size in (0, 101):
        with pytest.raises(Invalid):
            selectors.inbox_list(user=alice, page_size=size)


def test_inbox_page_costs_one_query_and_one_sql_query(
    messaging_table, alice, bob, user_factory, dynamodb_requests, django_assert_num_queries
):
    for other in (bob, user_factory("carol"), user_factory("dave")):
        services.conversation_start(sender=other, handle="alice", body="hi")
    dynamodb_requests.reset()

    with django_assert_num_queries(1):
        page = selectors.inbox_list(user=alice)

    assert len(page.items) == 3
    assert dynamodb_requests == {"Query": 1}


def test_conversation_page_costs_one_get_one_query_and_one_sql_query(
    messaging_table, alice, bob, dynamodb_requests, django_assert_num_queries
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    dynamodb_requests.reset()

    with django_assert_num_queries(1):
        detail = selectors.conversation_detail(user=bob, group_uuid=sent.group_uuid)

    assert detail.conversation.other.handle == "alice"
    assert dynamodb_requests == {"BatchGetItem": 1, "Query": 1}


def test_display_name_change_shows_in_the_other_members_inbox(messaging_table, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi")
    alice.display_name = "Alice Pleasance"
    alice.save()

    assert selectors.inbox_list(user=bob).items[0].other.display_name == "Alice Pleasance"
    messages = selectors.message_list(user=bob, group_uuid=sent.group_uuid).items
    assert messages[0].sender.display_name == "Alice Pleasance"


def test_unknown_group_is_not_found(messaging_table, alice):
    with pytest.raises(NotFound):
        selectors.conversation_detail(user=alice, group_uuid=uuid.uuid4())


def test_handle_lookup_ignores_case_and_leading_at(alice):
    assert selectors.user_get_by_handle(handle="@ALICE") == alice
    with pytest.raises(NotFound):
        selectors.user_get_by_handle(handle="@")


def test_seen_by_names_the_members_who_read_up_to_my_last_message(
    messaging_table, alice, bob, user_factory
):
    carol = user_factory("carol", display_name="Carol Danvers")
    first = services.group_start(sender=alice, handles=["bob", "carol"], body="one")
    services.message_create(sender=alice, group_uuid=first.group_uuid, body="two")

    assert selectors.conversation_detail(user=alice, group_uuid=first.group_uuid).seen_by == ()
    services.conversation_mark_read(user=bob, group_uuid=first.group_uuid)
    detail = selectors.conversation_detail(user=alice, group_uuid=first.group_uuid)

    assert [p.handle for p in detail.seen_by] == ["bob"]
    states = {s.person.handle: s.last_read_at for s in detail.conversation.member_states}
    assert states["bob"] >= detail.messages.items[-1].created_at
    assert states["carol"] is None
    # A reply from carol puts the newest message out of "mine": nothing to show.
    services.message_create(sender=carol, group_uuid=first.group_uuid, body="three")
    assert selectors.conversation_detail(user=alice, group_uuid=first.group_uuid).seen_by == ()


def test_read_positions_stay_hidden_for_members_who_turned_read_receipts_off(
    messaging_table, alice, bob
):
    bob.send_read_receipts = False
    bob.save()
    first = services.conversation_start(sender=alice, handle="bob", body="one")
    services.conversation_mark_read(user=bob, group_uuid=first.group_uuid)
    detail = selectors.conversation_detail(user=alice, group_uuid=first.group_uuid)

    assert detail.seen_by == ()
    assert [s.last_read_at for s in detail.conversation.member_states] == [None]


def test_conversation_detail_reuses_names_the_caller_resolved(
    messaging_table, alice, bob, django_assert_num_queries
):
    first = services.conversation_start(sender=alice, handle="bob", body="one")
    people = {bob.uuid: presenters.person_from_user(bob)}

    with django_assert_num_queries(0):
        detail = selectors.conversation_detail(
            user=alice, group_uuid=first.group_uuid, people=people
        )

    assert detail.conversation.other.display_name == "Bob Builder"
    assert detail.messages.items[0].sender.handle == "alice"
