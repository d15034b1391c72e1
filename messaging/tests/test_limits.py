"""One send limit per user (messaging/limits.py) on every path that sends: the API, the
reply form and the new-conversation form count against one history."""

import pytest
from django.test import Client
from django.urls import reverse

from messaging import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(settings, api_cache):
    settings.MESSAGING_SEND_RATE = "3/min"
    return 3


@pytest.fixture
def as_alice_page(alice):
    client = Client()
    client.force_login(alice)
    return client


def reply(client, group_uuid, body):
    url = reverse("messaging:conversation", kwargs={"group_uuid": group_uuid})
    return client.post(url, {"message": body})


def bodies(user, group_uuid) -> list[str]:
    page = selectors.message_list(user=user, group_uuid=group_uuid)
    return [message.body for message in page.items]


def test_reply_form_past_the_limit_is_429_with_a_form_error_and_the_draft_kept(
    limit, as_alice_page, alice, group
):
    sent = [reply(as_alice_page, group, f"n{n}").status_code for n in range(limit)]

    refused = reply(as_alice_page, group, "my unsent draft")

    assert sent == [302] * limit
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "sending messages too fast" in html
    assert "my unsent draft</textarea>" in html
    assert "my unsent draft" not in bodies(alice, group)


def test_new_conversation_form_past_the_limit_is_429_and_starts_nothing(
    limit, as_alice_page, alice, group, user_factory
):
    for n in range(limit):
        reply(as_alice_page, group, f"n{n}")
    carol = user_factory("carol")

    refused = as_alice_page.post(
        reverse("messaging:conversation_new", kwargs={"handle": "carol"}), {"message": "hello"}
    )

    assert refused.status_code == 429
    assert "hello</textarea>" in refused.content.decode()
    assert selectors.conversation_find(user=alice, others=[carol]) is None


def test_the_api_and_the_pages_share_one_count(limit, api_client, as_alice_page, alice, group):
    api = api_client(alice)
    for n in range(limit - 1):
        api.post("/api/messages", {"message": f"api{n}", "message_group_uuid": str(group)})
    reply(as_alice_page, group, "page")

    over_api = api.post("/api/messages", {"message": "x", "message_group_uuid": str(group)})
    over_page = reply(as_alice_page, group, "y")

    assert over_api.status_code == 429
    assert int(over_api["Retry-After"]) > 0
    assert over_page.status_code == 429


def test_the_limit_is_per_user(limit, as_alice_page, bob, group):
    for n in range(limit):
        reply(as_alice_page, group, f"n{n}")
    as_bob = Client()
    as_bob.force_login(bob)

    assert reply(as_bob, group, "bob still sends").status_code == 302
