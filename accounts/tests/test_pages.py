import html
import io
import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-signup-passphrase"


@pytest.fixture(autouse=True)
def local_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


@pytest.fixture
def alice(user_factory):
    return user_factory("alice", display_name="Alice Liddell", email="alice@example.com")


def signup_data(**overrides):
    return {
        "handle": "newbie",
        "display_name": "New Person",
        "email": "newbie@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def image_upload(size=(400, 300), mode="RGBA", fmt="PNG", name="me.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 90, 128) if mode == "RGBA" else (200, 30, 90)).save(
        buffer, format=fmt
    )
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_signup_creates_the_account_and_signs_in(client):
    response = client.post("/accounts/signup/", signup_data())

    assert response.status_code == 302
    assert response["Location"] == "/messages"
    user = User.objects.get(handle="newbie")
    assert (user.display_name, user.email) == ("New Person", "newbie@example.com")
    assert user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"handle": "ALICE"}, "handle", "That handle is taken."),
        ({"handle": "Deleted"}, "handle", "That handle is reserved. Pick another."),
        ({"handle": "no spaces"}, "handle", "A handle is 3 to 30 letters, digits or underscores."),
        ({"email": ""}, "email", "This field is required."),
        ({"email": "ALICE@example.com"}, "email", "An account with this email already exists."),
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"password2": "something-else-entirely"}, "password2", "didn\u2019t match"),
        ({"password1": "abc", "password2": "abc"}, "password2", "too short"),
    ],
)
def test_signup_shows_field_errors_inline(client, alice, overrides, field, error):
    response = client.post("/accounts/signup/", signup_data(**overrides))

    assert response.status_code == 400
    page = response.content.decode()
    # The message sits in the field's own block, right after its input.
    block = re.search(rf'id="id_{field}".*?(?=<div class="field[ "]|<button)', page, re.S)
    assert "field__error" in block.group(0)
    assert error in html.unescape(block.group(0))
    assert not User.objects.filter(handle__iexact="newbie").exists()


def test_login_follows_next_and_logout_only_by_post(client, alice):
    response = client.post(
        "/accounts/login/",
        {"username": "Alice", "password": "correct-horse-battery", "next": "/accounts/profile/"},
    )
    assert response["Location"] == "/accounts/profile/"

    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/accounts/profile/").status_code == 302


def test_wrong_password_is_explained(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


@pytest.mark.parametrize("path", ["/accounts/signup/", "/accounts/login/"])
def test_account_forms_reject_posts_without_csrf_token(path):
    client = Client(enforce_csrf_checks=True)
    assert client.post(path, signup_data()).status_code == 403
    assert not User.objects.filter(handle="newbie").exists()


def test_profile_changes_name_and_bio(client, alice):
    client.force_login(alice)

    response = client.post(
        "/accounts/profile/", {"display_name": "  Alice in Wonderland ", "bio": "Curious."}
    )

    assert response["Location"] == "/accounts/profile/"
    alice.refresh_from_db()
    assert (alice.display_name, alice.bio) == ("Alice in Wonderland", "Curious.")
    assert "Profile saved." in client.get("/accounts/profile/").content.decode()


def test_blank_display_name_is_refused_inline(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/profile/", {"display_name": "   ", "bio": ""})
    assert response.status_code == 400
    assert "field__error" in response.content.decode()
    alice.refresh_from_db()
    assert alice.display_name == "Alice Liddell"


def test_without_avatar_the_initials_show(client, alice):
    client.force_login(alice)
    page = client.get("/accounts/profile/").content.decode()
    assert 'class="avatar avatar--initials"' in page
    assert ">AL</span>" in page


def test_avatar_upload_stores_a_square_jpeg_thumbnail(client, alice):
    client.force_login(alice)

    response = client.post(
        "/accounts/profile/",
        {"display_name": "Alice", "bio": "", "avatar": image_upload(size=(900, 300))},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.avatar.name.startswith("avatars/") and alice.avatar.name.endswith(".jpg")
    with default_storage.open(alice.avatar.name) as stored, Image.open(stored) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (256, 256))
    assert f'src="{alice.avatar.url}"' in client.get("/accounts/profile/").content.decode()


def test_new_avatar_replaces_and_deletes_the_old_file(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    client.post("/accounts/profile/", {"display_name": "A", "avatar": image_upload()})
    alice.refresh_from_db()
    first = alice.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/profile/", {"display_name": "A", "avatar": image_upload(mode="RGB")}
        )
    alice.refresh_from_db()

    assert alice.avatar.name != first
    assert not default_storage.exists(first)
    assert default_storage.exists(alice.avatar.name)


def test_remove_avatar_goes_back_to_initials(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    client.post("/accounts/profile/", {"display_name": "A", "avatar": image_upload()})
    alice.refresh_from_db()
    stored = alice.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/profile/", {"display_name": "A", "remove_avatar": "on"})

    alice.refresh_from_db()
    assert not alice.avatar
    assert not default_storage.exists(stored)


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (
            SimpleUploadedFile("fake.png", b"<?php echo 'not an image'; ?>", "image/png"),
            "not an image we can read",
        ),
        (
            SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024)),
            "at most 2 MB",
        ),
        (
            SimpleUploadedFile("doc.pdf", b"%PDF-1.4 not an image", "application/pdf"),
            "not an image we can read",
        ),
    ],
)
def test_avatar_that_is_not_a_small_real_image_is_refused(client, alice, upload, error):
    client.force_login(alice)

    response = client.post("/accounts/profile/", {"display_name": "Changed", "avatar": upload})

    assert response.status_code == 400
    assert error in response.content.decode()
    alice.refresh_from_db()
    assert not alice.avatar and alice.display_name == "Alice Liddell"


def test_profile_sets_the_time_zone_and_read_receipts(client, alice):
    client.force_login(alice)

    response = client.post(
        "/accounts/profile/",
        {"display_name": "Alice Liddell", "bio": "", "time_zone": "Asia/Tokyo"},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    # An unticked box is not sent at all: receipts are off.
    assert (alice.time_zone, alice.send_read_receipts) == ("Asia/Tokyo", False)
    page = client.get("/accounts/profile/").content.decode()
    assert '<option value="Asia/Tokyo" selected>' in page


def test_profile_refuses_a_time_zone_that_does_not_exist(client, alice):
    client.force_login(alice)

    response = client.post(
        "/accounts/profile/",
        {"display_name": "Alice Liddell", "time_zone": "Mars/Olympus_Mons"},
    )

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    alice.refresh_from_db()
    assert alice.time_zone == ""


def test_the_browsers_time_zone_is_stored_only_while_none_is_set(client, alice):
    client.force_login(alice)

    first = client.post("/accounts/time_zone", {"time_zone": "Europe/Paris"})
    second = client.post("/accounts/time_zone", {"time_zone": "Asia/Tokyo"})
    nonsense = client.post("/accounts/time_zone", {"time_zone": "../../etc/passwd"})

    assert (first.status_code, second.status_code, nonsense.status_code) == (204, 409, 409)
    alice.refresh_from_db()
    assert alice.time_zone == "Europe/Paris"


def test_time_zone_report_needs_a_signed_in_post_with_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post("/accounts/time_zone", {"time_zone": "Europe/Paris"}).status_code == 403
    assert client.get("/accounts/time_zone").status_code == 405
    assert Client().post("/accounts/time_zone").status_code == 302


def test_a_persons_profile_shows_name_handle_bio_and_a_way_to_message_them(
    client, alice, user_factory
):
    user_factory("bob", display_name="Bob Builder", bio="Can we fix it?\nYes we can.")
    client.force_login(alice)

    page = client.get("/people/BOB").content.decode()

    assert "Bob Builder" in page and "@bob" in page
    assert "Can we fix it?<br>Yes we can." in page
    assert 'href="/messages/new/bob"' in page
    assert client.get("/people/nobody").status_code == 404


def test_password_change_needs_the_old_password_and_marks_the_field(client, alice):
    client.force_login(alice)

    wrong = client.post(
        "/accounts/password/change/",
        {
            "old_password": "not-it",
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
    )
    right = client.post(
        "/accounts/password/change/",
        {
            "old_password": "correct-horse-battery",
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
    )

    assert re.search(r'name="old_password"[^>]*aria-invalid="true"', wrong.content.decode())
    assert right["Location"] == "/accounts/password/change/done/"
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-passphrase")


def test_password_reset_mails_a_link_that_sets_a_new_password(client, alice, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "ALICE@example.com"})

    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["alice@example.com"]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", mailoutbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert done["Location"] == "/accounts/password/reset/done/"
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-passphrase")


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mailoutbox == []


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.ico")
