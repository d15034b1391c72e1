"""The controls on pages: block from a profile or a pair's conversation, mute and hide
from the conversation; a refused send keeps the draft and says why."""

import pytest

from messaging import selectors

pytestmark = pytest.mark.django_db


def test_blocking_from_the_profile_swaps_the_button_and_hides_the_message_link(
    client, messaging_table, alice, bob
):
    client.force_login(alice)
    before = client.get("/people/bob").content.decode()
    assert "Block @bob" in before and "Message @bob" in before

    response = client.post("/people/bob/block", {"action": "block"})
    assert response.status_code == 302 and response["Location"] == "/people/bob"
    after = client.get("/people/bob").content.decode()
    assert "Unblock @bob" in after and "Message @bob" not in after
    assert "You blocked @bob" in after
    # Bob's view of Alice says nothing of the block.
    client.force_login(bob)
    assert "Block @alice" in client.get("/people/alice").content.decode()

    client.force_login(alice)
    client.post("/people/bob/block", {"action": "unblock"})
    assert "Block @bob" in client.get("/people/bob").content.decode()


def test_own_profile_and_unknown_people(client, messaging_table, alice):
    client.force_login(alice)
    assert "Block" not in client.get("/people/alice").content.decode()
    assert client.get("/people/nobody_here").status_code == 404
    assert client.post("/people/alice/block", {"action": "block"}).status_code == 400
    assert client.get("/people/bob/block").status_code == 405


def test_a_send_refused_by_a_block_keeps_the_draft_and_says_why(client, group, alice, bob):
    client.force_login(alice)
    blocked = client.post("/people/bob/block", {"action": "block", "next": f"/messages/{group}"})
    assert blocked["Location"] == f"/messages/{group}"
    page = client.get(f"/messages/{group}").content.decode()
    assert "You blocked @bob" in page and ">Unblock</button>" in page

    client.force_login(bob)
    response = client.post(f"/messages/{group}", {"message": "are you there?"})
    assert response.status_code == 403
    text = response.content.decode()
    assert "You can&#x27;t message @alice." in text and "are you there?" in text
    # The same on the "new message" page.
    again = client.post("/messages/new/alice", {"message": "hello?"})
    assert again.status_code == 403 and "You can&#x27;t message @alice." in again.content.decode()


def test_a_block_button_elsewhere_goes_back_only_to_this_site(client, messaging_table, alice, bob):
    client.force_login(alice)
    response = client.post(
        "/people/bob/block", {"action": "block", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/people/bob"


def test_mute_and_hide_from_the_conversation_page(client, group, alice, bob):
    client.force_login(bob)
    assert ">Mute</button>" in client.get(f"/messages/{group}").content.decode()

    client.post(f"/messages/{group}/mute", {"muted": "1"})
    assert ">Unmute</button>" in client.get(f"/messages/{group}").content.decode()
    assert selectors.inbox_list(user=bob).items[0].muted
    assert 'data-testid="muted-mark"' in client.get("/messages").content.decode()
    client.post(f"/messages/{group}/mute", {"muted": "0"})
    assert not selectors.inbox_list(user=bob).items[0].muted

    response = client.post(f"/messages/{group}/hide")
    assert response.status_code == 302 and response["Location"] == "/messages"
    assert selectors.inbox_list(user=bob).items == []
    assert len(selectors.inbox_list(user=alice).items) == 1


def test_controls_of_a_conversation_not_mine_are_404(client, group, user_factory):
    client.force_login(user_factory("mallory"))
    assert client.post(f"/messages/{group}/mute", {"muted": "1"}).status_code == 404
    assert client.post(f"/messages/{group}/hide").status_code == 404
