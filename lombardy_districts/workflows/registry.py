"""The solvers, by name: a plain built-in table, plus third-party solvers from one entry-point group.

A third-party package adds a solver under the entry-point group ``lombardy_districts.solvers``
(``name = "package.module:SolverClass"``, a subclass of ``lombardy_districts.solvers.Solver``).
Built-in names win over entry points of the same name.

The built-in solvers are imported when first asked for, not when this module is: OR-Tools, PuLP and
SciPy take about a second to import, which commands that never solve (``data``, ``evaluate``,
``map``) should not pay.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from lombardy_districts.errors import InputError, did_you_mean

BUILT_IN = {
    "cpsat": "lombardy_districts.solvers.cpsat:CPSATSolver",
    "heuristic": "lombardy_districts.solvers.heuristic:HeuristicSolver",
    "pulp": "lombardy_districts.solvers.pulp_mip:PulpSolver",
}
"""Solver name -> ``module:class``."""

GROUP = "lombardy_districts.solvers"


def _third_party() -> dict:
    return {ep.name: ep for ep in entry_points(group=GROUP) if ep.name not in BUILT_IN}


def solver_names() -> list[str]:
    """Names of every available solver: the built-in ones and any installed through the entry-point group."""
    return sorted({*BUILT_IN, *_third_party()})


def solver_class(name: str):
    """The solver class registered under ``name``."""
    if name in BUILT_IN:
        module, _, attribute = BUILT_IN[name].partition(":")
        return getattr(import_module(module), attribute)
    found = _third_party()
    if name not in found:
        raise InputError(f"unknown solver {name!r}{did_you_mean(name, solver_names())}; allowed: "
                         f"{', '.join(solver_names())}")
    return found[name].load()
