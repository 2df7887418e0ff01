"""One definition of each measure: the solvers' fast copies agree exactly with ``model.measures``.

Random plans (any grouping: not necessarily contiguous or compliant) over small grids and over a
real province are scored by the scorecard and by each solver's own code: the exact solvers'
``unit_values`` (their reported objectives and the large-neighbourhood search's scores), the
heuristic's ``values`` and its class floors, and the exact models' integer class terms. Then the
solvers' own objective values of the plans they return are held to the scorecard too.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.measures import AREA_SCALE, ClassRule
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.scorecard import evaluate
from lombardy_districts.solvers._grow import Region
from lombardy_districts.solvers._layout import Layout
from lombardy_districts.solvers._local import Partition
from lombardy_districts.solvers._moves import values as heuristic_values
from lombardy_districts.solvers.cpsat import CPSATSolver
from lombardy_districts.solvers.exact import unit_values
from lombardy_districts.solvers.heuristic import HeuristicSolver
from lombardy_districts.solvers.model_data import ClassTerms
from lombardy_districts.solvers.pulp_mip import PulpSolver
from lombardy_districts.solvers.units import Units
from tests.exact_grids import grid

CLASS_RULES = Rules(floors={"standard": 800, "high_density": 1500, "mountain": 300, "low_density": 300},
                    high_density_min=1000.0, low_density_max=150.0)


def random_grid(rng: random.Random, rows=4, cols=5):
    """A grid whose cells straddle the class cut-offs, with labour areas and extra collaboration ties."""
    n = rows * cols
    pops = [rng.choice([60, 140, 150, 151, 400, 999, 1000, 1001, 1600]) for _ in range(n)]
    mountain = [rng.choice(["totally", "partly", "not", "not"]) for _ in range(n)]
    labour = [rng.choice("ABC") for _ in range(n)]
    territory = grid(rows, cols, pops, mountain, labour)
    codes = territory.codes
    extra = [(min(codes[a], codes[b]), max(codes[a], codes[b]), rng.choice([0.5, 1.0, 2.5]), "union")
             for a, b in (rng.sample(range(n), 2) for _ in range(8))]
    collaboration = Collaboration.combine(default_collaboration(territory),
                                          Collaboration(pd.DataFrame(extra, columns=["code_a", "code_b", "weight",
                                                                                     "kind"])))
    return territory, collaboration


def random_labels(rng: random.Random, n: int, k: int) -> list[str]:
    return [f"p{rng.randrange(k)}" for _ in range(n)]


def scorecard_values(plan: Plan, rules: Rules, collaboration, status_quo=None) -> dict:
    card = evaluate(plan, rules, collaboration, status_quo)
    s = card.summary
    out = {"max-plans": float(s["plans"]), "collaboration": s["collaboration_kept"],
           "compact": float(s["cut_edges"]), "classes": dict(zip(card.plans["plan_id"], card.plans["class"]))}
    if status_quo is not None:
        out["disruption"] = float(s["municipalities_moved"])
    return out


def assert_same(ours: dict, theirs: dict) -> None:
    for name in ("max-plans", "compact", "disruption"):
        if name in theirs:
            assert ours[name] == theirs[name], name
    assert math.isclose(ours["collaboration"], theirs["collaboration"], rel_tol=1e-12, abs_tol=1e-9)


def heuristic_partition(layout: Layout, labels: list) -> Partition:
    groups: dict = {}
    for u, lab in enumerate(labels):
        groups.setdefault(lab, set()).add(u)
    return Partition(layout, [Region(layout, members) for members in groups.values()])


def check_fast_copies(problem: Problem, unit_labels: list) -> None:
    """Every fast copy of every measure agrees with the scorecard on the plan ``unit_labels`` gives."""
    units = Units.from_problem(problem)
    plan = units.to_plan(problem, unit_labels)
    expected = scorecard_values(plan, problem.rules, problem.collaboration, problem.status_quo)
    assert_same(unit_values(units, unit_labels), expected)
    layout = Layout(units, problem.rules)
    part = heuristic_partition(layout, unit_labels)
    got = heuristic_values(layout, part)
    named = {"max-plans": float(got["plans"]), "collaboration": got["collaboration"], "compact": float(got["cut"]),
             "disruption": float(got["moved"])}
    assert_same(named, expected)
    terms = ClassTerms.from_units(units, problem.rules)
    for region in part.regions.values():
        members = sorted(region.members)
        plan_id = plan.assignment[units.members[members[0]][0]]
        klass = expected["classes"][plan_id]
        assert terms.classify(members) == klass
        assert layout.floor(region.totals) == problem.rules.floors[klass]


@pytest.mark.parametrize("seed", range(25))
def test_every_copy_agrees_on_random_plans_over_small_grids(seed):
    rng = random.Random(seed)
    territory, collaboration = random_grid(rng)
    n = len(territory.codes)
    status_quo = Plan(territory, dict(zip(territory.codes, random_labels(rng, n, 5))))
    # odd seeds: a mountain density cut-off of its own (the models' separate term), even: the default
    rules = CLASS_RULES if seed % 2 == 0 else CLASS_RULES.with_changes(mountain_density_below=400.0)
    problem = Problem(territory, rules, collaboration, status_quo=status_quo, mode="repair",
                      objectives=("disruption",))
    check_fast_copies(problem, random_labels(rng, n, rng.randint(1, 8)))


@pytest.mark.parametrize("seed", range(15))
def test_every_copy_agrees_in_merge_mode(seed):
    # units are the status quo's plans: ties and edges inside them are constants of every plan
    rng = random.Random(100 + seed)
    territory, collaboration = random_grid(rng)
    status_quo = Plan(territory, dict(zip(territory.codes, random_labels(rng, len(territory.codes), 7))))
    problem = Problem(territory, CLASS_RULES, collaboration, status_quo=status_quo, mode="merge",
                      objectives=("max-plans", "collaboration"))
    units = Units.from_problem(problem)
    check_fast_copies(problem, random_labels(rng, len(units), rng.randint(1, 4)))


def test_merging_plans_moves_nobody_in_every_copy():
    # four status quo plans merged into two: the scorecard, the exact solvers and the heuristic all say 0
    territory = grid(2, 2, [100, 100, 100, 100])
    status_quo = Plan(territory, dict(zip(territory.codes, "ABCD")))
    problem = Problem(territory, Rules().with_floor(200), default_collaboration(territory, status_quo),
                      status_quo=status_quo, mode="merge", objectives=("max-plans", "disruption"))
    check_fast_copies(problem, ["x", "x", "y", "y"])
    for solver in (CPSATSolver, PulpSolver, HeuristicSolver):
        result = solver.from_problem(problem, {"time_limit": 20, "workers": 1}).solve()
        card = evaluate(result.plan, problem.rules, problem.collaboration, status_quo)
        assert len(result.plan) == 2 and card.summary["municipalities_moved"] == 0, solver.name
        if solver is not HeuristicSolver:
            assert result.details["objectives"]["disruption"] == 0


@pytest.mark.parametrize("mode", ["scratch", "repair"])
def test_the_heuristic_reports_the_scorecard_s_objectives(mode):
    rng = random.Random(5)
    territory, collaboration = random_grid(rng, 3, 4)
    status_quo = Plan(territory, dict(zip(territory.codes, random_labels(rng, 12, 4))))
    objectives = ("disruption", "max-plans") if mode == "repair" else ("max-plans", "collaboration")
    options = {"time_limit": 5, "deterministic": True}
    if mode == "repair":  # a status quo the heuristic can repair: a compliant plan with one municipality moved
        scratch = Problem(territory, Rules().with_floor(900), collaboration, status_quo=status_quo)
        found = HeuristicSolver.from_problem(scratch, options).solve().plan
        first, other = found.assignment.iloc[0], found.assignment.iloc[-1]
        status_quo = found.reassign({found.assignment.index[0]: other}) if first != other else found
    problem = Problem(territory, Rules().with_floor(900), collaboration, status_quo=status_quo, mode=mode,
                      objectives=objectives)
    result = HeuristicSolver.from_problem(problem, options).solve()
    expected = scorecard_values(result.plan, problem.rules, collaboration, status_quo)
    assert set(result.details["objectives"]) == set(expected) - {"classes"}
    assert_same(result.details["objectives"], expected)


def test_every_copy_agrees_on_random_plans_over_a_real_province(lombardy):
    lecco = lombardy.select("province", ["Lecco"])
    rng = random.Random(7)
    status_quo = Plan(lecco, lecco.municipalities["labour_market_area"].astype(str))
    problem = Problem(lecco, Rules(), default_collaboration(lecco, status_quo), status_quo=status_quo,
                      mode="repair", objectives=("disruption",))
    n = len(lecco.codes)
    for k in (1, 3, 12, 40):
        check_fast_copies(problem, random_labels(rng, n, k))
    # plans that follow the status quo closely: few moves, real class mixes
    base = status_quo.assignment.tolist()
    for _ in range(5):
        labels = [lab if rng.random() < 0.9 else f"moved{rng.randrange(3)}" for lab in base]
        check_fast_copies(problem, labels)


def test_the_class_rule_is_exact_at_the_cut_off():
    # one area unit (100 m2) decides: exactly 1,000 per km2 is high density, a hair less is not
    rule = ClassRule.of(Rules())
    assert rule.classify(1000, 10_000, 0) == "high_density"
    assert rule.classify(1000, 10_001, 0) == "standard"
    assert rule.classify(100, 10_000, 5_000) == "low_density"  # exactly half mountain is not mountain
    assert rule.classify(100, 10_000, 5_001) == "mountain"


def test_the_class_rule_in_plain_ints_is_the_rule_of_its_fractions():
    # classify keeps the fractions' parts as ints for speed; read the rule off the fractions here
    rng = random.Random(5)
    for rules in (Rules(), Rules(mountain_area_share=0.37, high_density_min=712.3, low_density_max=149.9,
                                 mountain_density_below=88.8)):
        rule = ClassRule.of(rules)
        for _ in range(3000):
            # often exactly at a cut-off or one area unit off it, where a slip would show
            density = rng.choice([rule.cap, rule.high, rule.low])
            pop = rng.randrange(0, 10**4) * density.numerator
            area = max(0, int(pop * AREA_SCALE / density) + rng.choice([-1, 0, 1, rng.randrange(-10**6, 10**6)]))
            mountain = min(area, max(0, int(area * rule.share) + rng.choice([-1, 0, 1])))
            density = Fraction(pop * AREA_SCALE, area) if area else Fraction(0)
            if area and Fraction(mountain, area) > rule.share and density < rule.cap:
                expected = "mountain"
            elif density >= rule.high:
                expected = "high_density"
            elif density <= rule.low:
                expected = "low_density"
            else:
                expected = "standard"
            assert rule.classify(pop, area, mountain) == expected, (pop, area, mountain)


@pytest.mark.parametrize("objective", ["collaboration", "compact", "disruption"])
@pytest.mark.parametrize("solver", [CPSATSolver, PulpSolver])
def test_the_exact_models_objectives_are_the_scorecard_s(objective, solver):
    rng = random.Random(3)
    territory, collaboration = random_grid(rng, 3, 4)
    status_quo = Plan(territory, dict(zip(territory.codes, random_labels(rng, 12, 4))))
    rules = Rules().with_floor(900)
    mode = "repair" if objective == "disruption" else "scratch"
    problem = Problem(territory, rules, collaboration, status_quo=status_quo, mode=mode,
                      objectives=("max-plans", objective))
    result = solver.from_problem(problem, {"time_limit": 30, "workers": 1, "tuning": {"repair_depth": 9}}).solve()
    assert result.status == "optimal"
    expected = scorecard_values(result.plan, rules, collaboration, status_quo)
    assert_same(result.details["objectives"], expected)
    stage = result.details.get("stage_objective", {}).get(objective)
    if stage is not None:  # the model's own objective expression, read back from the solver
        assert stage == pytest.approx(expected[objective], abs=1e-6)
    assert np.isfinite(result.objective)
