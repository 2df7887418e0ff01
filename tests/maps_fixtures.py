"""Fixtures for the map tests: tiny plans built in code, and headless Chromium through Playwright, offline.

Folium pages load Leaflet, jQuery, Bootstrap and Leaflet.Sync from CDNs. The tests answer those
requests from npm copies in ``$LOMBARDY_DISTRICTS_ASSETS`` (default
``~/.cache/lombardy-districts/browser-assets``, filled by ``.ci/browser-setup.sh``, or here with
npm when it is missing) and every other request (fonts, icons, tiles) with an empty 200.

When the browser or the assets are missing, the tests are skipped with the reason locally and
FAIL in CI (``CI`` set to true/1), so CI can never pass without having run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LOMBARDY_DISTRICTS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]
NPM_PACKAGES = ["leaflet@1.9.3", "jquery@3.7.1", "bootstrap@5.2.2", "leaflet.sync@0.2.4"]
# URL fragment -> (file under node_modules, content type); the first match wins.
ASSETS = [
    ("leaflet.js", "leaflet/dist/leaflet.js", "application/javascript"),
    ("leaflet.css", "leaflet/dist/leaflet.css", "text/css"),
    ("jquery", "jquery/dist/jquery.min.js", "application/javascript"),
    ("bootstrap.bundle.min.js", "bootstrap/dist/js/bootstrap.bundle.min.js", "application/javascript"),
    ("bootstrap.min.css", "bootstrap/dist/css/bootstrap.min.css", "text/css"),
    ("L.Map.Sync", "leaflet.sync/L.Map.Sync.js", "application/javascript"),
]


def in_ci() -> bool:
    """True when running in CI, where a missing browser must fail the tests."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str):
    """Fail in CI, skip locally."""
    if in_ci():
        pytest.fail(f"browser tests cannot run in CI: {reason}. Run .ci/browser-setup.sh first.")
    pytest.skip(f"browser tests skipped: {reason} (run .ci/browser-setup.sh to enable them)")


def assets_dir() -> Path:
    """Folder whose ``node_modules`` holds the npm copies of the CDN files."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lombardy-districts" / "browser-assets"
    return Path(os.environ.get("LOMBARDY_DISTRICTS_ASSETS", default))


def _missing(folder: Path) -> list[str]:
    return [rel for _, rel, _ in ASSETS if not (folder / "node_modules" / rel).is_file()]


def _npm_install(folder: Path) -> str:
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "package.json").exists():
        (folder / "package.json").write_text('{"name": "lombardy-districts-browser-assets", "private": true}\n')
    try:
        done = subprocess.run([npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund",
                               "--loglevel=error", *NPM_PACKAGES], capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return "npm install timed out"
    return "" if done.returncode == 0 else f"npm install failed: {done.stderr.strip()[-400:]}"


@dataclass
class Opened:
    """A page opened from a file, with what went wrong while loading it."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    stubbed: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser_assets() -> Path:
    """The npm assets folder, installed with npm when missing; skip/fail when impossible."""
    folder = assets_dir()
    if _missing(folder):
        problem = _npm_install(folder)
        still = _missing(folder)
        if still:
            unavailable(f"assets missing in {folder}: {', '.join(still)}" + (f" ({problem})" if problem else ""))
    return folder


@pytest.fixture(scope="session")
def chromium(browser_assets):
    """A headless Debian Chromium driven by Playwright (never ``playwright install``)."""
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is missing (pip install -e '.[test]')")
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - report any launch failure the same way
        manager.stop()
        unavailable(f"Chromium did not start: {str(exc).splitlines()[0]}")
    yield browser
    browser.close()
    manager.stop()


@pytest.fixture
def open_html(chromium, browser_assets):
    """Factory: ``open_html(path, width=1400, height=900) -> Opened`` with CDN requests served offline."""
    contexts = []
    modules = browser_assets / "node_modules"

    def open_(path: Path, width: int = 1400, height: int = 900) -> Opened:
        context = chromium.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)
        page.on("console", lambda msg: opened.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: opened.console_errors.append(f"page error: {exc}"))

        def handle(route):
            url = route.request.url
            if url.startswith("file://"):
                return route.continue_()
            for fragment, rel, ctype in ASSETS:
                if fragment in url:
                    return route.fulfill(status=200, path=str(modules / rel), content_type=ctype)
            opened.stubbed.append(url)
            ctype = "text/css" if url.endswith(".css") else "application/javascript" if url.endswith(".js") \
                else "text/plain"
            return route.fulfill(status=200, body="", content_type=ctype)

        page.route("**/*", handle)
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        return opened

    yield open_
    for context in contexts:
        context.close()


# --- tiny instances built in code -------------------------------------------------------------

ROWS, COLS = 4, 6


def code(row: int, col: int) -> str:
    """Code of the grid cell at (row, col), row-major from ``000001``."""
    return f"{row * COLS + col + 1:06d}"


def tiny_territory():
    """A 4 x 6 grid of 1 km square municipalities; column 0 is mountain; names with accents and quotes."""
    import geopandas as gpd
    from shapely.geometry import box

    from lombardy_districts.territory import Territory

    cells = [(r, c) for r in range(ROWS) for c in range(COLS)]
    names = [f"Sant'Angelo {r}-{c}" if c == 3 else f"Citt\u00e0 {r}-{c}" for r, c in cells]
    # y grows northwards: row 0 is the northern edge, near Milan's latitude in EPSG:32632
    x0, y0 = 500_000, 5_040_000
    gdf = gpd.GeoDataFrame(
        {
            "name": names,
            "province": "Tiny",
            "population": [15_000 if (r >= 2 and c >= 4) else 10_000 for r, c in cells],
            "mountain_status": ["totally" if c == 0 else "not" for r, c in cells],
        },
        geometry=[box(x0 + c * 1000, y0 - (r + 1) * 1000, x0 + (c + 1) * 1000, y0 - r * 1000) for r, c in cells],
        crs="EPSG:32632",
        index=[code(r, c) for r, c in cells],
    )
    gdf.index.name = "code"
    gdf["area_km2"] = gdf.geometry.area / 1e6
    gdf["density"] = gdf["population"] / gdf["area_km2"]
    return Territory.from_geodataframe(gdf, cache=False)


def tiny_plan_a(territory):
    """West and Centre (80,000 each), North-east (40,000: below a 50,000 floor), South-east (60,000)."""
    from lombardy_districts.plan import Plan

    def which(r, c):
        return "W" if c < 2 else "C" if c < 4 else "NE" if r < 2 else "SE"

    assignment = {code(r, c): which(r, c) for r in range(ROWS) for c in range(COLS)}
    return Plan(territory, assignment, {"W": "West", "C": "Centre", "NE": "North-east", "SE": "South-east"})


def tiny_plan_b(territory):
    """Plan A with the two northern cells of column 3 moved from Centre to North-east (now 60,000)."""
    return tiny_plan_a(territory).reassign({code(0, 3): "NE", code(1, 3): "NE"})


def tiny_rules():
    """Every class floor at 50,000."""
    from lombardy_districts.rules import Rules

    return Rules().with_floor(50_000)


def tiny_collaboration():
    """Two kinds: a 'union' tying Centre to North-east across the border, a 'consortium' inside West."""
    import pandas as pd

    from lombardy_districts.collaboration import Collaboration

    rows = [(code(0, 3), code(0, 4), 2.0, "union"), (code(1, 3), code(1, 4), 2.0, "union"),
            (code(0, 0), code(0, 1), 1.0, "consortium"), (code(1, 0), code(1, 1), 1.0, "consortium")]
    return Collaboration(pd.DataFrame(rows, columns=["code_a", "code_b", "weight", "kind"]))
