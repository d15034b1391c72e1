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


def test_staff_see_open_reports_with_the_message_in_context_and_resolve_them(
    messaging_table, staff_client, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="before it")
    bad = services.message_create(sender=bob, group_uuid=sent.group_uuid, body="<i>nasty</i>")
    services.message_create(sender=alice, group_uuid=sent.group_uuid, body="after it")
    report = services.message_report(
        reporter=alice, group_uuid=sent.group_uuid, message_uuid=bad.uuid, reason="abuse"
    )
    services.message_edit(
        user=bob, group_uuid=sent.group_uuid, message_uuid=bad.uuid, body="covered up"
    )

    listing = staff_client.get(reverse("admin:messaging_messagereport_changelist")).content
    detail = staff_client.get(
        reverse("admin:messaging_messagereport_change", args=[report.pk])
    ).content.decode()
    resolved = staff_client.post(
        reverse("admin:messaging_messagereport_changelist"),
        {"action": "resolve", "_selected_action": [report.pk]},
        follow=True,
    )

    assert b"abuse" in listing and b"Bob Builder (@bob)" in listing
    # The snapshot as reported, escaped, and the conversation around it as it is now.
    assert "&lt;i&gt;nasty&lt;/i&gt;" in detail and "<i>nasty" not in detail
    assert "before it" in detail and "covered up" in detail
    assert '<tr class="selected">' in detail
    assert "1 report(s) marked resolved." in resolved.content.decode()
    report.refresh_from_db()
    assert report.status == "resolved" and report.resolved_by.handle == "operator"
    assert report.resolved_at is not None


def test_reports_cannot_be_added_or_edited_in_the_admin(messaging_table, staff_client):
    assert staff_client.get(reverse("admin:messaging_messagereport_add")).status_code == 403


def test_resolving_twice_records_the_first_resolution(messaging_table, user_factory, alice, bob):
    sent = services.conversation_start(sender=alice, handle="bob", body="hey")
    report = services.message_report(
        reporter=bob, group_uuid=sent.group_uuid, message_uuid=sent.uuid, reason="spam"
    )
    first, second = user_factory("mod1", is_staff=True), user_factory("mod2", is_staff=True)

    assert services.report_resolve(report=report, resolved_by=first) is True
    assert services.report_resolve(report=report, resolved_by=second) is False
    report.refresh_from_db()
    assert report.resolved_by == first
