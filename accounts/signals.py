"""A password change ends every API token of the user: whoever held the old password
may also hold a token issued with it."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from accounts.models import User


@receiver(post_save, sender=User, dispatch_uid="accounts.password_change_ends_tokens")
def password_change_ends_tokens(sender, instance: User, created: bool, **kwargs) -> None:
    # set_password() keeps the raw password in `_password` until the save that stores it
    # has run (AbstractBaseUser.save clears it after post_save), which makes this save
    # the one that changes the password.
    if not created and getattr(instance, "_password", None) is not None:
        Token.objects.filter(user=instance).delete()
