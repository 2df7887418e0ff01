"""Browser fixtures for the map tests (a pytest plugin): headless Chromium through Playwright, offline.

The pages carry their own scripts and styles (``maps/offline.py``), so the tests block the network:
every request that is not a ``file://`` page or a local test server is aborted and recorded, and a
page must draw with nothing but the basemap tiles missing.

When the browser or Playwright is missing, the tests are skipped with the reason locally and FAIL in
CI (``CI`` set to true/1), so CI can never pass without having run them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, Opened, block_network, unavailable, watch_console


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
