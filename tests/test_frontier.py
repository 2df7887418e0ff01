"""The trade-off frontier: most plans first, then compliant merges keeping the most collaboration."""

from __future__ import annotations

import pandas as pd
import pytest

from lombardy_districts.api import build_problem
from lombardy_districts.cli import main
from lombardy_districts.collaboration import Collaboration
from lombardy_districts.frontier import best_merge, frontier, frontier_table, write_frontier
from lombardy_districts.plan import Plan

from .grids import grid_territory


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
    # two mountain plans of 1,000: together their class stays mountain (floor 1,500) -> allowed;
    # a mountain plan with a plain one becomes standard (floor 5,000) -> not allowed
    territory = grid_territory(1, 3, mountain_status=["totally", "totally", "not"])
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
    points = frontier(problem, solver="heuristic", time_limit=5, seed=1, progress=seen.append)
    counts = [p.plans for p in points]
    assert counts == [4, 3, 2, 1]
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
        frontier(build_problem(territory, floor=floor), solver="heuristic", time_limit=2)


def test_frontier_with_a_status_quo_reports_disruption(tmp_path):
    territory = grid_territory(2, 4)
    status_quo = Plan(territory, {c: ("w" if i % 4 < 2 else "e") for i, c in enumerate(territory.codes)})
    problem = build_problem(territory, floor=2000, status_quo=status_quo)
    points = frontier(problem, solver="heuristic", time_limit=3, seed=0)
    table = frontier_table(points)
    assert "municipalities_moved" in table.columns
    # merging whole plans moves nobody: every old plan's successor holds all of it
    assert table.loc[table["plans"] == 1, "municipalities_moved"].item() == 0
    assert (table["municipalities_moved"] >= 0).all()
    page = write_frontier(points, tmp_path, problem=problem)["html"].read_text()
    assert "Disruption: municipalities moved" in page
