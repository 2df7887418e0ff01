"""Fault suite, writing outputs (issue 15): a full disk, a read-only folder, a run that fails part-way.

Every command writes through ``files.write_atomic`` and output folders through ``OutputFolder``: a
failure names the final file and the cause, exits 3, and leaves every good file as it was. The
full disk is a real one where the machine lets a user namespace mount a small tmpfs (``unshare``);
the same faults are also injected as ``OSError`` so the suite checks them everywhere.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap

import pytest

from lombardy_districts.errors import OutputError
from lombardy_districts.io import files
from lombardy_districts.io.output_folder import STATE, OutputFolder
from tests.faults import assert_no_internal_names, can_mount_tmpfs, grid_files, leftovers, run, snapshot

PROPOSE = ["propose", "--solver", "heuristic", "--time-limit", "1"]
SCENARIOS = """
[defaults]
municipalities = "grid.gpkg"
solver = "heuristic"
time_limit = 1

[[scenario]]
name = "floor-30k"
floor = {a}

[[scenario]]
name = "floor-40k"
floor = {b}
"""


def _status_quo(folder):
    path = folder / "sq.csv"
    path.write_text("municipality_code,plan_id\n" + "".join(f"{i:06d},row{(i - 1) // 5}\n" for i in range(1, 21)))
    return path


@pytest.fixture
def data(tmp_path):
    return grid_files(tmp_path)


def _no_space_at(monkeypatch, name: str):
    """Every atomic write of a file called ``name`` finds the disk full."""
    real = files._sync

    def sync(path):
        if path.name.startswith(f".{name}."):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path)

    monkeypatch.setattr(files, "_sync", sync)


def test_a_full_disk_during_propose_leaves_the_folder_as_it_was(tmp_path, data, capsys, monkeypatch):
    out = tmp_path / "out"
    assert run([*PROPOSE, *data, "--floor", "30000", "--out", out], capsys)[0] == 0
    before = snapshot(out)
    _no_space_at(monkeypatch, "map.html")
    code, _, err = run([*PROPOSE, *data, "--floor", "40000", "--out", out], capsys)
    assert code == 3
    assert f"error: no space left on device while writing {out / 'map.html'}" in err
    assert_no_internal_names(err)
    assert snapshot(out) == before  # not a mix: the old plan, scorecard, map and result, whole
    assert not leftovers(out)


@pytest.mark.parametrize("command", ["map", "compare", "evaluate --json", "evaluate --csv"])
def test_a_full_disk_keeps_the_previous_file_of_every_command(tmp_path, data, capsys, monkeypatch, command):
    assert run([*PROPOSE, *data, "--floor", "30000", "--out", tmp_path / "p"], capsys)[0] == 0
    plan = tmp_path / "p" / "plan.csv"
    target = tmp_path / {"map": "m.html", "compare": "c.html", "evaluate --json": "e.json",
                         "evaluate --csv": "e.csv"}[command]
    argv = {"map": ["map", plan, "-o", target], "compare": ["compare", plan, plan, "-o", target],
            "evaluate --json": ["evaluate", plan, "--json", target],
            "evaluate --csv": ["evaluate", plan, "--csv", target]}[command] + data
    assert run(argv, capsys)[0] == 0
    good = target.read_bytes()
    _no_space_at(monkeypatch, target.name)
    code, _, err = run(argv, capsys)
    assert code == 3
    assert f"error: no space left on device while writing {target}" in err
    assert_no_internal_names(err)
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_full_disk_in_a_sweep_fails_that_scenario_and_keeps_its_folder(tmp_path, data, capsys, monkeypatch):
    scenarios = tmp_path / "s.toml"
    scenarios.write_text(SCENARIOS.format(a=30000, b=40000))
    out = tmp_path / "sweep"
    assert run(["sweep", scenarios, "--out", out], capsys)[0] == 0
    before = snapshot(out)
    scenarios.write_text(SCENARIOS.format(a=35000, b=45000))  # both run again
    _no_space_at(monkeypatch, "plan.csv")
    code, out_text, err = run(["sweep", scenarios, "--out", out], capsys)
    assert code == 1  # the scenarios failed, the sweep did not
    assert "failed: OutputError: no space left on device while writing" in out_text
    assert_no_internal_names(out_text + err)
    after = snapshot(out)
    for name in ("floor-30k", "floor-40k"):  # each scenario folder exactly as it was
        kept = {k: v for k, v in before.items() if k.startswith(name + "/")}
        assert {k: v for k, v in after.items() if k.startswith(name + "/")} == kept


def test_a_run_that_fails_part_way_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out, marker="result.json") as folder:
        folder.write("plan.csv", lambda p: p.write_text("old plan"))
        folder.write_json("result.json", {"run": 1})
    before = snapshot(out)
    with pytest.raises(RuntimeError, match="the solver crashed"), OutputFolder(out, marker="result.json") as folder:
        folder.write("plan.csv", lambda p: p.write_text("new plan"))
        raise RuntimeError("the solver crashed")
    assert snapshot(out) == before
    with pytest.raises(RuntimeError), OutputFolder(tmp_path / "new") as folder:
        raise RuntimeError("the solver crashed")
    assert not (tmp_path / "new").exists()  # a folder the run created and never filled is not left behind


def test_a_run_killed_while_moving_files_into_place_is_finished_by_the_next(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with OutputFolder(out, marker="result.json") as folder:
        for name in ("plan.csv", "map.html", "result.json"):
            folder.write(name, lambda p, name=name: p.write_text(f"old {name}"))
    real, calls = os.replace, []

    def dies_after_one(source, target):
        if "staging-" in str(source) and str(target).startswith(str(out)):
            calls.append(target)
            if len(calls) == 2:
                raise OSError(errno.EIO, "Input/output error")  # the process dies here, in effect
        real(source, target)

    monkeypatch.setattr(os, "replace", dies_after_one)
    with pytest.raises(OutputError), OutputFolder(out, marker="result.json") as folder:
        for name in ("plan.csv", "map.html", "result.json"):
            folder.write(name, lambda p, name=name: p.write_text(f"new {name}"))
    assert not (out / "result.json").exists()  # the marker went first: the folder says it is not complete
    monkeypatch.undo()
    with OutputFolder(out, marker="result.json"):  # the next run finishes the commit before anything else
        pass
    assert {p.name: p.read_text() for p in out.iterdir() if p.is_file()} == {
        "plan.csv": "new plan.csv", "map.html": "new map.html", "result.json": "new result.json"}
    assert not leftovers(out)


def test_a_rerun_removes_the_files_an_earlier_run_left_and_keeps_the_user_s(tmp_path, data, capsys):
    out = tmp_path / "out"
    assert run([*PROPOSE, *data, "--floor", "30000", "--status-quo", _status_quo(tmp_path), "--format", "gpkg",
                "--out", out], capsys)[0] == 0
    assert {"compare.html", "plans.gpkg"} <= {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("my notes")
    assert run([*PROPOSE, *data, "--floor", "40000", "--out", out], capsys)[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [STATE, "map.html", "notes.txt", "plan.csv", "result.json",
                                                     "scorecard.json"]  # no stale compare.html or plans.gpkg


def test_an_output_folder_that_is_a_file_is_refused_before_solving(tmp_path, data, capsys):
    out = tmp_path / "out"
    out.write_text("a file")
    code, _, err = run([*PROPOSE, *data, "--floor", "30000", "--out", out], capsys)
    assert code == 3
    assert f"error: cannot write to output folder {out}: {out} is a file, not a folder" in err
    assert "mode scratch" not in err  # said before the solve started
    assert out.read_text() == "a file"


DRIVER = textwrap.dedent('''
    """Runs inside a user namespace with a 6 MB tmpfs at DISK and a read-only tmpfs at READONLY."""
    import contextlib, hashlib, io, json, logging, os, subprocess, sys, time, traceback
    from pathlib import Path
    from lombardy_districts.cli import main

    disk, readonly, work = map(Path, sys.argv[1:4])
    data = ["--municipalities", str(work / "grid.gpkg")]
    propose = ["propose", "--solver", "heuristic", "--time-limit", "1", *data]
    report = {}

    def run(name, argv):
        out, err = io.StringIO(), io.StringIO()
        logging.getLogger().handlers.clear()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except BaseException:
                traceback.print_exc()
                code = None
        report[name] = {"code": code, "err": err.getvalue(), "out": out.getvalue()}

    def files(root):
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file() and p.name != "filler"}

    def fill(free):
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        for size in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"x" * size)
                    os.fsync(fd)
            except OSError:
                pass
        os.close(fd)
        if free:
            os.truncate(disk / "filler", (disk / "filler").stat().st_size - free)

    plan = disk / "p" / "plan.csv"
    commands = {
        "propose": lambda floor: [*propose, "--floor", floor, "--format", "gpkg", "--out", disk / "p"],
        "map": lambda floor: ["map", plan, "-o", disk / "m.html", "--title", floor, *data],
        "compare": lambda floor: ["compare", plan, plan, "-o", disk / "c.html", "--title-a", floor, *data],
        "evaluate": lambda floor: ["evaluate", plan, "--json", disk / "e.json", "--csv", disk / "e.csv",
                                   "--rules", work / f"floor-{floor}.toml", *data],
        "frontier": lambda floor: ["frontier", *data, "--floor", floor, "--solver", "heuristic",
                                   "--time-limit", "1", "--method", "greedy", "--out", disk / "f"],
        "sweep": lambda floor: ["sweep", work / f"s-{floor}.toml", "--out", disk / "s"],
    }
    for name, argv in commands.items():
        run(f"good {name}", argv("30000"))
    report["before"] = files(disk)
    fill(16 * 1024)  # room for the lock and the probe, not for the outputs
    for name in ("propose", "map", "compare"):
        run(f"nearly full {name}", commands[name]("40000"))
    fill(0)
    for name, argv in commands.items():
        run(f"full {name}", argv("40000"))
    run("full cache", ["data", *data, "--cache-dir", disk / "new-cache", "--json"])
    report["after"] = files(disk)

    run("good readonly", [*propose, "--floor", "30000", "--out", readonly / "p"])
    subprocess.run(["mount", "-o", "remount,ro", str(readonly)], check=True)
    report["readonly before"] = files(readonly)
    run("readonly propose", [*propose, "--floor", "40000", "--out", readonly / "p"])
    run("readonly map", ["map", readonly / "p" / "plan.csv", "-o", readonly / "p" / "map.html", *data])
    report["readonly after"] = files(readonly)
    print(json.dumps(report))
''')


@pytest.fixture(scope="module")
def full_disk(tmp_path_factory):
    """Every command run on a real, small, full disk (tmpfs): the driver's report."""
    if not can_mount_tmpfs():
        pytest.skip("this machine does not let a user namespace mount a tmpfs; the injected faults above "
                    "check the same promises")
    work = tmp_path_factory.mktemp("full-disk")
    grid_files(work)
    for floor in ("30000", "40000"):
        (work / f"s-{floor}.toml").write_text(SCENARIOS.format(a=floor, b=int(floor) + 10000).replace(
            "grid.gpkg", str(work / "grid.gpkg")))
        (work / f"floor-{floor}.toml").write_text(f"[floors]\nstandard = {floor}\nhigh_density = {floor}\n")
    (work / "disk").mkdir()
    (work / "readonly").mkdir()
    (work / "driver.py").write_text(DRIVER)
    script = ('mount -t tmpfs -o size=6m tmpfs "$1" && mount -t tmpfs -o size=6m tmpfs "$2" && '
              'exec "$3" "$4" "$1" "$2" "$5"')
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh",
                           work / "disk", work / "readonly", sys.executable, work / "driver.py", work],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_on_a_real_full_disk_good_runs_came_first(full_disk):
    for name in ("propose", "map", "compare", "evaluate", "frontier", "sweep"):
        assert full_disk[f"good {name}"]["code"] == 0, full_disk[f"good {name}"]["err"]


@pytest.mark.parametrize("name", ["nearly full propose", "nearly full map", "nearly full compare", "full propose",
                                  "full map", "full compare", "full evaluate", "full frontier", "full sweep"])
def test_on_a_real_full_disk_every_command_says_so_and_exits_3(full_disk, name):
    result = full_disk[name]
    assert result["code"] == 3, result
    assert "Traceback" not in result["err"]
    assert "no space left on device" in result["err"]
    assert_no_internal_names(result["err"])


def test_on_a_real_full_disk_no_good_file_is_lost(full_disk):
    assert full_disk["after"] == full_disk["before"]  # every good output, byte for byte; nothing half written


def test_on_a_real_full_disk_the_cache_is_only_a_warning(full_disk):
    result = full_disk["full cache"]
    assert result["code"] == 0 and json.loads(result["out"])["municipalities"] == 20
    assert "graph cache not saved" in result["err"]


def test_a_read_only_folder_is_refused_before_solving_and_kept(full_disk):
    result = full_disk["readonly propose"]
    assert result["code"] == 3
    assert "cannot write to output folder" in result["err"] and "read-only file system" in result["err"]
    assert "mode scratch" not in result["err"]  # before the solve, not after it
    assert full_disk["readonly map"]["code"] == 3  # refused before drawing anything
    assert "is on a read-only file system; give a path in a folder you can write" in full_disk["readonly map"]["err"]
    assert full_disk["readonly after"] == full_disk["readonly before"]
