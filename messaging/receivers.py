"""Receivers the messaging app connects in `MessagingConfig.ready`.

An account's deletion reaches the messaging table through Django's `pre_delete` signal
rather than a call from accounts' views and admin: accounts must not import messaging
(an import-linter contract), and a signal covers every path that deletes a user, the
admin's bulk action and a shell included. `pre_delete` (not `post_delete`) runs inside
the delete's transaction, before the row goes, so a DynamoDB failure rolls the delete
back instead of leaving a table that points at nobody.

A profile change reaches the cached names (messaging.cache) at once: every save or
deletion of a user invalidates their entry once the transaction that made it commits,
so no read in between can store the old profile under the new generation. Writes that
bypass signals (`QuerySet.update`) must not touch the cached fields: handle, display
name, avatar and the read-receipt setting.

Who an API token signs in is cached too (messaging.api.tokens): deleting the token (sign
out, a password change, the admin, the account's deletion) or saving its user retires
that entry after the commit, so the next request with the token is refused or sees the
saved user. The same rule holds for `QuerySet.update`: not of the active flag.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from accounts.models import User
from messaging import cache
from messaging.services.people import account_items_erase


@receiver(pre_delete, sender=User, dispatch_uid="messaging.account_deletion_erases_items")
def account_deletion_erases_items(sender, instance: User, **kwargs) -> None:
    account_items_erase(user_uuid=instance.uuid)


@receiver(post_save, sender=User, dispatch_uid="messaging.person_saved")
@receiver(post_delete, sender=User, dispatch_uid="messaging.person_deleted")
def person_cache_invalidate(sender, instance: User, **kwargs) -> None:
    user_uuid = instance.uuid
    transaction.on_commit(lambda: cache.people_invalidate(user_uuids=[user_uuid]))


@receiver(post_delete, sender=Token, dispatch_uid="messaging.token_deleted")
def token_credentials_invalidate(sender, instance: Token, **kwargs) -> None:
    token_key = instance.key
    transaction.on_commit(lambda: cache.credentials_invalidate(token_keys=[token_key]))


@receiver(post_save, sender=User, dispatch_uid="messaging.credentials_user_saved")
def user_credentials_invalidate(
    sender, instance: User, created: bool, update_fields=None, **kwargs
) -> None:
    # Every sign-in saves last_login alone: the cached user may keep the older one.
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    token_keys = list(Token.objects.filter(user_id=instance.pk).values_list("key", flat=True))
    if token_keys:
        transaction.on_commit(lambda: cache.credentials_invalidate(token_keys=token_keys))
