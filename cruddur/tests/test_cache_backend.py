"""cruddur.cache_backend: Django's Redis cache reusing one redis-py client per pool."""

import threading
import uuid

from django.core.cache import caches

from devtools import engines


def test_every_operation_and_thread_shares_one_client_and_values_round_trip(settings):
    prefix = f"test-backend-{uuid.uuid4().hex[:12]}"
    settings.CACHES = engines.redis_cache(prefix=prefix)
    cache = caches["default"]
    try:
        cache.set("k", {"v": 1})
        clients = {id(cache._cache.get_client())}

        def use():
            clients.add(id(cache._cache.get_client()))
            assert cache.get("k") == {"v": 1}

        threads = [threading.Thread(target=use) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert cache.get_many(["k", "missing"]) == {"k": {"v": 1}}
        assert len(clients) == 1
    finally:
        engines.redis_prefix_clear(prefix=prefix)
