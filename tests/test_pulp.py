"""PuLP/CBC model agrees with CP-SAT on small grids (two independent formulations)."""

import pytest

from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers.cpsat import CPSATSolver
from lombardy_districts.solvers.pulp_mip import PulpSolver
from tests.exact_grids import class_grid, collaboration_edges, grid, problem


def both(p):
    a = CPSATSolver.from_problem(p, {"time_limit": 30, "workers": 1}).solve()
    b = PulpSolver.from_problem(p, {"time_limit": 60, "workers": 1}).solve()
    return a, b


@pytest.mark.parametrize("objective", ["max-plans", "collaboration", "compact"])
def test_same_optimum_on_class_grid(objective):
    territory, rules = class_grid()
    rules = rules.with_changes(ceiling=2500)
    a, b = both(problem(territory, rules, (objective,)))
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective)
    assert a.plan.violations(rules) == [] and b.plan.violations(rules) == []


@pytest.mark.parametrize("below", [125.0, 100_000.0])  # 100,000 per km2, the largest allowed: the old rule
def test_same_optimum_with_a_mountain_density_cut_off_of_its_own(below):
    # the class grid's mountain villages have 90 to 150 inhabitants per km2: at 125 the cut-off
    # decides which groups of them are mountain plans (floor 300) and which low density or standard
    territory, rules = class_grid()
    rules = rules.with_changes(mountain_density_below=below)
    a, b = both(problem(territory, rules, ("max-plans",)))
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective)
    assert a.plan.violations(rules) == [] and b.plan.violations(rules) == []


@pytest.mark.parametrize("objective", ["max-plans", "collaboration", "compact"])
def test_same_optimum_on_a_3x5_grid(objective):
    pops = [(7 * k) % 13 * 40 + 30 for k in range(15)]
    mountain = (["totally"] * 2 + ["not"] * 3) * 3
    territory = grid(3, 5, pops, mountain)
    rules = Rules(floors={"standard": 900, "high_density": 1200, "mountain": 400, "low_density": 400},
                  high_density_min=300.0, low_density_max=100.0, ceiling=1800)
    collab = collaboration_edges(territory, [(0, 1, 2.5), (6, 7, 1.0), (13, 14, 3.0), (3, 4, 1.5), (10, 11, 1.0)])
    a, b = both(problem(territory, rules, (objective,), collaboration=collab))
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective)
    assert b.plan.violations(rules) == []


def test_pulp_infeasible():
    territory = grid(3, 3, [10] * 9)
    result = PulpSolver.from_problem(problem(territory, Rules().with_floor(1000)), {"time_limit": 10}).solve()
    assert result.status == "infeasible" and result.plan is None


def _fixed_k_grid():
    pops = [(7 * k) % 13 * 40 + 30 for k in range(15)]
    territory = grid(3, 5, pops)
    collab = collaboration_edges(territory, [(0, 1, 2.5), (1, 2, 1.0), (5, 6, 1.0), (6, 7, 2.0), (13, 14, 3.0),
                                             (3, 4, 1.5), (8, 9, 1.0), (10, 11, 1.0), (2, 7, 4.0), (9, 14, 2.0)])
    return territory, Rules().with_floor(600), collab


@pytest.mark.parametrize("k", [2, 3, 5])
def test_same_optimum_for_a_fixed_number_of_plans(k):
    territory, rules, collab = _fixed_k_grid()
    a, b = both(problem(territory, rules, ("collaboration",), collaboration=collab, min_plans=k, max_plans=k))
    assert a.status == b.status == "optimal"
    assert len(a.plan) == len(b.plan) == k
    assert a.objective == pytest.approx(b.objective)
    assert a.plan.violations(rules) == [] and b.plan.violations(rules) == []


def test_min_and_max_plans_bound_the_count():
    territory, rules, collab = _fixed_k_grid()
    free = CPSATSolver.from_problem(problem(territory, rules, ("max-plans",)), {"time_limit": 30, "workers": 1}).solve()
    capped = problem(territory, rules, ("max-plans",), max_plans=int(free.objective) - 1)
    a, b = both(capped)
    assert a.objective == b.objective == free.objective - 1
    assert a.bound == free.objective - 1
    floor = problem(territory, rules, ("collaboration",), collaboration=collab, min_plans=4)
    a, b = both(floor)
    assert len(a.plan) >= 4 and len(b.plan) >= 4 and a.objective == pytest.approx(b.objective)
