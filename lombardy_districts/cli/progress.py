"""Progress on the terminal: the solver's incumbent, bound and elapsed time, and its notes."""

from __future__ import annotations

import sys

from lombardy_districts.workflows.throttle import Throttle


class ProgressLine:
    """Incumbent, bound and elapsed time on stderr: one updating line on a terminal, else every 10 s.

    A report that comes sooner is held and shown when its turn comes (``Throttle``); a report with a
    ``note`` shows at once.
    """

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.throttle = Throttle(self._show, 0.5 if self.tty else 10.0, urgent=lambda info: bool(info.get("note")))

    def __call__(self, info: dict) -> None:
        """Show one progress report (throttled)."""
        self.throttle(info)

    def _show(self, info: dict) -> None:
        parts = [f"{info.get('elapsed', 0):6.1f} s"]
        if info.get("plans") is not None:
            parts.append(f"{info['plans']} plans")
        bound = f"bound {info['bound']:g}" if info.get("bound") is not None else None
        if info.get("objective"):  # a stage's other than the plan count, e.g. collaboration, disruption
            if info.get("incumbent") is not None:
                parts.append(f"{info['objective']} {info['incumbent']:g}" + (f" ({bound})" if bound else ""))
            elif bound:
                parts.append(f"{info['objective']} {bound}")
        else:
            if info.get("incumbent") is not None:
                parts.append(f"incumbent {info['incumbent']:g}")
            if bound:
                parts.append(bound)
        if info.get("note"):
            parts.append(info["note"])
        text = "solving: " + ", ".join(parts)
        self.stream.write(f"\r{text:<70}" if self.tty else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the updating line; a report still held is dropped (the answer follows)."""
        self.throttle.close()
        if self.tty and self.throttle.last:
            self.stream.write("\n")
