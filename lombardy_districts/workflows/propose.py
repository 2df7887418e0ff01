"""Proposing plans: ``build_problem``, ``solve``, ``propose`` and the ``Proposal`` they return.

The same options as the command line::

    import lombardy_districts as ld
    territory = ld.load()
    proposal = ld.propose(territory, floor=80_000, options={"time_limit": 30, "seed": 1})
    print(proposal.scorecard.summary["compliant_plans"])
    proposal.write("out/uniform-80k")
"""

from __future__ import annotations

import difflib
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lombardy_districts.errors import InputError, expect
from lombardy_districts.io.output_folder import OutputFolder, writing_into
from lombardy_districts.model.changes import identify
from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.feasibility import boundary_column_problems, check_feasible, locked_code_problems
from lombardy_districts.model.options import SolverOptions
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import DEFAULT_OBJECTIVES, Problem, SolveResult
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.scorecard import Scorecard, evaluate
from lombardy_districts.model.stop import Stop
from lombardy_districts.model.territory import Territory
from lombardy_districts.model.together import check_kinds
from lombardy_districts.workflows.export import write_formats
from lombardy_districts.workflows.registry import solver_class

log = logging.getLogger(__name__)

DETERMINISTIC_SOLVERS = ("heuristic", "cpsat")
"""Solvers with a deterministic mode (``SolverOptions.deterministic``)."""
MARKER = "result.json"
"""The file of an output folder written last: its presence means the other files are complete."""


@dataclass(frozen=True, eq=False, repr=False)
class Proposal:
    """A solver's answer: the plan (None when none was found), its scorecard and the search record."""

    problem: Problem
    result: SolveResult
    scorecard: Scorecard | None

    def __repr__(self) -> str:
        r = self.result
        plans = "no plan" if self.plan is None else f"{len(self.plan)} area plans"
        return f"<Proposal: {plans}, {r.status} ({r.solver}, {r.wall_time:.1f} s)>"

    @property
    def plan(self) -> Plan | None:
        """The proposed plan."""
        return self.result.plan

    @property
    def search(self) -> list[str]:
        """How good the plan is and how the search went, in a planner's words (``search_words``)."""
        return search_words(self.problem, self.result)

    def write(self, out_dir: str | Path | OutputFolder, maps: bool = True, formats: Iterable[str] | str = (),
              extra: dict | None = None) -> dict[str, Path]:
        """Write ``plan.csv``, ``changes.csv``, ``scorecard.json``, the maps, ``formats`` files, then ``result.json``.

        ``changes.csv`` (every change from the status quo, ``changes.CHANGE_COLUMNS``) only when the
        problem has a status quo. ``scorecard.json`` opens with the headline in words and the
        ``search`` sentences. With ``maps``: ``map.html``, and ``compare.html`` (status quo beside
        the proposal) when the problem has a status quo. ``formats`` (``"gpkg"``, ``"geojson"``, or
        both) adds the dissolved area plans with their scores (see ``export``). ``result.json`` (the
        search record plus ``extra``) is the folder's marker: its presence means every other file is
        complete.

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
                changes = card.changes
                if changes is not None:
                    written["changes"] = out.write("changes.csv", lambda p: changes.to_csv(p, index=False))
                record = card.to_dict()
                written["scorecard"] = out.write_json(
                    "scorecard.json", {"headline": record.pop("headline"), "search": self.search, **record})
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
        title = f"Proposal ({problem.mode} mode)"  # the page's name and its headline's title
        written["map"] = out.write("map.html", lambda p: write_plan_map(
            plan, card, p, rules=problem.rules, status_quo=status_quo, collaboration=problem.collaboration,
            title=title))
        if status_quo is not None:
            written["compare"] = out.write("compare.html", lambda p: write_comparison(
                status_quo, plan, p, scorecard_b=card, rules=problem.rules,
                collaboration=problem.collaboration, titles=("status quo", "proposal")))
        return written


def _warn_new_lock_labels(rules: Rules, status_quo: Plan) -> None:
    """Warn of merge or repair locks to ids of no current plan: likely a typo, as such a lock only names a plan."""
    current = set(status_quo.plan_ids)
    for code, plan_id in sorted(rules.locked_municipalities.items()):
        if plan_id not in current:
            near = sorted({c for c in current if plan_id.lower() in c.lower()}
                          | set(difflib.get_close_matches(plan_id, sorted(current), n=3)))[:3]
            log.warning("locked.municipalities: %s = %r names no current plan, so it only gives that id to the "
                        "plan holding %s%s", code, plan_id, code,
                        f"; did you mean {' or '.join(map(repr, near))}?" if near else "")


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

    ``objectives`` default by mode: ``DEFAULT_OBJECTIVES`` (scratch and merge: max-plans then
    collaboration; repair: disruption then max-plans). ``min_plans`` and ``max_plans`` bound the
    number of area plans (both equal: exactly that many); the cpsat and pulp solvers keep to them, and the
    heuristic, which cannot, refuses them.
    """
    expect(territory, Territory, "territory")
    expect(status_quo, Plan, "status_quo", optional=True)
    expect(rules, Rules, "rules", optional=True)
    expect(collaboration, Collaboration, "collaboration", optional=True)
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
    problems = locked_code_problems(rules, territory, unknown_too=False)
    problems += boundary_column_problems(territory.municipalities, rules.hard_boundaries)
    if problems:
        raise InputError(problems)
    outside = sorted(set(rules.locked_municipalities) - set(territory.codes))
    if outside:
        log.warning("locked.municipalities: %s not among the %d municipalities worked on: %s nothing here",
                    ", ".join(outside[:10]) + (f" and {len(outside) - 10:,} more" if len(outside) > 10 else ""),
                    len(territory.codes), "that lock does" if len(outside) == 1 else "those locks do")
    if mode in ("merge", "repair") and status_quo is not None:
        _warn_new_lock_labels(rules, status_quo)
    return Problem(territory, rules, collaboration, status_quo=status_quo, mode=mode,
                   objectives=tuple(objectives), weights=dict(weights) if weights else None,
                   min_plans=min_plans, max_plans=max_plans)


def solve(
    problem: Problem,
    options: SolverOptions | Mapping | None = None,
    *,
    progress: Callable[[dict], None] | None = None,
    stop: Stop | None = None,
    warm_start: Plan | None = None,
    score: bool = True,
) -> Proposal:
    """Check feasibility, run the solver ``options`` name, and score its plan with the evaluator.

    ``options``: a ``SolverOptions`` or a table of its fields, e.g. ``{"solver": "heuristic",
    "time_limit": 30, "seed": 1, "deterministic": True}``; unknown keys are refused. With a status
    quo, the plan's area plans take the current plans' ids and names (``changes.identify``).
    ``stop``, when set during the search (Ctrl-C on the command line), ends it early: the result
    is the best plan found so far, with status ``interrupted``. ``warm_start``: a complying plan of
    the same municipalities to start from (refused, saying why, otherwise): the heuristic keeps the
    better of it and its own search, CP-SAT searches on from it; in repair mode it is what the
    repair falls back on when it finds none by moves (the studio gives its last complying step).
    ``score=False`` leaves the scorecard out (None) for a caller that scores the plan itself (the
    studio, about 1 s on the whole region); the plan is still checked against the rules.
    """
    expect(problem, Problem, "problem")
    options = SolverOptions.from_mapping(options)
    if options.deterministic and options.solver not in DETERMINISTIC_SOLVERS:
        raise InputError(f"deterministic mode with solver {options.solver!r}: allowed solvers: "
                         f"{', '.join(DETERMINISTIC_SOLVERS)}; pick one of them or drop --deterministic")
    engine = solver_class(options.solver).from_problem(problem, options, stop)
    check_feasible(problem)
    if warm_start is not None:
        _check_warm_start(warm_start, problem)
    start = time.perf_counter()
    result = engine.solve(warm_start=warm_start, progress=progress)
    log.info("%s: %s in %.1f s", options.solver, result.status, time.perf_counter() - start)
    if stop is not None and stop.is_set():
        result = replace(result, status="interrupted", details={**result.details, "status_when_stopped": result.status,
                                                                 "stopped_by": stop.reason},
                         message=f"stopped early ({stop.reason}): {result.message}".rstrip(": "))
    if result.plan is not None:
        result = replace(result, plan=named_after_status_quo(result.plan, problem))
    card = None
    if result.plan is not None:
        problems = result.plan.violations(problem.rules, collaboration=problem.collaboration)
        if problems:  # the evaluator is the judge: a solver bug must never reach the user as a plan
            raise RuntimeError(f"solver {options.solver} returned a plan the evaluator rejects: {problems[:3]}")
        if score:
            card = evaluate(result.plan, problem.rules, problem.collaboration, problem.status_quo)
    return Proposal(problem, result, card)


def _check_warm_start(plan: Plan, problem: Problem) -> None:
    """Refuse a warm start that ``Problem.warm_start_problems`` rules out, saying why."""
    expect(plan, Plan, "warm_start")
    broken = problem.warm_start_problems(plan)
    if broken:
        raise InputError([f"the warm start plan cannot be used ({len(broken)} problem(s)): " + "; ".join(broken[:3]),
                          "fix: give a complying plan of the same municipalities (evaluate shows what breaks), "
                          "or repair it with --mode repair --status-quo PLAN.csv"])


def named_after_status_quo(plan: Plan, problem: Problem) -> Plan:
    """``plan`` with the status quo's ids and names (``changes.identify``); as it is without a status quo."""
    if problem.status_quo is None:
        return plan
    locks = set(problem.rules.locked_municipalities.values()) | set(problem.rules.locked_plans)
    return identify(plan, problem.status_quo, locks)


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
    stop: Stop | None = None,
    warm_start: Plan | None = None,
) -> Proposal:
    """Propose a compliant plan: ``build_problem`` then ``solve`` (the ``propose`` command's options).

    ``options`` says how to search (``SolverOptions``: solver, time limit, seed, workers,
    deterministic mode), e.g. ``options={"solver": "heuristic", "time_limit": 5, "seed": 1}``;
    ``stop`` (a ``Stop``, set from another thread) ends the search early, keeping its best plan;
    ``warm_start`` is a complying plan to start from (``solve``).
    """
    problem = build_problem(territory, mode=mode, status_quo=status_quo, objectives=objectives,
                            weights=weights, rules=rules, floor=floor, collaboration=collaboration,
                            min_plans=min_plans, max_plans=max_plans)
    return solve(problem, options, progress=progress, stop=stop, warm_start=warm_start)


LOOSE_GAP = 0.1
"""A proved bound this far above the plan is called loose in ``search_words``."""
COMPILE_WORTH_SAYING = 5.0
"""Seconds of compiling the search (the first run after installing) that ``search_words`` mentions."""


def search_words(problem: Problem, result: SolveResult) -> list[str]:
    """How good the plan is and how the search went, in words a planner understands.

    For example ``"At most 105 area plans are possible, so these 101 are within 4% of the best."``;
    the solver's technical record stays in ``result.json``.
    """
    r = result
    out = []
    if r.status == "interrupted":
        out.append("The search was stopped early: this is the best plan it had found.")
    if r.plan is None:
        return out + [f"No plan was found: {r.message or r.status}."]
    out.append(_quality(problem, r, len(r.plan)))
    how = f"Found by the {r.solver} solver in {r.wall_time:,.1f} s"
    compiling = r.details.get("compile_seconds", 0.0)
    if compiling >= COMPILE_WORTH_SAYING:
        how += f" ({compiling:,.0f} s of it compiling the search, done on the first run after installing only)"
    if r.details.get("deterministic"):
        how += (" (deterministic: the search counted its work instead of the time, so the same seed gives the "
                "same plan on any machine; only the seconds differ)")
    out.append(how + ".")
    return out


def _bound_source(method: str) -> str:
    """What the calculation behind a bound (a ``bounds.PlanBound.method``) leaves out, in plain words."""
    head = method.split(" (tighter than")[0]
    if "without contiguity" in head:
        return "ignores whether a plan's municipalities touch"
    if "big units" in head:
        return ("counts the municipalities that reach a floor alone (and a few that split the map) and what "
                "the rest of each connected part could hold")
    return "lets every municipality count its share of the smallest compliant plan it could join"


def _asked_count(problem: Problem) -> str:
    """`` with at most 2 area plans, as asked`` when ``min_plans`` or ``max_plans`` bound the count, else ``""``."""
    low, high = problem.min_plans, problem.max_plans
    if low is None and high is None:
        return ""
    if low == high:
        return f" with exactly {low:,} area plans, as asked"
    parts = ([f"at least {low:,}"] if low is not None else []) + ([f"at most {high:,}"] if high is not None else [])
    return f" with {' and '.join(parts)} area plans, as asked"


def _quality(problem: Problem, r: SolveResult, n: int) -> str:
    """How good a plan of ``n`` area plans is, in one sentence."""
    first = problem.objectives[0]
    among = " among mergers of the current plans" if problem.mode == "merge" else ""
    asked = _asked_count(problem)
    if problem.weights:
        return ("Proved best for the weighted objectives." if r.status == "optimal"
                else "Good for the weighted objectives, not proved best.")
    if first == "max-plans":
        if r.status == "optimal" or (r.bound is not None and r.bound <= n):
            source = "merging the current plans" if problem.mode == "merge" else "grouping the municipalities"
            text = (f"Proved best{asked}: no way of {source} gives more than {n} compliant area "
                    f"{'plan' if n == 1 else 'plans'}")
            if r.status == "optimal" and "collaboration" in problem.objectives[1:2]:
                text += f", and of those with {n}, none keeps more collaboration"
            return text + "."
        if r.bound is None:
            return f"{n} area plans; how many more are possible is not known."
        gap = (r.bound - n) / n
        if gap <= LOOSE_GAP:
            return f"At most {r.bound:,.0f} area plans are possible, so these {n} are within {gap:.0%} of the best."
        method = r.details.get("bound_method") or r.details.get("plan_bound_method") or ""
        return (f"At most {r.bound:,.0f} area plans are possible, so these {n} are within {gap:.0%} of the best, "
                f"but that limit may be loose: it comes from a calculation that {_bound_source(method)}, and "
                "may be far above what can be reached.")
    what = {"disruption": "moves the fewest municipalities", "collaboration": "keeps the most collaboration",
            "compact": "cuts the fewest borders between municipalities"}[first]
    if r.status == "optimal" or r.gap == 0:  # e.g. a repair meeting the least moves any repair needs
        text = f"Proved best: this plan {what} possible{among}{asked}"
        if r.status == "optimal" and first == "disruption" and problem.objectives[1:] == ("max-plans",):
            text += ", and of those that move as few, none has more area plans"
        return text + "."
    if r.details.get("bound_scope") == "optimal for the restricted model only":  # e.g. a repair's zone
        return f"Proved best for the part of the map the solver looked at: this plan {what} possible there."
    if first == "disruption" and r.bound is not None and r.objective is not None and r.bound < r.objective:
        low = int(math.ceil(r.bound - 1e-9))
        return (f"This plan moves {r.objective:,.0f} municipalities, the fewest the search could find{among}; at "
                f"least {low:,} must move (proved), so it is not proved best.")
    return f"This plan {what} the search could find{among}; not proved best."
