"""PATCH / DELETE /api/messages/<group>/<message> and POST .../report (DESIGN §6), with
their error cases: JSON everywhere, never a 500."""

import pytest

from messaging import selectors, services
from messaging.models import MessageReport
from messaging.tests.test_api import MESSAGE_KEYS, TIMESTAMP

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(messaging_table, alice, bob):
    """Alice's first message to Bob."""
    return services.conversation_start(sender=alice, handle="bob", body="hi bob")


def url(message, suffix=""):
    return f"/api/messages/{message.group_uuid}/{message.uuid}{suffix}"


def test_patch_edits_and_answers_the_message_with_edited_at(as_alice, sent):
    response = as_alice.patch(url(sent), {"message": "hi Bob"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == MESSAGE_KEYS
    assert (body["uuid"], body["message"], body["deleted"]) == (str(sent.uuid), "hi Bob", False)
    assert TIMESTAMP.match(body["edited_at"])


def test_patch_by_another_member_is_403_json_and_changes_nothing(as_bob, alice, sent):
    response = as_bob.patch(url(sent), {"message": "hijacked"}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "You can only change messages you sent."}
    assert selectors.message_list(user=alice, group_uuid=sent.group_uuid).items[0].body == "hi bob"


def test_patch_past_the_edit_window_is_403(as_alice, settings, sent):
    settings.MESSAGING_EDIT_WINDOW = 0

    response = as_alice.patch(url(sent), {"message": "late"}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Messages can be edited for 0 seconds after sending; this one is older."
    }


@pytest.mark.parametrize(
    "payload",
    [{"message": 12345}, {"message": ""}, {"message": "x" * 1025}, {}, {"message": None}],
)
def test_patch_with_a_bad_body_is_400_with_field_errors(as_alice, sent, payload):
    response = as_alice.patch(url(sent), payload, format="json")

    assert response.status_code == 400
    assert "message" in response.json()


def test_delete_is_204_and_the_message_stays_as_deleted(as_alice, as_bob, sent):
    response = as_alice.delete(url(sent))
    again = as_alice.delete(url(sent))

    assert (response.status_code, again.status_code) == (204, 204)
    (shown,) = as_bob.get(f"/api/messages/{sent.group_uuid}").json()["results"]
    assert (shown["uuid"], shown["message"], shown["deleted"]) == (str(sent.uuid), "", True)
    (group,) = as_bob.get("/api/message_groups").json()["results"]
    assert group["message"] == ""


def test_delete_by_another_member_is_403(as_bob, sent):
    assert as_bob.delete(url(sent)).status_code == 403


def test_a_non_member_gets_404_for_each_action(api_client, user_factory, sent):
    mallory = api_client(user_factory("mallory"))

    responses = [
        mallory.patch(url(sent), {"message": "x"}, format="json"),
        mallory.delete(url(sent)),
        mallory.post(url(sent, "/report"), {"reason": "spam"}, format="json"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert all("detail" in r.json() for r in responses)


@pytest.mark.parametrize(
    "path",
    [
        "/api/messages/{group}/not-a-uuid",
        "/api/messages/not-a-uuid/{message}",
        "/api/messages/{group}/c73021c2-fdda-49f3-a235-66e0ffc9ba7a",
    ],
)
def test_unknown_or_malformed_ids_are_404_json(as_alice, sent, path):
    response = as_alice.delete(path.format(group=sent.group_uuid, message=sent.uuid))

    assert response.status_code == 404
    assert "detail" in response.json()


def test_anonymous_is_401(api_client, sent):
    assert api_client().delete(url(sent)).status_code == 401


def test_report_is_201_and_keeps_the_text_as_it_was(as_bob, alice, bob, sent):
    response = as_bob.post(url(sent, "/report"), {"reason": "rude"}, format="json")
    services.message_edit(
        user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid, body="nice now"
    )
    services.message_delete(user=alice, group_uuid=sent.group_uuid, message_uuid=sent.uuid)

    assert response.status_code == 201
    assert response.json()["status"] == "open"
    report = MessageReport.objects.get()
    assert (report.reporter, report.body, report.reason) == (bob, "hi bob", "rude")
    assert (report.sender_uuid, report.message_uuid) == (alice.uuid, sent.uuid)


def test_a_second_report_of_the_same_message_is_409(as_bob, sent):
    first = as_bob.post(url(sent, "/report"), {"reason": "rude"}, format="json")
    second = as_bob.post(url(sent, "/report"), {"reason": "still rude"}, format="json")

    assert (first.status_code, second.status_code) == (201, 409)
    assert second.json() == {"detail": "You already reported this message."}
    assert MessageReport.objects.count() == 1


def test_reporting_your_own_message_is_403(as_alice, sent):
    response = as_alice.post(url(sent, "/report"), {"reason": "test"}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "You can't report your own message."}
    assert not MessageReport.objects.exists()


@pytest.mark.parametrize("payload", [{"reason": "x" * 501}, {"reason": ""}, {"reason": 5}, {}])
def test_a_bad_reason_is_400(as_bob, sent, payload):
    response = as_bob.post(url(sent, "/report"), payload, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    assert not MessageReport.objects.exists()


def test_a_reason_of_exactly_500_characters_is_accepted(as_bob, sent):
    response = as_bob.post(url(sent, "/report"), {"reason": "x" * 500}, format="json")

    assert response.status_code == 201
