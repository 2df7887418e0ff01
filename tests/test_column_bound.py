"""solvers/column_bound.py: columns, LPs, exact pricing and bounds against every compliant block of small grids."""

from __future__ import annotations

import numpy as np
import pytest

from lombardy_districts.solvers import column_bound as cb
from lombardy_districts.solvers.cpsat import CPSATSolver, _column_reserve, _tighten_by_columns
from lombardy_districts.solvers.exact import TUNING, prepare
from lombardy_districts.workflows.propose import build_problem

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
    # pricing proved the LP over every block, up to the duals' rounding down to whole millionths
    # (theta understated by at most one millionth per unit; CP-SAT's threads decide which duals)
    assert abs(rounds[-1][1] - full_packing) <= full_packing * len(units) / cb.SCALE


@pytest.mark.parametrize("seed", range(12))
def test_the_column_bound_is_never_below_the_exact_optimum_and_repeats_in_deterministic_mode(seed):
    rng = np.random.default_rng(300 + seed)
    units, rules = random_class_case(rng, *[(3, 3), (2, 4), (2, 3)][seed % 3])
    best = most_plans(units, rules)
    bound = cb.column_bound(units, rules, seconds=4, seed=seed, deterministic=True)
    assert bound >= best - 1e-6
    assert cb.column_bound(units, rules, seconds=4, seed=seed, deterministic=True) == bound


def test_a_max_plans_stage_that_proves_nothing_takes_the_column_bound_when_it_is_tighter():
    # a 4 x 6 grid (found by a search over seeds) where the other bounds say 10 and the columns 8
    problem = random_class_problem(np.random.default_rng(5004), 4, 6)
    setup = prepare(problem, dict(TUNING), None, 20, 0)
    assert setup.bound.value == 10 and _column_reserve(setup, 20) == 3.0
    _tighten_by_columns(setup, found=5, seconds=3.0, seed=0, clock=None, stop=None)
    assert setup.bound.value == 8 and setup.bound.method.startswith(cb.COLUMN_METHOD)
    optimum = CPSATSolver.from_problem(problem, {"time_limit": 20, "seed": 0, "workers": 1}).solve()
    assert optimum.status == "optimal" and optimum.objective <= 8  # the bound holds


@pytest.mark.slow
def test_propose_on_mantova_reports_the_column_bound(lombardy):
    # 64 municipalities: the other bounds say 13, CP-SAT's own search proves nothing in a minute
    mantova = lombardy.select("province", ["Mantova"])
    seen: list[dict] = []
    result = CPSATSolver.from_problem(build_problem(mantova), {"time_limit": 60, "seed": 0}).solve(
        progress=seen.append)
    assert result.bound == 11 and cb.COLUMN_METHOD in result.details["bound_method"]
    plan_reports = [info for info in seen if "objective" not in info]  # not the collaboration stage's
    assert plan_reports[-1]["bound"] == 11  # the progress lines say so too
    assert {info["objective"] for info in seen if "objective" in info} <= {"collaboration"}
    assert result.plan.violations(build_problem(mantova).rules) == [] and 10 <= result.objective <= 11
