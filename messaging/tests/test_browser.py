"""Two people use Cruddur in a real browser: Playwright drives Debian's Chromium against
the live server. Screenshots land in test-artifacts/screenshots/ (git-ignored)."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "a-long-browser-passphrase"


@pytest.fixture
def browser():
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
