"""Writes for accounts: sign-up, profile changes, avatars."""

import io
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import User, time_zone_validate

AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_SIZE = 256
AVATAR_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
# A 2 MB file can still decode to gigapixels; refuse anything larger than a big photo.
AVATAR_MAX_PIXELS = 40_000_000


def user_create(*, handle: str, display_name: str, email: str, password: str) -> User:
    return User.objects.create_user(
        handle, email=email, password=password, display_name=display_name
    )


def avatar_thumbnail_make(*, upload) -> ContentFile:
    """A square JPEG thumbnail of an uploaded image, or ValidationError.

    Only what Pillow decodes as a real image counts: the name and the browser's content
    type are not trusted.
    """
    if upload.size > AVATAR_MAX_BYTES:
        raise ValidationError(
            "Avatars are at most 2 MB; this file is %(size)s MB.",
            params={"size": f"{upload.size / 1024 / 1024:.1f}"},
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in AVATAR_FORMATS:
                raise ValidationError("Upload a JPEG, PNG, GIF or WebP image.")
            if probe.width * probe.height > AVATAR_MAX_PIXELS:
                raise ValidationError("That image is too large in pixels; upload a smaller one.")
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as opened:
            image = ImageOps.fit(
                ImageOps.exif_transpose(opened).convert("RGBA"), (AVATAR_SIZE, AVATAR_SIZE)
            )
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationError("That file is not an image we can read.") from exc
    # Transparent pixels become white: JPEG has no alpha.
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, format="JPEG", quality=85, optimize=True)
    return ContentFile(buffer.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


def user_profile_update(
    *,
    user: User,
    display_name: str,
    bio: str,
    avatar: ContentFile | None = None,
    remove_avatar: bool = False,
    time_zone: str | None = None,
    send_read_receipts: bool | None = None,
) -> User:
    """Change the profile. Names are resolved when pages are read, so nothing is copied
    to DynamoDB: the new name shows in every inbox and conversation at once."""
    old_avatar_name = user.avatar.name if user.avatar else ""
    user.display_name = display_name
    user.bio = bio
    if time_zone is not None:
        user.time_zone = time_zone
    if send_read_receipts is not None:
        user.send_read_receipts = send_read_receipts
    # Validate before storing a file, so a rejected change leaves no orphan upload.
    user.full_clean(exclude=["password", "avatar"])
    if avatar is not None:
        # A new name on every upload, so browsers and CDNs never show a cached old one.
        user.avatar.save(avatar.name or f"{uuid.uuid4().hex}.jpg", avatar, save=False)
    elif remove_avatar:
        user.avatar = ""
    with transaction.atomic():
        user.save(
            update_fields=["display_name", "bio", "avatar", "time_zone", "send_read_receipts"]
        )
    if old_avatar_name and old_avatar_name != (user.avatar.name if user.avatar else ""):
        transaction.on_commit(lambda: user.avatar.storage.delete(old_avatar_name))
    return user


def user_time_zone_default(*, user: User, time_zone: str) -> bool:
    """The zone the browser reported on a first visit, kept unless one is already set
    (the profile is where a person changes it). False for a name that is not a zone."""
    try:
        time_zone_validate(time_zone)
    except ValidationError:
        return False
    if not time_zone or user.time_zone:
        return False
    updated = User.objects.filter(pk=user.pk, time_zone="").update(time_zone=time_zone)
    if updated:
        user.time_zone = time_zone
    return bool(updated)


def user_delete(*, user: User) -> None:
    """Delete the account: the user, their API tokens and sessions' hold on them (both
    cascade or stop resolving). Apps that keep the user's data elsewhere erase it in a
    `pre_delete` receiver, inside this transaction: if one fails, nothing is deleted
    and deleting again finishes the job."""
    with transaction.atomic():
        user.delete()
