"""Ratios that survive noise. Each side of a comparison is measured in turn, round after
round (A B A B A B), so a drift in the machine's load lands on both sides; a ratio is
taken per round and reported as the median and the spread (min-max) of those rounds,
with the 1-minute load average seen over them. A verdict is "inconclusive" when the
spread straddles the target."""

import os
import statistics
from collections.abc import Callable

MET, NOT_MET, INCONCLUSIVE = "met", "not met", "inconclusive"
MIN_ROUNDS = 3


def alternate(sides: dict[str, Callable[[], dict]], *, rounds: int) -> dict[str, list[dict]]:
    """Every side once per round, in the same order each round; each sample carries the
    1-minute load average read just after it."""
    samples: dict[str, list[dict]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, measure in sides.items():
            sample = measure()
            sample["load_1m"] = round(os.getloadavg()[0], 2)
            samples[name].append(sample)
    return samples


def spread(values: list[float], digits: int = 2) -> dict:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "rounds": len(values),
    }


def ratio(
    numerators: list[dict], denominators: list[dict], key: str = "p50_ms", digits: int = 2
) -> dict:
    """The per-round ratio numerator/denominator, as a spread, with the load seen."""
    ratios = [top[key] / bottom[key] for top, bottom in zip(numerators, denominators, strict=True)]
    loads = [sample["load_1m"] for sample in (*numerators, *denominators) if "load_1m" in sample]
    return {**spread(ratios, digits), "load_1m": _load_range(loads)}


def _load_range(loads: list[float]) -> list[float] | None:
    return [min(loads), max(loads)] if loads else None


def verdict(stat: dict, *, at_most: float | None = None, at_least: float | None = None) -> str:
    """met when the whole spread is on the right side of the target, not met when it is
    all on the wrong side, inconclusive when the target lies inside it or fewer than
    MIN_ROUNDS rounds were run."""
    if stat["rounds"] < MIN_ROUNDS:
        return INCONCLUSIVE
    low, high = stat["min"], stat["max"]
    if at_most is not None:
        return MET if high <= at_most else NOT_MET if low > at_most else INCONCLUSIVE
    if at_least is not None:
        return MET if low >= at_least else NOT_MET if high < at_least else INCONCLUSIVE
    raise ValueError("a verdict needs a target")


def median_of(samples: list[dict], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def describe(stat: dict, unit: str = "x") -> str:
    return f"{stat['median']}{unit} (rounds {stat['min']}-{stat['max']}{unit}, n={stat['rounds']})"
