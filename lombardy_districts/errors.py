"""Errors raised by lombardy-districts, and the checks of an argument's kind that raise them.

Each error subclasses a built-in, so callers can catch either. ``expect`` and ``expect_path`` refuse
an object or a path given where another belongs, naming what was given and the fix.
"""

from __future__ import annotations

import difflib
import os


def did_you_mean(word: str, choices, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``, or ``""`` when none is close.

    ``choices``: the allowed words, or a mapping from the form compared with ``word`` (e.g. lower
    case without accents) to the word the hint shows.
    """
    pairs = choices.items() if hasattr(choices, "items") else ((c, c) for c in choices)
    shown = {str(k).lower(): str(v) for k, v in pairs}  # case aside: CPSAT is cpsat
    close = difflib.get_close_matches(str(word).lower(), list(shown), n=1, cutoff=cutoff)
    return f" (did you mean {shown[close[0]]!r}?)" if close else ""


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


FIXES = {
    "Territory": "load() gives the region and load(selection=...) a part of it; a plan's own is plan.territory",
    "Plan": "read one with read_plan(path, territory), or take a proposal's .plan",
    "Rules": "Rules.default(), Rules.from_toml(path) or Rules.from_dict(table)",
    "Collaboration": "leave it out (None) for the default ties: labour market areas and unions of municipalities",
    "Problem": "build one with build_problem(territory, ...), or call propose(territory, ...)",
    "Scorecard": "evaluate(plan, rules) gives one, as does a proposal's .scorecard; None computes it",
}
"""How to get each object of the Python API that ``expect`` asks for."""


def expect(value, kind: type, name: str, optional: bool = False) -> None:
    """Refuse a ``value`` that is not a ``kind`` (nor None, when ``optional``): say what it is and the fix.

    The Python API's objects (a territory, a plan, rules, a problem) are easy to swap, or to give
    as a path; this says so instead of an ``AttributeError`` deep inside.
    """
    if isinstance(value, kind) or (optional and value is None):
        return
    if isinstance(value, str | int | float | os.PathLike):
        shown = f"{name} = {value!r} (a {type(value).__name__})"
    else:
        shown = f"{name} is a {type(value).__name__}"
    allowed = f"a {kind.__name__}" + (" or None" if optional else "")
    raise InputError(f"{shown}: expected {allowed}; fix: {FIXES[kind.__name__]}")


def expect_path(value, name: str, what: str, fix: str = "") -> None:
    """Refuse a ``value`` that is not a path (a ``str`` or an ``os.PathLike``) of ``what``, saying what it is."""
    if not isinstance(value, str | os.PathLike):
        raise InputError(f"{name} is a {type(value).__name__}: expected the path of {what} (a str or a Path)"
                         + (f"; fix: {fix}" if fix else ""))
