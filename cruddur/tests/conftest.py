# The API tests' clients and their per-test slice of Redis (throttle counts).
from messaging.tests.conftest import api_cache, api_client  # noqa: F401
