"""Proposing plans: ``build_problem``, ``solve``, ``propose`` and the ``Proposal`` they return.

The same options as the command line::

    import lombardy_districts as ld
    territory = ld.load()
    proposal = ld.propose(territory, floor=80_000, options={"time_limit": 30, "seed": 1})
    print(proposal.scorecard.summary["compliant_plans"])
    proposal.write("out/uniform-80k")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lombardy_districts.errors import InputError
from lombardy_districts.io.output_folder import OutputFolder, writing_into
from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.feasibility import check_feasible
from lombardy_districts.model.options import SolverOptions
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import DEFAULT_OBJECTIVES, Problem, SolveResult
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.scorecard import Scorecard, evaluate
from lombardy_districts.model.territory import Territory
from lombardy_districts.model.together import check_kinds
from lombardy_districts.workflows.export import write_formats
from lombardy_districts.workflows.registry import solver_class

log = logging.getLogger(__name__)

DETERMINISTIC_SOLVERS = ("heuristic", "cpsat")
"""Solvers with a deterministic mode (``SolverOptions.deterministic``)."""
MARKER = "result.json"
"""The file of an output folder written last: its presence means the other files are complete."""


@dataclass(frozen=True, eq=False)
class Proposal:
    """A solver's answer: the plan (None when none was found), its scorecard and the search record."""

    problem: Problem
    result: SolveResult
    scorecard: Scorecard | None

    @property
    def plan(self) -> Plan | None:
        """The proposed plan."""
        return self.result.plan

    def write(self, out_dir: str | Path | OutputFolder, maps: bool = True, formats: Iterable[str] | str = (),
              extra: dict | None = None) -> dict[str, Path]:
        """Write ``plan.csv``, ``scorecard.json``, the maps, ``formats`` files, then ``result.json``.

        With ``maps``: ``map.html``, and ``compare.html`` (status quo beside the proposal) when the
        problem has a status quo. ``formats`` (``"gpkg"``, ``"geojson"``, or both) adds the dissolved
        area plans with their scores (see ``export``). ``result.json`` (the search record plus
        ``extra``) is the folder's marker: its presence means every other file is complete.

        ``out_dir`` is a folder, written as one unit (``io.output_folder.OutputFolder``): locked
        against other runs, left as it was when anything fails, and cleared of the files an
        earlier run wrote there that this one does not (no stale ``compare.html``). Or an open
        ``OutputFolder``, whose owner commits the files (``propose`` opens it before solving).
        Returns the final path of each file by kind.
        """
        with writing_into(out_dir, marker=MARKER) as out:
            written = {}
            plan, card = self.plan, self.scorecard
            if plan is not None and card is not None:
                written["plan"] = out.write("plan.csv", plan.to_csv)
                written["scorecard"] = out.write("scorecard.json", card.to_json)
                if maps:
                    written.update(self._write_maps(out, plan, card))
                written.update(write_formats(plan, card, out, formats))
            written["result"] = out.write_json(MARKER, {**self.result.to_dict(), **(extra or {})})
        return written

    def _write_maps(self, out: OutputFolder, plan: Plan, card: Scorecard) -> dict[str, Path]:
        # maps import folium (about half a second): only runs that write maps pay for it
        from lombardy_districts.maps.compare import write_comparison
        from lombardy_districts.maps.render import write_plan_map

        problem, written = self.problem, {}
        status_quo = problem.status_quo
        written["map"] = out.write("map.html", lambda p: write_plan_map(
            plan, card, p, rules=problem.rules, status_quo=status_quo, collaboration=problem.collaboration))
        if status_quo is not None:
            written["compare"] = out.write("compare.html", lambda p: write_comparison(
                status_quo, plan, p, scorecard_b=card, rules=problem.rules,
                collaboration=problem.collaboration, titles=("status quo", "proposal")))
        return written


def build_problem(
    territory: Territory,
    *,
    mode: str = "scratch",
    status_quo: Plan | None = None,
    objectives: str | Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    rules: Rules | None = None,
    floor: int | None = None,
    collaboration: Collaboration | None = None,
    min_plans: int | None = None,
    max_plans: int | None = None,
) -> Problem:
    """The problem ``propose`` solves; ``floor`` replaces every class floor (``--floor``).

    ``objectives`` default by mode: ``DEFAULT_OBJECTIVES`` (scratch: max-plans; merge: max-plans then
    collaboration; repair: disruption then max-plans). ``min_plans`` and ``max_plans`` bound the
    number of area plans (both equal: exactly that many).
    """
    rules = rules or Rules.default()
    if floor is not None:
        rules = rules.with_floor(floor)
    if objectives is None:
        objectives = DEFAULT_OBJECTIVES.get(mode, ("max-plans",))
    if isinstance(objectives, str):
        objectives = [o.strip() for o in objectives.split(",") if o.strip()]
    if collaboration is None:
        collaboration = default_collaboration(territory, status_quo)
    check_kinds(rules.keep_together, collaboration)  # a misspelt kind is an input error, not infeasibility
    return Problem(territory, rules, collaboration, status_quo=status_quo, mode=mode,
                   objectives=tuple(objectives), weights=dict(weights) if weights else None,
                   min_plans=min_plans, max_plans=max_plans)


def solve(
    problem: Problem,
    options: SolverOptions | Mapping | None = None,
    *,
    progress: Callable[[dict], None] | None = None,
) -> Proposal:
    """Check feasibility, run the solver ``options`` name, and score its plan with the evaluator.

    ``options``: a ``SolverOptions`` or a table of its fields, e.g. ``{"solver": "heuristic",
    "time_limit": 30, "seed": 1, "deterministic": True}``; unknown keys are refused.
    """
    options = SolverOptions.from_mapping(options)
    if options.deterministic and options.solver not in DETERMINISTIC_SOLVERS:
        raise InputError(f"deterministic mode with solver {options.solver!r}: allowed solvers: "
                         f"{', '.join(DETERMINISTIC_SOLVERS)}; pick one of them or drop --deterministic")
    engine = solver_class(options.solver).from_problem(problem, options)
    check_feasible(problem)
    start = time.perf_counter()
    result = engine.solve(progress=progress)
    log.info("%s: %s in %.1f s", options.solver, result.status, time.perf_counter() - start)
    card = None
    if result.plan is not None:
        problems = result.plan.violations(problem.rules, collaboration=problem.collaboration)
        if problems:  # the evaluator is the judge: a solver bug must never reach the user as a plan
            raise RuntimeError(f"solver {options.solver} returned a plan the evaluator rejects: {problems[:3]}")
        card = evaluate(result.plan, problem.rules, problem.collaboration, problem.status_quo)
    return Proposal(problem, result, card)


def propose(
    territory: Territory,
    *,
    mode: str = "scratch",
    status_quo: Plan | None = None,
    objectives: str | Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    rules: Rules | None = None,
    floor: int | None = None,
    collaboration: Collaboration | None = None,
    min_plans: int | None = None,
    max_plans: int | None = None,
    options: SolverOptions | Mapping | None = None,
    progress: Callable[[dict], None] | None = None,
) -> Proposal:
    """Propose a compliant plan: ``build_problem`` then ``solve`` (the ``propose`` command's options).

    ``options`` says how to search (``SolverOptions``: solver, time limit, seed, workers,
    deterministic mode), e.g. ``options={"solver": "heuristic", "time_limit": 5, "seed": 1}``.
    """
    problem = build_problem(territory, mode=mode, status_quo=status_quo, objectives=objectives,
                            weights=weights, rules=rules, floor=floor, collaboration=collaboration,
                            min_plans=min_plans, max_plans=max_plans)
    return solve(problem, options, progress=progress)
