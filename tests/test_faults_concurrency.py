"""Fault suite, runs at the same time (issue 15): two runs on one folder, a sweep killed with SIGKILL.

A folder in use is refused with the owner named; a lock left by a killed run is stale and taken
over; a sweep's workers end with it, and the next run rebuilds ``results.csv`` from the folders.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from lombardy_districts.io.output_folder import STATE, FolderLock
from tests import unproved
from tests.faults import EXE, children, grid_files, leftovers, process_alive, run, run_process

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and uses flock")


def _wait_for(predicate, timeout: float = 180.0, what: str = "the condition") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A graph cache shared by the processes of this module (each would otherwise build Lombardy's)."""
    return tmp_path_factory.mktemp("cache")


def test_a_folder_in_use_is_refused_and_a_killed_run_s_lock_is_taken_over(tmp_path, cache):
    out = tmp_path / "out"
    lock = out / STATE / "lock"
    # tests.unproved: CP-SAT does not prove the province's plans, so the first run goes on
    argv = ["propose", "--province", unproved.PROVINCE, "--solver", "cpsat", "--workers", "1", "--no-map",
            "--cache-dir", cache, "--out", out]
    first = subprocess.Popen([*EXE, *map(str, argv), "--time-limit", "300"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: lock.exists() and lock.stat().st_size > 0, what="the first run to lock its folder")
        second = run_process([*argv, "--time-limit", "1"])
        assert second.returncode == 3
        assert (f"error: output folder {out} is in use by another run (lombardy-districts propose, pid {first.pid}, "
                "started ") in second.stderr
        assert first.poll() is None  # the first run goes on
    finally:
        first.kill()  # SIGKILL: no clean-up; its lock file stays behind, held by no process
        first.wait()
    assert lock.exists()
    third = run_process(["-v", *argv, "--time-limit", "2"])
    assert third.returncode == 0, third.stderr
    assert "took over the lock of a run that ended without releasing it (lombardy-districts propose, pid " \
           f"{first.pid}" in third.stderr
    assert {"plan.csv", "scorecard.json", "result.json"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "result.json").read_text())["plans"] >= 5
    assert not lock.exists() and not leftovers(out)


def test_a_second_sweep_into_a_folder_in_use_is_refused(tmp_path, capsys):
    data = grid_files(tmp_path)
    scenarios = tmp_path / "s.toml"
    scenarios.write_text(f'[[scenario]]\nname = "a"\nmunicipalities = "{data[1]}"\nfloor = 30000\n'
                         'solver = "heuristic"\ntime_limit = 1\n')
    out = tmp_path / "sweep"
    assert run(["sweep", scenarios, "--out", out, "--no-map"], capsys)[0] == 0
    before = (out / "results.csv").read_bytes()
    scenarios.write_text(scenarios.read_text().replace("30000", "40000"))
    with FolderLock(out, command="lombardy-districts sweep"):  # another sweep is running there
        code, _, err = run(["sweep", scenarios, "--out", out, "--no-map"], capsys)
    assert code == 3
    assert f"error: output folder {out} is in use by another run (lombardy-districts sweep, pid {os.getpid()}" in err
    assert (out / "results.csv").read_bytes() == before
    assert json.loads((out / "a" / "result.json").read_text())["scenario"]["options"]["floor"] == 30000


SLOW_SWEEP = f"""
[defaults]
province = "{unproved.PROVINCE}"
workers = 1

[[scenario]]
name = "quick"
solver = "heuristic"
time_limit = 1
floor = 25000

[[scenario]]
name = "slow-a"
solver = "cpsat"
time_limit = 15

[[scenario]]
name = "slow-b"
solver = "cpsat"
time_limit = 15
seed = 2
"""
"""The slow scenarios run on ``tests.unproved``'s province, whose plans CP-SAT does not prove."""


def test_killing_a_sweep_ends_its_workers_and_a_rerun_reconciles_results(tmp_path, cache):
    scenarios = tmp_path / "s.toml"
    scenarios.write_text(SLOW_SWEEP)
    out = tmp_path / "sweep"
    env = {**os.environ, "LOMBARDY_DISTRICTS_CACHE": str(cache)}
    sweep = subprocess.Popen([*EXE, "sweep", str(scenarios), "--out", str(out), "--jobs", "2", "--no-map"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        for name in ("slow-a", "slow-b"):  # both slow scenarios are solving in their workers
            lock = out / name / STATE / "lock"
            _wait_for(lambda lock=lock: lock.exists() and lock.stat().st_size > 0, what=f"{name} to start")
        _wait_for((out / "results.csv").exists, what="the quick scenario to be recorded")
        workers = [pid for pid in children(sweep.pid)
                   if "spawn_main" in open(f"/proc/{pid}/cmdline").read().replace("\0", " ")]
        assert len(workers) == 2
        os.kill(sweep.pid, signal.SIGKILL)  # the parent only: its workers are not signalled
        sweep.wait()
        _wait_for(lambda: not any(process_alive(pid) for pid in workers), timeout=10,
                  what="the workers to end with their parent")
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
    assert not (out / "slow-a" / "result.json").exists()  # killed mid-solve: nothing half written in its place
    table = pd.read_csv(out / "results.csv")
    assert table["name"].tolist() == ["quick"]  # what finished before the kill

    again = run_process(["sweep", scenarios, "--out", out, "--jobs", "2", "--no-map"], env=env)
    assert again.returncode == 0, again.stderr
    table = pd.read_csv(out / "results.csv").set_index("name")
    assert table.index.tolist() == ["quick", "slow-a", "slow-b"]
    for name in table.index:  # every row describes the plan its folder holds
        record = json.loads((out / name / "result.json").read_text())
        assert record["row"]["status"] == table.loc[name, "status"]
        assert record["row"]["plans"] == table.loc[name, "plans"] == len(set(
            pd.read_csv(out / name / "plan.csv", dtype=str)["plan_id"]))
    assert not leftovers(out)


def test_a_file_system_without_locks_is_a_warning_and_leaves_no_lock_file(tmp_path, caplog, monkeypatch):
    import errno
    import fcntl

    from lombardy_districts.io.output_folder import OutputFolder

    def no_locks(fd, operation):  # some network file systems
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with OutputFolder(tmp_path / "out") as out:
        out.write("plan.csv", lambda p: p.write_text("plan"))
    assert (tmp_path / "out" / "plan.csv").read_text() == "plan"
    assert "cannot be locked (No locks available)" in caplog.text
    assert sorted(p.name for p in (tmp_path / "out" / STATE).iterdir()) == ["files.json"]
