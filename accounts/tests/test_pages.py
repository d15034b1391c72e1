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
