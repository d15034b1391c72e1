import re

import pytest
from django.urls import reverse

from messaging import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, user_factory):
    client.force_login(user_factory("operator", is_staff=True, is_superuser=True))
    return client


def test_user_admin_links_to_read_only_conversations(
    messaging_table, staff_client, alice, bob, settings
):
    settings.MESSAGING_PAGE_SIZE = 2
    sent = services.conversation_start(sender=bob, handle="alice", body="<b>hi</b> alice")
    for number in range(3):
        services.message_create(sender=bob, group_uuid=sent.group_uuid, body=f"note {number}")

    change_page = staff_client.get(reverse("admin:accounts_user_change", args=[alice.pk]))
    conversations_url = reverse("admin:accounts_user_conversations", args=[alice.pk])
    assert conversations_url in change_page.content.decode()

    listing = staff_client.get(conversations_url).content.decode()
    assert "Bob Builder (@bob)" in listing
    messages_url = reverse(
        "admin:accounts_user_conversation_messages", args=[alice.pk, sent.group_uuid]
    )
    assert messages_url in listing

    newest = staff_client.get(messages_url).content.decode()
    assert "note 1" in newest and "note 2" in newest and "note 0" not in newest
    cursor = re.search(r'href="\?cursor=([^"]+)">Older messages', newest).group(1)
    older = staff_client.get(f"{messages_url}?cursor={cursor}").content.decode()
    assert "&lt;b&gt;hi&lt;/b&gt; alice" in older and "note 0" in older
    assert "<form" not in re.sub(r"(?s).*<div id=\"content\"", "", older)
    # Looking is not reading: the member's unread count is untouched.
    assert selectors.inbox_list(user=alice).items[0].unread_count == 4


def test_conversation_views_refuse_writes(messaging_table, staff_client, alice):
    url = reverse("admin:accounts_user_conversations", args=[alice.pk])
    assert staff_client.post(url).status_code == 405


def test_conversation_views_are_staff_only(messaging_table, client, alice, bob):
    sent = services.conversation_start(sender=bob, handle="alice", body="private")
    client.force_login(bob)
    for url in (
        reverse("admin:accounts_user_conversations", args=[alice.pk]),
        reverse("admin:accounts_user_conversation_messages", args=[alice.pk, sent.group_uuid]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_without_view_permission_is_refused(messaging_table, client, alice, user_factory):
    client.force_login(user_factory("intern", is_staff=True))
    url = reverse("admin:accounts_user_conversations", args=[alice.pk])
    assert client.get(url).status_code == 403


def test_a_group_conversation_shows_its_kind_and_every_member(
    messaging_table, staff_client, alice, bob, user_factory
):
    carol = user_factory("carol", display_name="Carol Danvers")
    sent = services.group_start(sender=alice, handles=["bob", "carol"], body="all of us")

    listing = staff_client.get(
        reverse("admin:accounts_user_conversations", args=[carol.pk])
    ).content.decode()
    messages = staff_client.get(
        reverse("admin:accounts_user_conversation_messages", args=[carol.pk, sent.group_uuid])
    ).content.decode()

    assert "<td>group</td>" in listing
    assert "Alice Liddell (@alice), Bob Builder (@bob)" in listing
    assert "Group conversation" in messages and "all of us" in messages
