"""CP-SAT on real pieces of the Lombardy map."""


def test_cpsat_answers_at_once_on_a_real_province(lombardy):
    """Sondrio (77 municipalities) at a 25,000 floor: a compliant plan even with a short limit."""
    from lombardy_districts.api import build_problem
    from solvers.cpsat import CPSATSolver

    sondrio = lombardy.select("province", ["Sondrio"])
    problem = build_problem(sondrio, floor=25_000)
    result = CPSATSolver.from_problem(problem).solve(time_limit=5, seed=0, workers=1)
    assert result.plan is not None and result.plan.violations(problem.rules) == []
    assert 6 <= len(result.plan) <= 7 and result.bound == 7
