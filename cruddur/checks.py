"""With DJANGO_DEBUG off, the process refuses to start on settings that only suit a laptop.

Registered as a Django system check (so `manage.py check`, runserver and every management
command stop on it) and called by cruddur.asgi / cruddur.wsgi, which Django does not
check on their own. Each error is one line that names the variable to set.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Public keys, never for production: the settings' laptop fallback when DJANGO_SECRET_KEY
# is unset, and startproject's.
INSECURE_KEY_PREFIXES = ("dev-only-insecure-", "django-insecure-")
# Django's own bar for a key (check --deploy, security.W009).
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5


def _secret_key_is_real(key: str) -> bool:
    return (
        not key.startswith(INSECURE_KEY_PREFIXES)
        and len(key) >= MIN_SECRET_KEY_LENGTH
        and len(set(key)) >= MIN_SECRET_KEY_UNIQUE_CHARACTERS
    )


@checks.register(checks.Tags.security)
def production_settings_check(app_configs=None, **kwargs) -> list[checks.Error]:
    if settings.DEBUG:
        return []
    errors = []
    if not _secret_key_is_real(settings.SECRET_KEY):
        errors.append(
            checks.Error(
                "DJANGO_SECRET_KEY is unset or weak: with DJANGO_DEBUG off, set a random key"
                f" of at least {MIN_SECRET_KEY_LENGTH} characters.",
                id="cruddur.E001",
            )
        )
    if not settings.ALLOWED_HOSTS:
        errors.append(
            checks.Error(
                "DJANGO_ALLOWED_HOSTS is unset: with DJANGO_DEBUG off, list the host names"
                " this site answers to (comma-separated).",
                id="cruddur.E002",
            )
        )
    if not settings.REDIS_URL:
        errors.append(
            checks.Error(
                "REDIS_URL is unset: with DJANGO_DEBUG off, the cache, the send limit and"
                " live events need a Redis shared by every process.",
                id="cruddur.E003",
            )
        )
    return errors


def refuse_to_start_if_misconfigured() -> None:
    """For the ASGI/WSGI entry points: the same errors, as ImproperlyConfigured."""
    errors = production_settings_check()
    if errors:
        raise ImproperlyConfigured("\n".join(f"{error.id}: {error.msg}" for error in errors))
