"""Stopping a search early keeps the best plan found so far: every solver, the API and the command line.

And Ctrl-C in ``frontier`` keeps the points found so far, in ``sweep`` the finished scenarios and the best
plans of those running (real signals sent to the command in a process of its own).
"""

from __future__ import annotations

import json
import os
import re
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
from tests import unproved
from tests.exact_grids import grid


@pytest.fixture(scope="module")
def lecco(lombardy):
    return lombardy.select("province", [unproved.PROVINCE])


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
def test_a_stopped_search_hands_back_its_incumbent(lecco, solver, tuning):
    # tests.unproved: CP-SAT does not prove the province's plans, so it would run its 60 s
    problem = build_problem(lecco)
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
    # the benchmark's 274-plan merge: the stop comes before set partitioning proves 130 plans (about 30 s)
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
    run = subprocess.Popen([sys.executable, "-m", "lombardy_districts", "propose", "--province", unproved.PROVINCE,
                            "--time-limit", "120", "--workers", "1", "--no-map", "--out", str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 90
    seen = ""
    while "solving:" not in seen and time.time() < deadline:  # the search is under way
        seen += run.stderr.readline()
    time.sleep(2)
    run.send_signal(signum)
    if signum == signal.SIGINT:  # GNU timeout -s INT sends it twice (process, then group): still one stop
        time.sleep(0.05)
        run.send_signal(signum)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == code, stderr
    again = "press Ctrl-C again" if signum == signal.SIGINT else "a second signal will"
    assert f"({again} to quit at once, losing it)" in stderr + seen
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "interrupted" and result["plans"] >= 1
    plan = pd.read_csv(out / "plan.csv", dtype=str)
    assert len(plan) == unproved.MUNICIPALITIES and plan["plan_id"].notna().all()  # every municipality has its plan
    assert "stopping the search; the best plan found so far will be written" in stderr + seen
    assert stdout.startswith(f"{result['plans']} area plans for {unproved.POPULATION:,} inhabitants: all comply.")
    assert "The search was stopped early" in stdout


def _command(argv: list[str], **kwargs) -> subprocess.Popen:
    """The command line in a process of its own, its output unbuffered."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "lombardy_districts", *map(str, argv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kwargs)


def _wait_for(predicate, what: str, timeout: float = 180.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_ctrl_c_in_frontier_writes_the_points_found_so_far(tmp_path):
    out = tmp_path / "frontier"
    # Sondrio at a 5,000 floor: 26 points (heuristic first point, 2 s); the points near 19 plans take
    # CP-SAT several seconds each to prove, so the whole frontier takes about 45 s on a quiet machine
    run = _command(["frontier", "--province", "Sondrio", "--floor", "5000", "--solver", "heuristic",
                    "--time-limit", "60", "--workers", "1", "--out", out])
    seen = ""
    while "[  6/" not in seen:  # six points found: the seventh is being solved
        line = run.stderr.readline()
        assert line, f"frontier ended early: {seen}"
        seen += line
    first = re.search(r"\[\s*1/(\d+)\]\s+(\d+) plans", seen)
    total, most = int(first.group(1)), int(first.group(2))
    time.sleep(0.5)
    run.send_signal(signal.SIGINT)
    sent = time.monotonic()
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert time.monotonic() - sent < 30, "the frontier went on after the stop"
    table = pd.read_csv(out / "frontier.csv")
    assert 6 <= len(table) < total  # the points found so far, not the others
    assert table["plans"].tolist() == list(range(most, most - len(table), -1))
    for k in table["plans"]:  # each point written is a whole plan of that many area plans
        plan = pd.read_csv(out / f"k{k}" / "plan.csv", dtype=str)
        assert len(plan) == 77 and plan["plan_id"].nunique() == k
    assert "stopping the search; the points found so far will be written" in seen + stderr
    lowest = most - len(table) + 1
    assert f"stopped by SIGINT: {len(table)} points written, from {most} down to {lowest} plans" in stderr
    assert "The search was stopped early (SIGINT)" in (out / "frontier.html").read_text()
    assert stdout.splitlines()[-1].startswith("written: ")


SWEEP = f"""
[defaults]
province = "{unproved.PROVINCE}"
workers = 1

[[scenario]]
name = "quick"
solver = "heuristic"
time_limit = 1

[[scenario]]
name = "slow-a"
solver = "cpsat"
time_limit = 120

[[scenario]]
name = "slow-b"
solver = "cpsat"
time_limit = 120
seed = 2

[[scenario]]
name = "later"
solver = "heuristic"
time_limit = 1
floor = 40000
"""
"""CP-SAT does not prove the plans of ``tests.unproved``'s province: the slow scenarios run 120 s."""


def _interrupted_folder(folder) -> None:
    """A scenario stopped mid-search: its best plan written, status interrupted, and it runs again next time."""
    record = json.loads((folder / "result.json").read_text())
    assert record["status"] == "interrupted" and record["row"]["status"] == "interrupted"
    plan = pd.read_csv(folder / "plan.csv", dtype=str)
    assert len(plan) == 84 and plan["plan_id"].nunique() == record["row"]["plans"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_in_a_terminal_stops_a_sweep_and_keeps_what_it_has(tmp_path):
    from lombardy_districts.workflows.scenarios import read_scenarios
    from lombardy_districts.workflows.sweep import finished_row
    from tests.faults import children, leftovers, process_alive

    scenarios = tmp_path / "s.toml"
    scenarios.write_text(SWEEP)
    out = tmp_path / "sweep"
    # a process group of its own, signalled as a whole: what Ctrl-C in a terminal does
    run = _command(["sweep", scenarios, "--out", out, "--jobs", "2", "--no-map"], start_new_session=True)
    try:
        for name in ("slow-a", "slow-b"):
            lock = out / name / ".lombardy-districts" / "lock"
            _wait_for(lambda lock=lock: lock.exists() and lock.stat().st_size > 0, f"{name} to start")
        _wait_for((out / "results.csv").exists, "the quick scenario to be recorded")
        workers = children(run.pid)
        time.sleep(2)
        os.killpg(run.pid, signal.SIGINT)
        sent = time.monotonic()
        stdout, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 130, stderr
    assert time.monotonic() - sent < 60, "the scenarios ran on after the stop"
    assert "Traceback" not in stderr
    table = pd.read_csv(out / "results.csv").set_index("name")
    assert table.index.tolist() == ["quick", "slow-a", "slow-b"]
    assert table.loc["quick", "status"] in ("feasible", "optimal") and pd.isna(table.loc["quick", "error"])
    assert table.loc[["slow-a", "slow-b"], "status"].tolist() == ["interrupted", "interrupted"]
    for name in ("slow-a", "slow-b"):
        _interrupted_folder(out / name)
    assert not (out / "later").exists()  # not started: nothing run, nothing written
    assert "stopped by SIGINT: 1 finished, 2 interrupted (their best plan kept), 1 not run (later)" in stderr
    assert "slow-a: interrupted, " in stdout and "quick: " in stdout
    _wait_for(lambda: not any(process_alive(pid) for pid in workers), "the workers to end", timeout=10)
    assert not leftovers(out) and not (out / ".lombardy-districts").exists()  # no lock, no stop file
    # the same command skips the finished scenario and runs the interrupted ones again
    planned = {s.name: finished_row(out / s.name, s) for s in read_scenarios(scenarios)}
    assert planned["quick"]["status"] == table.loc["quick", "status"]
    assert planned["slow-a"] is None and planned["slow-b"] is None and planned["later"] is None


def test_sigterm_stops_a_sweep_running_its_scenarios_one_at_a_time(tmp_path):
    scenarios = tmp_path / "s.toml"
    scenarios.write_text(SWEEP)
    out = tmp_path / "sweep"
    run = _command(["sweep", scenarios, "--out", out, "--no-map"])  # --jobs 1: in the sweep's own process
    lock = out / "slow-a" / ".lombardy-districts" / "lock"
    _wait_for(lambda: lock.exists() and lock.stat().st_size > 0, "slow-a to start")
    time.sleep(2)
    run.send_signal(signal.SIGTERM)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 143, stderr
    table = pd.read_csv(out / "results.csv")
    assert table["name"].tolist() == ["quick", "slow-a"] and table["status"].tolist()[1] == "interrupted"
    _interrupted_folder(out / "slow-a")
    assert not (out / "slow-b").exists() and not (out / "later").exists()
    assert "stopped by SIGTERM: 1 finished, 1 interrupted (their best plan kept), 2 not run (slow-b, later)" in stderr
