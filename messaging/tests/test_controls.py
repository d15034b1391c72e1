"""Block, mute and hide (issue 14), on DynamoDB Local, in both fan-out modes where the
mode matters: each rule enforced in the gateway's writes, not only in the page."""

import threading
import uuid

import pytest
from django.db import connections

from messaging import selectors, services
from messaging.dynamo import Membership
from messaging.dynamo.errors import Blocked
from messaging.errors import Forbidden, Invalid, NotFound
from messaging.services.controls import GROUP_BLOCKED
from messaging.tests.test_migrate import v1_pair

pytestmark = pytest.mark.django_db

FANOUT_MODES = pytest.mark.parametrize("fanout", ["inline", "stream"])


@pytest.fixture
def carol(user_factory):
    return user_factory("carol", display_name="Carol Danvers")


@pytest.fixture
def fanout(request, settings):
    settings.MESSAGING_FANOUT = request.param
    return request.param


def deliver(table, group_uuid: uuid.UUID) -> None:
    """What the stream consumer does for the conversation's newest message (stream mode;
    a no-op replay in inline mode, where the request moved the rows already)."""
    newest = table.message_page(group_uuid=group_uuid, position=None, limit=1).items[-1]
    table.inbox_rows_advance(message=newest)


def bodies(user, group_uuid) -> list[str]:
    return [m.body for m in selectors.message_list(user=user, group_uuid=group_uuid).items]


def table_types(table_admin) -> set[str]:
    return {summary["type"] for summary in table_admin.scan_summaries()}


# --- block -------------------------------------------------------------------------


@FANOUT_MODES
def test_a_block_refuses_direct_messages_both_ways_with_the_same_words(
    messaging_table, fanout, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    deliver(messaging_table, group)

    services.user_block(user=alice, handle="bob")

    with pytest.raises(Forbidden) as by_blocked:
        services.message_create(sender=bob, group_uuid=group, body="why?")
    with pytest.raises(Forbidden) as by_blocker:
        services.message_create(sender=alice, group_uuid=group, body="bye")
    with pytest.raises(Forbidden) as by_handle:
        services.conversation_start(sender=bob, handle="alice", body="again?")
    assert str(by_blocked.value) == str(by_handle.value) == "You can't message @alice."
    assert str(by_blocker.value) == "You can't message @bob."
    # Existing conversations stay readable, to both.
    assert bodies(alice, group) == bodies(bob, group) == ["hi"]


@FANOUT_MODES
def test_a_block_committed_after_the_send_read_its_membership_stops_that_send(
    messaging_table, fanout, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    # Bob's send has read the head (the request is in flight) when Alice's block commits.
    stale = selectors.membership_get(user=bob, group_uuid=group)
    assert not stale.conversation.blocked_by
    services.user_block(user=alice, handle="bob")

    with pytest.raises(Blocked):
        messaging_table.message_send(
            membership=stale, body="slipped through?", fanout_inline=fanout == "inline"
        )

    assert bodies(alice, group) == ["hi"]
    head = messaging_table.membership_get(user_uuid=alice.uuid, group_uuid=group).conversation
    assert head.last_seq == 1 and head.blocked_by == {alice.uuid}


@pytest.mark.django_db(transaction=True)
@FANOUT_MODES
def test_sends_racing_a_block_land_before_it_or_not_at_all(messaging_table, fanout, alice, bob):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    outcomes: list[str] = []
    started = threading.Event()

    def send_until_refused():
        try:
            for n in range(200):
                try:
                    services.message_create(sender=bob, group_uuid=group, body=f"m{n}")
                except Forbidden:
                    outcomes.append("refused")
                    if outcomes.count("refused") == 3:
                        return
                else:
                    outcomes.append("sent")
                started.set()
        finally:
            connections.close_all()

    sender = threading.Thread(target=send_until_refused)
    sender.start()
    assert started.wait(timeout=60)
    services.user_block(user=alice, handle="bob")
    sender.join()

    sent = outcomes.count("sent")
    assert sent >= 1 and outcomes[-3:] == ["refused"] * 3
    # Once refused, never sent again: nothing crossed the block after it committed.
    assert outcomes == ["sent"] * sent + ["refused"] * 3
    head = messaging_table.membership_get(user_uuid=bob.uuid, group_uuid=group).conversation
    landed = bodies(alice, group)
    assert len(landed) == head.last_seq == sent + 1


def test_a_block_stops_a_new_conversation_before_anything_is_written(
    messaging_table, table_admin, alice, bob
):
    services.user_block(user=bob, handle="alice")

    for sender, handle in ((alice, "bob"), (bob, "alice")):
        with pytest.raises(Forbidden) as refused:
            services.conversation_start(sender=sender, handle=handle, body="hello?")
        assert str(refused.value) == f"You can't message @{handle}."
    assert table_types(table_admin) == {"blocks"}
    assert selectors.inbox_list(user=alice).items == []


def test_a_new_group_may_not_hold_two_people_where_one_blocked_the_other(
    messaging_table, table_admin, alice, bob, carol
):
    before = services.group_start(sender=alice, handles=["bob", "carol"], body="plans?")
    services.user_block(user=carol, handle="bob")

    # Alice is not part of the block: she is told no names (who blocked whom is private).
    with pytest.raises(Forbidden) as third_party:
        services.group_start(
            sender=alice, handles=["bob", "carol", _user("dave").handle], body="party"
        )
    assert str(third_party.value) == GROUP_BLOCKED
    # Bob is: he is told whom he can't message, in the same words as in a pair.
    with pytest.raises(Forbidden) as member:
        services.group_start(
            sender=bob, handles=["carol", _user("erin").handle], body="hello both"
        )
    assert str(member.value) == "You can't message @carol."
    assert len(selectors.inbox_list(user=alice).items) == 1

    # The group that existed before the block carries on for everyone, Bob and Carol too,
    # and starting it "again" reopens it.
    services.message_create(sender=bob, group_uuid=before.group_uuid, body="I'm in")
    services.message_create(sender=carol, group_uuid=before.group_uuid, body="me too")
    again = services.group_start(sender=alice, handles=["carol", "bob"], body="great")
    assert again.group_uuid == before.group_uuid
    assert bodies(carol, before.group_uuid) == ["plans?", "I'm in", "me too", "great"]


def _user(handle):
    from accounts.models import User

    return User.objects.create_user(handle, display_name=handle.title(), password="x-y-z-w-v")


def test_unblocking_lets_the_pair_talk_again_unless_the_other_blocked_too(
    messaging_table, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    services.user_block(user=alice, handle="bob")
    services.user_block(user=alice, handle="@BOB")
    services.user_block(user=bob, handle="alice")

    services.user_unblock(user=alice, handle="bob")
    with pytest.raises(Forbidden):
        services.message_create(sender=alice, group_uuid=group, body="still?")

    services.user_unblock(user=bob, handle="alice")
    services.user_unblock(user=bob, handle="alice")
    services.message_create(sender=alice, group_uuid=group, body="hello again")
    services.conversation_start(sender=bob, handle="alice", body="hi again")
    assert bodies(bob, group) == ["hi", "hello again", "hi again"]
    assert selectors.blocks_list(user=alice) == []


def test_blocks_list_names_the_people_blocked_and_only_them(messaging_table, alice, bob, carol):
    services.user_block(user=alice, handle="carol")
    services.user_block(user=alice, handle="bob")
    services.user_block(user=bob, handle="alice")

    assert [person.handle for person in selectors.blocks_list(user=alice)] == ["bob", "carol"]
    assert selectors.user_blocked(user=alice, other=bob)
    assert not selectors.user_blocked(user=carol, other=alice)


def test_blocking_yourself_or_nobody_is_refused(messaging_table, table_admin, alice):
    with pytest.raises(Invalid):
        services.user_block(user=alice, handle="alice")
    with pytest.raises(NotFound):
        services.user_block(user=alice, handle="nobody_here")
    assert table_types(table_admin) == set()


@pytest.mark.django_db(transaction=True)
def test_a_block_on_a_pair_still_in_v1_shape_holds_through_its_upgrade(
    messaging_table, alice, bob
):
    group = v1_pair(
        messaging_table.name, alice, bob, [(alice, "hi"), (bob, "hey")], {alice: 2, bob: 1}
    )
    assert not selectors.membership_get(user=bob, group_uuid=group).conversation.stored

    services.user_block(user=alice, handle="bob")

    # Bob's send converts the pair first (the conversation item appears): the block,
    # made while there was no item, comes with it.
    with pytest.raises(Forbidden):
        services.message_create(sender=bob, group_uuid=group, body="after the block")
    membership = selectors.membership_get(user=bob, group_uuid=group)
    assert membership.conversation.stored and membership.conversation.blocked_by == {alice.uuid}
    assert bodies(bob, group) == ["hi", "hey"]
    services.user_unblock(user=alice, handle="bob")
    services.message_create(sender=bob, group_uuid=group, body="thanks")
    assert bodies(alice, group)[-1] == "thanks"


# --- mute ----------------------------------------------------------------------------


@FANOUT_MODES
def test_a_muted_conversation_counts_its_own_unread_but_not_in_the_badge(
    messaging_table, fanout, settings, alice, bob, carol
):
    muted = services.conversation_start(sender=alice, handle="bob", body="one").group_uuid
    deliver(messaging_table, muted)
    services.conversation_mute(user=bob, group_uuid=muted, muted=True)
    services.message_create(sender=alice, group_uuid=muted, body="two")
    deliver(messaging_table, muted)
    other = services.conversation_start(sender=carol, handle="bob", body="yo").group_uuid
    deliver(messaging_table, other)

    inbox = {c.group_uuid: c for c in selectors.inbox_list(user=bob).items}
    assert (inbox[muted].muted, inbox[muted].unread_count, inbox[muted].last_message) == (
        True,
        2,
        "two",
    )
    assert selectors.inbox_unread_count(user=bob, first_page=selectors.inbox_list(user=bob)) == 1
    # The unread index (what the badge reads when the inbox spans pages) agrees.
    assert selectors.inbox_unread_count(user=bob) == 1
    assert not selectors.inbox_list(user=alice).items[0].muted

    services.conversation_mute(user=bob, group_uuid=muted, muted=False)
    assert selectors.inbox_unread_count(user=bob) == 2
    assert not selectors.conversation_get(user=bob, group_uuid=muted).conversation.muted


def test_only_members_can_mute_or_hide(messaging_table, alice, bob, carol):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    with pytest.raises(NotFound):
        services.conversation_mute(user=carol, group_uuid=group, muted=True)
    with pytest.raises(NotFound):
        services.conversation_hide(user=carol, group_uuid=group)
    with pytest.raises(NotFound):
        services.conversation_hide(user=carol, group_uuid=uuid.uuid4())


# --- hide ----------------------------------------------------------------------------


@FANOUT_MODES
def test_a_hidden_conversation_leaves_my_inbox_until_its_next_message(
    messaging_table, fanout, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="one").group_uuid
    deliver(messaging_table, group)
    services.message_create(sender=alice, group_uuid=group, body="two")
    deliver(messaging_table, group)
    selectors.inbox_list(user=bob)  # cached first page, which the hide must invalidate

    assert services.conversation_hide(user=bob, group_uuid=group)

    assert selectors.inbox_list(user=bob).items == []
    assert selectors.inbox_unread_count(user=bob) == 0
    # Nobody else sees a change; Bob can still open it.
    (alice_row,) = selectors.inbox_list(user=alice).items
    assert alice_row.last_message == "two"
    assert bodies(bob, group) == ["one", "two"]
    # Hiding again is a no-op.
    assert not services.conversation_hide(user=bob, group_uuid=group)

    services.message_create(sender=alice, group_uuid=group, body="three")
    deliver(messaging_table, group)
    (back,) = selectors.inbox_list(user=bob).items
    assert (back.last_message, back.unread_count) == ("three", 1)
    assert selectors.inbox_unread_count(user=bob) == 1


def test_a_hidden_conversation_comes_back_when_i_write_in_it(messaging_table, alice, bob):
    group = services.conversation_start(sender=alice, handle="bob", body="one").group_uuid
    services.conversation_hide(user=alice, group_uuid=group)
    assert selectors.inbox_list(user=alice).items == []

    services.message_create(sender=alice, group_uuid=group, body="me again")
    (back,) = selectors.inbox_list(user=alice).items
    assert (back.last_message, back.unread_count) == ("me again", 0)


def test_hiding_never_hides_a_message_that_arrived_after_the_inbox_was_read(
    messaging_table, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="one").group_uuid
    seen: Membership = selectors.membership_get(user=bob, group_uuid=group)
    services.message_create(sender=alice, group_uuid=group, body="news")

    assert not messaging_table.conversation_hide(membership=seen)

    (row,) = selectors.inbox_list(user=bob).items
    assert (row.last_message, row.unread_count) == ("news", 2)


def test_hiding_is_one_write_of_my_own_row(messaging_table, alice, bob, dynamodb_requests):
    group = services.conversation_start(sender=alice, handle="bob", body="one").group_uuid
    other_row = messaging_table.membership_get(user_uuid=alice.uuid, group_uuid=group).row
    dynamodb_requests.reset()

    services.conversation_hide(user=bob, group_uuid=group)

    assert dynamodb_requests == {"BatchGetItem": 1, "UpdateItem": 1}
    assert messaging_table.membership_get(user_uuid=alice.uuid, group_uuid=group).row == other_row
