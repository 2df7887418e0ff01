"""Helpers of the fault suite (issue 15): tiny user data for fast commands, runs that must not crash."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lombardy_districts.cli import main
from lombardy_districts.io.output_folder import STATE
from tests.conftest import grid_frame

EXE = [sys.executable, "-m", "lombardy_districts"]
"""The command line in a process of its own (``python -m lombardy_districts``)."""


def grid_files(folder: Path) -> list[str]:
    """A 4 x 5 grid of municipalities of 10,000 inhabitants as user files; returns the data options."""
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "grid.gpkg"
    if not gpkg.exists():
        grid_frame(4, 5, 10_000).reset_index().to_file(gpkg, driver="GPKG")
    return ["--municipalities", str(gpkg)]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """``main(argv)`` in this process: (exit code, stdout, stderr); never a traceback."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()  # main's basicConfig then logs to this test's stderr
    try:
        code = main([str(a) for a in argv])
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def run_process(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """The command line in a process of its own; never a traceback."""
    done = subprocess.run([*EXE, *map(str, argv)], capture_output=True, text=True, timeout=600, **kwargs)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) -> SHA-256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def assert_no_internal_names(text: str) -> None:
    """Messages name final files only: no temporary, staging or state names."""
    for internal in (".tmp", STATE, "staging-"):
        assert internal not in text, text


def leftovers(folder: Path) -> list[str]:
    """Temporary or staged files anywhere under ``folder`` (there should be none after a run)."""
    return [str(p) for p in Path(folder).rglob("*") if p.name.endswith(".tmp") or p.name.startswith("staging-")]


def can_mount_tmpfs() -> bool:
    """Whether this machine lets an unprivileged user namespace mount a small tmpfs (``unshare``)."""
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            'mount -t tmpfs -o size=64k tmpfs "$0"', "/mnt"], capture_output=True)
    return probe.returncode == 0


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie waiting for its parent to reap it counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def environment(tmp_path: Path) -> dict[str, str]:
    """The environment of a command run in its own process: its default cache in ``tmp_path``."""
    env = dict(os.environ)
    env["LOMBARDY_DISTRICTS_CACHE"] = str(tmp_path / "default-cache")
    return env
