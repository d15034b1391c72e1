import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_create_user_defaults_display_name_to_handle_and_gets_a_uuid():
    user = User.objects.create_user("andrewbrown", email="andrew@example.com", password="pw-12345")
    assert user.display_name == "andrewbrown"
    assert isinstance(user.uuid, uuid.UUID)
    assert user.check_password("pw-12345")
    assert str(user) == "@andrewbrown"


def test_handles_are_unique_ignoring_case():
    User.objects.create_user("Bayko")
    with pytest.raises(ValidationError, match="taken"):
        User.objects.create_user("bayko")
    with pytest.raises(IntegrityError), transaction.atomic():
        User(handle="BAYKO", display_name="x").save()


@pytest.mark.parametrize("handle", ["ab", "x" * 31, "has space", "dash-ed", "émile", ""])
def test_malformed_handles_are_rejected(handle):
    with pytest.raises((ValidationError, ValueError)):
        User.objects.create_user(handle)


@pytest.mark.parametrize("handle", ["deleted", "Deleted"])
def test_the_handle_deleted_accounts_show_under_is_reserved(handle):
    with pytest.raises(ValidationError, match="reserved"):
        User.objects.create_user(handle)


def test_email_is_optional_but_unique_when_set():
    User.objects.create_user("first")
    User.objects.create_user("second", email="")
    User.objects.create_user("third", email="same@example.com")
    with pytest.raises(ValidationError):
        User.objects.create_user("fourth", email="same@example.com")


def test_uuid_never_changes_on_save():
    user = User.objects.create_user("steady")
    original = user.uuid
    user.display_name = "Steady Eddie"
    user.save()
    user.refresh_from_db()
    assert user.uuid == original


def test_login_lookup_ignores_handle_case():
    user = User.objects.create_user("CamelCase")
    assert User.objects.get_by_natural_key("camelcase") == user


def test_create_superuser_is_staff():
    admin = User.objects.create_superuser("root_admin", email="root@example.com", password="pw")
    assert admin.is_staff and admin.is_superuser
