"""Reduced-cost fixing and the HiGHS race of ``set_partition``, against every partition found by brute force."""

from __future__ import annotations

import itertools
import random

import pytest

from lombardy_districts.model.stop import Stop
from lombardy_districts.solvers import set_partition
from lombardy_districts.solvers.set_partition import partition_meeting, useful_columns


def _instance(seed: int, n: int = 9, count: int = 30) -> list[tuple[int, ...]]:
    """Random groups of 1 to 4 of ``n`` units (duplicates dropped), some singletons among them."""
    rng = random.Random(seed)
    columns = {(i,) for i in rng.sample(range(n), n // 2)}
    while len(columns) < count:
        columns.add(tuple(sorted(rng.sample(range(n), rng.randint(2, 4)))))
    return sorted(columns)


def _partitions(columns: list[tuple[int, ...]], n: int) -> list[list[int]]:
    """Every set of column indices that covers each unit exactly once."""
    found = []

    def extend(chosen: list[int], covered: frozenset):
        if len(covered) == n:
            found.append(list(chosen))
            return
        first = min(set(range(n)) - covered)
        for c, col in enumerate(columns):
            if first in col and not covered & set(col):
                extend([*chosen, c], covered | set(col))

    extend([], frozenset())
    return found


@pytest.mark.parametrize("seed", range(40))
def test_no_column_of_a_partition_meeting_the_target_is_fixed_out(seed):
    columns = _instance(seed)
    partitions = _partitions(columns, 9)
    for target in range(1, 10):
        kept = set(useful_columns(columns, 9, target))
        for p in partitions:
            if len(p) >= target:
                assert set(p) <= kept, (seed, target, p)


@pytest.mark.parametrize("seed", range(12))
def test_the_race_finds_a_partition_exactly_when_one_exists(seed):
    columns = _instance(seed)
    best = max((len(p) for p in _partitions(columns, 9)), default=0)
    for target in (best, best + 1):
        found = partition_meeting(columns, 9, max(target, 1), 20, seed, racers=2)
        if target <= best and target >= 1:
            assert found is not None
            assert len(found) >= target
            assert sorted(i for c in found for i in columns[c]) == list(range(9))
        else:
            assert found is None


def test_a_stop_already_set_ends_the_race_without_an_answer():
    columns = [tuple(c) for c in itertools.combinations(range(6), 2)] + [(i,) for i in range(6)]
    stop = Stop()
    stop.set("test")
    assert partition_meeting(columns, 6, 3, 20, 0, racers=2, stop=stop) is None


def test_no_partition_at_all():
    assert partition_meeting([(0, 1), (1, 2)], 3, 1, 5, 0) is None


def test_highs_prints_nothing_on_standard_output():
    # HiGHS prints a banner from C when its first model is built: the command line's output must not carry it
    import subprocess
    import sys

    code = ("from lombardy_districts.solvers.set_partition import partition_meeting\n"
            "print(partition_meeting([(0, 1), (2,), (1, 2), (0,)], 3, 2, 5, 0, racers=2))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() in ("[0, 1]", "[2, 3]")


@pytest.mark.parametrize("seed", [0, 25, 75, 109])  # instances whose LP leaves room: three steps each
def test_the_race_tries_groups_of_low_reduced_cost_first_then_every_group_kept(seed, monkeypatch):
    # restricted steps that find nothing (none there, or out of time) hand over to larger ones, and
    # the last step runs over every group reduced-cost fixing keeps
    columns = _instance(seed, count=40)
    best = max(len(p) for p in _partitions(columns, 9))
    sizes = []

    def nothing_until_the_last(cols, n, target, seconds, seed, racers, stop):
        sizes.append(len(cols))
        if len(cols) < len(useful_columns(columns, 9, best)):
            return None
        return race(cols, n, target, seconds, seed, racers, stop)

    race = set_partition._race
    monkeypatch.setattr(set_partition, "_race", nothing_until_the_last)
    found = partition_meeting(columns, 9, best, 20, seed)
    assert found is not None and len(found) >= best
    assert len(sizes) == 3 and sizes == sorted(set(sizes)) and sizes[-1] == len(useful_columns(columns, 9, best))
