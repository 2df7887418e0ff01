"""The class rule summed per class with unit shares (``class_bound``) against the exact optimum."""

from __future__ import annotations

import numpy as np
import pytest

from lombardy_districts.model.options import Selection
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import CLASSES, Rules
from lombardy_districts.model.selection import select_territory
from lombardy_districts.solvers.bounds import plan_count_bound, problem_bound, problem_shares, share_count
from lombardy_districts.solvers.class_bound import class_rule_bound
from lombardy_districts.solvers.share_bound import class_shares, least_class_populations
from lombardy_districts.solvers.units import Units
from lombardy_districts.workflows.propose import build_problem

from .exact_grids import compliant_blocks, grid, most_plans, random_class_case

SHAPES = [(2, 4), (2, 3), (1, 8), (1, 7), (3, 3)]


@pytest.mark.parametrize("seed", range(200))
def test_the_class_bound_with_shares_is_never_below_the_exact_optimum(seed):
    # random grids of 6 to 9 units, random populations, terrain, floors and class cut-offs;
    # the optimum is the most blocks of any partition into connected compliant plans
    rng = np.random.default_rng(1000 + seed)
    units, rules = random_class_case(rng, *SHAPES[seed % len(SHAPES)])
    optimum = most_plans(units, rules)
    everything = np.arange(len(units))
    assert class_rule_bound(units, rules, everything, class_shares(units, rules)) >= optimum
    assert plan_count_bound(units, rules).value >= optimum


@pytest.mark.parametrize("seed", range(60))
def test_each_class_least_population_is_never_above_a_real_plan_of_that_class(seed):
    # the share rows rest on L_i^c: every connected compliant block of class c has at least
    # L_i^c inhabitants for each of its units i (all 2^n blocks enumerated)
    rng = np.random.default_rng(2000 + seed)
    units, rules = random_class_case(rng, *SHAPES[seed % len(SHAPES)])
    least = least_class_populations(units, rules)
    for block, pop, name in compliant_blocks(units, rules):
        assert all(least[i, CLASSES.index(name)] <= pop for i in block), (block, name)


def test_shares_and_class_sums_together_prove_less_than_either_alone():
    # a line of 7 cells of 1 km2 (case 1238 of a search over random_class_case; its numbers are
    # copied here): the exact optimum is 2 plans, the unit shares alone say 4, the class rule
    # summed per class alone says 4, and both together say 3
    pop = [800, 3000, 50, 50, 100, 1500, 800]
    mountain = ["not", "not", "not", "totally", "not", "not", "partly"]
    rules = Rules(floors={"mountain": 300, "low_density": 600, "standard": 1000, "high_density": 1000},
                  high_density_min=1000.0, low_density_max=100.0, mountain_area_share=0.3,
                  mountain_density_below=300.0)
    problem = build_problem(grid(1, 7, pop, mountain), rules=rules)
    units = Units.from_problem(problem)
    everything = np.arange(len(units))
    assert most_plans(units, problem.rules) == 2
    assert share_count(units, problem.rules) == 4
    assert class_rule_bound(units, problem.rules, everything) == 4
    assert class_rule_bound(units, problem.rules, everything, class_shares(units, problem.rules)) == 3
    bound = plan_count_bound(units, problem.rules)
    assert bound.value == 3 and bound.method.startswith("class rule summed per class")


def test_the_bound_under_the_shipped_rules_on_the_whole_region(lombardy):
    problem = build_problem(lombardy)
    bound = plan_count_bound(Units.from_problem(problem), problem.rules)
    # regression number: 231 with the class sums and unit shares together (232 with the unit
    # shares alone, 295 with the class sums alone; python benchmarks/bench_bound.py, 2026-11-30)
    assert bound.value <= 231 and bound.method.startswith("class rule summed per class")


def test_on_lodi_province_alone_the_bound_is_the_optimum(lombardy):
    # Lodi alone under the shipped rules: CP-SAT's full model proves 4 plans optimal (README); the
    # unit shares alone say 7, the class sums with the shares say 4, so the gap there is closed
    problem = build_problem(select_territory(lombardy, Selection(province=("Lodi",))))
    units = Units.from_problem(problem)
    assert share_count(units, problem.rules) == 7
    assert plan_count_bound(units, problem.rules).value == 4


def test_the_bound_of_a_problem_is_computed_once_and_is_plan_count_bound(lombardy):
    # CP-SAT and its heuristic warm start both ask for it: the second gets the first's answer
    problem = build_problem(select_territory(lombardy, Selection(province=("Lodi",))))
    first = problem_bound(problem, Units.from_problem(problem))
    assert problem_bound(problem, Units.from_problem(problem)) is first
    assert first == plan_count_bound(Units.from_problem(problem), problem.rules)
    shares = problem_shares(problem, Units.from_problem(problem))
    assert problem_shares(problem, Units.from_problem(problem)) is shares
    assert np.array_equal(shares, class_shares(Units.from_problem(problem), problem.rules))
    other = build_problem(select_territory(lombardy, Selection(province=("Lodi",))), floor=25000)
    assert problem_bound(other, Units.from_problem(other)) is not first


@pytest.mark.parametrize("seed", range(60))
def test_the_quick_bound_without_classes_is_never_below_the_exact_optimum(seed):
    # the lowest floor for every class: what problems whose first objective is not the count get
    rng = np.random.default_rng(5000 + seed)
    units, rules = random_class_case(rng, *SHAPES[seed % len(SHAPES)])
    quick = plan_count_bound(units, rules, by_class=False)
    assert quick.value >= most_plans(units, rules)
    assert quick.value >= plan_count_bound(units, rules).value or quick.infeasible_parts


def test_repair_mode_gets_the_quick_bound_unless_it_asks_for_a_least_number_of_plans(lombardy):
    # repair puts disruption first on a restricted model and never uses the bound: seconds saved on
    # every studio repair; every other problem, and a repair asking for at least N plans, the full one
    territory = select_territory(lombardy, Selection(province=("Lodi",)))
    status_quo = Plan(territory, territory.municipalities["labour_market_area"])
    for mode, objectives, min_plans, by_class in [("scratch", None, None, True),
                                                  ("scratch", "collaboration,max-plans", None, True),
                                                  ("merge", None, None, True), ("repair", None, None, False),
                                                  ("repair", None, 2, True)]:
        problem = build_problem(territory, mode=mode, objectives=objectives, min_plans=min_plans,
                                status_quo=None if mode == "scratch" else status_quo)
        units = Units.from_problem(problem)
        expected = plan_count_bound(units, problem.rules, by_class=by_class)
        assert problem_bound(problem, units) == expected, (mode, objectives, min_plans)
    full, quick = (plan_count_bound(units, Rules.default(), by_class=c) for c in (True, False))
    assert full.value < quick.value and "lowest floor" in quick.method  # the two differ here
