"""A profile change reaches the cached names at once (messaging.cache): every save or
deletion of a user invalidates their entry once the transaction that made it commits,
so no read in between can store the old profile under the new generation. Writes that
bypass signals (`QuerySet.update`) must not touch the cached fields: handle, display
name, avatar and the read-receipt setting."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import User
from messaging import cache


@receiver(post_save, sender=User, dispatch_uid="messaging.person_saved")
@receiver(post_delete, sender=User, dispatch_uid="messaging.person_deleted")
def person_cache_invalidate(sender, instance: User, **kwargs) -> None:
    user_uuid = instance.uuid
    transaction.on_commit(lambda: cache.people_invalidate(user_uuids=[user_uuid]))
