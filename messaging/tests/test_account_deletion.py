"""Deleting an account (DESIGN §3, issue 14 item 7): the person's inbox rows and
idempotency records leave the table; their messages stay in the others' conversations,
from "Deleted user"; every page and API answer of the others keeps working."""

import json
import re

import pytest
from botocore.exceptions import EndpointConnectionError
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import User
from accounts.services import user_delete
from messaging import services
from messaging.dynamo import keys
from messaging.dynamo.client import get_client
from messaging.errors import StoreUnavailable

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def carol(user_factory):
    return user_factory("carol", display_name="Carol Ann")


def owned_items(table_admin, user) -> list[dict]:
    """Every item in the table under one of the user's own partitions."""
    own = {keys.inbox_pk(user.uuid), keys.idempotency_pk(user.uuid)}
    return [item for item in table_admin.scan() if item["pk"]["S"] in own]


def signed_in(client, user):
    client.force_login(user)
    return client


def test_deletion_erases_the_person_s_rows_and_idempotency_records(
    messaging_table, table_admin, alice, bob, carol
):
    pair = services.conversation_start(
        sender=alice, handle="bob", body="hi", idempotency_key="first"
    ).group_uuid
    services.group_start(sender=carol, handles=["alice", "bob"], body="all of us")
    for number in range(30):
        services.message_create(
            sender=alice, group_uuid=pair, body=f"note {number}", idempotency_key=f"k{number}"
        )
    assert len(owned_items(table_admin, alice)) == 2 + 31

    user_delete(user=alice)

    assert owned_items(table_admin, alice) == []
    assert not User.objects.filter(handle="alice").exists()
    # Her name is gone from the copies on the others' rows and the conversation items.
    named = [
        item
        for item in table_admin.scan()
        if re.search(r'"(alice|Alice Liddell)"', json.dumps(item))
    ]
    assert named == []
    # The others' rows and every message stay.
    assert len(owned_items(table_admin, bob)) == 2
    bodies = [
        item["body"]["S"] for item in table_admin.scan() if item["pk"]["S"].startswith("MSG#")
    ]
    assert "note 29" in bodies and "all of us" in bodies


def test_a_person_in_many_conversations_is_marked_departed_on_each(
    messaging_table, table_admin, alice, user_factory
):
    friends = [user_factory(f"friend{number}") for number in range(30)]
    groups = [
        services.conversation_start(sender=friend, handle="alice", body="hi").group_uuid
        for friend in friends
    ]

    user_delete(user=alice)

    assert owned_items(table_admin, alice) == []
    for friend, group in zip(friends, groups, strict=True):
        membership = messaging_table.membership_get(user_uuid=friend.uuid, group_uuid=group)
        assert membership.conversation.departed == {alice.uuid}


def test_a_v1_pair_not_yet_migrated_loses_the_person_s_row_and_still_opens(
    messaging_table, table_admin, client, alice, bob
):
    from messaging.tests.test_migrate import v1_pair

    group = v1_pair(messaging_table.name, alice, bob, [(alice, "from v1")], {alice: 1, bob: 0})

    user_delete(user=alice)

    assert owned_items(table_admin, alice) == []
    page = signed_in(client, bob).get(f"/messages/{group}")
    assert page.status_code == 200
    assert "from v1" in page.content.decode() and "Deleted user" in page.content.decode()


def test_other_member_s_inbox_and_conversation_show_deleted_user(
    messaging_table, client, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="from alice").group_uuid
    services.message_create(sender=bob, group_uuid=group, body="from bob")
    # Alice read Bob's message: her read position stays on the conversation item.
    services.conversation_mark_read(user=alice, group_uuid=group)
    user_delete(user=alice)
    signed_in(client, bob)

    inbox = client.get("/messages")
    page = client.get(f"/messages/{group}")

    assert inbox.status_code == page.status_code == 200
    for response in (inbox, page):
        html = response.content.decode()
        assert "Deleted user" in html
        assert "Alice Liddell" not in html and "@alice" not in html
        assert "/people/alice" not in html and "/people/deleted" not in html
    assert "from alice" in page.content.decode()


def test_api_group_and_messages_show_deleted_user(messaging_table, api_client, alice, bob):
    group = services.conversation_start(sender=alice, handle="bob", body="from alice").group_uuid
    user_delete(user=alice)
    as_bob = api_client(bob)

    listed = as_bob.get("/api/message_groups").json()["results"]
    detail = as_bob.get(f"/api/message_groups/{group}").json()
    messages = as_bob.get(f"/api/messages/{group}").json()["results"]

    for resource in (listed[0], detail):
        assert resource["display_name"] == "Deleted user"
        assert resource["handle"] is None
        assert [member["display_name"] for member in resource["members"]] == ["Deleted user"]
        assert resource["members"][0]["uuid"] == str(alice.uuid)
    assert messages[0]["display_name"] == "Deleted user"
    assert messages[0]["message"] == "from alice"


def test_a_group_of_three_keeps_working_when_one_leaves(
    messaging_table, client, api_client, alice, bob, carol
):
    group = services.group_start(sender=alice, handles=["bob", "carol"], body="hi all").group_uuid
    services.message_create(sender=carol, group_uuid=group, body="carol here")
    user_delete(user=carol)
    as_bob = api_client(bob)

    sent = as_bob.post(
        "/api/messages", {"message": "still here", "message_group_uuid": str(group)}, format="json"
    )
    detail = as_bob.get(f"/api/message_groups/{group}").json()
    page = signed_in(client, alice).get(f"/messages/{group}")

    assert sent.status_code == 201
    assert detail["display_name"] == "Alice Liddell and Deleted user"
    assert {member["display_name"] for member in detail["members"]} == {
        "Alice Liddell",
        "Deleted user",
    }
    assert page.status_code == 200
    html = page.content.decode()
    assert "still here" in html and "carol here" in html and "Deleted user" in html
    assert "/people/bob" in html and "/people/carol" not in html


@pytest.mark.parametrize("fanout", ["inline", "stream"])
def test_sending_to_a_pair_whose_other_person_left_is_refused_and_it_stays_readable(
    messaging_table, client, api_client, alice, bob, settings, fanout
):
    settings.MESSAGING_FANOUT = fanout
    group = services.conversation_start(sender=alice, handle="bob", body="bye").group_uuid
    user_delete(user=alice)
    as_bob = api_client(bob)

    refused = as_bob.post(
        "/api/messages", {"message": "hello?", "message_group_uuid": str(group)}, format="json"
    )
    page = signed_in(client, bob).post(f"/messages/{group}", {"message": "hello?"})

    assert refused.status_code == 400
    assert refused.json() == {
        "message": ["Everyone else here has deleted their account, so nobody would get this."]
    }
    assert page.status_code == 400
    assert "Everyone else here has deleted their account" in page.content.decode()
    assert as_bob.get(f"/api/messages/{group}").status_code == 200
    assert [m["message"] for m in as_bob.get(f"/api/messages/{group}").json()["results"]] == [
        "bye"
    ]


def test_a_dynamodb_failure_midway_deletes_nobody_and_a_retry_finishes(
    messaging_table, table_admin, client, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    for number in range(30):
        services.message_create(
            sender=alice, group_uuid=group, body=f"n{number}", idempotency_key=f"k{number}"
        )
    calls = []

    def connection_lost_on_second_batch(**_):
        calls.append(1)
        if len(calls) == 2:
            raise EndpointConnectionError(endpoint_url="http://dynamodb.invalid")

    events = get_client().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", connection_lost_on_second_batch)
    try:
        with pytest.raises(StoreUnavailable):
            user_delete(user=alice)
    finally:
        events.unregister(
            "before-call.dynamodb.TransactWriteItems", connection_lost_on_second_batch
        )

    # The first batch went; the account did not, and its pages still work.
    alice = User.objects.get(handle="alice")
    assert 0 < len(owned_items(table_admin, alice)) < 31
    assert signed_in(client, alice).get("/messages").status_code == 200

    user_delete(user=alice)

    assert owned_items(table_admin, alice) == []
    assert not User.objects.filter(handle="alice").exists()


# The token's cached credentials are retired once the deletion commits.
@pytest.mark.django_db(transaction=True)
def test_deletion_ends_the_person_s_api_tokens(messaging_table, api_client, alice):
    as_alice = api_client(alice)
    assert as_alice.get("/api/message_groups").status_code == 200

    user_delete(user=alice)

    assert not Token.objects.exists()
    assert as_alice.get("/api/message_groups").status_code == 401


# --- from the profile ----------------------------------------------------------------


def test_profile_deletion_with_a_wrong_password_deletes_nothing(
    messaging_table, table_admin, client, alice, bob
):
    services.conversation_start(sender=alice, handle="bob", body="hi")
    signed_in(client, alice)

    response = client.post(reverse("accounts:delete"), {"password": "not-my-password"})

    assert response.status_code == 400
    assert "That is not your password. Nothing was deleted." in response.content.decode()
    assert User.objects.filter(handle="alice").exists()
    assert len(owned_items(table_admin, alice)) == 1
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_profile_deletion_with_the_password_deletes_and_signs_out(
    messaging_table, table_admin, client, alice, bob
):
    group = services.conversation_start(sender=alice, handle="bob", body="hi").group_uuid
    signed_in(client, alice)

    response = client.post(reverse("accounts:delete"), {"password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert "The account @alice is deleted." in response.content.decode()
    assert not User.objects.filter(handle="alice").exists()
    assert owned_items(table_admin, alice) == []
    assert client.get("/messages").status_code == 302
    signed_in(client, bob)
    assert "Deleted user" in client.get(f"/messages/{group}").content.decode()


def test_profile_page_offers_the_export_and_the_deletion_form(messaging_table, client, alice):
    html = signed_in(client, alice).get(reverse("accounts:profile")).content.decode()

    assert 'href="/api/me/export"' in html
    assert f'action="{reverse("accounts:delete")}"' in html
    assert 'type="password"' in html


# --- from the admin ------------------------------------------------------------------


@pytest.fixture
def staff_client(client, user_factory):
    client.force_login(user_factory("operator", is_staff=True, is_superuser=True))
    return client


def test_admin_delete_view_erases_the_person_s_rows(
    messaging_table, table_admin, staff_client, alice, bob
):
    services.conversation_start(sender=alice, handle="bob", body="hi", idempotency_key="k")

    response = staff_client.post(
        reverse("admin:accounts_user_delete", args=[alice.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not User.objects.filter(handle="alice").exists()
    assert owned_items(table_admin, alice) == []
    assert len(owned_items(table_admin, bob)) == 1


def test_admin_bulk_delete_erases_every_selected_person_s_rows(
    messaging_table, table_admin, staff_client, alice, bob, carol
):
    services.group_start(sender=alice, handles=["bob", "carol"], body="hi all")

    response = staff_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [alice.pk, bob.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert set(User.objects.values_list("handle", flat=True)) == {"carol", "operator"}
    assert owned_items(table_admin, alice) == owned_items(table_admin, bob) == []
    assert len(owned_items(table_admin, carol)) == 1
