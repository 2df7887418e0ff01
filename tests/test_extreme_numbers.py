"""Extreme numbers: refused at every door with the allowed range, and the solvers agree on the rest.

Issue 15: a floor of 10^15 made CP-SAT answer "infeasible" where the heuristic found plans, 10^20
an OverflowError in evaluate, ``--seed -1`` a ValueError, a NaN weight a traceback. Every number
now has a range (``model/options.py``); within it, the exact solvers must never call a problem
infeasible that the heuristic solves, whatever the numbers.
"""

from __future__ import annotations

import math

import pytest

from lombardy_districts.cli import main
from lombardy_districts.errors import InputError
from lombardy_districts.model.options import MAX_DENSITY, MAX_POPULATION, MAX_SEED, MAX_WEIGHT
from lombardy_districts.model.rules import Rules
from lombardy_districts.workflows.propose import solve
from lombardy_districts.workflows.scenarios import read_scenarios
from tests.exact_grids import class_grid, collaboration_edges, grid, problem

FLOORS = {"standard": 800, "high_density": 1500, "mountain": 300, "low_density": 300}
CLASS_CUTS = {"high_density_min": 1000.0, "low_density_max": 150.0}


def _cases():
    """(name, territory, rules, problem keywords): extreme values that pass validation."""
    territory, _ = class_grid()
    big = grid(2, 3, [10**9, 2 * 10**9, 10**9, 3 * 10**9, 10**9, 2 * 10**9])  # 9 billion inhabitants
    ties = collaboration_edges(territory, [(0, 1, MAX_WEIGHT), (2, 3, 1e-6), (4, 5, MAX_WEIGHT), (10, 11, 0.5)])
    heavy = ties.with_kind_weights({"test": MAX_WEIGHT})  # pairs weighing 10^12
    return [
        ("a floor at the maximum", territory,
         Rules(floors={**FLOORS, "high_density": MAX_POPULATION}, **CLASS_CUTS), {}),
        ("three floors at the maximum", territory,
         Rules(floors={**dict.fromkeys(FLOORS, MAX_POPULATION), "mountain": 300}, **CLASS_CUTS), {}),
        ("every floor 0", territory, Rules(floors=dict.fromkeys(FLOORS, 0)), {}),
        ("the largest ceiling", territory, Rules(floors=FLOORS, ceiling=MAX_POPULATION, **CLASS_CUTS), {}),
        ("density cut-offs at the ends", territory,
         Rules(floors=FLOORS, high_density_min=float(MAX_DENSITY), low_density_max=0.0), {}),
        ("a mountain share of 0.999", territory, Rules(floors=FLOORS, mountain_area_share=0.999, **CLASS_CUTS), {}),
        ("9 billion inhabitants", big,
         Rules(floors={"standard": 3 * 10**9, "high_density": MAX_POPULATION, "mountain": 10**9,
                       "low_density": 2 * 10**9}), {}),
        ("weights a trillion apart", territory, Rules(floors=FLOORS, **CLASS_CUTS),
         {"objectives": ("max-plans", "collaboration"), "weights": {"max-plans": MAX_WEIGHT, "collaboration": 1e-6}}),
        ("collaboration ties of 10^12", territory, Rules(floors=FLOORS, **CLASS_CUTS),
         {"objectives": ("max-plans", "collaboration"), "collaboration": heavy}),
    ]


@pytest.mark.parametrize("name, territory, rules, kwargs", _cases(), ids=[c[0] for c in _cases()])
def test_exact_solvers_agree_with_the_heuristic_on_extreme_numbers(name, territory, rules, kwargs):
    found = {}
    for solver in ("heuristic", "cpsat", "pulp"):
        proposal = solve(problem(territory, rules, **kwargs),
                         {"solver": solver, "time_limit": 20, "seed": MAX_SEED, "workers": 1})
        found[solver] = proposal.result  # solve() raises if the evaluator rejects a plan
    heuristic, cpsat, pulp = found["heuristic"], found["cpsat"], found["pulp"]
    if heuristic.plan is not None:  # the exact solvers never call a solved problem infeasible
        for exact in (cpsat, pulp):
            assert exact.status in ("optimal", "feasible") and exact.plan is not None, (name, exact)
    if cpsat.status == "infeasible":
        assert heuristic.plan is None and pulp.plan is None
    if cpsat.status == pulp.status == "optimal":
        if kwargs.get("weights"):
            assert math.isclose(cpsat.objective, pulp.objective, rel_tol=1e-9)
        else:
            assert len(cpsat.plan) == len(pulp.plan)
            if heuristic.plan is not None:
                assert len(heuristic.plan) <= len(cpsat.plan)


def test_a_floor_above_everyone_is_proved_infeasible_by_both_exact_solvers_and_the_heuristic_finds_none():
    territory, _ = class_grid()  # without a standard class, the town columns cannot all be placed
    rules = Rules(floors={**FLOORS, "standard": MAX_POPULATION}, **CLASS_CUTS)
    results = {s: solve(problem(territory, rules), {"solver": s, "time_limit": 20, "workers": 1}).result
               for s in ("heuristic", "cpsat")}
    assert results["heuristic"].plan is None
    assert results["cpsat"].status == "infeasible"


@pytest.mark.parametrize("flag, value, message", [
    ("--seed", "-1", "--seed -1: must be a whole number from 0 to 2,147,483,647"),
    ("--seed", "4294967296", "--seed 4294967296: must be a whole number from 0 to 2,147,483,647"),
    ("--time-limit", "nan", "--time-limit nan: must be a number of seconds above 0 and at most 1,000,000"),
    ("--time-limit", "inf", "--time-limit inf: must be a number of seconds above 0"),
    ("--workers", "1000", "--workers 1000: must be a whole number of solver threads from 1 to 128"),
    ("--floor", "100000000000000000000", "--floor 100000000000000000000: must be a whole number of inhabitants "
                                         "from 0 to 10,000,000,000"),
    ("--weight", "max-plans=nan", "--weight 'max-plans=nan' must look like NAME=W"),
    ("--weight", "max-plans=1e308", "--weight 'max-plans=1e308' must look like NAME=W, e.g. collaboration=2, with "
                                    "a number from 0 to 1,000,000"),
    ("--collaboration-weight", "labour_market=1e308",
     "--collaboration-weight 'labour_market=1e308' must look like KIND=W, e.g. labour_market=0.5, with a number "
     "from 0 to 1,000,000"),
    ("--solver", "gurobi", "--solver gurobi: unknown solver; allowed: cpsat, heuristic, pulp"),
    ("--objective", "plans", "--objective 'plans': unknown 'plans' (did you mean 'max-plans'?); allowed objectives: "
                             "max-plans, collaboration"),
])
def test_the_command_line_refuses_extreme_numbers(tmp_path, capsys, flag, value, message):
    code = main(["propose", "--province", "Lodi", "--solver", "heuristic", "--out", str(tmp_path / "out"),
                 "--cache-dir", str(tmp_path / "cache"), flag, value])
    err = capsys.readouterr().err
    assert code == 2
    assert f"error: {message}" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # refused before any folder is made


@pytest.mark.parametrize("text, message", [
    ("[floors]\nstandard = 100000000000000000000", "floors.standard = 100000000000000000000: must be a whole number "
                                                   "of inhabitants from 0 to 10,000,000,000"),
    ("[classes]\nhigh_density_min = nan", "classes.high_density_min = nan: must be a number"),
])
def test_evaluate_refuses_extreme_numbers_in_a_rules_file(tmp_path, capsys, text, message):
    rules = tmp_path / "r.toml"
    rules.write_text(text)
    code = main(["evaluate", "data/status_quo_example.csv", "--within-status-quo", "--status-quo",
                 "data/status_quo_example.csv", "--rules", str(rules), "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_scenario_files_refuse_extreme_numbers_naming_the_scenario(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[scenario]]\nname = "x"\nfloor = 1e20\nseed = -1\ntime_limit = nan\nworkers = 1000\n'
                    'weights = { max-plans = inf }\nobjectives = ["max-plans"]\n'
                    '[scenario.rules.floors]\nmountain = 1000000000000000\n')
    with pytest.raises(InputError) as info:
        read_scenarios(path)
    text = "\n".join(info.value.problems)
    for expected in ("floor = 1e+20: must be a whole number of inhabitants from 0 to 10,000,000,000",
                     "seed = -1: must be a whole number from 0 to 2,147,483,647",
                     "time_limit = nan: must be a number of seconds above 0",
                     "workers = 1000: must be a whole number of solver threads from 1 to 128",
                     "weights.max-plans = inf: must be a number from 0 to 1,000,000",
                     "floors.mountain = 1000000000000000: must be a whole number of inhabitants"):
        assert expected in text, text
    assert all(p.startswith(f"{path}: scenario 1 'x'") for p in info.value.problems)


def test_a_population_beyond_the_limit_is_refused():
    with pytest.raises(InputError, match=r"population: 20,000,000,000 inhabitants in all; at most 10,000,000,000"):
        grid(1, 2, [10**10, 10**10])


def test_expert_tuning_numbers_and_map_tolerances_are_checked_too(tmp_path, capsys):
    territory, rules = class_grid()
    with pytest.raises(InputError, match=r"tuning.starts = nan: must be a number from 0 to 1,000,000,000"):
        solve(problem(territory, rules), {"solver": "heuristic", "tuning": {"starts": float("nan")}})
    with pytest.raises(InputError, match=r"tuning.lns_plans = -1: must be a whole number from 0 to"):
        solve(problem(territory, rules), {"solver": "cpsat", "tuning": {"lns_plans": (3, -1)}})
    from lombardy_districts.maps.display import DisplayGeometry

    with pytest.raises(InputError, match=r"tolerance_m = inf: must be a number of metres from 0 to 100,000"):
        DisplayGeometry(territory.municipalities, float("inf"))
    code = main(["map", "data/status_quo_example.csv", "-o", str(tmp_path / "m.html"), "--tolerance", "nan",
                 "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 2 and "error: --tolerance nan: must be a number of metres from 0 to 100,000" in err
