"""Solvers: each takes a ``lombardy_districts.problem.Problem`` and returns a ``SolveResult``."""

from .base import Solver

__all__ = ["Solver"]
