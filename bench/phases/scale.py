"""Section 3: does a first page cost the same at any size? The API's and the pages' first
pages, small against large, alternated; the pages also against the peer (bench/peer/)
serving the same data shape."""

import functools

from django.test import Client
from django.test.utils import override_settings

from bench import load, stats
from bench.instrument import Meter
from bench.phases.cost import api_rows, auth, measured, page_rows

LABELS = ("small", "large")


def api_scale(
    *, meter: Meter, uncached_url: str, cases: dict, page_sizes: dict, seconds: float, rounds: int
) -> dict:
    """`cases`: kind -> {"small"/"large": (size, person, path)}. Both sides of a kind ask
    for the same page size, so both pages are full."""
    client, results = Client(), {}
    for kind, sides in cases.items():
        paths = {
            label: f"{path}?page_size={page_sizes[kind]}" for label, (_, _, path) in sides.items()
        }
        case = {"page_size": page_sizes[kind]}
        for label, (size, person, _) in sides.items():
            with override_settings(MESSAGING_CACHE_TTL=0):
                call = functools.partial(client.get, paths[label], **auth(person))
                cost = measured(call, meter=meter, expect=200, label=paths[label], rows=api_rows)
            case[label] = {"size": size, "path": paths[label], **cost}
        samples = stats.alternate(
            {
                label: load.wrk_sampler(
                    url=uncached_url + paths[label],
                    headers=load.token_headers(sides[label][1].token),
                    seconds=seconds,
                    c=1,
                )
                for label in LABELS
            },
            rounds=rounds,
        )
        case["samples"] = samples
        case["latency_ratio"] = stats.ratio(samples["large"], samples["small"])
        results[kind] = case
    return results


def session_key(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def page_scale(
    *,
    meter: Meter,
    cached_url: str,
    uncached_url: str,
    cases: dict,
    peer: dict | None,
    seconds: float,
    rounds: int,
) -> dict:
    """`cases`: kind -> {"small"/"large": (size, person, path)}, HTML pages for a signed-in
    session, from the cache-disabled gunicorn ("ours") and, as shipped, from the one with
    the cache on ("cached", every view a hit after the first). `peer`: the same kinds and
    labels from bench.peer.seed, or None when the peer is not part of the run."""
    results = {}
    for kind, sides in cases.items():
        case = {}
        sessions = {label: session_key(person.user) for label, (_, person, _) in sides.items()}
        for label, (size, _, path) in sides.items():
            client = Client()
            client.cookies["sessionid"] = sessions[label]
            call = functools.partial(client.get, path)
            with override_settings(MESSAGING_CACHE_TTL=0):
                cost = measured(call, meter=meter, expect=200, label=path, rows=page_rows)
            cached = measured(call, meter=meter, expect=200, label=path, rows=page_rows)
            case[label] = {"size": size, "path": path, **cost, "cached": cached}
        samplers = {
            f"{side}_{label}": load.wrk_sampler(
                url=base + sides[label][2],
                headers=load.session_headers(sessions[label]),
                seconds=seconds,
                c=1,
            )
            for side, base in (("ours", uncached_url), ("cached", cached_url))
            for label in LABELS
        }
        if peer is not None:
            for label in LABELS:
                side = peer[kind][label]
                samplers[f"peer_{label}"] = load.wrk_sampler(
                    url=peer["url"] + side["path"],
                    headers=load.session_headers(side["session"]),
                    seconds=seconds,
                    c=1,
                )
        samples = stats.alternate(dict(sorted(samplers.items(), key=_round_order)), rounds=rounds)
        case["samples"] = samples
        case["latency_ratio"] = stats.ratio(samples["ours_large"], samples["ours_small"])
        if peer is not None:
            # How many times faster ours answers than the peer: above 1 is ahead.
            case["peer"] = {label: peer[kind][label] for label in LABELS}
            case["versus_peer"] = {
                label: stats.ratio(samples[f"peer_{label}"], samples[f"ours_{label}"])
                for label in LABELS
            }
            case["versus_peer_cached"] = {
                label: stats.ratio(samples[f"peer_{label}"], samples[f"cached_{label}"])
                for label in LABELS
            }
        results[kind] = case
    return results


SIDES = ("ours", "cached", "peer")


def _round_order(item) -> tuple:
    # ours, cached and peer at the small size, then at the large: each side by side in time.
    side, label = item[0].split("_")
    return (LABELS.index(label), SIDES.index(side))
