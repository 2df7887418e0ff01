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
