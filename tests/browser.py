"""Driving headless Chromium offline: which browser, what a page may load, and what went wrong.

Pages carry their own scripts and styles, so the tests block the network: every request that is not a
``file://`` page or a local test server is aborted and recorded. ``maps_fixtures`` holds the fixtures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

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
