"""Browser fixtures for the map tests (a pytest plugin): headless Chromium through Playwright, offline.

The pages carry their own scripts and styles (``maps/offline.py``), so the tests block the network:
every request that is not a ``file://`` page or a local test server is aborted and recorded, and a
page must draw with nothing but the basemap tiles missing.

When the browser or Playwright is missing, the tests are skipped with the reason locally and FAIL in
CI (``CI`` set to true/1), so CI can never pass without having run them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LOMBARDY_DISTRICTS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]
TILES = ("tile.openstreetmap.org",)
"""Hosts whose requests may fail offline: the optional basemap."""


def in_ci() -> bool:
    """True when running in CI, where a missing browser must fail the tests."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str):
    """Fail in CI, skip locally."""
    if in_ci():
        pytest.fail(f"browser tests cannot run in CI: {reason}. Run .ci/browser-setup.sh first.")
    pytest.skip(f"browser tests skipped: {reason} (run .ci/browser-setup.sh to enable them)")


def local(url: str, allowed: tuple[str, ...] = ()) -> bool:
    """Whether ``url`` is a page on this machine (a file, or one of the ``allowed`` server origins)."""
    return url.startswith("file://") or url.startswith(("data:", "blob:")) or url.startswith(allowed)


@dataclass
class Opened:
    """A page opened from a file, with what went wrong while loading it."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def blocked_besides_tiles(self) -> list[str]:
        """Requests the page made to the internet, other than basemap tiles."""
        return [u for u in self.blocked if not any(host in u for host in TILES)]


def block_network(page, opened: Opened, allowed: tuple[str, ...] = ()) -> None:
    """Abort (and record in ``opened.blocked``) every request that does not stay on this machine."""

    def handle(route):
        url = route.request.url
        if local(url, allowed):
            return route.continue_()
        opened.blocked.append(url)
        return route.abort()

    page.route("**/*", handle)


def watch_console(page, opened: Opened) -> None:
    """Record console errors and uncaught page errors in ``opened.console_errors``.

    A request aborted on purpose (a basemap tile) logs "Failed to load resource"; that one is not kept.
    """

    def on_console(msg):
        if msg.type == "error" and "net::ERR_FAILED" not in msg.text and "Failed to load resource" not in msg.text:
            opened.console_errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: opened.console_errors.append(f"page error: {exc}"))


@pytest.fixture(scope="session")
def chromium():
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
def open_html(chromium):
    """Factory: ``open_html(path, width=1400, height=900) -> Opened``, with the network blocked."""
    contexts = []

    def open_(path: Path, width: int = 1400, height: int = 900) -> Opened:
        context = chromium.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)
        watch_console(page, opened)
        block_network(page, opened)
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        return opened

    yield open_
    for context in contexts:
        context.close()
