"""Receivers the messaging app connects in `MessagingConfig.ready`.

An account's deletion reaches the messaging table through Django's `pre_delete` signal
rather than a call from accounts' views and admin: accounts must not import messaging
(an import-linter contract), and a signal covers every path that deletes a user, the
admin's bulk action and a shell included. `pre_delete` (not `post_delete`) runs inside
the delete's transaction, before the row goes, so a DynamoDB failure rolls the delete
back instead of leaving a table that points at nobody.
"""

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from accounts.models import User
from messaging.services.people import account_items_erase


@receiver(pre_delete, sender=User, dispatch_uid="messaging.account_deletion_erases_items")
def account_deletion_erases_items(sender, instance: User, **kwargs) -> None:
    account_items_erase(user_uuid=instance.uuid)
