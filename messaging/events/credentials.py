"""Revocation notices for open event streams (the Django side).

When one of a user's sessions or API tokens is deleted (logout, `DELETE /api/auth/token`,
a password change, the admin) or the user's password or active flag is saved, that
user's channel carries a `credentials_changed` notice, and each of their open streams
asks Postgres whether its own credentials still sign anyone in. So a stream costs no
query per heartbeat and ends at once rather than within one. Sent after the transaction
commits, so the re-check sees the change.
"""

import uuid
from collections.abc import Callable

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from rest_framework.authtoken.models import Token

from messaging.events.publisher import publish_credentials_changed
from messaging.events.web import target

# The fields of a user that decide whether their sessions and tokens still sign in.
SIGN_IN_FIELDS = frozenset({"password", "is_active"})


def _tell(user_uuid: Callable[[], uuid.UUID | None]) -> None:
    """After the commit, tell the user's streams, when there are live events at all
    (only then is the user's uuid looked up, if it takes a query)."""
    destination = target()
    if not destination.redis_url:
        return
    found = user_uuid()
    if found is not None:
        transaction.on_commit(
            lambda: publish_credentials_changed(target=destination, user_uuid=found)
        )


def _uuid_of(user_pk) -> uuid.UUID | None:
    return get_user_model().objects.filter(pk=user_pk).values_list("uuid", flat=True).first()


def token_deleted(sender, instance: Token, **kwargs) -> None:
    if Token.user.is_cached(instance):
        _tell(lambda: instance.user.uuid)
    else:
        _tell(lambda: _uuid_of(instance.user_id))


def session_deleted(sender, instance: Session, **kwargs) -> None:
    # An expired session signs nobody in already (its streams end at their next full
    # check); skipping it keeps `clearsessions` from a lookup per row.
    if instance.expire_date <= timezone.now():
        return
    user_pk = instance.get_decoded().get(SESSION_KEY)
    if user_pk is not None:
        _tell(lambda: _uuid_of(user_pk))


def user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    # `update_last_login` saves only last_login at every sign-in: nothing to re-check.
    if created or (update_fields is not None and not SIGN_IN_FIELDS & set(update_fields)):
        return
    _tell(lambda: instance.uuid)


def connect() -> None:
    post_delete.connect(token_deleted, sender=Token, dispatch_uid="events.token_deleted")
    post_delete.connect(session_deleted, sender=Session, dispatch_uid="events.session_deleted")
    post_save.connect(user_saved, sender=get_user_model(), dispatch_uid="events.user_saved")
