"""Progress reports at a readable pace: at most one every so many seconds, none of them lost for good."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Throttle:
    """Passes reports to ``show`` at most once every ``every`` seconds.

    A report that comes sooner is held and shown when its turn comes, unless a newer one replaces
    it: a plan found just after a bound is shown even if the solver says nothing more for a while.
    ``urgent(info)`` true shows a report at once.
    """

    def __init__(self, show: Callable[[dict], None], every: float, urgent: Callable[[dict], bool] | None = None):
        self.show, self.every, self.urgent = show, every, urgent
        self.last = 0.0
        self._held: dict | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __call__(self, info: dict) -> None:
        """Show ``info`` now if its turn has come, else hold it for then."""
        with self._lock:
            wait = self.last + self.every - time.monotonic()
            if wait > 0 and not (self.urgent is not None and self.urgent(info)):
                self._held = info
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._turn)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._pass(info)

    def _turn(self) -> None:
        with self._lock:
            self._timer = None
            if self._held is not None:
                self._pass(self._held)

    def _pass(self, info: dict) -> None:
        self._held, self.last = None, time.monotonic()
        self.show(info)

    def close(self) -> None:
        """Drop a held report (the answer follows) and stop waiting for its turn."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._held = None
