"""Progress on the terminal: the solver's incumbent, bound and elapsed time, and its notes."""

from __future__ import annotations

import sys
import time


class ProgressLine:
    """Incumbent, bound and elapsed time on stderr: one updating line on a terminal, else every 10 s."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = 0.0

    def __call__(self, info: dict) -> None:
        """Show one progress report (throttled; a report with a ``note`` always shows)."""
        now = time.monotonic()
        if now - self.last < (0.5 if self.tty else 10.0) and not info.get("note"):
            return
        self.last = now
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
        """End the updating line."""
        if self.tty and self.last:
            self.stream.write("\n")
