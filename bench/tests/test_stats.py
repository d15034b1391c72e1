import pytest

from bench import stats


def _stat(low, high, rounds=3):
    return {"median": (low + high) / 2, "min": low, "max": high, "rounds": rounds}


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(1.0, 1.2, stats.MET), (2.1, 3.0, stats.NOT_MET), (1.8, 2.3, stats.INCONCLUSIVE)],
)
def test_at_most_verdict_is_inconclusive_only_when_the_spread_straddles_the_target(
    low, high, expected
):
    assert stats.verdict(_stat(low, high), at_most=2) == expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(5.0, 6.0, stats.MET), (1.0, 4.9, stats.NOT_MET), (4.0, 6.0, stats.INCONCLUSIVE)],
)
def test_at_least_verdict(low, high, expected):
    assert stats.verdict(_stat(low, high), at_least=5) == expected


def test_fewer_than_three_rounds_never_give_a_verdict():
    assert stats.verdict(_stat(1.0, 1.0, rounds=2), at_most=2) == stats.INCONCLUSIVE


def test_alternate_runs_the_sides_in_turn_and_records_the_load():
    order = []
    samples = stats.alternate(
        {"a": lambda: order.append("a") or {"v": 1}, "b": lambda: order.append("b") or {"v": 2}},
        rounds=3,
    )
    assert order == ["a", "b", "a", "b", "a", "b"]
    assert all("load_1m" in sample for sample in samples["a"] + samples["b"])


def test_ratio_is_taken_per_round():
    top = [
        {"p50_ms": 4.0, "load_1m": 1.0},
        {"p50_ms": 9.0, "load_1m": 2.0},
        {"p50_ms": 6.0, "load_1m": 1.5},
    ]
    bottom = [
        {"p50_ms": 2.0, "load_1m": 1.0},
        {"p50_ms": 3.0, "load_1m": 2.0},
        {"p50_ms": 3.0, "load_1m": 1.5},
    ]
    ratio = stats.ratio(top, bottom)
    assert (ratio["median"], ratio["min"], ratio["max"], ratio["rounds"]) == (2.0, 2.0, 3.0, 3)
    assert ratio["load_1m"] == [1.0, 2.0]
