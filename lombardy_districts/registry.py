"""Plug-ins found through entry points, so this package never imports ``solvers`` or ``maps``.

Groups: ``lombardy_districts.solvers`` (name -> solver class), ``lombardy_districts.renderers``
(name -> ``write(plan, scorecard, path, **options)``), ``lombardy_districts.comparisons``
(name -> ``write(plan_a, plan_b, path, **options)``), ``lombardy_districts.galleries``, ``lombardy_districts.commands``
(``register(subparsers)``), ``lombardy_districts.galleries``
(name -> ``write(entries, path, title=...)``, an index page of several proposals).
"""

from __future__ import annotations

from importlib.metadata import entry_points

from .errors import InputError


def _group(name: str) -> dict:
    return {ep.name: ep for ep in entry_points(group=f"lombardy_districts.{name}")}


def solver_names() -> list[str]:
    """Names of the installed solvers."""
    return sorted(_group("solvers"))


def solver_class(name: str):
    """The solver class registered under ``name``."""
    found = _group("solvers")
    if name not in found:
        allowed = ", ".join(sorted(found)) or "none installed (pip install the project)"
        raise InputError(f"unknown solver {name!r}; allowed: {allowed}")
    return found[name].load()


def renderers() -> dict:
    """Installed output renderers by name (e.g. ``map``)."""
    return {name: ep.load() for name, ep in sorted(_group("renderers").items())}


def galleries() -> dict:
    """Installed gallery writers by name: ``write(entries, path, title=...)``."""
    return {name: ep.load() for name, ep in sorted(_group("galleries").items())}


def comparisons() -> dict:
    """Installed side-by-side writers by name: ``write(plan_a, plan_b, path, **options)``."""
    return {name: ep.load() for name, ep in sorted(_group("comparisons").items())}
