"""Errors raised by lombardy-districts. Each subclasses a built-in so callers can catch either."""

from __future__ import annotations


class InputError(ValueError):
    """Input data or options are invalid. ``problems`` lists every problem found, one per line."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class GraphError(ValueError):
    """The contiguity graph cannot be built as asked (e.g. it is disconnected)."""


class InfeasibleError(ValueError):
    """No plan can meet the rules; the message says why, with names and numbers."""


class OutputError(OSError):
    """A file or folder could not be written.

    The message names it and the cause, e.g. ``no space left on device while writing
    out/map.html``; ``path`` and ``reason`` hold both.
    """

    def __init__(self, message: str, path=None, reason: str | None = None, errno: int | None = None):
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.reason = reason or message
        self.errno = errno
