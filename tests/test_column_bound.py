"""solvers/column_bound.py: columns, LPs, exact pricing and bounds against every compliant block of small grids."""

from __future__ import annotations

import numpy as np
import pytest

from lombardy_districts.solvers import column_bound as cb
from lombardy_districts.solvers.bounds import COLUMN_METHOD, plan_count_bound
from lombardy_districts.solvers.cpsat import CPSATSolver

from .exact_grids import compliant_blocks, most_plans, random_class_case, random_class_problem


@pytest.mark.parametrize("seed", range(12))
def test_columns_are_compliant_blocks_and_the_lp_never_passes_its_value_over_all_of_them(seed):
    rng = np.random.default_rng(seed)
    units, rules = random_class_case(rng, *[(3, 3), (2, 4), (2, 3)][seed % 3])
    every = [tuple(block) for block, _, _ in compliant_blocks(units, rules)]
    if not every:
        pytest.skip("no compliant block on this grid")
    n = len(units)
    full_packing = cb.column_lp(every, n)[0]
    columns: list[tuple[int, ...]] = []
    values = list(cb.generate(cb.Columns(units, rules, seed), columns, rounds=20, tries=3))
    assert set(columns) <= set(every)
    assert all(v <= full_packing + 1e-6 for v in values)
    assert all(b >= a - 1e-9 for a, b in zip(values, values[1:]))  # columns are only added
    best = most_plans(units, rules)
    assert full_packing >= best - 1e-6  # the relaxation is a bound
    if best:  # a partition exists, so the set-partitioning LP is feasible and also a bound
        assert best - 1e-6 <= cb.column_lp(every, n, exact=True)[0] <= full_packing + 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_exact_pricing_finds_the_least_dual_sum_of_every_compliant_block(seed):
    rng = np.random.default_rng(100 + seed)
    units, rules = random_class_case(rng, *[(3, 3), (2, 4), (2, 3)][seed % 3])
    duals = rng.random(len(units)) * rng.integers(0, 2, len(units))  # some units at zero
    every = [tuple(block) for block, _, _ in compliant_blocks(units, rules)]
    theta, found = cb.least_column(units, rules, duals, seconds=10)
    if not every:
        assert theta == float("inf") and found == []
        return
    least = min(duals[list(b)].sum() for b in every)
    assert least - len(units) / cb.SCALE <= theta <= least + 1e-9  # rounded down to millionths
    assert found and found[-1] in every and duals[list(found[-1])].sum() <= least + len(units) / cb.SCALE


@pytest.mark.parametrize("seed", range(12))
def test_exact_rounds_give_bounds_that_end_at_the_lp_over_every_block(seed):
    rng = np.random.default_rng(200 + seed)
    units, rules = random_class_case(rng, *[(3, 3), (2, 4), (2, 3)][seed % 3])
    every = [tuple(block) for block, _, _ in compliant_blocks(units, rules)]
    if not every:
        pytest.skip("no compliant block on this grid")
    full_packing = cb.column_lp(every, len(units))[0]
    columns: list[tuple[int, ...]] = []
    rounds = list(cb.exact_rounds(cb.Columns(units, rules, seed), columns, rounds=50, seconds=10))
    best = most_plans(units, rules)
    assert set(columns) <= set(every)
    assert all(bound >= full_packing - 1e-6 >= best - 1e-6 for _, bound in rounds)  # every bound is a bound
    assert abs(rounds[-1][1] - full_packing) < 1e-6  # pricing proved the LP over every block


@pytest.mark.parametrize("seed", range(12))
def test_the_column_bound_is_never_below_the_exact_optimum_and_repeats_in_deterministic_mode(seed):
    rng = np.random.default_rng(300 + seed)
    units, rules = random_class_case(rng, *[(3, 3), (2, 4), (2, 3)][seed % 3])
    best = most_plans(units, rules)
    bound = cb.column_bound(units, rules, seconds=4, seed=seed, deterministic=True)
    assert bound >= best - 1e-6
    assert cb.column_bound(units, rules, seconds=4, seed=seed, deterministic=True) == bound


def test_cpsat_reports_the_column_bound_when_it_is_tighter_and_it_holds():
    # a 4 x 6 grid (found by a search over seeds) where the other bounds say 10 and the columns 8
    problem = random_class_problem(np.random.default_rng(5004), 4, 6)
    units = cb.Units.from_problem(problem)
    assert plan_count_bound(units, problem.rules).value == 10
    result = CPSATSolver.from_problem(problem, {"time_limit": 20, "seed": 0, "workers": 1}).solve()
    assert result.details["plan_bound"] == 8 and COLUMN_METHOD in result.details["plan_bound_method"]
    assert result.status == "optimal" and result.objective <= 8  # CP-SAT proves the optimum on 24 units
    assert result.plan.violations(problem.rules) == []
