"""Ctrl-C and SIGTERM during a solve: stop the search and keep the best plan found so far.

``until_stopped(work)`` runs ``work(stop)`` in a worker thread while the main thread waits, so
that Python's signal handlers run at once even while a solver is busy in C++ code. The first
SIGINT or SIGTERM sets ``stop`` (``model.stop.Stop``): the solver ends its search and hands back
its incumbent, which ``work`` then writes. A second signal quits at once (``KeyboardInterrupt``).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from lombardy_districts.model.stop import Stop

T = TypeVar("T")

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}
"""Exit code of a run stopped by each signal (128 + its number, as shells report it)."""
POLL_SECONDS = 0.2


def until_stopped(work: Callable[[Stop], T], stream=None) -> tuple[T, str | None]:
    """``(work(stop), name of the signal that stopped it or None)``; see the module docstring.

    Exceptions raised by ``work`` are raised here. Must be called from the main thread.
    """
    stream = stream or sys.stderr
    stop = Stop()
    received: list[str] = []

    def on_signal(signum, frame):
        name = signal.Signals(signum).name
        if received:
            raise KeyboardInterrupt
        received.append(name)
        stream.write(f"\n{name}: stopping the search; the best plan found so far will be written "
                     "(press Ctrl-C again to quit at once, losing it)\n")
        stream.flush()
        stop.set(name)

    outcome: dict = {}

    def target():
        try:
            outcome["value"] = work(stop)
        except BaseException as exc:  # handed to the main thread below
            outcome["error"] = exc

    previous = {s: signal.signal(s, on_signal) for s in SIGNALS}
    try:
        thread = threading.Thread(target=target, name="lombardy-districts-solve", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(POLL_SECONDS)
            stop.poke()  # a CP-SAT solve that had not started when the stop came ignored it
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"], (received[0] if received else None)
