"""The one interface every solver implements."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

from lombardy_districts.errors import InputError
from lombardy_districts.model.options import SolverOptions, number_problem
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import Problem, SolveResult
from lombardy_districts.model.stop import Stop

Progress = Callable[[dict], None]
"""Called during a solve with
``{"incumbent": float | None, "bound": float | None, "elapsed": float, "plans": int | None}``."""


class Solver:
    """Base class: build with ``from_problem``, run with ``solve``.

    Every plan a solver returns must pass ``plan.violations(problem.rules, collaboration=problem.collaboration)
    == []``; a solver
    that finds none returns ``plan=None`` with status ``infeasible`` or ``timeout``.
    ``TUNING`` holds the solver's expert settings with their defaults; ``options.tuning`` may
    change them, and any other key is refused. ``stop`` (a ``Stop``) asks the search to end
    early: the solver then returns the best plan it has found (``plan=None`` if none).
    """

    name = "base"
    TUNING: Mapping[str, Any] = {}
    WORKERS = 1
    """Threads used when ``options.workers`` is None."""
    PLAN_COUNT = True
    """Whether the solver keeps to the problem's ``min_plans`` and ``max_plans``; one that cannot refuses them."""

    def __init__(self, problem: Problem, options: SolverOptions, stop: Stop | None = None):
        self.problem = problem
        self.options = options
        self.tuning: dict[str, Any] = {**self.TUNING, **options.tuning}
        self.stop = stop if stop is not None else Stop()

    @classmethod
    def from_problem(cls, problem: Problem, options: SolverOptions | Mapping | None = None,
                     stop: Stop | None = None) -> Solver:
        """Prepare a solver for ``problem`` with ``options`` (a ``SolverOptions`` or a table of them).

        ``stop``, when set during ``solve``, ends the search early (see ``Stop``).
        """
        options = SolverOptions.from_mapping(options)
        unknown = sorted(set(options.tuning) - set(cls.TUNING))
        if unknown:
            allowed = ", ".join(sorted(cls.TUNING)) or "none"
            raise InputError([f"unknown tuning setting {key!r} for solver {cls.name}; allowed: {allowed}"
                              for key in unknown])
        problems = [p for key, value in options.tuning.items() for p in _tuning_problems(key, value)]
        if not cls.PLAN_COUNT and (problem.min_plans is not None or problem.max_plans is not None):
            given = " and ".join(f"{name} = {value}" for name, value in (("min_plans", problem.min_plans),
                                                                         ("max_plans", problem.max_plans))
                                 if value is not None)
            problems.append(f"solver {cls.name} cannot keep to {given}; use solver cpsat or pulp, or leave the "
                            "number of plans free")
        if problems:
            raise InputError(problems)
        return cls(problem, options, stop)

    @property
    def threads(self) -> int:
        """Threads to use: ``options.workers``, or this solver's ``WORKERS``."""
        return self.options.workers if self.options.workers is not None else self.WORKERS

    def solve(self, warm_start: Plan | None = None, progress: Progress | None = None) -> SolveResult:
        """Search for a plan within ``options.time_limit``; ``warm_start`` is an optional plan to start from."""
        raise NotImplementedError


MAX_TUNING = 10**9
"""Largest number any tuning setting may take."""


def _tuning_problems(key: str, value) -> list[str]:
    """Numbers among a tuning setting's value must be finite, from 0 to ``MAX_TUNING``."""
    values = value if isinstance(value, list | tuple) else [value]
    return [problem for v in values if isinstance(v, numbers.Real) and not isinstance(v, bool)
            and (problem := number_problem(f"tuning.{key}", v, 0, MAX_TUNING, whole=isinstance(v, numbers.Integral)))]
