"""The ``Setup`` an exact model is built from, and the sense of each objective.

Kept apart from ``exact`` (which prepares a ``Setup`` and runs the heuristic for its warm start)
so that the heuristic's exact regrouping step (``_regroup``) can build the CP-SAT model of
``cpsat_model`` on a few regions without importing the heuristic back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from lombardy_districts.model.problem import Problem
from lombardy_districts.model.stop import Stop

from .bounds import PlanBound
from .model_data import Candidates, ClassTerms
from .units import Units

SENSE = {"max-plans": 1, "collaboration": 1, "disruption": -1, "compact": -1}
"""+1 for objectives to maximise, -1 for those to minimise."""


@dataclass
class Setup:
    """A problem prepared for an exact model.

    ``units`` are all units; the model partitions ``model`` = ``units.subset(keep)``; the other
    units keep ``fixed`` labels (repair mode leaves plans far from any problem alone).
    """

    problem: Problem
    units: Units
    model: Units
    keep: list[int]
    fixed: dict[int, str]
    terms: ClassTerms
    candidates: Candidates
    hint: list | None
    bound: PlanBound
    options: dict
    notes: list[str] = field(default_factory=list)
    disruption_weight: np.ndarray | None = None
    plan_range: tuple[int | None, int | None] = (None, None)
    warm_start: dict = field(default_factory=dict)
    """The heuristic warm start's ``budget`` record, ``seconds`` of the time limit it used and ``compile_seconds``."""
    deterministic: bool = False
    """Whether the search counts work instead of time (``SolverOptions.deterministic``)."""
    stop: Stop = field(default_factory=Stop)
    """Set to end the search early (``model.stop.Stop``); every stage checks it."""
    workers: int = 1
    """Processes the heuristic warm start may use (``SolverOptions.workers``)."""
    least_moves: float | None = None
    """A repair's proved least number of municipalities moved (``exact.moves_bound``), else None."""
    repair_plans: int | None = None
    """A repair's proved most plans on the whole map once it moves ``least_moves`` (``exact.repair_plans``)."""

    @property
    def compile_seconds(self) -> float:
        """Seconds the warm start spent compiling the search (first run after installing), outside the time limit."""
        return float(self.warm_start.get("compile_seconds", 0.0))

    def used(self, start: float) -> float:
        """Seconds of the time limit used since ``start``, the first compile left out."""
        return time.perf_counter() - start - self.compile_seconds

    @property
    def plans_outside(self) -> int:
        """Plans of the units the model leaves as they are (a repair's zone leaves far plans out)."""
        return len(set(self.fixed.values()))

    @property
    def model_plan_range(self) -> tuple[int | None, int | None]:
        """``plan_range`` for the modelled units: minus the plans the fixed units keep."""
        fixed = self.plans_outside
        low, high = self.plan_range
        return (None if low is None else max(0, low - fixed), None if high is None else high - fixed)
