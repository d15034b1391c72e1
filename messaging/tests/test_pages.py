import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from messaging import selectors, services
from messaging.dynamo.client import reset_clients

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def as_bob(bob):
    client = Client()
    client.force_login(bob)
    return client


def conversation_url(group_uuid) -> str:
    return reverse("messaging:conversation", kwargs={"group_uuid": group_uuid})


def text(response) -> str:
    return response.content.decode()


def thread(response) -> str:
    """The conversation's messages only (the inbox list beside them repeats previews)."""
    page = text(response)
    return page[
        page.index('<ol class="messages"') : page.index(
            "</ol>", page.index('<ol class="messages"')
        )
    ]


def nav_badge(response) -> str | None:
    match = re.search(r'data-testid="nav-unread">(\d+)', text(response))
    return match.group(1) if match else None


@pytest.mark.parametrize(
    "path",
    [
        "/messages",
        "/messages/473d191a-2531-4bb4-b4bf-1f4690cb0ae3",
        "/messages/new",
        "/messages/new/bob",
        "/accounts/profile/",
    ],
)
def test_pages_send_anonymous_visitors_to_login_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_home_goes_to_login_or_inbox(client, alice):
    assert client.get("/")["Location"] == "/accounts/login/"
    client.force_login(alice)
    assert client.get("/")["Location"] == "/messages"


def test_empty_inbox_explains_how_to_start(messaging_table, as_alice):
    response = as_alice.get("/messages")
    assert response.status_code == 200
    assert 'data-testid="inbox-empty"' in text(response)
    assert "@handle" in text(response)
    assert nav_badge(response) is None


def test_inbox_lists_conversations_newest_first_with_unread_badges(
    messaging_table, as_alice, alice, bob, user_factory
):
    carol = user_factory("carol", display_name="Carol Danvers")
    services.conversation_start(sender=bob, handle="alice", body="first from bob")
    services.conversation_start(sender=carol, handle="alice", body="then carol")
    services.conversation_start(sender=alice, handle="bob", body="alice answers bob")

    response = as_alice.get("/messages")

    page = text(response)
    assert page.index("Bob Builder") < page.index("Carol Danvers")
    assert "alice answers bob" in page
    assert "@carol" in page
    # Answering bob read his conversation; carol's is still unread.
    assert page.count('data-testid="unread-badge"') == 1
    assert nav_badge(response) == "1"
    assert re.search(
        r'<time class="inbox__time" datetime="[^"]+" title="\w{3} \d+ \w{3} \d{4}', page
    )


def test_inbox_page_costs_one_query_and_at_most_three_sql_queries(
    messaging_table,
    as_alice,
    alice,
    user_factory,
    dynamodb_requests,
    django_assert_max_num_queries,
):
    for number in range(4):
        sender = user_factory(f"friend{number}")
        services.conversation_start(sender=sender, handle="alice", body=f"hello {number}")
    dynamodb_requests.reset()

    with django_assert_max_num_queries(3):
        response = as_alice.get("/messages")

    assert response.status_code == 200
    assert text(response).count("inbox__item") == 4
    # The whole inbox fits on the page, so the badge is counted from it.
    assert dynamodb_requests == {"Query": 1}


def test_older_conversations_link_follows_the_cursor(
    messaging_table, as_alice, user_factory, settings
):
    settings.MESSAGING_PAGE_SIZE = 2
    for name in ("dan", "erin", "fay"):
        services.conversation_start(sender=user_factory(name), handle="alice", body=f"hi {name}")

    first = text(as_alice.get("/messages"))
    cursor = re.search(r'href="\?cursor=([^"]+)">Older conversations', first).group(1)
    older = as_alice.get(f"/messages?cursor={cursor}")

    assert "@fay" in first and "@erin" in first and "@dan" not in first
    assert "@dan" in text(older) and 'rel="next"' not in text(older)
    # The badge counts every conversation, not only the ones on this page.
    assert nav_badge(older) == "3"


def test_tampered_cursor_gets_the_400_page(messaging_table, as_alice):
    response = as_alice.get("/messages?cursor=not-a-real-cursor")
    assert response.status_code == 400
    assert "cursor is not valid" in text(response)


def test_conversation_page_costs_foundation_requests_plus_badge_and_three_sql_queries(
    messaging_table, as_alice, bob, dynamodb_requests, django_assert_max_num_queries
):
    sent = services.conversation_start(sender=bob, handle="alice", body="hi alice")
    services.message_create(sender=bob, group_uuid=sent.group_uuid, body="are you there?")
    dynamodb_requests.reset()

    with django_assert_max_num_queries(3):
        response = as_alice.get(conversation_url(sent.group_uuid))

    assert response.status_code == 200
    # Membership BatchGetItem (own row and conversation) + messages Query + mark-read
    # transaction (row and read position), and the badge's COUNT.
    assert dynamodb_requests == {"BatchGetItem": 1, "Query": 2, "TransactWriteItems": 1}


def test_conversation_shows_messages_in_time_order_with_sender_and_time(
    messaging_table, as_alice, alice, bob
):
    sent = services.conversation_start(sender=bob, handle="alice", body="one")
    services.message_create(sender=alice, group_uuid=sent.group_uuid, body="two")
    services.message_create(sender=bob, group_uuid=sent.group_uuid, body="three")

    response = as_alice.get(conversation_url(sent.group_uuid))
    page = thread(response)

    assert page.index(">one<") < page.index(">two<") < page.index(">three<")
    assert page.count('class="message__sender">Bob Builder') == 2
    assert page.count('class="message__sender">Alice Liddell') == 1
    assert 'data-counter-limit="1024"' in text(response)


def test_opening_a_conversation_marks_it_read(messaging_table, as_alice, alice, bob):
    sent = services.conversation_start(sender=bob, handle="alice", body="ping")
    assert nav_badge(as_alice.get("/messages")) == "1"

    opened = as_alice.get(conversation_url(sent.group_uuid))

    assert nav_badge(opened) is None
    inbox = as_alice.get("/messages")
    assert 'data-testid="unread-badge"' not in text(inbox)
    assert selectors.inbox_list(user=alice).items[0].unread_count == 0


def test_older_messages_link_pages_back_without_marking_read(
    messaging_table, as_alice, alice, bob, settings
):
    settings.MESSAGING_PAGE_SIZE = 2
    sent = services.conversation_start(sender=bob, handle="alice", body="m0")
    for number in range(1, 4):
        services.message_create(sender=bob, group_uuid=sent.group_uuid, body=f"m{number}")

    older_link = re.search(
        r'href="\?cursor=([^"]+)">Older messages',
        text(as_alice.get(f"{conversation_url(sent.group_uuid)}")),
    ).group(1)
    older = thread(as_alice.get(f"{conversation_url(sent.group_uuid)}?cursor={older_link}"))

    assert ">m0<" in older and ">m1<" in older and ">m3<" not in older


def test_reply_redirects_after_post_and_shows_the_message(messaging_table, as_alice, alice, bob):
    sent = services.conversation_start(sender=bob, handle="alice", body="hi")

    response = as_alice.post(conversation_url(sent.group_uuid), {"message": "hello bob"})

    assert response.status_code == 302
    assert response["Location"] == f"{conversation_url(sent.group_uuid)}#latest"
    messages = selectors.message_list(user=bob, group_uuid=sent.group_uuid).items
    assert [m.body for m in messages] == ["hi", "hello bob"]


@pytest.mark.parametrize(
    ("body", "error"),
    [("   ", "Write a message first."), ("x" * 1025, "at most 1024 characters")],
)
def test_bad_reply_shows_the_error_inline_and_writes_nothing(
    messaging_table, as_alice, bob, body, error
):
    sent = services.conversation_start(sender=bob, handle="alice", body="hi")

    response = as_alice.post(conversation_url(sent.group_uuid), {"message": body})

    assert response.status_code == 400
    assert re.search(
        rf'class="field__error" id="message-error" role="alert">[^<]*{error}', text(response)
    )
    assert 'aria-invalid="true"' in text(response)
    assert len(selectors.message_list(user=bob, group_uuid=sent.group_uuid).items) == 1


def test_message_text_is_escaped_in_inbox_and_conversation(messaging_table, as_alice, bob):
    sent = services.conversation_start(
        sender=bob, handle="alice", body='<script>alert(1)</script> & "quotes"'
    )

    for response in (as_alice.get("/messages"), as_alice.get(conversation_url(sent.group_uuid))):
        page = text(response)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_someone_elses_conversation_is_the_404_page(messaging_table, as_alice, bob, user_factory):
    carol = user_factory("carol")
    sent = services.conversation_start(sender=bob, handle="carol", body="private")

    for response in (
        as_alice.get(conversation_url(sent.group_uuid)),
        as_alice.post(conversation_url(sent.group_uuid), {"message": "let me in"}),
    ):
        assert response.status_code == 404
        assert "We couldn't find that" in text(response)
        assert "private" not in text(response)
    assert len(selectors.message_list(user=carol, group_uuid=sent.group_uuid).items) == 1


def test_new_conversation_with_unknown_handle_is_the_404_page(messaging_table, as_alice):
    response = as_alice.get("/messages/new/nobody_here")
    assert response.status_code == 404
    assert "No user @nobody_here." in text(response)


def test_new_conversation_with_own_handle_says_so(messaging_table, as_alice):
    response = as_alice.get("/messages/new/Alice")
    assert response.status_code == 400
    assert "That&#x27;s you." in text(response)


def test_new_conversation_shows_an_empty_conversation_then_starts_it(
    messaging_table, as_alice, bob
):
    empty = as_alice.get("/messages/new/bob")
    assert empty.status_code == 200
    assert "Say hello to Bob Builder" in text(empty)

    response = as_alice.post("/messages/new/bob", {"message": "hi bob"})

    inbox = selectors.inbox_list(user=bob).items
    assert [c.last_message for c in inbox] == ["hi bob"]
    assert response["Location"] == f"{conversation_url(inbox[0].group_uuid)}#latest"


def test_new_conversation_reopens_the_existing_one(messaging_table, as_alice, bob):
    sent = services.conversation_start(sender=bob, handle="alice", body="hi")

    response = as_alice.get("/messages/new/BOB")

    assert response["Location"] == f"{conversation_url(sent.group_uuid)}#latest"


def test_blank_first_message_shows_the_error_inline(messaging_table, as_alice, bob):
    response = as_alice.post("/messages/new/bob", {"message": ""})
    assert response.status_code == 400
    assert "Write a message first." in text(response)
    assert selectors.inbox_list(user=bob).items == []


def test_new_message_form_goes_to_the_handle_or_explains(messaging_table, as_alice, bob):
    assert as_alice.get("/messages/new?handle=@bob")["Location"] == "/messages/new/bob"

    unknown = as_alice.get("/messages/new?handle=ghost")
    assert unknown.status_code == 404
    assert "No user @ghost." in text(unknown)
    assert 'class="field__error"' in text(unknown)

    own = as_alice.get("/messages/new?handle=alice")
    assert own.status_code == 400
    assert "That&#x27;s you." in text(own)


def test_display_name_change_shows_in_the_other_members_pages(messaging_table, as_alice, bob):
    sent = services.conversation_start(sender=bob, handle="alice", body="hi")
    bob.display_name = "Robert the Builder"
    bob.save()

    assert "Robert the Builder" in text(as_alice.get("/messages"))
    assert "Robert the Builder" in text(as_alice.get(conversation_url(sent.group_uuid)))


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/messages/new/bob", {"message": "hi"}),
        ("/accounts/logout/", {}),
        ("/accounts/profile/", {"display_name": "X"}),
    ],
)
def test_forms_reject_posts_without_csrf_token(messaging_table, alice, bob, path, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(path, data).status_code == 403
    assert selectors.inbox_list(user=bob).items == []


def test_reply_form_rejects_posts_without_csrf_token(messaging_table, alice, bob):
    sent = services.conversation_start(sender=bob, handle="alice", body="hi")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(conversation_url(sent.group_uuid), {"message": "x"}).status_code == 403
    assert len(selectors.message_list(user=bob, group_uuid=sent.group_uuid).items) == 1


@pytest.fixture
def dynamodb_down(dynamodb_endpoint, monkeypatch):
    """DynamoDB at a loopback port where nothing listens, without retries."""
    from devtools import dynamodb_local

    monkeypatch.setenv(
        "AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{dynamodb_local.free_port()}"
    )
    monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", "1")
    reset_clients()
    yield
    monkeypatch.undo()
    reset_clients()


def test_unreachable_dynamodb_gives_the_503_page(dynamodb_down, as_alice, bob):
    for response in (
        as_alice.get("/messages"),
        as_alice.get(conversation_url(uuid.uuid4())),
        as_alice.post("/messages/new/bob", {"message": "hi"}),
    ):
        assert response.status_code == 503
        assert "Messages are temporarily unavailable" in text(response)
        assert "Traceback" not in text(response)


def test_profile_page_still_renders_without_dynamodb(dynamodb_down, as_alice):
    response = as_alice.get("/accounts/profile/")
    assert response.status_code == 200
    assert nav_badge(response) is None


def test_unknown_address_gets_the_sites_404_page(as_alice):
    response = as_alice.get("/messages/not-a-group")
    assert response.status_code == 404
    assert "We couldn't find that" in text(response)
    assert 'class="topbar"' in text(response)


def test_expired_form_gets_the_sites_csrf_page(messaging_table, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/messages/new/alice", {"message": "hi"})
    assert response.status_code == 403
    assert "That form had expired" in text(response)


def test_reopening_a_read_conversation_on_a_warm_cache_costs_only_the_membership_read(
    messaging_table, as_alice, bob, dynamodb_requests, settings
):
    settings.MESSAGING_CACHE_SETTLE = 0
    sent = services.conversation_start(sender=bob, handle="alice", body="hi alice")
    as_alice.get(conversation_url(sent.group_uuid))
    as_alice.get(conversation_url(sent.group_uuid))
    dynamodb_requests.reset()

    response = as_alice.get(conversation_url(sent.group_uuid))

    assert response.status_code == 200
    assert nav_badge(response) is None
    # Invariant 5 keeps the strongly consistent membership read; messages and badge are
    # cached.
    assert dynamodb_requests == {"BatchGetItem": 1}


# --- v2: groups on the pages ------------------------------------------------------------


def test_new_message_to_several_handles_starts_a_group_from_its_first_message(
    messaging_table, as_alice, alice, bob, user_factory
):
    carol = user_factory("carol", display_name="Carol Danvers")

    compose = as_alice.get("/messages/new", {"handle": "@bob, carol"})
    assert compose.status_code == 200
    assert "New group: Bob Builder, Carol Danvers" in text(compose)
    assert "holds up to 8 people" in text(compose)

    sent = as_alice.post("/messages/new", {"handle": "bob carol", "message": "hello both"})
    assert sent.status_code == 302
    (row,) = selectors.inbox_list(user=carol).items
    assert sent["Location"].startswith(conversation_url(row.group_uuid))
    assert row.kind == "group" and row.last_message == "hello both"

    # The same people again (in another order) reopen it; its page names every member.
    again = as_alice.get("/messages/new", {"handle": "carol bob"})
    assert again.status_code == 302
    page = text(as_alice.get(again["Location"]))
    assert "Bob Builder and Carol Danvers" in page
    assert re.search(r"@bob</a>, <a [^>]*>@carol</a>", page)
    inbox = text(as_alice.get("/messages"))
    assert "Bob Builder and Carol Danvers" in inbox


def test_new_message_names_every_bad_handle_and_explains_the_limit(
    messaging_table, as_alice, user_factory
):
    user_factory("bob")
    unknown = as_alice.get("/messages/new", {"handle": "bob ghost phantom"})
    assert unknown.status_code == 404
    assert "No user @ghost." in text(unknown) and "No user @phantom." in text(unknown)

    crowd = " ".join(f"friend{n}" for n in range(8))
    too_many = as_alice.get("/messages/new", {"handle": crowd})
    assert too_many.status_code == 400
    assert "at most 8 people" in text(too_many)

    mine = as_alice.get("/messages/new", {"handle": "bob alice"})
    assert mine.status_code == 400
    assert "That&#x27;s you" in text(mine)


def test_inbox_list_fragment_is_the_list_and_the_badge_count_only(
    messaging_table, as_alice, bob, dynamodb_requests
):
    services.conversation_start(sender=bob, handle="alice", body="hi alice")
    dynamodb_requests.reset()

    response = as_alice.get("/messages?fragment=list")

    page = text(response)
    assert page.lstrip().startswith('<ul class="inbox" data-testid="inbox" data-nav-unread="1">')
    assert "<html" not in page and "hi alice" in page
    assert dynamodb_requests == {"Query": 1}


def test_messages_with_a_trailing_slash_goes_to_the_inbox(as_alice):
    response = as_alice.get("/messages/?cursor=abc")

    assert response.status_code == 301
    assert response["Location"] == "/messages?cursor=abc"


def test_conversation_keeps_the_inbox_beside_it_with_the_open_one_marked_and_read(
    messaging_table, as_alice, bob, user_factory
):
    opened = services.conversation_start(sender=bob, handle="alice", body="hi alice")
    services.conversation_start(sender=user_factory("carol"), handle="alice", body="hey")

    page = text(as_alice.get(conversation_url(opened.group_uuid)))

    aside = page[page.index('<aside class="pane pane--list pane--aside"') : page.index("</aside>")]
    assert aside.count('class="inbox__item') == 2
    current = re.search(r'<li class="inbox__item is-current"[^>]*>.*?</li>', aside, re.S).group(0)
    assert f'data-group-uuid="{opened.group_uuid}"' in current
    assert 'aria-current="page"' in current and "unread-badge" not in current
    # The other conversation is still unread, in the list and in the badge.
    assert aside.count('data-testid="unread-badge"') == 1
    assert nav_badge_text(page) == "1"


def nav_badge_text(page: str) -> str | None:
    match = re.search(r'data-testid="nav-unread">(\d+)', page)
    return match.group(1) if match else None


def test_seen_shows_under_my_last_message_once_the_other_member_read_it(
    messaging_table, as_alice, alice, bob
):
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    unseen = text(as_alice.get(conversation_url(sent.group_uuid)))
    services.conversation_mark_read(user=bob, group_uuid=sent.group_uuid)

    seen = text(as_alice.get(conversation_url(sent.group_uuid)))

    assert '<p class="seen" data-testid="seen" hidden>' in unseen
    assert '<p class="seen" data-testid="seen">Seen</p>' in seen


def test_seen_stays_hidden_for_someone_who_turned_read_receipts_off(
    messaging_table, as_alice, alice, bob
):
    bob.send_read_receipts = False
    bob.save()
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    services.conversation_mark_read(user=bob, group_uuid=sent.group_uuid)

    page = text(as_alice.get(conversation_url(sent.group_uuid)))

    assert '<p class="seen" data-testid="seen" hidden>' in page
    assert "data-other-read-at" not in page


def test_seen_costs_nothing_beyond_the_membership_read(
    messaging_table, as_alice, alice, bob, dynamodb_requests, settings
):
    settings.MESSAGING_CACHE_SETTLE = 0
    sent = services.conversation_start(sender=alice, handle="bob", body="hi bob")
    # The first visit records Alice's own read position, which moves her inbox.
    as_alice.get(conversation_url(sent.group_uuid))
    as_alice.get(conversation_url(sent.group_uuid))
    dynamodb_requests.reset()

    as_alice.get(conversation_url(sent.group_uuid))

    # The members' read positions come with the conversation item in the membership
    # read; messages and inbox come from the cache.
    assert dynamodb_requests == {"BatchGetItem": 1}


def test_message_links_are_clickable_and_safe_in_the_conversation(messaging_table, as_alice, bob):
    sent = services.conversation_start(
        sender=bob,
        handle="alice",
        body='look https://example.org/x?a=1&b=<2> javascript:alert("x")',
    )

    page = thread(as_alice.get(conversation_url(sent.group_uuid)))

    assert (
        'look <a href="https://example.org/x?a=1&amp;b=" rel="noopener nofollow" target="_blank">'
        "https://example.org/x?a=1&amp;b=</a>&lt;2&gt; javascript:alert(&quot;x&quot;)"
    ) in page


def test_times_show_in_the_readers_own_time_zone(messaging_table, as_alice, alice, bob):
    from zoneinfo import ZoneInfo

    alice.time_zone = "Asia/Tokyo"
    alice.save()
    sent = services.conversation_start(sender=bob, handle="alice", body="konnichiwa")

    page = thread(as_alice.get(conversation_url(sent.group_uuid)))

    local = sent.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f">{local:%H:%M}</time>" in page
    assert f"{local:%H:%M:%S} JST" in page


def test_pages_carry_what_the_live_script_needs_only_for_signed_in_people(
    messaging_table, as_alice, alice, client
):
    page = text(as_alice.get("/messages"))

    assert f'data-user-uuid="{alice.uuid}"' in page
    assert 'data-events-url="/api/events"' in page and "js/live.js" in page
    assert "data-inbox-list data-live" in page
    client.logout()
    assert "js/live.js" not in text(client.get("/accounts/login/"))


def test_conversation_page_marks_edits_and_shows_deleted_messages_in_place(
    messaging_table, settings, as_bob, alice
):
    settings.MESSAGING_EDIT_WINDOW = 600
    first = services.conversation_start(sender=alice, handle="bob", body="<b>first</b>")
    gone = services.message_create(sender=alice, group_uuid=first.group_uuid, body="secret")
    services.message_edit(
        user=alice, group_uuid=first.group_uuid, message_uuid=first.uuid, body="<b>fixed</b>"
    )
    services.message_delete(user=alice, group_uuid=first.group_uuid, message_uuid=gone.uuid)

    response = as_bob.get(conversation_url(first.group_uuid))

    messages = thread(response)
    assert "&lt;b&gt;fixed&lt;/b&gt;" in messages and "(edited)" in messages
    assert "secret" not in text(response)
    assert re.search(rf'class="message[^"]* message--deleted" id="m-{gone.uuid}"', messages)
    assert messages.index("fixed") < messages.index("Message deleted")
    # The page offers Edit only inside the window it is told of; the script does the rest.
    assert 'data-edit-window="600"' in text(response)
    assert "js/message_actions.js" in text(response)
