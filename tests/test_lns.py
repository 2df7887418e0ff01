"""Large-neighbourhood search inside the CP-SAT solver: improves a poor warm start, stays compliant."""

import pytest

from lombardy_districts.errors import InputError
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers.cpsat import CPSATSolver
from tests.exact_grids import grid, problem

TUNING = {"lns": True, "lns_plans": (2, 3), "lns_max_units": 30, "lns_iterations": 12, "lns_sub_time": 0.5}


def _rows_plan(territory, rows, cols):
    """A poor warm start: one area plan per row of the grid."""
    return Plan(territory, {code: f"row{k // cols}" for k, code in enumerate(territory.codes)})


def _solve(tuning=TUNING, seed=3):
    territory = grid(8, 8, [100 + (7 * k) % 5 * 20 for k in range(64)])
    rules = Rules().with_floor(300)
    p = problem(territory, rules, ("max-plans", "collaboration"))
    warm = _rows_plan(territory, 8, 8)
    options = {"time_limit": 60, "seed": seed, "workers": 1, "tuning": tuning}
    return CPSATSolver.from_problem(p, options).solve(warm_start=warm), rules


def test_lns_improves_a_poor_warm_start_and_stays_compliant():
    result, rules = _solve()
    record = result.details["lns"]
    assert record["start"]["max-plans"] == 8
    assert record["improvements"] >= 1 and record["end"]["max-plans"] > 8
    assert len(result.plan) == record["end"]["max-plans"] == result.objective
    assert result.plan.violations(rules) == []
    assert result.bound is not None and result.objective <= result.bound


def test_lns_is_reproducible_for_a_seed_with_one_worker():
    a, _ = _solve(seed=5)
    b, _ = _solve(seed=5)
    assert a.plan.assignment.equals(b.plan.assignment)
    assert a.details["lns"]["end"] == b.details["lns"]["end"]


def test_lns_options_are_checked():
    with pytest.raises(InputError, match=r"option lns_plans = \(5, 2\): must be two whole numbers"):
        _solve({**TUNING, "lns_plans": (5, 2)})


def test_an_unknown_tuning_setting_is_refused_naming_the_allowed_ones():
    with pytest.raises(InputError, match=r"unknown tuning setting 'lns_plan' for solver cpsat; allowed: .*lns_plans"):
        _solve({"lns_plan": (2, 3)})


@pytest.mark.parametrize("lns, objectives, share", [
    (True, ("max-plans",), 0.95),  # the search would only look for more plans: the heuristic does it better
    (True, ("max-plans", "collaboration"), 0.95),  # the plans come first all the same
    (True, ("collaboration", "max-plans"), 0.8),
    (False, ("max-plans",), 0.4),
])
def test_the_heuristic_gets_most_of_the_time_when_the_search_follows(lns, objectives, share):
    from lombardy_districts.solvers._budget import HEURISTIC_WORK_PER_SECOND
    territory = grid(8, 8, [100 + (7 * k) % 5 * 20 for k in range(64)])
    p = problem(territory, Rules().with_floor(300), objectives)
    options = {"time_limit": 2, "seed": 1, "deterministic": True, "tuning": {**TUNING, "lns": lns}}
    result = CPSATSolver.from_problem(p, options).solve()
    warm = result.details["budget"]["warm_start"]
    assert warm["work_allowance"] == round(2 * share * HEURISTIC_WORK_PER_SECOND)
    assert ("lns" in result.details) == lns and result.plan.violations(p.rules) == []
