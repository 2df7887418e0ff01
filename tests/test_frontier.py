"""The trade-off frontier: most plans first, then compliant merges keeping the most collaboration."""

from __future__ import annotations

import pandas as pd
import pytest

from lombardy_districts.cli import main
from lombardy_districts.model.collaboration import Collaboration
from lombardy_districts.model.plan import Plan
from lombardy_districts.workflows.frontier import (
    MERGERS,
    best_merge,
    frontier,
    frontier_table,
    frontier_targets,
    write_frontier,
)
from lombardy_districts.workflows.propose import build_problem
from tests.grids import grid_territory


def _edges(pairs):
    return Collaboration(pd.DataFrame(
        [(a, b, w, "union") for a, b, w in pairs], columns=["code_a", "code_b", "weight", "kind"]))


def test_merge_picks_the_pair_keeping_most_collaboration():
    territory = grid_territory(1, 3)
    plan = Plan(territory, {"000001": "a", "000002": "b", "000003": "c"})
    problem = build_problem(territory, floor=1000,
                            collaboration=_edges([("000001", "000002", 5.0), ("000002", "000003", 1.0)]))
    assert best_merge(plan, problem) == ("a", "b")


def test_merge_respects_hard_boundaries_and_the_ceiling():
    territory = grid_territory(1, 3, province=["X", "Y", "Y"])
    plan = Plan(territory, {"000001": "a", "000002": "b", "000003": "c"})
    collab = _edges([("000001", "000002", 5.0), ("000002", "000003", 1.0)])
    rules = build_problem(territory, floor=1000).rules
    hard = build_problem(territory, rules=rules.with_changes(hard_boundaries=("province",)), floor=1000,
                         collaboration=collab)
    assert best_merge(plan, hard) == ("b", "c")
    capped = build_problem(territory, rules=rules.with_changes(ceiling=1500), floor=1000, collaboration=collab)
    assert best_merge(plan, capped) is None


def test_merge_keeps_the_merged_plan_above_its_own_class_floor():
    # two mountain plans of 900 (on 1 km2 each: a mountain plan must stay below 1,000 per km2): together
    # their class stays mountain (floor 1,000) -> allowed; a mountain plan with a plain one becomes
    # standard (floor 5,000) -> not allowed
    territory = grid_territory(1, 3, population=900, mountain_status=["totally", "totally", "not"])
    rules = build_problem(territory).rules
    rules = rules.with_changes(floors={"standard": 5000, "high_density": 5000, "mountain": 1000,
                                       "low_density": 5000})
    plan = Plan(territory, {"000001": "a", "000002": "b", "000003": "c"})
    problem = build_problem(territory, rules=rules,
                            collaboration=_edges([("000002", "000003", 9.0), ("000001", "000002", 1.0)]))
    assert best_merge(plan, problem) == ("a", "b")


def test_frontier_on_a_grid_goes_from_most_plans_to_one(tmp_path):
    territory = grid_territory(2, 4, labour_market_area=["L1", "L1", "L2", "L2"] * 2)
    problem = build_problem(territory, floor=2000)
    seen = []
    points = frontier(problem, {"solver": "heuristic", "time_limit": 5, "seed": 1}, method="greedy",
                      progress=seen.append)
    counts = [p.plans for p in points]
    assert counts == [4, 3, 2, 1]
    assert [(s["done"], s["total"]) for s in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [s["plans"] for s in seen] == counts
    for p in points:
        assert p.plan.violations(problem.rules) == []
        assert len(p.plan) == p.plans
    kept = [p.scorecard.summary["collaboration_retained"] for p in points]
    assert kept == sorted(kept) and kept[-1] == 1.0  # merging never loses collaboration
    assert [p.method for p in points][1:] == ["merge"] * 3
    assert points[-1].proof == "optimal" and {p.proof for p in points[1:-1]} == {"heuristic"}
    written = write_frontier(points, tmp_path, problem=problem)
    table = pd.read_csv(written["csv"])
    assert list(table["plans"]) == counts
    assert set(table["proof"]) <= {"optimal", "heuristic"}
    assert (tmp_path / "k3" / "plan.csv").exists()
    assert Plan.from_csv(tmp_path / "k2" / "plan.csv", territory).populations.tolist() == [4000, 4000]
    page = written["html"].read_text()
    assert "<svg" in page and "proved optimal" in page and "heuristic" in page
    assert frontier_table(points)["plans"].tolist() == counts


def test_frontier_command_on_sondrio(tmp_path, capsys):
    code = main(["frontier", "--out", str(tmp_path), "--province", "Sondrio", "--floor", "25000",
                 "--solver", "heuristic", "--time-limit", "3", "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    table = pd.read_csv(tmp_path / "frontier.csv")
    assert table["plans"].is_monotonic_decreasing and table["plans"].iloc[-1] == 1
    assert table["plans"].iloc[0] >= 5  # 178,472 inhabitants, mostly mountain: several 25k plans
    assert table["compliant_plans"].tolist() == table["plans"].tolist()
    assert table["collaboration_retained"].is_monotonic_increasing
    assert "frontier.html" in capsys.readouterr().out


@pytest.mark.parametrize("floor", [900_000])
def test_frontier_says_why_when_nothing_complies(floor):
    from lombardy_districts.errors import InfeasibleError

    territory = grid_territory(2, 2)
    with pytest.raises(InfeasibleError, match="below the lowest floor"):
        frontier(build_problem(territory, floor=floor), {"solver": "heuristic", "time_limit": 2})


def test_frontier_with_a_status_quo_reports_disruption(tmp_path):
    territory = grid_territory(2, 4)
    status_quo = Plan(territory, {c: ("w" if i % 4 < 2 else "e") for i, c in enumerate(territory.codes)})
    problem = build_problem(territory, floor=2000, status_quo=status_quo)
    points = frontier(problem, {"solver": "heuristic", "time_limit": 3, "seed": 0})
    table = frontier_table(points)
    assert "municipalities_moved" in table.columns
    # merging whole plans moves nobody: every old plan's successor holds all of it
    assert table.loc[table["plans"] == 1, "municipalities_moved"].item() == 0
    assert (table["municipalities_moved"] >= 0).all()
    page = write_frontier(points, tmp_path, problem=problem)["html"].read_text()
    assert "Disruption: municipalities moved" in page
    # every point names its plans after the status quo's: at one plan, the merger of both
    assert points[-1].plan.plan_ids == ["w+e"] or points[-1].plan.plan_ids == ["e+w"]


def _myopic_line():
    """Four cells in a row, A-B-C-D; A and C work together closely but are not neighbours.

    Greedy merging first joins C-D (the heaviest tie between neighbours), after which A and C can
    no longer share a plan of two... exactly: at 2 plans greedy gives {A}, {B, C, D} (7 of 17)
    while {A, B, C}, {D} keeps 13 of 17.
    """
    territory = grid_territory(1, 4)
    collab = _edges([("000001", "000003", 10.0), ("000002", "000003", 3.0), ("000003", "000004", 4.0)])
    return territory, build_problem(territory, floor=1000, collaboration=collab)


def _kept(points):
    return {p.plans: p.scorecard.summary["collaboration_retained"] for p in points}


def test_exact_frontier_beats_greedy_where_merging_is_myopic():
    territory, problem = _myopic_line()
    greedy = frontier(problem, {"solver": "cpsat", "time_limit": 10, "workers": 1}, method="greedy")
    seen = []
    exact = frontier(problem, {"solver": "cpsat", "time_limit": 10, "workers": 1}, method="exact", progress=seen.append)
    assert [p.plans for p in exact] == [p.plans for p in greedy] == [4, 3, 2, 1]
    assert _kept(greedy)[2] == pytest.approx(7 / 17)
    assert _kept(exact)[2] == pytest.approx(13 / 17)
    assert all(_kept(exact)[k] >= _kept(greedy)[k] - 1e-12 for k in (4, 3, 2, 1))
    for p in exact:
        assert p.plan.violations(problem.rules) == [] and len(p.plan) == p.plans
    assert [p.method for p in exact] == ["solver cpsat", "cpsat merge", "cpsat merge", "merge"]
    assert [p.proof for p in exact] == ["optimal", MERGERS, MERGERS, "optimal"]  # mergers of the first point
    assert {p.proof for p in greedy[1:-1]} == {"heuristic"}
    assert [s["done"] for s in seen] == [1, 2, 3, 4] and {s["total"] for s in seen} == {4}
    two = exact[2].plan.assignment
    assert two["000001"] == two["000002"] == two["000003"] != two["000004"]


def test_exact_frontier_goes_below_where_greedy_gets_stuck():
    # five cells of 1,000 in a row, at most 3,000 per plan: greedy builds B-C-D and is stuck at
    # three plans; CP-SAT finds two ({A, B, C}, {D, E}) and proves one impossible
    territory = grid_territory(1, 5)
    collab = _edges([("000001", "000002", 1.0), ("000002", "000003", 3.0), ("000003", "000004", 3.0),
                     ("000004", "000005", 1.0)])
    base = build_problem(territory, floor=1000, collaboration=collab)
    problem = build_problem(territory, rules=base.rules.with_changes(ceiling=3000), collaboration=collab)
    greedy = frontier(problem, {"time_limit": 10, "workers": 1}, method="greedy")
    exact = frontier(problem, {"time_limit": 10, "workers": 1}, method="exact")
    assert [p.plans for p in greedy] == [5, 4, 3]
    assert [p.plans for p in exact] == [5, 4, 3, 2]
    assert exact[-1].proof == MERGERS and exact[-1].plan.violations(problem.rules) == []
    assert exact[-1].plan.populations.max() <= 3000


def test_no_budget_left_gives_greedy_points_marked_heuristic():
    territory, problem = _myopic_line()
    points = frontier(problem, {"time_limit": 10, "workers": 1}, method="exact", budget=0)
    assert [p.method for p in points] == ["solver cpsat", "merge", "merge", "merge"]
    assert [p.proof for p in points] == ["optimal", "heuristic", "heuristic", "optimal"]
    assert _kept(points)[2] == pytest.approx(7 / 17)


def test_points_computed_every_step_plus_both_ends():
    assert frontier_targets(10, 1) == list(range(10, 0, -1))
    assert frontier_targets(40, 1) == list(range(40, 0, -1))
    long = frontier_targets(150, 1)
    assert long[0] == 150 and long[-1] == 1 and 28 <= len(long) <= 32
    assert frontier_targets(20, 5, step=4) == [20, 16, 12, 8, 5]


def test_bad_method_and_step_are_named():
    from lombardy_districts.errors import InputError

    _, problem = _myopic_line()
    with pytest.raises(InputError, match="method 'fast' is unknown; allowed: auto, exact, greedy"):
        frontier(problem, method="fast")
    with pytest.raises(InputError, match=r"step = 0: must be a whole number from 1 to 1,000,000 \(1 computes"):
        frontier(problem, step=0)
    with pytest.raises(InputError, match=r"budget = nan: must be a number of seconds from 0 to 1,000,000"):
        frontier(problem, budget=float("nan"))


def test_deterministic_frontier_counts_work_not_the_wall_clock(monkeypatch):
    # a machine where every frontier step seems to take 100 s: by the wall clock the 5 s budget is
    # spent after one point; in deterministic mode the points count their CP-SAT work, so all stay exact
    import types

    import lombardy_districts.workflows.frontier as module

    ticks = iter(range(0, 10**6, 100))
    monkeypatch.setattr(module, "time", types.SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    territory, problem = _myopic_line()
    points = frontier(problem, {"time_limit": 10, "workers": 1, "deterministic": True}, method="exact", budget=5)
    assert [p.method for p in points] == ["solver cpsat", "cpsat merge", "cpsat merge", "merge"]
    again = frontier(problem, {"time_limit": 10, "workers": 1, "deterministic": True}, method="exact", budget=5)
    assert [p.plan.assignment.to_dict() for p in points] == [p.plan.assignment.to_dict() for p in again]
