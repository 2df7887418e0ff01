"""The one interface every solver implements."""

from __future__ import annotations

from collections.abc import Callable

from lombardy_districts.problem import Problem, SolveResult

Progress = Callable[[dict], None]
"""Called during a solve with
``{"incumbent": float | None, "bound": float | None, "elapsed": float, "plans": int | None}``."""


class Solver:
    """Base class: build with ``from_problem``, run with ``solve``.

    Every plan a solver returns must pass ``plan.violations(problem.rules) == []``; a solver
    that finds none returns ``plan=None`` with status ``infeasible`` or ``timeout``.
    """

    name = "base"

    def __init__(self, problem: Problem):
        self.problem = problem

    @classmethod
    def from_problem(cls, problem: Problem) -> Solver:
        """Prepare a solver for ``problem``."""
        return cls(problem)

    def solve(
        self,
        time_limit: float | None = 60.0,
        seed: int = 0,
        workers: int | None = None,
        warm_start=None,
        progress: Progress | None = None,
    ) -> SolveResult:
        """Search for a plan; ``warm_start`` is an optional ``Plan`` to start from."""
        raise NotImplementedError
