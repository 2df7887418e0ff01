"""The problem every solver takes, and the result record every solver returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from lombardy_districts.errors import InputError
from lombardy_districts.model.collaboration import Collaboration
from lombardy_districts.model.measures import successors
from lombardy_districts.model.options import MAX_PLANS, number_problem, unknown_objectives, weights_problems
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.territory import Territory

MODES = ("scratch", "merge", "repair")
OBJECTIVES = ("max-plans", "collaboration", "disruption", "compact")
STATUSES = ("optimal", "feasible", "infeasible", "timeout", "interrupted")
"""A result's status; ``interrupted``: the search was stopped early (``model.stop.Stop``) and the plan is the
best it had found."""
DEFAULT_OBJECTIVES = {
    "scratch": ("max-plans", "collaboration"),
    "merge": ("max-plans", "collaboration"),
    "repair": ("disruption", "max-plans"),
}
"""Objectives used when none are given: the least aggregation, then the most ties kept (of plans with as
many area plans, the one that keeps more collaboration); in repair mode the fewest municipalities moved
first."""


@dataclass(frozen=True, eq=False)
class Problem:
    """What to partition and by which rules.

    Parameters
    ----------
    territory
        Municipalities and contiguity graph.
    rules
        Floors, class rule, ceiling, hard boundaries, locks.
    collaboration
        Collaboration edges (kinds and weights); may be empty.
    status_quo
        The current plan, needed by ``merge`` and ``repair`` modes and the ``disruption`` objective.
    mode
        ``scratch`` (any grouping of municipalities), ``merge`` (units are the status quo's plans),
        ``repair`` (municipality level, fewest moves from the status quo).
    objectives
        Names from ``OBJECTIVES``, optimised lexicographically in the order given, unless
        ``weights`` is set, in which case their weighted sum is optimised.
    weights
        Optional objective name -> weight.
    min_plans, max_plans
        Optional bounds on the number of area plans (both equal: exactly that many).
    """

    territory: Territory
    rules: Rules
    collaboration: Collaboration
    status_quo: Plan | None = None
    mode: str = "scratch"
    objectives: tuple[str, ...] = ("max-plans",)
    weights: dict[str, float] | None = None
    min_plans: int | None = None
    max_plans: int | None = None

    def __post_init__(self):
        problems = []
        if self.mode not in MODES:
            problems.append(f"mode {self.mode!r} is unknown; allowed: {', '.join(MODES)}")
        bad = [o for o in self.objectives if o not in OBJECTIVES]
        if bad:
            problems.append(f"objectives: {unknown_objectives(bad)}; allowed: {', '.join(OBJECTIVES)}")
        if not self.objectives:
            problems.append(f"at least one objective is needed; allowed: {', '.join(OBJECTIVES)}")
        if self.weights is not None:
            problems += weights_problems("weights", self.weights, OBJECTIVES)
            extra = set(self.weights) - set(self.objectives)
            if extra:
                problems.append(f"weights given for objectives not selected: {sorted(extra)}")
        needs_sq = self.mode in ("merge", "repair") or "disruption" in self.objectives
        if needs_sq and self.status_quo is None:
            problems.append(
                f"mode {self.mode!r} with objectives {list(self.objectives)} needs a status quo; "
                "pass --status-quo SQ.csv (Python: status_quo=read_plan(PATH, territory))"
            )
        if self.mode == "merge" and self.weights is None and self.objectives[:1] == ("disruption",):
            problems.append("objective disruption first in merge mode: merging moves no municipality, so every "
                            "merger scores 0 and the first one found would do, however many plans it merges; fix: "
                            "put max-plans first (the fewest mergers, the default), or use --mode repair to move "
                            "the fewest municipalities")
        if self.status_quo is not None and self.status_quo.territory is not self.territory:
            try:  # the same municipalities read on another Territory (in another order, say): re-read here
                object.__setattr__(self, "status_quo", self.status_quo.over(self.territory))
            except InputError as exc:
                problems += exc.problems
        for name in ("min_plans", "max_plans"):
            value = getattr(self, name)
            if value is not None and (problem := number_problem(name, value, 1, MAX_PLANS, whole=True,
                                                                 unit=" of area plans")):
                problems.append(problem)
        if self.min_plans is not None and self.max_plans is not None and self.min_plans > self.max_plans:
            problems.append(f"min_plans = {self.min_plans} is above max_plans = {self.max_plans}; "
                            "fix: swap or drop one")
        if problems:
            raise InputError(problems)

    @property
    def plans_only(self) -> bool:
        """The number of plans is the whole objective (repair mode always puts disruption first)."""
        return self.objectives == ("max-plans",) and self.mode != "repair"

    @property
    def plans_first(self) -> bool:
        """The number of plans is the whole objective, or the first of lexicographic ones (not weighed)."""
        return self.plans_only or (self.objectives[0] == "max-plans" and not self.weights and self.mode != "repair")

    def warm_start_problems(self, plan: Plan) -> list[str]:
        """Why ``plan`` cannot be a solver's starting point (empty when it can), one readable line each.

        It must cover the same municipalities and comply with the rules and locks; in repair mode,
        which keeps every current plan, it must also have the status quo's plans, each the successor
        of one current plan (``measures.successors``).
        """
        codes = set(self.territory.codes)
        if set(plan.assignment.index) != codes:
            return [f"it covers other municipalities than the problem ({len(plan.assignment):,} against "
                    f"{len(codes):,}); give a plan of the same municipalities"]
        out = plan.violations(self.rules, status_quo=self.status_quo, collaboration=self.collaboration)
        if self.mode == "repair" and self.status_quo is not None:
            other = set(plan.plan_ids) ^ set(self.status_quo.plan_ids)
            if other:
                out.append(f"a repair keeps every current plan, and it differs in plans {sorted(other)[:5]}")
            heirs = successors(self.status_quo.assignment, plan.assignment,
                               self.territory.municipalities["population"])
            for new, before in heirs.groupby(heirs).groups.items():
                if len(before) > 1:
                    out.append(f"a repair keeps every current plan, and its plan {new} holds most of the "
                               f"municipalities of {', '.join(sorted(before))} (a merger)")
        return out


@dataclass(frozen=True)
class SolveResult:
    """What a solver returns: the plan (None when it found none) and how the search went."""

    solver: str
    status: str
    plan: Plan | None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    wall_time: float = 0.0
    message: str = ""
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready record (without the plan)."""
        return {
            "solver": self.solver, "status": self.status, "objective": self.objective,
            "bound": self.bound, "gap": self.gap, "wall_time_s": round(self.wall_time, 3),
            "plans": len(self.plan) if self.plan is not None else None,
            "message": self.message, "details": self.details,
        }


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative gap ``|bound - objective| / max(1, |objective|)`` (the CP-SAT and MIP convention)."""
    if objective is None or bound is None:
        return None
    return abs(bound - objective) / max(1.0, abs(objective))
