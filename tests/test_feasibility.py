import pytest

from lombardy_districts.errors import InfeasibleError
from lombardy_districts.model.collaboration import Collaboration
from lombardy_districts.model.feasibility import check_feasible
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from tests.grids import grid_territory


def problem(territory, rules, status_quo=None):
    return Problem(territory, rules, Collaboration.combine(), status_quo=status_quo)


def strip_plan(territory, labels):
    return Plan(territory, dict(zip(territory.codes, labels)))


def test_a_feasible_problem_passes():
    check_feasible(problem(grid_territory(3, 3), Rules().with_floor(3000)))


def test_total_population_below_the_lowest_floor():
    p = problem(grid_territory(2, 2), Rules().with_floor(5000))
    with pytest.raises(InfeasibleError, match=r"the territory has 4,000 inhabitants, below the lowest floor of 5,000"):
        check_feasible(p)


def test_hard_boundary_group_below_the_lowest_floor():
    t = grid_territory(1, 4, province=["Sondrio", "Como", "Como", "Como"])
    rules = Rules().with_floor(2000).with_changes(hard_boundaries=("province",))
    with pytest.raises(InfeasibleError) as info:
        check_feasible(problem(t, rules))
    message = str(info.value)
    assert "hard boundary group province=Sondrio has 1,000 inhabitants, below the lowest floor of 2,000" in message
    assert "Como" not in message  # the fine group is not reported


def test_part_cut_off_by_a_locked_plan():
    # strip M1 | M2 M3 M4 (locked plan X, kept as it is) | M5: M1 and M5 are each alone.
    t = grid_territory(1, 5, population=[1000, 3000, 3000, 3000, 2500])
    sq = strip_plan(t, ["A", "X", "X", "X", "B"])
    rules = Rules().with_floor(2000).with_changes(locked_plans=("X",))
    with pytest.raises(InfeasibleError) as info:
        check_feasible(problem(t, rules, status_quo=sq))
    message = str(info.value)
    assert "made of M1 (000001) is cut off by locked plans and has 1,000 inhabitants, below the lowest floor" in message
    assert "M5" not in message  # 2,500 on its own is enough

def test_locked_municipalities_that_cannot_be_contiguous():
    t = grid_territory(1, 5)
    locks = {"000001": "north", "000005": "north", "000003": "south"}
    rules = Rules().with_floor(1000).with_changes(locked_municipalities=locks)
    pattern = r"locked to plan north \(M1 \(000001\), M5 \(000005\)\) cannot form a contiguous"
    with pytest.raises(InfeasibleError, match=pattern):
        check_feasible(problem(t, rules))


def test_locked_plan_below_its_floor():
    t = grid_territory(1, 4, population=[30_000, 30_000, 50_000, 50_000], area_km2=100.0)
    sq = strip_plan(t, ["A", "A", "B", "B"])
    rules = Rules().with_changes(locked_plans=("A",))
    pattern = r"locked plan A \(M1\) has 60,000 inhabitants, below its standard floor of 80,000"
    with pytest.raises(InfeasibleError, match=pattern):
        check_feasible(problem(t, rules, status_quo=sq))


def test_municipality_above_the_ceiling():
    t = grid_territory(1, 3, population=[1000, 9000, 1000])
    rules = Rules().with_floor(1000).with_changes(ceiling=5000)
    with pytest.raises(InfeasibleError, match=r"M2 \(000002\) alone has 9,000 inhabitants, above the ceiling of 5,000"):
        check_feasible(problem(t, rules))


def test_a_current_plan_above_the_ceiling_in_merge_mode():
    # merge mode keeps current plans whole, so one above the ceiling is named (it used to be blamed on the floor)
    t = grid_territory(1, 4)
    rules = Rules().with_floor(1000).with_changes(ceiling=1500)
    p = Problem(t, rules, Collaboration.combine(), status_quo=strip_plan(t, "AABC"), mode="merge")
    with pytest.raises(InfeasibleError, match=r"1 current plan\(s\) alone have more inhabitants than the ceiling "
                                              r"of 1,500: A \(M1, 2,000\); merge mode keeps current plans whole"):
        check_feasible(p)


def test_every_reason_is_reported_at_once():
    t = grid_territory(1, 3, population=[1000, 9000, 1000], province=["A", "B", "B"])
    rules = Rules().with_floor(2000).with_changes(ceiling=5000, hard_boundaries=("province",))
    with pytest.raises(InfeasibleError) as info:
        check_feasible(problem(t, rules))
    assert "above the ceiling" in str(info.value) and "province=A has 1,000" in str(info.value)


def test_real_lombardy_default_rules_pass(lombardy):
    check_feasible(problem(lombardy, Rules.default()))


def test_a_hard_boundary_column_must_exist_and_be_filled():
    t = grid_territory(1, 4, ats=["Bergamo", "Bergamo", None, None])
    rules = Rules().with_floor(1000).with_changes(hard_boundaries=("ats",))
    with pytest.raises(InfeasibleError, match=r"hard boundary column 'ats' has no value for 2 municipalities "
                                              r"\(M3 \(000003\), M4 \(000004\)\); plans there cannot be checked"):
        check_feasible(problem(t, rules))
    with pytest.raises(InfeasibleError, match=r"hard boundary column 'colour' is not in the municipality table "
                                              r"\(columns: name, province"):
        check_feasible(problem(t, rules.with_changes(hard_boundaries=("colour",))))
