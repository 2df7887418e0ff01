"""benchmarks/bench_columns.py: its columns and LP values against every compliant block of small grids."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from .exact_grids import compliant_blocks, most_plans, random_class_case

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_columns.py"
_SPEC = importlib.util.spec_from_file_location("bench_columns", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


@pytest.mark.parametrize("seed", range(12))
def test_columns_are_compliant_blocks_and_the_lp_never_passes_its_value_over_all_of_them(seed):
    rng = np.random.default_rng(seed)
    units, rules = random_class_case(rng, *[(3, 3), (2, 4), (2, 3)][seed % 3])
    every = [tuple(block) for block, _, _ in compliant_blocks(units, rules)]
    if not every:
        pytest.skip("no compliant block on this grid")
    n = len(units)
    full_packing = bench.column_lp(every, n)[0]
    columns: list[tuple[int, ...]] = []
    values = list(bench.generate(bench.Columns(units, rules, seed), columns, rounds=20, tries=3))
    assert set(columns) <= set(every)
    assert all(v <= full_packing + 1e-6 for v in values)
    assert all(b >= a - 1e-9 for a, b in zip(values, values[1:]))  # columns are only added
    best = most_plans(units, rules)
    assert full_packing >= best - 1e-6  # the relaxation is a bound
    if best:  # a partition exists, so the set-partitioning LP is feasible and also a bound
        assert best - 1e-6 <= bench.column_lp(every, n, exact=True)[0] <= full_packing + 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_exact_pricing_finds_the_least_dual_sum_of_every_compliant_block(seed):
    rng = np.random.default_rng(100 + seed)
    units, rules = random_class_case(rng, *[(3, 3), (2, 4), (2, 3)][seed % 3])
    duals = rng.random(len(units)) * rng.integers(0, 2, len(units))  # some units at zero
    every = [tuple(block) for block, _, _ in compliant_blocks(units, rules)]
    theta, found = bench.least_column(units, rules, duals, seconds=10)
    if not every:
        assert theta == float("inf") and found == []
        return
    least = min(duals[list(b)].sum() for b in every)
    assert least - len(units) / bench.SCALE <= theta <= least + 1e-9  # rounded down to millionths
    assert found and found[-1] in every and duals[list(found[-1])].sum() <= least + len(units) / bench.SCALE


@pytest.mark.parametrize("seed", range(12))
def test_exact_rounds_give_bounds_that_end_at_the_lp_over_every_block(seed):
    rng = np.random.default_rng(200 + seed)
    units, rules = random_class_case(rng, *[(3, 3), (2, 4), (2, 3)][seed % 3])
    every = [tuple(block) for block, _, _ in compliant_blocks(units, rules)]
    if not every:
        pytest.skip("no compliant block on this grid")
    full_packing = bench.column_lp(every, len(units))[0]
    columns: list[tuple[int, ...]] = []
    rounds = list(bench.exact_rounds(bench.Columns(units, rules, seed), columns, rounds=50, seconds=10))
    best = most_plans(units, rules)
    assert set(columns) <= set(every)
    assert all(bound >= full_packing - 1e-6 >= best - 1e-6 for _, bound in rounds)  # every bound is a bound
    assert abs(rounds[-1][1] - full_packing) < 1e-6  # pricing proved the LP over every block
