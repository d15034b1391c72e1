"""The app's own settings, with the bench's floor endpoints added to the URLconf; nothing
else differs from what `cruddur.wsgi` serves."""

from cruddur.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
