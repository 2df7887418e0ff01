"""Searches side by side in forked processes (``solvers._workers``) and the heuristic's use of them."""

import multiprocessing
import os
import time
from functools import partial

import numpy as np
import pandas as pd
import pytest

from lombardy_districts.model.collaboration import Collaboration
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers._layout import regions_of
from lombardy_districts.solvers._workers import aside, can_fork, side_by_side
from lombardy_districts.solvers.cpsat import CPSATSolver
from lombardy_districts.solvers.heuristic import SIDE_BY_SIDE_UNITS, HeuristicSolver
from lombardy_districts.solvers.units import Units
from tests.grids import grid_territory
from tests.test_interrupt import stop_after
from tests.test_regroup import setup

pytestmark = pytest.mark.skipif(not can_fork(), reason="processes are forked only where fork exists")


def test_each_task_answers_in_its_place_from_its_own_process():
    tasks = [lambda event, say, k=k: (k, os.getpid()) for k in range(3)]
    answers = side_by_side(tasks, 10.0)
    assert [k for k, _ in answers] == [0, 1, 2]
    pids = {pid for _, pid in answers}
    assert len(pids) == 3 and os.getpid() not in pids


def test_a_child_that_dies_answers_none_and_the_others_still_answer():
    tasks = [lambda event, say: os._exit(3), lambda event, say: "done"]
    assert side_by_side(tasks, 10.0) == [None, "done"]


def test_a_stop_tells_every_child_to_answer_with_what_it_has():
    def wait_for_stop(event, say):
        for _ in range(300):  # 30 s at most
            if event.is_set():
                return "stopped"
            time.sleep(0.1)
        return "never stopped"

    started = time.perf_counter()
    assert side_by_side([wait_for_stop, wait_for_stop], 60.0, stop_after(0.5)) == ["stopped", "stopped"]
    assert time.perf_counter() - started < 10


def test_news_from_each_child_reach_the_parent_on_the_way():
    def count(event, say, k):
        for i in range(3):
            say(10 * k + i)
        return "done"

    heard = []
    answers = side_by_side([partial(count, k=k) for k in range(2)], 10.0, heard=lambda k, news: heard.append((k, news)))
    assert answers == ["done", "done"]
    assert sorted(heard) == [(0, 0), (0, 1), (0, 2), (1, 10), (1, 11), (1, 12)]
    assert [news for k, news in heard if k == 1] == [10, 11, 12]  # in the order said


def test_a_child_past_its_time_is_killed(monkeypatch):
    monkeypatch.setattr("lombardy_districts.solvers._workers.GRACE", 0.5)
    started = time.perf_counter()
    assert side_by_side([lambda event, say: time.sleep(60), lambda event, say: 1], 0.5) == [None, 1]
    assert time.perf_counter() - started < 10


def test_a_daemon_process_searches_alone():
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=lambda: send.send(can_fork()), daemon=True)  # as a Dask worker runs
    child.start()
    assert receive.recv() is False
    child.join()
    assert can_fork()


def test_a_task_aside_runs_in_a_child_of_its_own_and_leaves_its_file(tmp_path):
    def write(path):
        path.write_text(str(os.getpid()))

    proc = aside(write, tmp_path / "pid.txt")
    proc.join()
    assert proc.exitcode == 0 and int((tmp_path / "pid.txt").read_text()) not in (0, os.getpid())


def test_no_child_aside_where_none_can_be_forked(monkeypatch, tmp_path):
    monkeypatch.setattr("lombardy_districts.solvers._workers.can_fork", lambda: False)
    assert aside(lambda: (tmp_path / "x").write_text("x")) is None
    assert not (tmp_path / "x").exists()


def big_grid():
    """13 x 12 cells of 300 to 1,500 inhabitants, floor 2,500: enough units for side-by-side search."""
    population = np.random.default_rng(5).choice([300, 700, 1500], size=156).tolist()
    problem, _ = setup(grid_territory(13, 12, population=population), Rules().with_floor(2500))
    assert len(problem.territory.municipalities) >= SIDE_BY_SIDE_UNITS
    return problem


@pytest.fixture(scope="module")
def grid_problem():
    return big_grid()


def test_two_workers_search_side_by_side_and_their_plan_complies(grid_problem):
    told = []
    result = HeuristicSolver.from_problem(grid_problem, {"time_limit": 4, "seed": 0, "workers": 2}).solve(
        progress=lambda info: "note" in info or told.append(info["plans"]))  # the note comes before any plan
    plan = result.plan
    assert plan is not None and plan.violations(grid_problem.rules) == []
    assert sorted(plan.assignment.index) == sorted(grid_problem.territory.municipalities.index)
    assert result.details["starts"] == 2 * HeuristicSolver.TUNING["starts"]  # each process made its own
    assert result.details["work_units"] >= 2 * len(grid_problem.territory.municipalities)  # both processes' work
    assert told and told == sorted(set(told)) and told[-1] == len(plan)  # progress, never going down
    one = HeuristicSolver.from_problem(grid_problem, {"time_limit": 4, "seed": 0, "workers": 1}).solve()
    assert one.details["starts"] == HeuristicSolver.TUNING["starts"]
    assert result.details["stopped_by"] in ("bound", "patience", "time_limit")


def test_two_workers_stop_when_asked_and_hand_back_a_plan(grid_problem):
    started = time.perf_counter()
    result = HeuristicSolver.from_problem(grid_problem, {"time_limit": 60, "seed": 0, "workers": 2},
                                          stop_after(2.0)).solve()
    assert time.perf_counter() - started < 15, "the search went on after the stop"
    assert result.details["stopped_by"] == "interrupted"
    assert result.plan is not None and result.plan.violations(grid_problem.rules) == []


def test_deterministic_runs_stay_in_one_process(grid_problem):
    options = {"time_limit": 2, "seed": 0, "workers": 2, "deterministic": True}
    runs = [HeuristicSolver.from_problem(grid_problem, options).solve() for _ in range(2)]
    assert runs[0].details["starts"] == HeuristicSolver.TUNING["starts"]
    assert runs[0].plan.assignment.equals(runs[1].plan.assignment)


def test_cpsat_gives_its_workers_to_its_heuristic_warm_start(grid_problem, monkeypatch):
    sides = []
    original = HeuristicSolver._side_by_side

    def spy(self, *args):
        sides.append(self.threads)
        return original(self, *args)

    monkeypatch.setattr(HeuristicSolver, "_side_by_side", spy)
    result = CPSATSolver.from_problem(grid_problem, {"time_limit": 6, "seed": 0}).solve()  # default: 2 workers
    assert sides == [2]
    assert result.plan is not None and result.plan.violations(grid_problem.rules) == []
    CPSATSolver.from_problem(grid_problem, {"time_limit": 6, "seed": 0, "workers": 1}).solve()
    assert sides == [2]  # one worker: the warm start searches in this process


def test_each_round_of_shaking_goes_on_from_the_last_round_even_when_it_only_ties(monkeypatch, tmp_path):
    # 12 x 14 cells of 1,000, floor 1,500: pairs across and pairs down make 84 plans each (bound 112).
    # The first search gives the pairs across; a round turns them into the pairs down, as many plans;
    # every later round must shake the pairs down, not go back to the pairs across.
    problem, layout = setup(grid_territory(12, 14), Rules().with_floor(1500))
    units = Units.from_problem(problem)
    cells = [divmod(int(members[0]) - 1, 14) for members in units.members]
    across = [r * 7 + c // 2 for r, c in cells]
    down = [(r // 2) * 14 + c for r, c in cells]

    def first(self, layout, seed, k, seconds, bound, opts, seeds, favourite, event, say):
        return across, {"stopped_by": "time_limit", "starts": 0, "shakes": 0, "work": 0, "favourite": ([], -1)}

    def shake(layout, part, seed, seconds, bound, idle_rounds, chain_share, favourite, event, say):
        if regions(part.labels()) == regions(across):
            return down, 1, 0, ([], -1)
        (tmp_path / f"round-{seed[1]}-{seed[2]}").write_text(" ".join(map(str, part.labels())))
        return part.labels(), 1, 0, ([], -1)

    monkeypatch.setattr(HeuristicSolver, "_first_task", first)
    monkeypatch.setattr("lombardy_districts.solvers.heuristic._shake_task", shake)
    monkeypatch.setattr("lombardy_districts.solvers.heuristic.ROUND_SECONDS", 0.3)
    result = HeuristicSolver.from_problem(problem, {"time_limit": 4, "seed": 0, "workers": 2}).solve()
    later = [[int(x) for x in f.read_text().split()] for f in tmp_path.glob("round-*")]
    assert later and all(regions(labels) == regions(down) for labels in later)
    assert len(result.plan) == 84 and result.plan.violations(problem.rules) == []


def regions(labels):
    """The regions of a label list, as a set of sets of units."""
    return {frozenset(members) for members in regions_of(labels).values()}


@pytest.mark.parametrize("where", ["first search", "round of shaking"])
def test_the_favourite_of_a_process_comes_back_to_the_parent(monkeypatch, where):
    # 12 x 14 cells of 1,000, floor 1,500, each cell tied to the one below it: of the pairs across
    # and the pairs down (84 plans each) the pairs down keep the ties. Every process's search ends
    # on the pairs across, but met the pairs down on the way: the result is the pairs down.
    territory = grid_territory(12, 14)
    codes = territory.codes
    ties = pd.DataFrame([(codes[r * 14 + c], codes[(r + 1) * 14 + c], 1.0, "union")
                         for r in range(0, 12, 2) for c in range(14)], columns=["code_a", "code_b", "weight", "kind"])
    problem = Problem(territory, Rules().with_floor(1500), Collaboration(ties),
                      objectives=("max-plans", "collaboration"))
    units = Units.from_problem(problem)
    cells = [divmod(int(members[0]) - 1, 14) for members in units.members]
    across = [r * 7 + c // 2 for r, c in cells]
    down = [(r // 2) * 14 + c for r, c in cells]
    first_offer = (down, 84) if where == "first search" else ([], -1)

    def first(self, layout, seed, k, seconds, bound, opts, seeds, favourite, event, say):
        stopped = "patience" if where == "first search" else "time_limit"
        return across, {"stopped_by": stopped, "starts": 0, "shakes": 0, "work": 0, "favourite": first_offer}

    def shake(layout, part, seed, seconds, bound, idle_rounds, chain_share, favourite, event, say):
        return across, 1, 0, (down, 84)

    monkeypatch.setattr(HeuristicSolver, "_first_task", first)
    monkeypatch.setattr("lombardy_districts.solvers.heuristic._shake_task", shake)
    monkeypatch.setattr("lombardy_districts.solvers.heuristic.ROUND_SECONDS", 0.3)
    result = HeuristicSolver.from_problem(problem, {"time_limit": 2, "seed": 0, "workers": 2}).solve()
    assert regions([result.plan.assignment[m[0]] for m in units.members]) == regions(down)
    assert result.details["objectives"]["collaboration"] == 84.0
