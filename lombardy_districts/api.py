"""Python API for scripts: ``load``, ``evaluate``, ``propose`` (and ``sweep`` in ``sweep.py``).

The same options as the command line::

    import lombardy_districts as ld
    territory = ld.load()
    proposal = ld.propose(territory, floor=80_000, time_limit=30, seed=1)
    print(proposal.scorecard.summary["compliant_plans"])
    proposal.write("out/uniform-80k")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .collaboration import Collaboration, default_collaboration
from .errors import InputError
from .files import write_atomic, write_json
from .plan import Plan
from .problem import DEFAULT_OBJECTIVES, Problem, SolveResult
from .registry import comparisons, renderers, solver_class
from .rules import Rules
from .scorecard import Scorecard, evaluate
from .territory import Territory

log = logging.getLogger(__name__)

DEFAULT_SOLVER = "cpsat"
DEFAULT_TIME_LIMIT = 60.0
DETERMINISTIC_SOLVERS = ("heuristic", "cpsat")
"""Solvers with a deterministic mode (solver option ``deterministic``)."""


def load(
    region: str = "lombardia",
    *,
    municipalities=None,
    population=None,
    code_column: str = "code",
    name_column: str = "name",
    population_column: str = "population",
    contiguity: str = "rook",
    cache=True,
    province: str | Sequence[str] | None = None,
) -> Territory:
    """Load a territory: an Italian region from the embedded data, or your own files.

    ``province`` keeps only some provinces (names as in the data, e.g. ``"Bergamo"``).
    """
    if municipalities is not None:
        from .userdata import read_municipalities

        gdf = read_municipalities(municipalities, population, code_column=code_column,
                                  name_column=name_column, population_column=population_column)
        territory = Territory.from_geodataframe(gdf, kind=contiguity, cache=cache)
    else:
        if population is not None:
            raise InputError("--population (population=) needs --municipalities (municipalities=): "
                             "the embedded data has its own population")
        territory = Territory.load(region, kind=contiguity, cache=cache)
    if province is not None:
        territory = territory.select("province", [province] if isinstance(province, str) else province)
    return territory


def read_plan(path, territory: Territory, column: str = "plan_id") -> Plan:
    """Read a ``municipality_code,plan_id[,plan_name]`` CSV over ``territory``."""
    return Plan.from_csv(path, territory, column)


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

    def write(self, out_dir, maps: bool = True, formats: Sequence[str] | str = (),
              extra: dict | None = None) -> dict[str, Path]:
        """Write ``plan.csv``, ``scorecard.json``, the maps, ``formats`` files, then ``result.json``.

        With ``maps``: ``map.html``, and ``compare.html`` (status quo beside the proposal) when the
        problem has a status quo. ``formats`` (``"gpkg"``, ``"geojson"``, or both) adds the dissolved
        area plans with their scores (see ``export``). ``result.json`` (the search record plus
        ``extra``) is written last, so its presence means every other file is complete.
        """
        from .export import write_formats

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = {}
        if self.plan is not None:
            written["plan"] = write_atomic(out / "plan.csv", self.plan.to_csv)
            written["scorecard"] = write_json(out / "scorecard.json", self.scorecard.to_dict())
            if maps:
                written.update(self._write_maps(out))
            written.update(write_formats(self.plan, self.scorecard, out, formats))
        written["result"] = write_json(out / "result.json", {**self.result.to_dict(), **(extra or {})})
        return written

    def _write_maps(self, out: Path) -> dict[str, Path]:
        problem, written = self.problem, {}
        for name, render in renderers().items():
            written[name] = write_atomic(out / f"{name}.html", lambda p, render=render: render(
                self.plan, self.scorecard, p, rules=problem.rules, status_quo=problem.status_quo,
                collaboration=problem.collaboration))
        if problem.status_quo is not None:
            for name, compare in comparisons().items():
                written[name] = write_atomic(out / f"{name}.html", lambda p, compare=compare: compare(
                    problem.status_quo, self.plan, p, scorecard_b=self.scorecard, rules=problem.rules,
                    collaboration=problem.collaboration, titles=("status quo", "proposal")))
        return written


def build_problem(
    territory: Territory,
    *,
    mode: str = "scratch",
    status_quo: Plan | None = None,
    objectives: str | Sequence[str] | None = None,
    weights: dict[str, float] | None = None,
    rules: Rules | None = None,
    floor: int | None = None,
    collaboration: Collaboration | None = None,
    options: dict | None = None,
) -> Problem:
    """The problem ``propose`` solves; ``floor`` replaces every class floor (``--floor``).

    ``objectives`` default by mode: ``DEFAULT_OBJECTIVES`` (scratch: max-plans; merge: max-plans then
    collaboration; repair: disruption then max-plans). ``options`` are solver options, e.g.
    ``{"deterministic": True}`` (``--deterministic``: the same seed gives the same plan on any machine).
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
    return Problem(territory, rules, collaboration, status_quo=status_quo, mode=mode,
                   objectives=tuple(objectives), weights=weights, options=dict(options or {}))


def solve(
    problem: Problem,
    *,
    solver: str = DEFAULT_SOLVER,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict], None] | None = None,
) -> Proposal:
    """Check feasibility, run one solver, and score its plan with the evaluator."""
    from .feasibility import check_feasible

    if time_limit is not None and time_limit <= 0:
        raise InputError(f"time_limit = {time_limit}: must be a number of seconds > 0")
    if workers is not None and workers < 1:
        raise InputError(f"workers = {workers}: must be at least 1")
    if problem.options.get("deterministic") and solver not in DETERMINISTIC_SOLVERS:
        raise InputError(f"deterministic mode with solver {solver!r}: allowed solvers: "
                         f"{', '.join(DETERMINISTIC_SOLVERS)}; pick one of them or drop --deterministic")
    engine_class = solver_class(solver)
    check_feasible(problem)
    engine = engine_class.from_problem(problem)
    start = time.perf_counter()
    result = engine.solve(time_limit=time_limit, seed=seed, workers=workers, progress=progress)
    log.info("%s: %s in %.1f s", solver, result.status, time.perf_counter() - start)
    card = None
    if result.plan is not None:
        problems = result.plan.violations(problem.rules)
        if problems:  # the evaluator is the judge: a solver bug must never reach the user as a plan
            raise RuntimeError(f"solver {solver} returned a plan the evaluator rejects: {problems[:3]}")
        card = evaluate(result.plan, problem.rules, problem.collaboration, problem.status_quo)
    return Proposal(problem, result, card)


def propose(
    territory: Territory,
    *,
    mode: str = "scratch",
    status_quo: Plan | None = None,
    objectives: str | Sequence[str] | None = None,
    weights: dict[str, float] | None = None,
    rules: Rules | None = None,
    floor: int | None = None,
    collaboration: Collaboration | None = None,
    options: dict | None = None,
    solver: str = DEFAULT_SOLVER,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict], None] | None = None,
) -> Proposal:
    """Propose a compliant plan: ``build_problem`` then ``solve`` (the ``propose`` command's options).

    ``options={"deterministic": True}`` is ``--deterministic``: work counted instead of time, so
    the same seed gives the same plan on any machine (solvers heuristic and cpsat).
    """
    problem = build_problem(territory, mode=mode, status_quo=status_quo, objectives=objectives,
                            weights=weights, rules=rules, floor=floor, collaboration=collaboration,
                            options=options)
    return solve(problem, solver=solver, time_limit=time_limit, seed=seed, workers=workers, progress=progress)
