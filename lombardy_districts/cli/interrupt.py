"""Ctrl-C and SIGTERM during a solve: stop the search and keep the best plan found so far.

``until_stopped(work)`` runs ``work(stop)`` in a worker thread while the main thread waits, so
that Python's signal handlers run at once even while a solver is busy in C++ code. The first
SIGINT or SIGTERM sets ``stop`` (``model.stop.Stop``): the solver ends its search and hands back
its incumbent, which ``work`` then writes. A second signal quits at once (``KeyboardInterrupt``),
unless it comes within ``SAME_SIGNAL_SECONDS`` of the first (``timeout -s INT`` sends two).

Used by ``propose``, ``frontier`` (which keeps the points found so far) and ``sweep`` (which keeps
its finished scenarios and the best plan of those running).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from lombardy_districts.model.stop import Stop

T = TypeVar("T")

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}
"""Exit code of a run stopped by each signal (128 + its number, as shells report it)."""
POLL_SECONDS = 0.2
SAME_SIGNAL_SECONDS = 1.0
"""A second signal sooner than this after the first is the same stop, not a request to quit at once."""


KEEPS = "the best plan found so far will be written"
"""What a stopped ``propose`` keeps, as ``until_stopped`` says it when the first signal comes."""


def until_stopped(work: Callable[[Stop], T], stream=None, keeps: str = KEEPS) -> tuple[T, str | None]:
    """``(work(stop), name of the signal that stopped it or None)``; see the module docstring.

    ``keeps`` says what the stopped run still writes (``frontier``: the points found so far).
    Exceptions raised by ``work`` are raised here. Must be called from the main thread.
    """
    stream = stream or sys.stderr
    stop = Stop()
    received: list[str] = []
    received_at: list[float] = []

    def on_signal(signum, frame):
        name = signal.Signals(signum).name
        if received:
            if time.monotonic() - received_at[0] < SAME_SIGNAL_SECONDS:
                return  # the same stop sent twice (GNU timeout signals the process, then its group)
            raise KeyboardInterrupt
        received.append(name)
        received_at.append(time.monotonic())
        again = "press Ctrl-C again" if name == "SIGINT" else "a second signal will"
        stream.write(f"\n{name}: stopping the search; {keeps} ({again} to quit at once, losing it)\n")
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
