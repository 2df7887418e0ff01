"""Ending a search early and keeping what it found.

A front end (the command line on Ctrl-C or SIGTERM) calls ``Stop.set``; every solver checks
``is_set`` between steps and, while a CP-SAT solve runs, has registered ``hook(solver.stop_search)``
so that the solve ends at once. The solver then hands back the best plan it has, and
``workflows.propose.solve`` marks the result ``interrupted``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Stop:
    """A request to end the search, shared by a front end and the solvers it runs."""

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
