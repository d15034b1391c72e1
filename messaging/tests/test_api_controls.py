"""The controls' API (DESIGN §6): block, the blocks list, mute and hide, with their JSON
errors."""

import uuid

import pytest

from messaging import services

pytestmark = pytest.mark.django_db


def test_block_answers_204_twice_and_refuses_sends_both_ways_with_one_wording(
    api_client, group, alice, bob
):
    as_alice, as_bob = api_client(alice), api_client(bob)
    assert as_alice.post("/api/users/@bob/block").status_code == 204
    assert as_alice.post("/api/users/@Bob/block").status_code == 204

    from_bob = as_bob.post(
        "/api/messages", {"message": "hey", "message_group_uuid": str(group)}, format="json"
    )
    from_alice = as_alice.post("/api/messages", {"message": "hey", "handle": "bob"}, format="json")
    new_group = as_bob.post(
        "/api/message_groups", {"handles": ["alice"], "message": "hey"}, format="json"
    )
    assert (from_bob.status_code, from_alice.status_code, new_group.status_code) == (
        403,
        403,
        403,
    )
    assert from_bob.json() == new_group.json() == {"detail": "You can't message @alice."}
    assert from_alice.json() == {"detail": "You can't message @bob."}
    # The conversation stays readable.
    assert [m["message"] for m in as_bob.get(f"/api/messages/{group}").json()["results"]] == [
        "hi bob"
    ]

    assert as_alice.get("/api/blocks").json() == {
        "results": [{"uuid": str(bob.uuid), "handle": "bob", "display_name": "Bob Builder"}]
    }
    assert as_bob.get("/api/blocks").json() == {"results": []}
    assert as_alice.delete("/api/users/@bob/block").status_code == 204
    assert as_alice.delete("/api/users/@bob/block").status_code == 204
    assert as_alice.get("/api/blocks").json() == {"results": []}
    again = as_bob.post(
        "/api/messages", {"message": "ok", "message_group_uuid": str(group)}, format="json"
    )
    assert again.status_code == 201


def test_blocking_yourself_is_400_and_nobody_404_in_json(api_client, messaging_table, alice):
    as_alice = api_client(alice)
    own = as_alice.post("/api/users/@alice/block")
    nobody = as_alice.post("/api/users/@nobody_here/block")
    malformed = as_alice.delete("/api/users/@no!/block")
    assert (own.status_code, nobody.status_code, malformed.status_code) == (400, 404, 404)
    assert own.json() == {"handle": ["That's you. You can't block yourself."]}
    assert nobody.json() == {"detail": "No user @nobody_here."}
    assert "detail" in malformed.json()


def test_controls_require_authentication(api_client, group):
    anonymous = api_client()
    for method, path in (
        ("post", "/api/users/@bob/block"),
        ("get", "/api/blocks"),
        ("post", f"/api/message_groups/{group}/mute"),
        ("delete", f"/api/message_groups/{group}"),
    ):
        response = getattr(anonymous, method)(path)
        assert response.status_code == 401, path
        assert "detail" in response.json()


def test_mute_shows_on_the_group_and_keeps_it_out_of_the_badge(
    api_client, client, group, alice, bob
):
    as_bob = api_client(bob)
    assert as_bob.post(f"/api/message_groups/{group}/mute").status_code == 204
    assert as_bob.post(f"/api/message_groups/{group}/mute").status_code == 204

    listed = as_bob.get("/api/message_groups").json()["results"]
    assert [(g["muted"], g["unread_count"]) for g in listed] == [(True, 1)]
    assert as_bob.get(f"/api/message_groups/{group}").json()["muted"] is True
    assert api_client(alice).get(f"/api/message_groups/{group}").json()["muted"] is False
    client.force_login(bob)
    page = client.get("/messages")
    assert page.context["nav_unread"] == 0
    assert b"inbox__muted" in page.content

    assert as_bob.delete(f"/api/message_groups/{group}/mute").status_code == 204
    assert as_bob.get(f"/api/message_groups/{group}").json()["muted"] is False
    assert client.get("/messages").context["nav_unread"] == 1


def test_hide_takes_the_group_out_of_my_list_only(api_client, group, alice, bob):
    as_bob = api_client(bob)
    assert as_bob.delete(f"/api/message_groups/{group}").status_code == 204
    assert as_bob.delete(f"/api/message_groups/{group}").status_code == 204

    assert as_bob.get("/api/message_groups").json()["results"] == []
    assert len(api_client(alice).get("/api/message_groups").json()["results"]) == 1
    # Still mine to open, and a new message brings it back.
    assert as_bob.get(f"/api/message_groups/{group}").status_code == 200
    services.message_create(sender=alice, group_uuid=group, body="still there?")
    (back,) = as_bob.get("/api/message_groups").json()["results"]
    assert (back["message"], back["unread_count"]) == ("still there?", 1)


def test_mute_and_hide_of_a_conversation_not_mine_are_404(api_client, group, user_factory):
    stranger = api_client(user_factory("mallory"))
    for method, path in (
        ("post", f"/api/message_groups/{group}/mute"),
        ("delete", f"/api/message_groups/{group}/mute"),
        ("delete", f"/api/message_groups/{group}"),
        ("delete", f"/api/message_groups/{uuid.uuid4()}"),
        ("post", "/api/message_groups/not-a-uuid/mute"),
    ):
        response = getattr(stranger, method)(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "No such conversation."}
