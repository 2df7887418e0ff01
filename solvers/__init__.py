"""Solvers: each takes a ``lombardy_districts.model.problem.Problem`` and returns a ``SolveResult``.

``cpsat`` (``cpsat.CPSATSolver``: OR-Tools CP-SAT, exact, with a neighbourhood search at full scale and
set partitioning in merge mode), ``pulp`` (``pulp_mip.PulpSolver``: the same model for CBC, a cross-check)
and ``heuristic`` (``heuristic.HeuristicSolver``), all behind ``base.Solver``.
"""

from .base import Solver

__all__ = ["Solver"]
