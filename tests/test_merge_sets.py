"""Merge mode by set partitioning over groups of plans (``solvers.merge_sets``)."""

import random
import time

import numpy as np
import pytest

from lombardy_districts.model.collaboration import default_collaboration
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.stop import Stop
from lombardy_districts.solvers import merge_groups, merge_sets
from lombardy_districts.solvers.cpsat import CPSATSolver
from lombardy_districts.solvers.exact import prepare
from lombardy_districts.solvers.pulp_mip import PulpSolver
from tests.exact_grids import class_grid, grid, most_plans, problem, random_class_problem


def merge_problem(territory, labels, rules, objectives=("max-plans", "collaboration"), **problem_fields):
    sq = Plan(territory, dict(zip(territory.codes, labels)))
    return problem(territory, rules, objectives, status_quo=sq, mode="merge",
                   collaboration=default_collaboration(territory, sq), **problem_fields)


def solve(p, tuning=None, **options):
    """CP-SAT on ``p``: 30 s, one worker, unless ``options`` say otherwise."""
    options = {"time_limit": 30, "workers": 1, "tuning": tuning or {}, **options}
    return CPSATSolver.from_problem(p, options).solve()


def prepared(p, **tuning):
    """The exact solvers' set-up of ``p`` with these tuning settings (no heuristic warm start)."""
    return prepare(p, {**CPSATSolver.TUNING, "heuristic_warm_start": False, **tuning}, None, 10, 0)


def test_groups_are_connected_compliant_and_not_splittable():
    # a line of four plans of 100 each, floor 200: pairs and triples are groups; the four together
    # split into two compliant pairs, so an optimum never uses them
    territory = grid(1, 4, [100, 100, 100, 100])
    p = merge_problem(territory, "ABCD", Rules().with_floor(200))
    groups = merge_groups.Groups(prepared(p), max_sets=1000)
    while groups.grow():
        pass
    assert groups.failing == [0, 1, 2, 3]
    assert sorted(groups.columns) == [(0, 1), (0, 1, 2), (1, 2), (1, 2, 3), (2, 3)]


def test_groups_stop_before_passing_the_set_limit():
    territory = grid(3, 3, [100] * 9)
    p = merge_problem(territory, "ABCDEFGHI", Rules().with_floor(200))
    groups = merge_groups.Groups(prepared(p), max_sets=30)
    while groups.grow():
        pass
    assert groups.size == 2 and groups.enumerated <= 30  # 9 singles + 12 pairs; 22 triples would pass 30
    assert "not listed" in groups.note


def test_a_plan_of_many_merged_units_is_found_and_proved():
    # five plans of 100 in a row need each other (floor 500); two compliant plans sit beside them
    territory = grid(1, 7, [600, 100, 100, 100, 100, 100, 700])
    p = merge_problem(territory, "ABCDEFG", Rules().with_floor(500))
    result = solve(p)
    assert result.status == "optimal" and result.objective == 3 and result.bound == 3
    record = result.details["merge_groups"]
    assert record["group_size"] >= 5 and record["larger_groups_excluded"] is True
    assert result.plan.violations(p.rules) == []
    assert "warm start" not in " ".join(result.details["notes"])  # set partitioning needs no heuristic first


def test_capped_groups_hand_over_to_the_compact_model():
    # the optimum needs a plan of three units; listing only pairs cannot prove it
    territory = grid(1, 5, [500, 100, 100, 100, 500])
    p = merge_problem(territory, "ABCDE", Rules().with_floor(300))
    result = solve(p, {"merge_group_size": 2})
    notes = " ".join(result.details["notes"])
    assert "did not prove" in notes and "warm start: heuristic plan" in notes  # no listed partition: heuristic
    assert result.status == "optimal" and result.objective == 3
    assert result.plan.violations(p.rules) == []


def test_infeasible_merge_is_proved():
    territory = grid(1, 3, [100, 100, 100])
    p = merge_problem(territory, "ABC", Rules().with_floor(500))
    result = solve(p, {"heuristic_warm_start": False})
    assert result.status == "infeasible" and result.plan is None


def random_merge_case(seed):
    rng = random.Random(seed)
    pops = [rng.choice([60, 90, 120, 150, 250, 400]) for _ in range(16)]
    labels = []
    for r in range(4):  # status quo plans: single cells or pairs of cells in a row
        width = rng.choice([1, 2])
        labels += [f"P{r}{c // width}" for c in range(4)]
    return grid(4, 4, pops), labels


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("objectives", [("max-plans", "collaboration"), ("max-plans", "compact"),
                                        ("max-plans", "disruption")])
def test_set_partitioning_agrees_with_the_compact_models(seed, objectives):
    territory, labels = random_merge_case(seed)
    p = merge_problem(territory, labels, Rules().with_floor(300), objectives)
    sets = solve(p, time_limit=60)
    assert "merge_groups" in sets.details
    cpsat = solve(p, {"merge_groups": False}, time_limit=60)
    mip = PulpSolver.from_problem(p, {"time_limit": 60, "workers": 1}).solve()
    assert sets.status == cpsat.status == mip.status == "optimal"
    for name in objectives:
        assert sets.details["objectives"][name] == cpsat.details["objectives"][name] == \
            mip.details["objectives"][name], name
    assert sets.plan.violations(p.rules) == []


def test_class_floors_agree_with_the_compact_model():
    territory, rules = class_grid()
    labels = ["A", "A", "B", "B", "C", "C", "D", "E",
              "F", "F", "G", "H", "I", "J", "K", "K"]
    p = merge_problem(territory, labels, rules)
    sets = solve(p, time_limit=60)
    compact = solve(p, {"merge_groups": False}, time_limit=60)
    assert "merge_groups" in sets.details
    assert sets.status == compact.status == "optimal"
    assert sets.details["objectives"]["max-plans"] == compact.details["objectives"]["max-plans"]
    assert sets.details["objectives"]["collaboration"] == compact.details["objectives"]["collaboration"]
    assert sets.plan.violations(rules) == []


def test_ceiling_is_kept_by_every_group():
    territory = grid(1, 4, [150, 150, 150, 150])
    rules = Rules(floors={c: 250 for c in ("standard", "high_density", "mountain", "low_density")},
                  ceiling=350)
    p = merge_problem(territory, "ABCD", rules)
    result = solve(p)
    assert result.status == "optimal" and result.objective == 2
    assert result.plan.populations.max() <= 350


def test_not_used_with_weights_or_a_plan_count():
    territory = grid(1, 4, [100, 100, 100, 100])
    rules = Rules().with_floor(200)
    assert merge_sets.applies(prepared(merge_problem(territory, "ABCD", rules)))
    assert not merge_sets.applies(prepared(merge_problem(territory, "ABCD", rules, min_plans=1, max_plans=1)))
    assert not merge_sets.applies(prepared(merge_problem(territory, "ABCD", rules), merge_groups=False))
    p = merge_problem(territory, "ABCD", rules, ("collaboration", "max-plans"))
    assert not merge_sets.applies(prepared(p))


def test_deterministic_merge_counts_its_work():
    rng = random.Random(5)
    pops = [rng.choice([60, 90, 120, 150, 250, 400]) for _ in range(64)]
    p = merge_problem(grid(8, 8, pops), [f"P{i}" for i in range(64)], Rules().with_floor(300))
    first = solve(p, time_limit=10, seed=3, workers=None, deterministic=True)
    again = solve(p, time_limit=10, seed=3, workers=None, deterministic=True)
    budget = first.details["budget"]
    assert "merge_groups" in first.details and first.plan.violations(p.rules) == []
    assert 0 < budget["cpsat_deterministic_time_used"] <= budget["cpsat_deterministic_time_allowance"]
    assert budget["reproducible"] is True
    assert first.plan.assignment.to_dict() == again.plan.assignment.to_dict()


def test_many_groups_go_to_the_partition_mip_and_the_answer_is_proved(monkeypatch):
    # four plans of 100 in a row need each other (floor 400). Step 1 over groups of up to 3 plans
    # puts them in a larger plan; with every listing "too large" for step 1 (RELAXED_COLUMNS = 0)
    # the groups of 4 go straight to HiGHS, whose partition meets the bound: the same optimum.
    territory = grid(1, 6, [600, 100, 100, 100, 100, 700])
    p = merge_problem(territory, "ABCDEF", Rules().with_floor(400))
    usual = solve(p)
    monkeypatch.setattr(merge_sets, "RELAXED_COLUMNS", 0)
    by_mip = solve(p)
    assert by_mip.details["merge_groups"]["partition_found_by"].startswith("HiGHS")
    assert "partition_found_by" not in usual.details["merge_groups"]
    for result in (usual, by_mip):
        assert result.status == "optimal" and result.objective == 3 and result.bound == 3
        assert result.plan.violations(p.rules) == []
    assert by_mip.details["objectives"] == usual.details["objectives"]


@pytest.mark.parametrize("seed", range(6))
def test_plan_bound_is_never_below_the_brute_force_optimum(seed):
    # each of 9 municipalities its own plan, random populations, terrain and class floors
    rp = random_class_problem(np.random.default_rng(seed), 3, 3)
    p = merge_problem(rp.territory, "ABCDEFGHI", rp.rules)
    setup = prepared(p)
    best = most_plans(setup.model, rp.rules)
    groups = merge_groups.Groups(setup, max_sets=10_000)
    bounds = [merge_groups.plan_bound(groups)]
    while groups.size < 5 and groups.grow():
        bounds.append(merge_groups.plan_bound(groups))
    assert all(b >= best for b in bounds), (bounds, best)
    assert bounds[-1] <= bounds[0]


def test_plan_bound_meets_the_optimum_of_a_line():
    # four plans of 100 between two compliant ones (floor 400): at most 3 plans, whatever the size listed
    territory = grid(1, 6, [600, 100, 100, 100, 100, 700])
    groups = merge_groups.Groups(prepared(merge_problem(territory, "ABCDEF", Rules().with_floor(400))), 1000)
    assert merge_groups.plan_bound(groups) == 4  # single units only: the four small ones count 1/2 each
    groups.grow()
    assert merge_groups.plan_bound(groups) == 3


def test_a_large_listing_is_listed_ahead_and_bounded_by_its_lp(monkeypatch):
    # above AHEAD_COLUMNS groups the next size is listed too; past RELAXED_COLUMNS step 1 is skipped
    # and the LP over the listing gives the bound (3, the optimum) for HiGHS's partition to meet
    territory = grid(1, 6, [600, 100, 100, 100, 100, 700])
    groups = merge_groups.Groups(prepared(merge_problem(territory, "ABCDEF", Rules().with_floor(400))), 1000)
    groups.grow()
    monkeypatch.setattr(merge_sets, "AHEAD_COLUMNS", len(groups.columns) - 1)
    runner = merge_sets._Stages(10, 0, None, time.perf_counter(), 1.0, Stop())
    ahead = merge_groups.Groups(prepared(merge_problem(territory, "ABCDEF", Rules().with_floor(400))), 1000)
    for _ in range(3):
        ahead.grow()
    monkeypatch.setattr(merge_sets, "RELAXED_COLUMNS", len(ahead.columns) - 1)
    best = {"bound": 6}
    assert not merge_sets._list_more(groups, runner, True, 6, best)
    assert groups.size == 4 and best["bound"] == 3


@pytest.mark.parametrize("seed", [4, 5])
def test_later_objectives_left_unproved_are_improved_by_the_search(seed, monkeypatch):
    # the number of plans proved, the collaboration stage cut short (as in the 274-plan merge): the
    # neighbourhood search lifts collaboration to the optimum without losing a plan
    territory, labels = random_merge_case(seed)
    p = merge_problem(territory, labels, Rules().with_floor(300))
    best = solve(p)

    def cut_short(setup, groups, runner, model, chosen, answer):
        answer.exact = False
        return chosen

    monkeypatch.setattr(merge_sets, "_later_stages", cut_short)
    raw = solve(p, {"lns": False})
    polished = solve(p, {"lns": True, "lns_iterations": 40})
    assert "lns" in polished.details and "lns" not in raw.details
    assert raw.details["objectives"]["collaboration"] < best.details["objectives"]["collaboration"]
    assert polished.details["objectives"]["collaboration"] == best.details["objectives"]["collaboration"]
    assert polished.objective == raw.objective == best.objective == polished.bound
    assert polished.status == "feasible" and polished.plan.violations(p.rules) == []
