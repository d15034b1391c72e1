"""In-process counters and samples for the cache and the stream fan-out.

No service behind it: the benchmark reads `snapshot()` in process, and the stream
worker and the Lambda log the same numbers once per batch. Imports nothing from Django.
"""

import math
import threading
from collections import Counter, deque

# Enough samples for stable percentiles without growing a long-lived worker's memory.
MAX_SAMPLES = 10_000

_lock = threading.Lock()
_counters: Counter[str] = Counter()
_samples: dict[str, deque[float]] = {}


def incr(name: str, amount: int = 1) -> None:
    with _lock:
        _counters[name] += amount


def observe(name: str, value: float) -> None:
    with _lock:
        _samples.setdefault(name, deque(maxlen=MAX_SAMPLES)).append(value)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def snapshot() -> dict:
    """Counters, plus count/p50/p95/max of every sample series."""
    with _lock:
        result: dict = dict(_counters)
        series = {name: list(values) for name, values in _samples.items()}
    for name, values in series.items():
        result[name] = {
            "count": len(values),
            "p50": percentile(values, 0.50),
            "p95": percentile(values, 0.95),
            "max": max(values) if values else None,
        }
    return result


def cache_hit_rate() -> float | None:
    with _lock:
        hits, misses = _counters["cache.hit"], _counters["cache.miss"]
    return hits / (hits + misses) if hits + misses else None


def reset() -> None:
    with _lock:
        _counters.clear()
        _samples.clear()
