import uuid
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

HANDLE_PATTERN = r"^[A-Za-z0-9_]{3,30}$"
# Pages and the API show a deleted account's messages under the handle "deleted": a real
# person holding it would be mistaken for them (and blocked, or replied to, in their place).
RESERVED_HANDLES = {"deleted"}


def time_zone_validate(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(
            "Pick a time zone from the list (an IANA name such as Europe/Paris)."
        )


handle_validator = RegexValidator(
    HANDLE_PATTERN,
    message="A handle is 3 to 30 letters, digits or underscores.",
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, handle, email, password, **extra):
        if not handle:
            raise ValueError("A handle is required.")
        email = self.normalize_email(email) or None
        extra.setdefault("display_name", handle)
        user = self.model(handle=handle, email=email, **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, handle, email=None, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(handle, email, password, **extra)

    def create_superuser(self, handle, email=None, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(handle, email, password, **extra)

    def get_by_natural_key(self, handle):
        # Handles are unique case-insensitively, so logging in as "AndrewBrown" finds
        # "andrewbrown".
        return self.get(handle__iexact=handle)


class User(AbstractBaseUser, PermissionsMixin):
    # The only identity written to DynamoDB: handles and names may change, this never does.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    handle = models.CharField(
        max_length=30,
        unique=True,
        validators=[handle_validator],
        help_text="3 to 30 letters, digits or underscores. Others reach you by @handle.",
    )
    display_name = models.CharField(
        max_length=100, validators=[MinLengthValidator(1), MaxLengthValidator(100)]
    )
    email = models.EmailField(blank=True, null=True, unique=True)
    bio = models.TextField(blank=True, max_length=500)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    cognito_user_id = models.CharField(max_length=128, blank=True, null=True, unique=True)
    # Blank until the browser reports its zone on the first visit; pages show UTC until then.
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[time_zone_validate],
        help_text="Times on every page are shown in this zone.",
    )
    send_read_receipts = models.BooleanField(
        default=True,
        help_text="Let the people you talk to see when you have read their messages.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "handle"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("handle"), name="accounts_user_handle_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"@{self.handle}"

    def clean(self) -> None:
        super().clean()
        if self.email == "":
            self.email = None
        if self.handle and self.handle.lower() in RESERVED_HANDLES and self._state.adding:
            raise ValidationError({"handle": "That handle is reserved. Pick another."})
        if self.handle:
            clash = User.objects.filter(handle__iexact=self.handle).exclude(pk=self.pk)
            if clash.exists():
                raise ValidationError({"handle": "That handle is taken."})
