"""Production settings plus two test-only views (cruddur/tests/server_urls.py), for the
test that runs the container's server command."""

from cruddur.settings import *  # noqa: F403

ROOT_URLCONF = "cruddur.tests.server_urls"
