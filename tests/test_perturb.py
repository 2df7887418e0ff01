"""The heuristic's iterated local search (``solvers._perturb``) and the focused local search under it."""

import numpy as np
import pandas as pd
import pytest

from lombardy_districts.model.collaboration import Collaboration
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers import _perturb
from lombardy_districts.solvers._budget import Budget
from lombardy_districts.solvers._grow import Region, grow, totals_ok
from lombardy_districts.solvers._layout import Layout
from lombardy_districts.solvers._local import Partition, improve_count_python
from lombardy_districts.solvers._moves import Favourite, values
from lombardy_districts.solvers._perturb import Labels, _centre, _spare, perturb
from lombardy_districts.solvers.heuristic import HeuristicSolver
from lombardy_districts.solvers.units import Units
from tests.exact_grids import most_plans, random_class_problem
from tests.grids import grid_territory
from tests.test_regroup import assert_valid, partition, setup


def start(layout, seed):
    """A compliant partition grown from seeds, or None."""
    rng = np.random.default_rng(seed)
    for _ in range(20):
        regions = grow(layout, set(range(layout.n)), rng)
        if totals_ok(layout, regions):
            return Partition(layout, regions)
    return None


def class_case(seed, rows=3, cols=3):
    """Units, layout and a compliant start of ``random_class_problem`` on a grid (the test is skipped without one)."""
    problem = random_class_problem(np.random.default_rng(seed), rows, cols)
    units = Units.from_problem(problem)
    layout = Layout(units, problem.rules)
    part = start(layout, seed)
    if part is None:
        pytest.skip("no compliant start on this grid")
    return units, layout, part


@pytest.mark.parametrize("seed", range(12))
def test_every_unit_stays_in_one_compliant_region_and_no_more_than_the_optimum(seed):
    units, layout, part = class_case(seed)
    before = len(part)
    out, _ = perturb(layout, part, np.random.default_rng(seed), Budget(5.0, deterministic=True), bound=99,
                  idle_rounds=30)
    assert_valid(layout, out, layout.n)
    assert before <= len(out) <= most_plans(units, layout.rules)


def test_same_seed_same_regions():
    t = grid_territory(6, 8, population=np.random.default_rng(3).choice([300, 700, 1500], size=48).tolist())
    _, layout = setup(t, Rules().with_floor(2500))
    runs = []
    for _ in range(2):
        part = start(layout, 0)
        out, _ = perturb(layout, part, np.random.default_rng(7), Budget(5.0, deterministic=True), bound=99,
                      idle_rounds=40)
        runs.append(sorted(sorted(r.members) for r in out.regions.values()))
    assert runs[0] == runs[1]


def test_the_walk_goes_on_from_the_latest_plan_with_the_best_count(monkeypatch):
    # 2 x 2 cells of 1,000, floor 2,000: rows and columns both make 2 regions. Shaking the rows gives
    # the columns (as many regions), then one region, then nothing: the search ends on the columns.
    _, layout = setup(grid_territory(2, 2, population=[1000] * 4), Rules().with_floor(2000))
    trials = iter([Labels(np.array([0, 1, 0, 1]), 2), Labels(np.array([0, 0, 0, 0]), 1)])
    monkeypatch.setattr(_perturb, "_shaken_compiled", lambda layout, part, rng, budget: next(trials, None))
    out, rounds = perturb(layout, partition(layout, [0, 0, 1, 1]), np.random.default_rng(0),
                          Budget(5.0, deterministic=True), bound=3, idle_rounds=4)
    assert rounds == 4 and sorted(sorted(r.members) for r in out.regions.values()) == [[0, 2], [1, 3]]


def test_a_shaken_strip_finds_the_pairs_the_input_missed():
    # 1 x 12 strip, alternately 1,000 and 2,000, floor 3,000: the optimum is 6 pairs. The input has
    # 4 regions of 4,000-5,000 (no split fits: each is under twice the floor).
    t = grid_territory(1, 12, population=[1000, 2000] * 6)
    _, layout = setup(t, Rules().with_floor(3000))
    part = partition(layout, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    out, _ = perturb(layout, part, np.random.default_rng(0), Budget(5.0, deterministic=True), bound=6,
                  idle_rounds=200)
    assert_valid(layout, out, 12)
    assert len(out) == 6


def test_the_search_starts_only_from_new_regions_and_their_neighbours():
    # a 1 x 20 strip of 1,000s, floor 2,000, five regions of four cells: each could split in two
    t = grid_territory(1, 20)
    _, layout = setup(t, Rules().with_floor(2000))
    part = partition(layout, [k // 4 for k in range(20)])
    improve_count_python(layout, part, np.random.default_rng(0), Budget(5.0, deterministic=True), patience=50,
                         since=part.next_id)
    assert len(part) == 5  # no region is new: nothing to start from
    since = part.next_id
    part.replace([0], [Region(layout, {0, 1, 2, 3})])  # the first region, built again
    improve_count_python(layout, part, np.random.default_rng(0), Budget(5.0, deterministic=True), patience=50,
                         since=since)
    assert_valid(layout, part, 20)
    assert len(part) > 5


def test_the_heuristic_shakes_once_its_search_is_idle():
    t = grid_territory(4, 6, population=np.random.default_rng(1).choice([300, 700, 1500], size=24).tolist())
    problem, _ = setup(t, Rules().with_floor(2500))
    base = {"time_limit": 5, "seed": 0, "deterministic": True}
    off = HeuristicSolver.from_problem(problem, {**base, "tuning": {"perturb_rounds": 0}}).solve()
    on = HeuristicSolver.from_problem(problem, {**base, "tuning": {"perturb_rounds": 50}}).solve()
    assert on.plan is not None and off.plan is not None
    assert on.plan.violations(problem.rules) == []
    assert len(on.plan) >= len(off.plan)
    assert off.details["shakes"] == 0
    assert 50 <= on.details["shakes"] and on.details["stopped_by"] == "patience"  # 50 idle rounds, then stop


def test_balls_are_centred_where_population_is_spare():
    # a 1 x 12 strip of 1,000s, floor 3,000, with a town of 5,000 (meets the floor alone) at the end:
    # regions of 3,000 have no spare, one of 5,000 has 2,000, the town's region keeps its spare
    t = grid_territory(1, 12, population=[1000] * 11 + [5000])
    _, layout = setup(t, Rules().with_floor(3000))
    part = partition(layout, [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 3])
    rng = np.random.default_rng(0)
    drawn = [_centre(layout, part, rng) for _ in range(4000)]
    counts = [drawn.count(k) for k in range(4)]
    assert [_spare(layout, part.regions[k]) for k in range(4)] == [0, 0, 2000, 0]
    # weights 60, 60, 2060, 60 (BASE_WEIGHT of a floor each, plus the spare)
    assert counts[2] > 0.85 * 4000 and min(counts[0], counts[1], counts[3]) > 0


def tied_layout(objectives=("max-plans", "collaboration")):
    """2 x 2 cells of 1,000, floor 2,000 (rows or columns make 2 regions); cells 0 and 2 tied, weight 5.

    The columns keep the tie, the rows cut it. Returns the layout and a ``Favourite`` for ``objectives``.
    """
    ties = Collaboration(pd.DataFrame([("000001", "000003", 5.0, "union")],
                                      columns=["code_a", "code_b", "weight", "kind"]))
    problem = Problem(grid_territory(2, 2, population=[1000] * 4), Rules().with_floor(2000), ties)
    layout = Layout(Units.from_problem(problem), problem.rules)
    return layout, Favourite(layout, objectives, None)


def members(part):
    return sorted(sorted(r.members) for r in part.regions.values())


def test_the_favourite_is_the_plan_of_the_best_count_keeping_most_collaboration(monkeypatch):
    # the walk shakes the rows into the columns, back into the rows, then into one region: it ends
    # on the rows (the latest with 2 regions), and the favourite is the columns, which keep the tie
    layout, favourite = tied_layout()
    rows, columns = [0, 0, 1, 1], [0, 1, 0, 1]
    trials = iter([Labels(np.array(columns), 2), Labels(np.array(rows), 2), Labels(np.array([0, 0, 0, 0]), 1)])
    monkeypatch.setattr(_perturb, "_shaken_compiled", lambda layout, part, rng, budget: next(trials, None))
    out, _ = perturb(layout, partition(layout, rows), np.random.default_rng(0), Budget(5.0, deterministic=True),
                     bound=3, idle_rounds=4, favourite=favourite)
    assert members(out) == [[0, 1], [2, 3]]  # the walk is unchanged
    assert members(favourite.pick(out)) == [[0, 2], [1, 3]]
    assert values(layout, favourite.pick(out))["collaboration"] == 5.0


def test_a_favourite_needs_the_most_regions_and_a_later_objective():
    layout, favourite = tied_layout()
    rows = partition(layout, [0, 0, 1, 1])
    favourite.offer([0, 0, 0, 0], 1)  # keeps the tie, one region
    favourite.offer(rows.label, 2)  # more regions win, whatever they keep
    favourite.offer([0, 0, 0, 0], 1)  # fewer regions: ignored
    assert favourite.count == 2 and members(favourite.pick(None)) == [[0, 1], [2, 3]]
    assert favourite.pick(rows) is rows  # ranked no lower than the favourite: the plan itself
    favourite.offer([0, 1, 0, 1], 2)
    assert members(favourite.pick(rows)) == [[0, 2], [1, 3]]
    _, plans_only = tied_layout(("max-plans",))
    plans_only.offer([0, 1, 0, 1], 2)  # nothing after the plans to choose by: offers are ignored
    assert plans_only.labels is None and plans_only.pick(rows) is rows
