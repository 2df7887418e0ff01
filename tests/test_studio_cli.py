"""``lombardy-districts studio``: options checked like every command's, and a real server that stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import lombardy_districts as ld
from lombardy_districts.cli import main


def test_studio_is_part_of_the_python_api():
    assert callable(ld.studio) and "studio" in ld.__all__


def test_bad_options_are_reported_together(capsys):
    assert main(["studio", "--port", "70000", "--select", "province", "--no-browser", "--solver", "gurobi",
                 "--time-limit", "-1"]) == 2
    err = capsys.readouterr().err
    assert "error: --port 70000: must be between 1 and 65535" in err
    assert "error: --select 'province' must look like COLUMN=V1[,V2..]" in err
    assert "error: --solver gurobi: unknown solver; allowed: cpsat, heuristic, pulp" in err
    assert "error: --time-limit -1.0: must be a number of seconds above 0" in err


def test_an_unknown_province_is_named_before_anything_starts(capsys, tmp_path):
    assert main(["studio", "--province", "Atlantis", "--no-browser", "--workspace", str(tmp_path)]) == 2
    assert "--province 'Atlantis' is not a province" in capsys.readouterr().err
    assert not (tmp_path / ".studio").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_command_serves_the_page_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lombardy_districts", "studio", "--province", "Lecco", "--no-browser",
         "--port", str(port), "--workspace", str(tmp_path / "ws")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "open http://" in line or not line:
                break
        assert f"open http://127.0.0.1:{port}/" in "".join(lines), "".join(lines)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "Area plans studio" in page
        state = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=10).read())
        assert state["scorecard"]["summary"]["plans"] == 1
        assert state["notice"] == "Started from one area plan per province."
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "your session is saved in the workspace" in out
    assert list((tmp_path / "ws" / ".studio").glob("session-*.jsonl"))
