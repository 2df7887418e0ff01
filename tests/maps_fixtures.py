"""Browser fixtures for the map tests (a pytest plugin): headless Chromium through Playwright, offline.

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
