"""CP-SAT on real pieces of the Lombardy map."""


def test_cpsat_answers_at_once_on_a_real_province(lombardy):
    """Sondrio (77 municipalities) at a 25,000 floor: a compliant plan even with a short limit."""
    from lombardy_districts.solvers.cpsat import CPSATSolver
    from lombardy_districts.workflows.propose import build_problem

    sondrio = lombardy.select("province", ["Sondrio"])
    problem = build_problem(sondrio, floor=25_000, objectives="max-plans")
    result = CPSATSolver.from_problem(problem, {"time_limit": 5, "seed": 0, "workers": 1}).solve()
    assert result.plan is not None and result.plan.violations(problem.rules) == []
    # a unit that splits the province into wasteful pieces proves 6 (without it the bound was 7)
    assert len(result.plan) == 6 and result.bound == 6 and result.status == "optimal"
    # by default collaboration comes second: the count is still proved, the status says the rest is not
    default = CPSATSolver.from_problem(build_problem(sondrio, floor=25_000), {"time_limit": 5, "seed": 0,
                                                                              "workers": 1}).solve()
    assert len(default.plan) == default.bound == 6
    assert default.status == ("optimal" if default.details["stage_status"] == ["OPTIMAL", "OPTIMAL"] else "feasible")



def test_the_shared_plan_bound_is_the_tighter_of_the_two(make_grid):
    """6 | 20 | 6 with a floor of 10: only one plan can comply, though capped population / floor says 2."""
    import lombardy_districts as ld
    from lombardy_districts.solvers.bounds import plan_count_bound
    from lombardy_districts.solvers.units import Units

    problem = ld.build_problem(make_grid(1, 3, [6, 20, 6]), floor=10)
    bound = plan_count_bound(Units.from_problem(problem), problem.rules)
    assert bound.value == 1 and "big units, cut units and small components" in bound.method
