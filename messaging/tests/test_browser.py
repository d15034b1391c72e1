"""Two people use Cruddur in a real browser: Playwright drives Debian's Chromium against
the live server. Screenshots land in test-artifacts/screenshots/ (git-ignored)."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "a-long-browser-passphrase"


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API keeps an asyncio loop in this thread, so Django would refuse
    # the test's own (synchronous) ORM calls made while the browser is open.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (.ci/run does)")
        pytest.skip("needs Debian's chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
            ],
        )
        yield browser
        browser.close()
        # Django keeps connections per async context: the ones the test opened while
        # Playwright's loop ran close here, or the test database could not be dropped.
        connections.close_all()


def open_page(browser, live_server, viewport=DESKTOP):
    page = browser.new_context(viewport=viewport, base_url=live_server.url).new_page()
    page.set_default_timeout(10_000)
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page


def sign_up(page, handle, display_name):
    page.goto("/accounts/signup/")
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Email").fill(f"{handle}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/messages")


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def nav_badge(page):
    return page.get_by_test_id("nav-unread")


def test_two_people_message_each_other(messaging_table, live_server, browser):
    from playwright.sync_api import expect

    alice = open_page(browser, live_server)
    bob = open_page(browser, live_server)

    # A first try with a bad handle and mismatched passwords: errors show beside the fields.
    alice.goto("/accounts/signup/")
    alice.get_by_label("Handle").fill("alice liddell")
    alice.get_by_label("Password", exact=True).fill(PASSWORD)
    alice.get_by_label("Password confirmation").fill(PASSWORD + "x")
    alice.get_by_role("button", name="Sign up").click()
    expect(alice.get_by_label("Handle")).to_have_attribute("aria-invalid", "true")
    expect(alice.locator(".field--error")).to_have_count(4)
    screenshot(alice, "signup-errors-desktop")

    sign_up(alice, "alice", "Alice Liddell")
    sign_up(bob, "bob", "Bob Builder")
    expect(alice.get_by_test_id("inbox-empty")).to_be_visible()

    # Alice starts a conversation by handle; the script tag must arrive as text.
    alice.get_by_label("Message someone by @handle").fill("@bob")
    alice.get_by_role("button", name="New message").click()
    alice.wait_for_url("**/messages/new/bob")
    composer = alice.get_by_label("Message to Bob Builder")
    composer.fill("<script>alert(1)</script> hi bob")
    expect(alice.locator("#message-counter")).to_have_text("32 / 1024")
    alice.get_by_role("button", name="Send").click()
    alice.wait_for_url(re.compile(r".*/messages/[0-9a-f-]{36}#latest$"))
    expect(alice.locator(".message__body")).to_have_text(["<script>alert(1)</script> hi bob"])

    # Bob sees the unread badge, opens the conversation, and the badge clears.
    bob.goto("/messages")
    expect(nav_badge(bob)).to_have_text(re.compile(r"^1"))
    expect(bob.get_by_test_id("unread-badge")).to_have_count(1)
    bob.get_by_role("link", name=re.compile("Alice Liddell")).click()
    expect(bob.locator(".message__body")).to_have_text(["<script>alert(1)</script> hi bob"])
    expect(nav_badge(bob)).to_have_count(0)

    # The counter warns past the limit but never stops typing.
    reply = bob.get_by_label("Message to Alice Liddell")
    reply.fill("x" * 1030)
    expect(bob.locator("#message-counter")).to_have_class(re.compile("is-over"))
    assert len(reply.input_value()) == 1030
    reply.fill("hello alice")
    bob.get_by_role("button", name="Send").click()
    expect(bob.locator(".message__body")).to_have_text(
        ["<script>alert(1)</script> hi bob", "hello alice"]
    )
    bob.goto("/messages")
    expect(bob.get_by_test_id("unread-badge")).to_have_count(0)

    # Alice sees the reply in her inbox, then in the conversation.
    alice.goto("/messages")
    expect(alice.locator(".inbox__preview")).to_have_text(["hello alice"])
    expect(nav_badge(alice)).to_have_text(re.compile(r"^1"))
    screenshot(alice, "inbox-desktop")
    alice.get_by_role("link", name=re.compile("Bob Builder")).click()
    expect(alice.locator(".message__body").last).to_have_text("hello alice")
    screenshot(alice, "conversation-desktop")

    alice.set_viewport_size(PHONE)
    screenshot(alice, "conversation-phone")
    alice.goto("/messages")
    screenshot(alice, "inbox-phone")
    alice.goto("/accounts/profile/")
    screenshot(alice, "profile-phone")

    assert alice.dialogs == [] and bob.dialogs == []


# Live pages: the same two people against the ASGI server (uvicorn), where /api/events
# streams; pytest-django's live_server is WSGI, where pages fall back to polling.


def signed_in(browser, server, user, viewport=DESKTOP, **context_options):
    """A page in a browser context of its own, signed in as `user` by session cookie."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, base_url=server.url, **context_options)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    return page


def streaming(page):
    from playwright.sync_api import expect

    expect(page.locator("body")).to_have_attribute("data-live", "stream")


def mark_no_reload(page):
    page.evaluate("window.__sameDocument = true")


def still_same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


@pytest.fixture
def people(user_factory):
    make = user_factory
    return {
        "alice": make("alice", display_name="Alice Liddell", time_zone="UTC"),
        "bob": make("bob", display_name="Bob Builder", time_zone="UTC"),
        "carol": make("carol", display_name="Carol Danvers", time_zone="UTC"),
    }


def test_messages_typing_and_seen_arrive_live_in_both_browsers(asgi_server, browser, people):
    from playwright.sync_api import expect

    from messaging import services

    alice_user, bob_user, carol_user = people["alice"], people["bob"], people["carol"]
    first = services.conversation_start(sender=alice_user, handle="bob", body="hi bob")
    conversation = f"/messages/{first.group_uuid}"
    bob = signed_in(browser, asgi_server, bob_user)
    alice = signed_in(browser, asgi_server, alice_user)
    bob.goto(conversation)
    alice.goto(conversation)
    streaming(bob)
    streaming(alice)
    mark_no_reload(bob)
    mark_no_reload(alice)
    expect(nav_badge(bob)).to_have_count(0)

    # Someone else writes to Bob: his inbox list and badge change in place.
    services.conversation_start(sender=carol_user, handle="bob", body="coffee later?")
    expect(nav_badge(bob)).to_have_text(re.compile(r"^1"))
    expect(bob.locator(".inbox__item").first).to_contain_text("coffee later?")
    expect(bob.locator(".inbox__item.is-unread")).to_have_count(1)
    screenshot(bob, "live-inbox-update-desktop")

    # Alice sends from the page; Bob's open conversation shows it, and the preview moves.
    alice.get_by_label("Message to Bob Builder").fill("see https://example.org/plan, ok?")
    alice.get_by_role("button", name="Send").click()
    expect(bob.locator(".message__body").last).to_have_text("see https://example.org/plan, ok?")
    link = bob.locator(".message__body a").last
    expect(link).to_have_attribute("href", "https://example.org/plan")
    expect(link).to_have_attribute("rel", "noopener nofollow")
    expect(bob.locator(f'.inbox__item[data-group-uuid="{first.group_uuid}"]')).to_contain_text(
        "see https://example.org/plan"
    )
    # Her own tab got the message twice (its response and its event) and shows it once.
    expect(alice.locator(".message__body", has_text="see https://example.org")).to_have_count(1)
    # Bob has it open, so it is read at once: Alice sees "Seen" under it.
    expect(alice.get_by_test_id("seen")).to_be_visible()
    screenshot(alice, "live-seen-desktop")
    screenshot(bob, "live-message-arrived-desktop")

    # Bob types; Alice sees it, and it goes when his message arrives.
    bob.get_by_label("Message to Alice Liddell").press_sequentially("on my way", delay=20)
    expect(alice.get_by_test_id("typing")).to_have_text("Bob Builder is typing…")
    screenshot(alice, "live-typing-desktop")
    bob.get_by_label("Message to Alice Liddell").press("Enter")
    expect(alice.locator(".message__body").last).to_have_text("on my way")
    expect(alice.get_by_test_id("typing")).to_be_hidden()
    expect(alice.get_by_test_id("seen")).to_be_hidden()
    expect(alice.locator(".inbox__preview").first).to_have_text("on my way")
    # Consecutive messages from Alice are one run under one name.
    expect(bob.locator(".message:not(.message--cont) .message__sender")).to_have_text(
        ["Alice Liddell", "Bob Builder"]
    )

    # Alice's connection drops; what Bob sends meanwhile appears once she is back.
    alice.context.set_offline(True)
    bob.get_by_label("Message to Alice Liddell").fill("did you get this while offline?")
    bob.get_by_label("Message to Alice Liddell").press("Enter")
    expect(bob.locator(".message__body").last).to_have_text("did you get this while offline?")
    alice.wait_for_timeout(1500)
    alice.context.set_offline(False)
    expect(alice.locator(".message__body").last).to_have_text("did you get this while offline?")
    alice.wait_for_timeout(1500)
    expect(alice.locator(".message__body", has_text="while offline")).to_have_count(1)
    expect(alice.locator(".inbox__preview").first).to_have_text("did you get this while offline?")
    streaming(alice)
    screenshot(alice, "live-after-reconnect-desktop")

    assert still_same_document(alice) and still_same_document(bob)
    assert alice.dialogs == [] and bob.dialogs == []


def test_times_show_in_the_browsers_time_zone_from_the_first_visit(
    asgi_server, browser, user_factory
):
    from zoneinfo import ZoneInfo

    from playwright.sync_api import expect

    from accounts.models import User
    from messaging import services

    alice_user = user_factory("alice", display_name="Alice Liddell")
    bob_user = user_factory("bob", display_name="Bob Builder")
    sent = services.conversation_start(sender=bob_user, handle="alice", body="what time is it?")
    alice = signed_in(browser, asgi_server, alice_user, timezone_id="Pacific/Auckland")

    alice.goto(f"/messages/{sent.group_uuid}")

    expect(alice.locator("body")).to_have_attribute("data-time-zone", "Pacific/Auckland")
    local = sent.created_at.astimezone(ZoneInfo("Pacific/Auckland"))
    time = alice.locator(".message time").first
    expect(time).to_have_text(f"{local:%H:%M}")
    expect(time).to_have_attribute("title", re.compile(rf"{local:%H:%M:%S %Z}$"))
    assert User.objects.get(pk=alice_user.pk).time_zone == "Pacific/Auckland"
    screenshot(alice, "time-zone-auckland-desktop")


def test_without_live_events_pages_poll_the_api(start_asgi_server, browser, people):
    from playwright.sync_api import expect

    from devtools import dynamodb_local
    from messaging import services

    # No Redis at all: the stream is refused, the page polls.
    server = start_asgi_server(REDIS_URL=f"redis://127.0.0.1:{dynamodb_local.free_port()}/0")
    first = services.conversation_start(sender=people["alice"], handle="bob", body="hi bob")
    bob = signed_in(browser, server, people["bob"])
    bob.goto(f"/messages/{first.group_uuid}")
    expect(bob.locator("body")).to_have_attribute("data-live", "polling")
    mark_no_reload(bob)

    services.message_create(sender=people["alice"], group_uuid=first.group_uuid, body="polled")

    expect(bob.locator(".message__body").last).to_have_text("polled", timeout=20_000)
    assert still_same_document(bob)


def test_conversation_page_on_a_phone_and_the_profile_it_links_to(asgi_server, browser, people):
    from playwright.sync_api import expect

    from messaging import services

    first = services.conversation_start(sender=people["alice"], handle="bob", body="hi bob")
    alice = signed_in(browser, asgi_server, people["alice"], viewport=PHONE)
    alice.goto(f"/messages/{first.group_uuid}")
    expect(alice.locator(".pane--aside")).to_be_hidden()
    screenshot(alice, "live-conversation-phone")

    alice.get_by_role("link", name=re.compile("Bob Builder")).click()
    alice.wait_for_url("**/people/bob")
    expect(alice.get_by_test_id("person")).to_contain_text("@bob")
    screenshot(alice, "person-phone")


def test_an_invalid_password_field_is_visibly_marked(live_server, browser, user_factory):
    from playwright.sync_api import expect

    alice = signed_in(browser, live_server, user_factory("alice", time_zone="UTC"))
    alice.goto("/accounts/password/change/")
    alice.get_by_label("Old password").fill("not-my-password")
    alice.get_by_label("New password", exact=True).fill("a-brand-new-passphrase")
    alice.get_by_label("New password confirmation").fill("a-brand-new-passphrase")
    alice.get_by_role("button", name="Change password").click()

    old = alice.get_by_label("Old password")
    expect(old).to_have_attribute("aria-invalid", "true")
    old.evaluate("field => field.blur()")
    # The danger colour, not the neutral border every password field has.
    expect(old).to_have_css("border-top-color", "rgb(180, 35, 24)")
    screenshot(alice, "password-change-error-desktop")


def test_relative_times_in_the_inbox_keep_ticking(messaging_table, live_server, browser, people):
    from datetime import timedelta

    from playwright.sync_api import expect

    from messaging import services

    services.conversation_start(sender=people["bob"], handle="alice", body="tick tock")
    alice = signed_in(browser, live_server, people["alice"])
    alice.clock.install()
    alice.goto("/messages")
    expect(alice.locator(".inbox__time").first).to_have_text("just now")

    alice.clock.fast_forward(int(timedelta(minutes=3).total_seconds() * 1000))
    alice.clock.run_for(31_000)
    expect(alice.locator(".inbox__time").first).to_have_text("3 min ago")

    # A refresh of the list brings the server's wording ("just now" by its clock); the
    # reader's clock must still decide, without waiting for the next tick.
    alice.locator(".inbox__time").first.evaluate("node => node.setAttribute('data-old', '')")
    alice.clock.run_for(10_500)
    fresh = alice.locator(".inbox__time:not([data-old])").first
    expect(fresh).to_be_attached()
    expect(fresh).to_have_text("3 min ago")


def test_scrolling_up_loads_older_messages_above_without_leaving_the_page(
    messaging_table, live_server, browser, people, settings
):
    from playwright.sync_api import expect

    from messaging import services

    settings.MESSAGING_PAGE_SIZE = 5
    first = services.conversation_start(sender=people["bob"], handle="alice", body="message 0")
    for number in range(1, 12):
        services.message_create(
            sender=people["bob"], group_uuid=first.group_uuid, body=f"message {number}"
        )
    # Short enough that one page of messages overflows the thread.
    alice = signed_in(
        browser, live_server, people["alice"], viewport={"width": 1280, "height": 520}
    )
    alice.goto(f"/messages/{first.group_uuid}")
    bodies = alice.locator(".message__body")
    expect(bodies).to_have_count(5)
    url = alice.url

    alice.locator(".thread__scroll").evaluate("scroller => { scroller.scrollTop = 0; }")
    expect(bodies).to_have_count(10)
    alice.locator(".thread__scroll").evaluate("scroller => { scroller.scrollTop = 0; }")

    expect(bodies).to_have_count(12)
    expect(bodies.first).to_have_text("message 0")
    expect(bodies.last).to_have_text("message 11")
    expect(alice.get_by_role("link", name="Older messages")).to_have_count(0)
    assert alice.url == url
    screenshot(alice, "older-messages-loaded-desktop")


def test_a_block_from_the_conversation_page_refuses_the_other_persons_send_on_the_page(
    asgi_server, browser, people
):
    from playwright.sync_api import expect

    from messaging import services

    alice_user, bob_user = people["alice"], people["bob"]
    first = services.conversation_start(sender=bob_user, handle="alice", body="hi alice")
    conversation = f"/messages/{first.group_uuid}"
    alice = signed_in(browser, asgi_server, alice_user)
    bob = signed_in(browser, asgi_server, bob_user)
    alice.goto(conversation)
    bob.goto(conversation)
    streaming(bob)
    mark_no_reload(bob)

    alice.get_by_test_id("conversation-controls").get_by_role("button", name="Block").click()
    expect(alice.get_by_test_id("blocked-notice")).to_contain_text("You blocked @bob")
    expect(alice.get_by_role("button", name="Unblock")).to_be_visible()
    screenshot(alice, "block-conversation-blocker-desktop")

    # Bob's page is the one he had open before the block: his send is refused there,
    # with the reason, and his draft stays to copy or keep.
    bob.get_by_label("Message to Alice Liddell").fill("are you still there?")
    bob.get_by_role("button", name="Send").click()
    expect(bob.locator("#message-error")).to_have_text("You can't message @alice.")
    expect(bob.get_by_label("Message to Alice Liddell")).to_have_value("are you still there?")
    expect(bob.locator(".message__body")).to_have_text(["hi alice"])
    screenshot(bob, "block-conversation-refused-desktop")
    assert still_same_document(bob)
    expect(alice.locator(".message__body")).to_have_text(["hi alice"])

    # Unblocking from the same page lets him send again.
    alice.get_by_role("button", name="Unblock").click()
    expect(alice.get_by_test_id("blocked-notice")).to_have_count(0)
    bob.get_by_role("button", name="Send").click()
    expect(alice.locator(".message__body").last).to_have_text("are you still there?")

    # The profile carries the same control.
    alice.goto("/people/bob")
    alice.get_by_role("button", name="Block @bob").click()
    expect(alice.get_by_test_id("blocked-notice")).to_contain_text("You blocked @bob")
    expect(alice.get_by_role("link", name="Message @bob")).to_have_count(0)
    screenshot(alice, "block-profile-desktop")
    assert alice.dialogs == [] and bob.dialogs == []


def test_a_muted_conversation_updates_live_without_raising_the_badge(asgi_server, browser, people):
    from playwright.sync_api import expect

    from messaging import services

    alice_user, carol_user = people["alice"], people["carol"]
    first = services.conversation_start(sender=carol_user, handle="alice", body="hello")
    alice = signed_in(browser, asgi_server, alice_user)
    alice.goto(f"/messages/{first.group_uuid}")
    alice.get_by_role("button", name="Mute").click()
    expect(alice.get_by_role("button", name="Unmute")).to_be_visible()
    alice.get_by_role("link", name="Messages").first.click()
    alice.wait_for_url("**/messages")
    streaming(alice)
    mark_no_reload(alice)
    expect(alice.get_by_test_id("muted-mark")).to_have_count(1)

    services.message_create(sender=carol_user, group_uuid=first.group_uuid, body="muted news")

    item = alice.locator(f'.inbox__item[data-group-uuid="{first.group_uuid}"]')
    expect(item).to_contain_text("muted news")
    expect(item.get_by_test_id("unread-badge")).to_have_text(re.compile(r"^1"))
    expect(nav_badge(alice)).to_have_count(0)
    assert not alice.title().startswith("(")
    screenshot(alice, "muted-inbox-desktop")

    # Hiding it from the conversation page takes it out of the inbox.
    alice.goto(f"/messages/{first.group_uuid}")
    alice.get_by_role("button", name="Hide").click()
    alice.wait_for_url("**/messages")
    expect(alice.get_by_test_id("inbox-empty")).to_be_visible()
    screenshot(alice, "hidden-inbox-desktop")


def test_a_person_downloads_their_messages_then_deletes_their_account(
    messaging_table, live_server, browser
):
    import json

    from playwright.sync_api import expect

    alice = open_page(browser, live_server)
    bob = open_page(browser, live_server)
    sign_up(alice, "alice", "Alice Liddell")
    sign_up(bob, "bob", "Bob Builder")
    alice.goto("/messages/new/bob")
    alice.get_by_label("Message to Bob Builder").fill("keep this, bob")
    alice.get_by_role("button", name="Send").click()
    alice.wait_for_url(re.compile(r".*/messages/[0-9a-f-]{36}#latest$"))
    conversation_url = alice.url.removesuffix("#latest")

    # The profile's link downloads the export as a file.
    alice.goto("/accounts/profile/")
    with alice.expect_download() as download:
        alice.get_by_test_id("export-link").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert download.value.suggested_filename == "cruddur-export-alice.json"
    assert exported["conversations"][0]["messages"][0]["message"] == "keep this, bob"

    # A wrong password deletes nothing and says so beside the field.
    form = alice.get_by_test_id("delete-account")
    form.get_by_label("Your password").fill("not-my-password")
    form.get_by_role("button", name="Delete my account").click()
    expect(form.locator(".field__error")).to_have_text(
        "That is not your password. Nothing was deleted."
    )
    form.scroll_into_view_if_needed()
    screenshot(alice, "account-delete-wrong-password")

    form = alice.get_by_test_id("delete-account")
    form.get_by_label("Your password").fill(PASSWORD)
    form.get_by_role("button", name="Delete my account").click()
    alice.wait_for_url("**/accounts/login/")
    expect(alice.get_by_role("status")).to_have_text("The account @alice is deleted.")
    screenshot(alice, "account-deleted")

    # Bob's conversation still opens: the message stays, from "Deleted user", unlinked.
    bob.goto(conversation_url)
    expect(bob.locator("#thread-title")).to_have_text("Deleted user")
    expect(bob.locator(".message__body")).to_have_text(["keep this, bob"])
    expect(bob.locator("a[href='/people/alice'], a[href='/people/deleted']")).to_have_count(0)
    screenshot(bob, "conversation-with-deleted-user")


def test_edit_delete_and_report_from_the_page_reach_the_other_persons_open_page(
    asgi_server, browser, people
):
    from playwright.sync_api import expect

    from messaging import services
    from messaging.models import MessageReport

    alice_user, bob_user = people["alice"], people["bob"]
    first = services.conversation_start(sender=alice_user, handle="bob", body="hi bob")
    services.message_create(sender=bob_user, group_uuid=first.group_uuid, body="hi alice")
    plan = services.message_create(
        sender=alice_user, group_uuid=first.group_uuid, body="see you at 5"
    )
    conversation = f"/messages/{first.group_uuid}"
    alice = signed_in(browser, asgi_server, alice_user)
    bob = signed_in(browser, asgi_server, bob_user)
    alice.goto(conversation)
    bob.goto(conversation)
    streaming(alice)
    streaming(bob)
    mark_no_reload(alice)
    mark_no_reload(bob)
    alices_plan = alice.locator(f"#m-{plan.uuid}")
    bobs_view = bob.locator(f"#m-{plan.uuid}")
    # One's own messages offer Edit and Delete; someone else's offer Report.
    expect(alices_plan.get_by_role("button")).to_have_text(["Edit", "Delete"])
    expect(bobs_view.get_by_role("button")).to_have_text(["Report"])
    expect(alice.locator(".message", has_text="hi alice").get_by_role("button")).to_have_text(
        ["Report"]
    )

    # Alice edits her last message: both pages and Bob's inbox preview follow.
    alices_plan.get_by_role("button", name="Edit").click()
    field = alices_plan.get_by_label("Edit your message")
    expect(field).to_have_value("see you at 5")
    field.fill("see you at 6")
    screenshot(alice, "message-edit-form-desktop")
    alices_plan.get_by_role("button", name="Save").click()
    expect(alices_plan.locator(".message__body")).to_have_text("see you at 6")
    expect(alices_plan.locator(".message__edited")).to_have_text("(edited)")
    expect(bobs_view.locator(".message__body")).to_have_text("see you at 6")
    expect(bobs_view.locator(".message__edited")).to_be_visible()
    expect(bob.locator(".inbox__preview").first).to_have_text("see you at 6")
    screenshot(bob, "message-edited-live-desktop")

    # Bob reports Alice's first message, with a reason.
    bobs_first = bob.locator(f"#m-{first.uuid}")
    bobs_first.get_by_role("button", name="Report").click()
    bobs_first.get_by_label("Why are you reporting this message?").fill("testing the report")
    bobs_first.get_by_role("button", name="Send report").click()
    expect(bobs_first.get_by_role("status")).to_have_text("Reported. Staff will look at it.")
    expect(bobs_first.get_by_role("button")).to_have_count(0)
    screenshot(bob, "message-reported-desktop")
    report = MessageReport.objects.get()
    assert (report.body, report.reason, report.reporter_id) == (
        "hi bob",
        "testing the report",
        bob_user.pk,
    )

    # Alice deletes it: it stays in place as "Message deleted" on both pages.
    alices_plan.get_by_role("button", name="Delete").click()
    screenshot(alice, "message-delete-confirm-desktop")
    alices_plan.get_by_role("button", name="Delete for everyone").click()
    expect(alices_plan.locator(".message__body")).to_have_text("Message deleted")
    expect(alices_plan.get_by_role("button")).to_have_count(0)
    expect(bobs_view.locator(".message__body")).to_have_text("Message deleted")
    expect(bobs_view.locator(".message__edited")).to_have_count(0)
    expect(bobs_view.get_by_role("button")).to_have_count(0)
    expect(bob.locator(".inbox__preview").first).to_have_text("Message deleted")
    expect(bob.locator(".message__body")).to_have_text(["hi bob", "hi alice", "Message deleted"])
    screenshot(alice, "message-deleted-desktop")
    screenshot(bob, "message-deleted-live-desktop")

    alice.set_viewport_size(PHONE)
    alice.locator(f"#m-{first.uuid}").get_by_role("button", name="Edit").click()
    screenshot(alice, "message-edit-form-phone")

    # A reload shows the same, from the server.
    bob.reload()
    expect(bob.locator(f"#m-{plan.uuid} .message__body")).to_have_text("Message deleted")
    assert still_same_document(alice)
    assert alice.dialogs == [] and bob.dialogs == []
