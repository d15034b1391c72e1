import zoneinfo

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import BaseUserCreationForm

from accounts.models import RESERVED_HANDLES, User
from accounts.services import AVATAR_MAX_BYTES, avatar_thumbnail_make


class SignupForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("handle", "display_name", "email")
        help_texts = {
            "handle": "3 to 30 letters, digits or underscores. Others message you by @handle.",
            "display_name": "The name people see beside your messages.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["handle"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        )
        self.fields["display_name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    def clean_handle(self):
        handle = self.cleaned_data["handle"].strip().removeprefix("@")
        if handle.lower() in RESERVED_HANDLES:
            raise forms.ValidationError("That handle is reserved. Pick another.")
        if User.objects.filter(handle__iexact=handle).exists():
            raise forms.ValidationError("That handle is taken.")
        return handle

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists.")
        return email


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        max_length=100, help_text="The name people see beside your messages."
    )
    bio = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    avatar = forms.FileField(
        required=False,
        help_text=f"A JPEG, PNG, GIF or WebP image, at most {AVATAR_MAX_BYTES // 1024 // 1024}"
        " MB. We crop it to a square.",
        widget=forms.FileInput(attrs={"accept": "image/*"}),
    )
    remove_avatar = forms.BooleanField(required=False, label="Remove my avatar")
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Times on every page are shown in this zone.",
    )
    send_read_receipts = forms.BooleanField(
        required=False,
        label="Send read receipts",
        help_text="When on, the people you talk to see \u201cSeen\u201d once you have read"
        " their messages. When off, you don't tell them.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form: the list comes from the system's tz database.
        time_zone = self.fields["time_zone"]
        assert isinstance(time_zone, forms.ChoiceField)
        time_zone.choices = [("", "Not set (UTC)")] + [
            (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
        ]

    def clean_display_name(self):
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError("Your display name can't be blank.")
        return name

    def clean_avatar(self):
        upload = self.cleaned_data.get("avatar")
        if not upload:
            return None
        return avatar_thumbnail_make(upload=upload)


class AccountDeleteForm(forms.Form):
    """The password again, so a session left open is not enough to delete the account.
    It is checked through `authenticate`, so guesses here count towards the same
    sign-in lockout (django-axes) as the login page."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Type it to confirm. This cannot be undone.",
    )

    def __init__(self, *args, user: User, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_password(self):
        password = self.cleaned_data["password"]
        confirmed = authenticate(self.request, username=self.user.handle, password=password)
        if getattr(self.request, "axes_locked_out", False):
            raise forms.ValidationError(
                "Too many wrong passwords. Wait a while, then try again. Nothing was deleted."
            )
        if confirmed is None or confirmed.pk != self.user.pk:
            raise forms.ValidationError("That is not your password. Nothing was deleted.")
        return password
