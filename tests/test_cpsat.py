"""CP-SAT exact solver on tiny grids: optimum, class rule, infeasibility, seeds, progress."""

import pytest

from lombardy_districts.errors import InputError
from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers.cpsat import CPSATSolver
from tests.exact_grids import class_grid, grid, problem


def solve(p, warm_start=None, progress=None, **options):
    options = {"time_limit": 30, "workers": 1, **options}
    return CPSATSolver.from_problem(p, options).solve(warm_start=warm_start, progress=progress)


def test_max_plans_uses_the_class_floors_exactly():
    territory, rules = class_grid()
    result = solve(problem(territory, rules))
    assert result.status == "optimal"
    assert result.objective == 7 and result.bound == 7 and result.gap == 0
    assert result.plan.violations(rules) == []
    # with the standard floor everywhere far fewer plans fit: the mountain floor matters
    uniform = solve(problem(territory, rules.with_floor(800)))
    assert uniform.status == "optimal" and uniform.objective < result.objective
    assert set(result.plan.classes(rules)) >= {"mountain", "standard"}


def test_contiguity_is_exact_on_a_ring():
    # a ring of populated cells around an empty centre: a plan must go round, never jump
    territory = grid(3, 3, [100, 100, 100, 100, 0, 100, 100, 100, 100])
    result = solve(problem(territory, Rules().with_floor(300)))
    assert result.status == "optimal" and result.objective == 2
    assert result.plan.violations(Rules().with_floor(300)) == []


def test_infeasible_instance_returns_no_plan():
    territory = grid(3, 3, [10] * 9)
    result = solve(problem(territory, Rules().with_floor(1000)))
    assert result.status == "infeasible" and result.plan is None
    assert "1,000" in result.message


def test_infeasible_by_ceiling_is_proved():
    territory = grid(2, 2, [600, 600, 600, 600])
    rules = Rules().with_floor(1000).with_changes(ceiling=1100)
    result = solve(problem(territory, rules))
    assert result.status == "infeasible" and result.plan is None


def test_same_seed_same_plan():
    territory, rules = class_grid()
    rules = rules.with_changes(ceiling=2500)
    p = problem(territory, rules, ("max-plans", "compact"))
    a, b = solve(p, seed=7), solve(p, seed=7)
    assert a.plan.assignment.equals(b.plan.assignment)


def test_progress_reports_incumbents_and_bounds():
    territory, rules = class_grid()
    seen = []
    solve(problem(territory, rules), progress=seen.append)
    assert seen and all({"incumbent", "bound", "elapsed", "plans"} <= set(d) for d in seen)
    assert max(d["plans"] or 0 for d in seen) == 7


def test_warm_start_is_accepted_and_kept_compliant():
    territory, rules = class_grid()
    first = solve(problem(territory, rules))
    again = solve(problem(territory, rules), warm_start=first.plan)
    assert again.status == "optimal" and again.objective == first.objective


def test_hard_boundary_and_lock_are_respected():
    territory = grid(2, 4, [300] * 8)
    gdf = territory.municipalities
    gdf["province"] = ["A", "A", "B", "B"] * 2
    codes = territory.codes
    rules = Rules().with_floor(500).with_changes(hard_boundaries=("province",),
                                                 locked_municipalities={codes[0]: "p1", codes[1]: "p2"})
    result = solve(problem(territory, rules))
    assert result.status == "optimal" and result.plan.violations(rules) == []
    assert result.plan.assignment[codes[0]] != result.plan.assignment[codes[1]]


def test_weighted_objectives():
    territory, rules = class_grid()
    rules = rules.with_changes(ceiling=2500)
    p = problem(territory, rules, ("max-plans", "compact"), weights={"max-plans": 10.0, "compact": 1.0})
    result = solve(p)
    assert result.status == "optimal" and result.plan.violations(rules) == []
    values = result.details["objectives"]
    assert result.objective == pytest.approx(10 * values["max-plans"] - values["compact"])


@pytest.mark.parametrize("options, match", [
    ({"min_plans": 0}, r"min_plans = 0: must be a whole number of area plans from 1 to 1,000,000"),
    ({"max_plans": 2.5}, r"max_plans = 2.5: must be a whole number"),
    ({"min_plans": 5, "max_plans": 3}, r"min_plans = 5 is above max_plans = 3"),
])
def test_plans_option_is_validated(options, match):
    territory, rules = class_grid()
    with pytest.raises(InputError, match=match):
        problem(territory, rules, ("collaboration",), **options)


def test_more_plans_than_units_is_refused_naming_the_count():
    territory, rules = class_grid()
    with pytest.raises(InputError, match=r"max_plans = 17: at most 16 area plans are possible here"):
        solve(problem(territory, rules, ("collaboration",), max_plans=17))


def test_plans_above_the_proved_bound_is_infeasible_with_numbers():
    territory, rules = class_grid()
    result = solve(problem(territory, rules, ("collaboration",), min_plans=12, max_plans=12))
    assert result.status == "infeasible" and result.plan is None
    assert "exactly 12 plans asked, but at most" in result.message


def test_fixed_number_of_plans_is_met_exactly():
    territory, rules = class_grid()
    for k in (1, 3, 7):
        result = solve(problem(territory, rules, ("collaboration",), min_plans=k, max_plans=k))
        assert result.status == "optimal" and len(result.plan) == k
        assert result.plan.violations(rules) == []


def test_plans_that_meet_their_bound_are_optimal_only_when_the_later_objective_is_proved_too():
    from lombardy_districts.solvers.cpsat import _summary
    from lombardy_districts.solvers.exact import TUNING, full_labels, prepare

    # 16 cells of 1,000, floor 3,000: the warm start meets the bound of 5
    p = problem(grid(4, 4, [1000] * 16), Rules().with_floor(3000), ("max-plans", "collaboration"))
    setup = prepare(p, dict(TUNING), None, 20, 0)
    labels = full_labels(setup, setup.hint)
    assert len(set(labels)) == setup.bound.value == 5
    for statuses, status in ((["OPTIMAL", "FEASIBLE"], "feasible"), (["FEASIBLE"], "feasible"),
                             (["FEASIBLE", "OPTIMAL"], "optimal"), (["LNS"], "feasible")):
        objective, bound, got = _summary(setup, labels, p, statuses, {"max-plans": 5.0}, {})
        assert (objective, bound, got) == (5, 5.0, status), statuses


def test_the_warm_start_gets_the_plans_share_whenever_the_plans_come_first():
    t, rules = grid(2, 2, [1000] * 4), Rules().with_floor(2000)
    sq = halves(t)
    assert problem(t, rules).plans_first and problem(t, rules, ("max-plans", "collaboration")).plans_first
    assert not problem(t, rules, ("collaboration", "max-plans")).plans_first
    assert not problem(t, rules, ("max-plans", "collaboration"),
                       weights={"max-plans": 1.0, "collaboration": 1.0}).plans_first
    assert not problem(t, rules, ("max-plans",), status_quo=sq, mode="repair").plans_first


def halves(territory):
    from lombardy_districts.model.plan import Plan

    return Plan(territory, dict(zip(territory.codes, ["A", "A", "B", "B"])))


def test_a_capped_count_is_kept_by_cpsat_said_in_the_proof_and_refused_by_the_heuristic():
    from lombardy_districts.solvers.heuristic import HeuristicSolver
    from lombardy_districts.workflows.propose import search_words

    territory, rules = class_grid()
    capped = problem(territory, rules, ("max-plans",), max_plans=2)
    result = solve(capped)
    assert result.status == "optimal" and len(result.plan) == 2
    assert search_words(capped, result)[0].startswith("Proved best with at most 2 area plans, as asked: no way of")
    with pytest.raises(InputError, match=r"solver heuristic cannot keep to max_plans = 2; use "
                                         r"solver cpsat or pulp"):
        HeuristicSolver.from_problem(capped, {"time_limit": 1})
