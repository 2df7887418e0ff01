"""Ending a search early and keeping what it found.

A front end (the command line on Ctrl-C or SIGTERM) calls ``Stop.set``; every solver checks
``is_set`` between steps and, while a CP-SAT solve runs, has registered ``hook(solver.stop_search)``
so that the solve ends at once. The solver then hands back the best plan it has, and
``workflows.propose.solve`` marks the result ``interrupted``.

Across processes (a sweep's workers, on this machine or on Dask workers sharing its folder), a
file carries the request: ``put_stop_file`` writes it, and ``stop_when_file`` gives a ``Stop``
that is set when the file appears.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class Stop:
    """A request to end the search, shared by a front end and the solvers it runs.

    Once set it stays set, and a run given it ends at once: make a new ``Stop`` for each run.
    """

    def __init__(self):
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] = []
        self.reason: str | None = None

    def set(self, reason: str = "interrupted") -> None:
        """Ask every search to end (and run the hooks of the solves under way)."""
        self.reason = self.reason or reason
        self._event.set()
        self.poke()

    def is_set(self) -> bool:
        """Whether the search was asked to end."""
        return self._event.is_set()

    def poke(self) -> None:
        """Run the hooks again (a CP-SAT solve that had not started yet ignores its first stop)."""
        if not self.is_set():
            return
        with self._lock:
            hooks = list(self._hooks)
        for hook in hooks:
            hook()

    @contextmanager
    def hook(self, callback: Callable[[], None]) -> Iterator[None]:
        """Call ``callback`` when the stop is set while this block runs (at once if it already is)."""
        with self._lock:
            self._hooks.append(callback)
        try:
            if self.is_set():
                callback()
            yield
        finally:
            with self._lock:
                self._hooks.remove(callback)


POLL_SECONDS = 0.25
"""How often ``stop_when_file`` looks for its file."""


def put_stop_file(path, stop: Stop) -> None:
    """Write the file ``stop_when_file`` waits for, holding the reason ``stop`` was set."""
    path = Path(path)
    if not path.exists():
        path.write_text(stop.reason or "stopped", encoding="utf-8")


@contextmanager
def stop_when_file(path, every: float = POLL_SECONDS) -> Iterator[Stop]:
    """A ``Stop`` set (with the file's text as its reason) when the file ``path`` appears, while the block runs."""
    path, stop, done = Path(path), Stop(), threading.Event()

    def watch() -> None:
        while not done.wait(every):
            if path.exists():
                stop.set(_reason_in(path))
                return

    threading.Thread(target=watch, name="stop-file", daemon=True).start()
    try:
        yield stop
    finally:
        done.set()


def _reason_in(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "stopped"
    except OSError:  # removed meanwhile
        return "stopped"
