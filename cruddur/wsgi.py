import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cruddur.settings")

application = get_wsgi_application()

# Servers import this module without running Django's system checks.
from cruddur.checks import refuse_to_start_if_misconfigured  # noqa: E402

refuse_to_start_if_misconfigured()
