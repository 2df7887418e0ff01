"""PuLP/CBC model agrees with CP-SAT on small grids (two independent formulations)."""

import pytest
from tests.exact_grids import class_grid, collaboration_edges, grid, problem

from lombardy_districts.rules import Rules
from solvers.cpsat import CPSATSolver
from solvers.pulp_mip import PulpSolver


def both(p):
    a = CPSATSolver.from_problem(p).solve(time_limit=30, workers=1)
    b = PulpSolver.from_problem(p).solve(time_limit=60, workers=1)
    return a, b


@pytest.mark.parametrize("objective", ["max-plans", "collaboration", "compact"])
def test_same_optimum_on_class_grid(objective):
    territory, rules = class_grid()
    rules = rules.with_changes(ceiling=2500)
    a, b = both(problem(territory, rules, (objective,)))
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
    result = PulpSolver.from_problem(problem(territory, Rules().with_floor(1000))).solve(time_limit=10)
    assert result.status == "infeasible" and result.plan is None
