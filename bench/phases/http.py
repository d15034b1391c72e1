"""Section 2: HTTP throughput with the cache on and off, and each endpoint against two
floors served by the same gunicorn (bench/floors.py)."""

import copy
import json
from pathlib import Path

from django.test import Client
from django.test.utils import override_settings

from bench import load, stats
from bench.phases.cost import auth
from messaging.dynamo.client import get_client


def throughput(
    *, cached_url: str, uncached_url: str, endpoints: dict, seconds: float, rounds: int
) -> dict:
    """wrk at 8 connections, cache hit vs cache disabled, alternated round by round.
    `endpoints`: name -> (person, path)."""
    results = {}
    for name, (person, path) in endpoints.items():
        headers = load.token_headers(person.token)
        samples = stats.alternate(
            {
                label: load.wrk_sampler(url=base + path, headers=headers, seconds=seconds, c=8)
                for label, base in (("cache_hit", cached_url), ("cache_disabled", uncached_url))
            },
            rounds=rounds,
        )
        results[name] = {
            "path": path,
            "samples": samples,
            "speedup": stats.ratio(
                samples["cache_hit"], samples["cache_disabled"], key="requests_per_s"
            ),
        }
    return results


def floor_record(*, endpoints: dict, out: Path) -> dict:
    """For each endpoint (name -> (person, path)): the DynamoDB requests the app sends to
    answer it with the cache disabled, and its response body; written to `out` for the
    servers' floor endpoints."""
    client, events = Client(), get_client().meta.events
    floors = {}
    for name, (person, path) in endpoints.items():
        sent: list = []

        def record(params, model, sent=sent, **_) -> None:
            sent.append([model.name, copy.deepcopy(params)])

        with override_settings(MESSAGING_CACHE_TTL=0):
            client.get(path, **auth(person))
            events.register("provide-client-params.dynamodb", record)
            try:
                response = client.get(path, **auth(person))
            finally:
                events.unregister("provide-client-params.dynamodb", record)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        floors[name] = {"requests": sent, "body": response.content.decode()}
    out.write_text(json.dumps(floors))
    return {
        name: {
            "operations": [operation for operation, _ in floor["requests"]],
            "rows": len(json.loads(floor["body"])["results"]),
        }
        for name, floor in floors.items()
    }


def floors(
    *, cached_url: str, uncached_url: str, endpoints: dict, seconds: float, rounds: int
) -> dict:
    """One connection (pure latency), alternated: the endpoint uncached and as a cache hit,
    the bare WSGI floor (same requests, no Django) and the Django floor (same body, no
    I/O)."""
    results = {}
    for name, (person, path) in endpoints.items():
        headers = load.token_headers(person.token)
        urls = {
            "api_uncached": uncached_url + path,
            "api_hit": cached_url + path,
            "bare_wsgi": f"{uncached_url}/bench/floor/bare/{name}",
            "django_no_io": f"{cached_url}/bench/floor/django/{name}",
        }
        samples = stats.alternate(
            {
                label: load.wrk_sampler(url=url, headers=headers, seconds=seconds, c=1)
                for label, url in urls.items()
            },
            rounds=rounds,
        )
        results[name] = {
            "path": path,
            "samples": samples,
            "ratios": {
                f"{endpoint}/{floor}": stats.ratio(samples[endpoint], samples[floor])
                for endpoint in ("api_uncached", "api_hit")
                for floor in ("bare_wsgi", "django_no_io")
            },
        }
    return results
