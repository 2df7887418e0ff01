"""The heuristic's exact regrouping step (``solvers._regroup``) on tiny grids, hand-counted."""

import numpy as np
import pytest

from lombardy_districts.model.collaboration import Collaboration
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers._budget import Budget
from lombardy_districts.solvers._layout import Layout
from lombardy_districts.solvers._local import Partition, split
from lombardy_districts.solvers._regroup import candidate_groups, group_shares, regroup
from lombardy_districts.solvers.heuristic import HeuristicSolver
from lombardy_districts.solvers.units import Units
from tests.grids import grid_territory


def setup(territory, rules):
    problem = Problem(territory, rules, Collaboration.combine())
    units = Units.from_problem(problem)
    return problem, Layout(units, rules)


def partition(layout, labels):
    return Partition.from_labels(layout, labels)


def assert_valid(layout, part, n):
    """Every unit in exactly one region; every region connected and compliant."""
    seen = sorted(u for r in part.regions.values() for u in r.members)
    assert seen == list(range(n))
    for r in part.regions.values():
        assert layout.connected(r.members)
        assert layout.complies(r.totals)


def test_two_regions_become_three_where_no_split_can():
    # a 1 x 6 strip 1,000 | 2,000 | 1,000 | 2,000 | 1,000 | 2,000, floor 3,000: regions of 4,000 and
    # 5,000 (both under twice the floor, so no split), together 9,000 = 3 x 3,000: pairs of cells.
    t = grid_territory(1, 6, population=[1000, 2000, 1000, 2000, 1000, 2000])
    problem, layout = setup(t, Rules().with_floor(3000))
    part = partition(layout, [0, 0, 0, 1, 1, 1])
    rng = np.random.default_rng(0)
    assert all(split(layout, r, rng) is None for r in part.regions.values())
    tried: set = set()
    assert regroup(layout, problem, part, group_shares(problem, layout), Budget(10.0), seed=0, tried=tried) == 1
    assert_valid(layout, part, 6)
    assert sorted(sorted(r.members) for r in part.regions.values()) == [[0, 1], [2, 3], [4, 5]]


def test_a_big_region_is_split_exactly_and_again():
    # 2 x 4 cells of 1,000, floor 2,000, two rows as regions: each row splits in two pairs -> 4.
    t = grid_territory(2, 4)
    problem, layout = setup(t, Rules().with_floor(2000))
    part = partition(layout, [0] * 4 + [1] * 4)
    assert regroup(layout, problem, part, group_shares(problem, layout), Budget(10.0), seed=0, tried=set()) == 2
    assert len(part) == 4
    assert_valid(layout, part, 8)


def test_nothing_to_gain_leaves_the_plan_alone():
    # 1 x 4 strip 1,500 | 1,500 | 1,600 | 1,400, floor 3,000: two regions of 3,000, together 6,000, under
    # the 9,000 three plans need: no group passes the population test, nothing is solved or changed.
    t = grid_territory(1, 4, population=[1500, 1500, 1600, 1400])
    problem, layout = setup(t, Rules().with_floor(3000))
    part = partition(layout, [0, 0, 1, 1])
    before = sorted(sorted(r.members) for r in part.regions.values())
    assert candidate_groups(layout, part, group_shares(problem, layout), 5, set(), Budget(10.0)) == []
    assert regroup(layout, problem, part, group_shares(problem, layout), Budget(10.0), seed=0, tried=set()) == 0
    assert sorted(sorted(r.members) for r in part.regions.values()) == before


def test_an_infeasible_group_is_proved_so_and_not_tried_again():
    # 1 x 3 strip 2,950 | 200 | 2,950 as one region, floor 3,000: 6,100 passes the population test for
    # two plans, but the middle cell joins one side and the other stays under the floor: CP-SAT proves it.
    t = grid_territory(1, 3, population=[2950, 200, 2950])
    problem, layout = setup(t, Rules().with_floor(3000))
    part = partition(layout, [0, 0, 0])
    tried: set = set()
    assert regroup(layout, problem, part, group_shares(problem, layout), Budget(10.0), seed=0, tried=tried) == 0
    assert len(part) == 1
    assert tried == {(2, (0, 1, 2))}
    assert candidate_groups(layout, part, group_shares(problem, layout), 5, tried, Budget(10.0)) == []


def test_shares_leave_out_what_a_big_unit_cannot_share():
    # 10,000 | 1,000 | 1,000 with floor 2,000: shares 1, 1/2, 1/2 (the big unit's 8,000 over the
    # floor are no one else's), so the strip can hold 2 plans, not 6.
    t = grid_territory(1, 3, population=[10_000, 1000, 1000])
    problem, layout = setup(t, Rules().with_floor(2000))
    assert group_shares(problem, layout) == pytest.approx([1.0, 0.5, 0.5])  # rounded up by 1e-9 (share_bound)


def test_shares_see_the_class_rule():
    # Under the shipped rules a lowland cell of 40,000 or 60,000 (100 km2, next to mountain cells of 13,000)
    # is never a plan alone (standard floor 80,000): its share is below 1, where a uniform 25,000 floor
    # (the lowest class floor) would count it as one whole plan.
    t = grid_territory(1, 6, population=[13_000] * 4 + [40_000, 60_000],
                       mountain_status=["totally"] * 4 + ["not", "not"], area_km2=100.0)
    problem, layout = setup(t, Rules())
    assert max(group_shares(problem, layout)[4:]) < 1
    problem, layout = setup(t, Rules().with_floor(25_000))
    assert group_shares(problem, layout)[4:] == [1.0, 1.0]


def test_class_rules_are_kept_by_the_exact_step():
    # The shipped class rules on a strip of four mountain cells of 13,000 and a lowland pair of
    # 40,000 + 60,000 (100 km2 each), all one region: the exact step finds the only 3-plan answer,
    # two mountain pairs (26,000, floor 25,000) and the lowland pair (100,000, standard floor 80,000).
    t = grid_territory(1, 6, population=[13_000] * 4 + [40_000, 60_000],
                       mountain_status=["totally"] * 4 + ["not", "not"], area_km2=100.0)
    rules = Rules()
    problem, layout = setup(t, rules)
    part = partition(layout, [0] * 6)
    assert regroup(layout, problem, part, group_shares(problem, layout), Budget(10.0), seed=0, tried=set()) == 2
    assert_valid(layout, part, 6)
    assert sorted(sorted(r.members) for r in part.regions.values()) == [[0, 1], [2, 3], [4, 5]]


def test_heuristic_with_the_step_never_ends_with_fewer_plans_than_without():
    t = grid_territory(6, 6, population=list(range(500, 500 + 36 * 100, 100)))
    problem = Problem(t, Rules().with_floor(6000), Collaboration.combine())
    counts = {}
    for size in (0, 5):
        options = {"time_limit": 5, "seed": 3, "deterministic": True, "tuning": {"regroup_regions": size}}
        result = HeuristicSolver.from_problem(problem, options).solve()
        assert result.plan.violations(problem.rules) == []
        counts[size] = len(result.plan)
    assert counts[5] >= counts[0]
