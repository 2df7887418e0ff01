"""What the exact solvers share around their models: options, warm start, repair zone, answers.

``prepare`` turns a ``Problem`` into a ``Setup`` (the units the model partitions, the class
terms, the candidate pairs, the warm start as unit labels and a proved bound on the number of
plans); ``finish`` turns the model's answer back into a checked municipality-level plan.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from lombardy_districts.errors import InfeasibleError, InputError
from lombardy_districts.model.options import SolverOptions
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import Problem, SolveResult
from lombardy_districts.model.stop import Stop

from .bounds import problem_bound
from .heuristic import HeuristicSolver
from .model_data import Candidates, ClassTerms, build_candidates, coarse_weights_note
from .model_setup import Setup
from .repair_zone import (
    ZONE_WITHOUT_REPAIR,
    ZoneWithoutRepair,
    changed_plans,
    least_moves,
    new_plans_bound,
    repair_zone,
    unrepaired_words,
    zone_words,
)
from .units import Units

log = logging.getLogger(__name__)

TUNING = {
    "restrict": "auto",            # True, False or "auto" (restrict when more than full_model_units units)
    "full_model_units": 150,
    "max_plan_population": None,   # None: the ceiling if set, else plan_population_factor * highest floor
    "plan_population_factor": 2.0,
    "max_roots_per_unit": 40,
    "heuristic_warm_start": "auto",  # run the heuristic first when no warm start is given (see _wants_warm_start)
    "heuristic_share": "auto",     # share of the time limit the heuristic may use: a number (at most 30 s), or
                                   # "auto": SEARCH_SHARE or PLANS_ONLY_SHARE before the search, else MODEL_SHARE
    "repair_depth": 1,             # repair mode models bad plans plus plans this many steps away
    "merge_groups": "auto",        # merge mode: set partitioning over groups of plans (merge_sets) when it applies
    "merge_group_size": 6,         # ... listing groups of up to this many plans
    "merge_group_sets": 300_000,   # ... and at most this many connected sets in all
    "merge_groups_share": 0.75,    # ... using at most this share of the time left; the compact model goes on
}
"""Expert settings of the exact solvers (``SolverOptions.tuning``), with their defaults."""

MODEL_SHARE = 0.4
"""The heuristic's share of the time before the whole model (at most ``MODEL_CAP`` seconds)."""
MODEL_CAP = 30.0
SEARCH_SHARE = 0.8
"""The heuristic's share before the neighbourhood search, without a cap. On the shipped rules
(seeds 0-2, 60 s) the search added at most one plan to the heuristic's 24 s plan (145-147 plans),
while the heuristic alone with 48 s found 147-148; with 180 s, 146 against 147."""
PLANS_ONLY_SHARE = 0.95
"""... when the number of plans comes first (``Problem.plans_first``). The search then only looks for more plans,
and found none in 11 runs after the heuristic's 48 s (2 December 2026, 60 s; shipped rules seeds 0-3,
152, 153, 151, 149 plans; 80,000 seeds 1-3, 102 each); with 57 s the heuristic found 152, 153, 151,
150 and 103, 102, 102. With collaboration after the plans, the search's 12 s kept 2,433 of it (seed 0),
its 3 s 2,380, but the plans come first: on 2 December, seed 0, 60 s, the 48 s heuristic found 281 plans
at 25,000 and 103 at 80,000 where the 57 s one found 282 and 104. On a province alone (Bergamo, 243
municipalities; Pavia, 186; shipped rules, seeds 0-1) the plans were the same with either share
(23 and 13), the search adding none in 21 to 67 groups."""


def plan_range(problem: Problem, units: int) -> tuple[int | None, int | None]:
    """``(lowest, highest)`` number of plans allowed by ``problem.min_plans`` and ``max_plans``.

    Each must be at most ``units`` (the number of units the solver groups).
    """
    problems = [f"{name} = {value}: at most {units} area plans are possible here (the number of units to "
                f"group); fix: pick a number of area plans from 1 to {units} or drop {name}"
                for name, value in (("min_plans", problem.min_plans), ("max_plans", problem.max_plans))
                if value is not None and value > units]
    if problems:
        raise InputError(problems)
    return problem.min_plans, problem.max_plans


def labels_from_plan(units: Units, plan: Plan) -> list | None:
    """One label per unit from a municipality-level plan, or None if the plan splits a unit."""
    assignment = plan.assignment.to_dict()  # one dict lookup per municipality: .loc per unit took 4 s
    labels = []
    for members in units.members:
        values = {assignment[code] for code in members}
        if len(values) != 1:
            return None
        labels.append(values.pop())
    return labels


def prepare(problem: Problem, options: dict, warm_start: Plan | None, time_limit: float | None, seed: int,
            progress=None, skip_candidates=None, skip_warm_start=None, deterministic: bool = False,
            stop: Stop | None = None, workers: int = 1) -> Setup:
    """Build the ``Setup`` of ``problem`` (see the module docstring); ``progress`` sees the warm start.

    ``options`` are the solver's tuning settings (``TUNING`` with the caller's changes);
    ``deterministic`` makes the heuristic warm start count work instead of time; ``stop`` ends
    the warm start and every later stage early; ``workers`` are the warm start's processes.

    ``skip_candidates(restricted, hint, fixed)``, when given and true, leaves the candidate pairs
    of the whole model unbuilt (``Candidates.unbuilt``): a solver that searches neighbourhoods
    of the warm start builds its own per neighbourhood. Asked before the warm start too (with no
    hint and no fixed units): when that search follows, the heuristic gets ``SEARCH_SHARE`` of the
    time. ``skip_warm_start(options, units)``, when given and true, skips the heuristic's warm
    start: the solver finds its own first plan.
    """
    opts = options
    rules = problem.rules
    stop = stop if stop is not None else Stop()
    units = Units.from_problem(problem)
    count_range = plan_range(problem, len(units))
    notes: list[str] = []
    warm: dict = {}
    hint_full = labels_from_plan(units, warm_start) if warm_start is not None else None
    if warm_start is not None and hint_full is None:
        notes.append("warm start ignored: it splits a unit")
    # Even 77 municipalities (Sondrio) can leave CP-SAT without a first solution for seconds; the
    # heuristic gives one at once, and CP-SAT falls back on it when it finds nothing better. A
    # repair's given plan is the heuristic's fallback: the heuristic's own repair moves fewer.
    given = warm_start if problem.mode == "repair" else None
    if (hint_full is None or given is not None) and _wants_warm_start(problem, opts, units, skip_warm_start):
        searching = (skip_candidates is not None and problem.mode != "repair"
                     and skip_candidates(_restricted(opts, len(units)), None, {}))
        hint_full = _heuristic_labels(problem, units, time_limit, seed, opts, notes, progress, warm, deterministic,
                                      stop, searching, workers, given) or hint_full

    keep, fixed = list(range(len(units))), {}
    if problem.mode == "repair":
        keep = repair_zone(problem, units, opts["repair_depth"])
        if hint_full is not None:  # the warm start's moves lie inside the zone, or it could not be used
            keep = sorted(set(keep) | set(changed_plans(units, hint_full)))
        inside = set(keep)
        plan_of = units.status_quo
        assert plan_of is not None  # repair mode has a status quo (Problem checks it)
        fixed = {u: f"sq{plan_of[u]}" for u in range(len(units)) if u not in inside}
        if fixed:
            notes.append(f"repair models {len(keep)} of {len(units)} units: the non-compliant plans and the "
                         f"plans within {opts['repair_depth']} step(s) of them; other plans stay as they are")
    model = units.subset(keep) if fixed else units
    hint = None if hint_full is None else [hint_full[u] for u in keep]

    if skip_candidates is not None and hint is not None and skip_candidates(_restricted(opts, len(model)), hint,
                                                                             fixed):
        candidates = Candidates.unbuilt(len(model), "not built: each neighbourhood builds its own, all pairs")
    else:
        try:
            candidates = _candidates(model, rules, opts, hint)
        except InfeasibleError as exc:
            if not fixed:
                raise
            reason = str(exc).split(" Fix:")[0].rstrip(".")  # its fix is for the whole map
            raise ZoneWithoutRepair(f"{zone_words(opts, model, units)} meets the rules: {reason}") from exc
    weight = None
    if model.status_quo is not None:
        weight = np.array([len(m) for m in model.members], dtype=np.int64)
    bound = problem_bound(problem, units)
    low, high = count_range
    if low is not None and low > bound.value and not bound.infeasible_parts:
        raise InfeasibleError(f"{'exactly' if low == high else 'min_plans ='} {low} plans asked, but at most "
                              f"{bound.value} area plans can comply ({bound.method}); fix: ask for at most "
                              f"{bound.value} plans")
    if "collaboration" in problem.objectives and (note := coarse_weights_note(model.collaboration)):
        log.warning(note)
        notes.append(note)
    if hint is not None and hint_full is not None and count_range != (None, None):
        count = len(set(hint_full))
        if (low is not None and count < low) or (high is not None and count > high):
            notes.append(f"warm start ignored: it has {count} plans, outside the {low}..{high} asked")
            hint = None
    least = moves_bound(problem, units)
    return Setup(problem, units, model, keep, fixed, ClassTerms.from_units(model, rules), candidates,
                 hint, bound, opts, notes, weight, count_range, warm, deterministic, stop, workers,
                 least, None if least is None else repair_plans(problem, units))


def _candidates(model: Units, rules, opts: dict, hint) -> Candidates:
    """The candidate pairs of ``model``: all of them, or restricted (option ``restrict``) on large models."""
    max_pop, max_roots = None, None
    if _restricted(opts, len(model)):
        max_pop = opts["max_plan_population"]
        if max_pop is None:
            max_pop = rules.ceiling or int(opts["plan_population_factor"] * max(rules.floors.values()))
        max_roots = opts["max_roots_per_unit"]
    elif rules.ceiling is not None:
        max_pop = rules.ceiling  # exact: no plan may exceed it
    return build_candidates(model, rules.lowest_floor, max_pop, max_roots, hint,
                            population_limit_is_rule=max_pop is not None and max_pop == rules.ceiling)


def _restricted(opts: dict, size: int) -> bool:
    """Whether the model of ``size`` units is restricted (option ``restrict``)."""
    return bool(opts["full_model_units"] < size if opts["restrict"] == "auto" else opts["restrict"])


def _wants_warm_start(problem: Problem, opts: dict, units: Units, skip_warm_start) -> bool:
    """Whether to start from the heuristic's plan (option ``heuristic_warm_start``).

    ``auto``: yes, except when ``skip_warm_start(opts, units)`` says the solver finds its own
    first plan (it calls ``heuristic_hint`` if it does not). Repair mode too: the heuristic's
    repair takes a fraction of a second, and without it CP-SAT found no plan in 30 s for 5 of 6
    repairs of 1 to 10 municipalities moved out of a 154-plan plan of Lombardy (the real
    example's repair with every union kept whole likewise).
    """
    if opts["heuristic_warm_start"] != "auto":
        return opts["heuristic_warm_start"] is True
    return not (skip_warm_start is not None and skip_warm_start(opts, units))


def heuristic_hint(setup: Setup, time_limit: float | None, seed: int, progress=None) -> None:
    """Give ``setup`` the heuristic's plan as warm start when it has none."""
    if setup.hint is not None:
        return
    labels = _heuristic_labels(setup.problem, setup.units, time_limit, seed, setup.options, setup.notes,
                               progress, setup.warm_start, setup.deterministic, setup.stop, workers=setup.workers)
    if labels is not None:
        setup.hint = [labels[u] for u in setup.keep]


def _heuristic_labels(problem, units, time_limit, seed, opts, notes, progress=None, warm=None,
                      deterministic=False, stop=None, searching=False, workers=1, given=None) -> list | None:
    """The heuristic's plan as unit labels, or None; ``warm`` receives its ``budget`` and ``seconds`` used.

    ``given``: the heuristic's own warm start (a repair's plan to fall back on).

    ``searching``: the neighbourhood search follows (``lns``), which takes the heuristic's plan
    further by less than the heuristic itself does in the same seconds, so the heuristic gets
    ``SEARCH_SHARE`` of the time when ``heuristic_share`` is "auto" (``PLANS_ONLY_SHARE`` when the
    number of plans comes first).
    """
    if not HeuristicSolver.PLAN_COUNT and (problem.min_plans is not None or problem.max_plans is not None):
        notes.append("no heuristic warm start: it cannot keep to min_plans / max_plans")
        return None
    share = opts["heuristic_share"]
    if share == "auto" and searching:
        limit = (time_limit or 60.0) * (PLANS_ONLY_SHARE if problem.plans_first else SEARCH_SHARE)
    else:
        limit = min(MODEL_CAP, (time_limit or 60.0) * (MODEL_SHARE if share == "auto" else share))
    options = SolverOptions("heuristic", time_limit=limit, seed=seed, workers=workers, deterministic=deterministic)
    try:
        result = HeuristicSolver.from_problem(problem, options, stop).solve(given, progress)
    except Exception as exc:  # the warm start is a help, never a requirement
        notes.append(f"heuristic warm start failed: {exc}")
        return None
    if warm is not None:
        warm["compile_seconds"] = result.details.get("compile_seconds", 0.0)
        # deterministic mode: seconds of work, not of the wall clock
        budget = result.details.get("budget")
        warm["seconds"] = (budget["work_units"] / budget["work_per_second"] if budget
                           else result.wall_time)
        if budget:
            warm["budget"] = budget
    if result.plan is None or result.plan.violations(problem.rules, collaboration=problem.collaboration):
        notes.append("heuristic found no compliant warm start")
        return None
    notes.append(f"warm start: heuristic plan with {len(result.plan)} plans in {result.wall_time:.1f} s")
    return labels_from_plan(units, result.plan)


def full_labels(setup: Setup, model_labels) -> list:
    """Label of every unit: the model's answer inside the zone, the fixed labels outside."""
    out: list = [None] * len(setup.units)
    for u, label in setup.fixed.items():
        out[u] = label
    for k, u in enumerate(setup.keep):
        out[u] = f"m{model_labels[k]}"
    return out


def objective_values(setup: Setup, labels) -> dict[str, float]:
    """Every objective of a labelling of all of ``setup``'s units (``unit_values``)."""
    return unit_values(setup.units, labels)


def unit_values(units: Units, labels) -> dict[str, float]:
    """Every objective of a unit labelling, as ``model.measures`` defines it.

    max-plans: number of plans; collaboration: weight of collaboration ties inside plans (ties
    inside units included); compact: municipality-level contiguity edges between plans;
    disruption: municipalities not in their status quo plan's successor (the plan holding most
    of its municipalities).
    """
    out = {
        "max-plans": float(len(set(labels))),
        "collaboration": units.inner_collaboration + sum(
            w for (i, j), w in units.collaboration.items() if labels[i] == labels[j]),
        "compact": float(sum(c for (i, j), c in units.edge_count.items() if labels[i] != labels[j])),
    }
    if units.status_quo is not None:
        out["disruption"] = float(moved_count(units, labels))
    return out


def moved_count(units: Units, labels) -> int:
    """Municipalities not in their status quo plan's successor (``measures.moved``), from unit labels."""
    sq = units.status_quo
    assert sq is not None, "moved is measured against a status quo"
    overlap: dict[int, dict] = {}
    for u, lab in enumerate(labels):
        share = overlap.setdefault(int(sq[u]), {})
        share[lab] = share.get(lab, 0) + len(units.members[u])
    return sum(sum(share.values()) - max(share.values()) for share in overlap.values())


def checked_plan(setup: Setup, labels) -> tuple[Plan, list[str]]:
    """The municipality-level plan of ``labels`` and the evaluator's violations ([] = compliant)."""
    plan = setup.units.to_plan(setup.problem, labels)
    return plan, plan.violations(setup.problem.rules, collaboration=setup.problem.collaboration)


def prepared(solver: str, problem: Problem, start: float, *args, **kwargs) -> Setup | SolveResult:
    """``prepare(problem, *args, **kwargs)``, or the ``infeasible`` result when that shows no plan can comply."""
    try:
        setup = prepare(problem, *args, **kwargs)
    except InfeasibleError as exc:
        return SolveResult(solver, "infeasible", None, wall_time=time.perf_counter() - start, message=str(exc))
    except ZoneWithoutRepair as exc:
        return SolveResult(solver, "timeout", None, wall_time=time.perf_counter() - start, message=str(exc),
                           details={ZONE_WITHOUT_REPAIR: True, "notes": []})
    if setup.bound.infeasible_parts:
        return SolveResult(solver, "infeasible", None, bound=0.0, wall_time=time.perf_counter() - start,
                           message="; ".join(setup.bound.infeasible_parts), details=details_of(setup))
    return setup


def rejected(solver: str, violations: list[str], details: dict, elapsed: float) -> SolveResult:
    """The result when a model's answer fails the evaluator: no plan, the violations said."""
    details["rejected"] = violations[:10]
    return SolveResult(solver, "timeout", None, wall_time=elapsed, details=details,
                       message="the model's answer failed the evaluator and was not returned: "
                               + "; ".join(violations[:3]))


def no_plan(solver: str, setup: Setup, infeasible: bool, engine: str, details: dict, elapsed: float) -> SolveResult:
    """The result when the model gave no plan; ``infeasible``: ``engine`` proved the model has none.

    The proof holds for the problem only when the model is the whole problem: no candidate
    restriction and no plans left fixed outside a repair zone. Otherwise the status is ``timeout``:
    a repair zone is then widened (``repair_zone.widened``); a restricted model's message names the fix.
    """
    if not infeasible:
        status = "timeout"
        message = ("no plan found within the time limit" if setup.problem.mode != "repair"
                   else unrepaired_words(setup.problem, setup.units))
    elif setup.fixed:
        details[ZONE_WITHOUT_REPAIR] = True
        message = f"{zone_words(setup.options, setup.model, setup.units)} meets the rules ({engine} proved it)"
        status = "timeout"
    elif setup.candidates.restricted:
        message, status = ("the model restricted to likely plans (as on large maps) has none, which proves nothing "
                           "for the full problem; try --solver heuristic, or lift the restriction from Python "
                           "(slower): options={'tuning': {'restrict': False}}"), "timeout"
    elif setup.problem.mode == "repair":
        message, status = (f"no repair by moving municipalities meets the rules and keeps every current plan, each "
                           f"with most of its municipalities ({engine} proved it); merge plans (--mode merge)"), \
            "infeasible"
    else:
        message, status = f"no plan meets the rules ({engine} proved the model infeasible)", "infeasible"
    return SolveResult(solver, status, None, bound=0.0 if status == "infeasible" else None, wall_time=elapsed,
                       message=message, details=details)


def moves_bound(problem: Problem, units: Units) -> float | None:
    """A repair's proved least number of municipalities moved, for the whole map (``repair_zone.least_moves``).

    None unless the fewest moves are the first objective of a repair, unweighted. It holds however
    small the zone the model covers, so a repair that meets it is proved to move the fewest.
    """
    if problem.mode != "repair" or problem.weights or problem.objectives[0] != "disruption":
        return None
    return float(least_moves(problem, units))


def repair_plans(problem: Problem, units: Units) -> int:
    """A repair's proved most plans on the whole map once it moves its least units (``moves_bound``).

    Every current plan is kept, and ``repair_zone.new_plans_bound`` bounds the new ones.
    """
    assert units.status_quo is not None  # repair mode has a status quo (Problem checks it)
    return len(set(units.status_quo.tolist())) + new_plans_bound(problem, units)


def plan_cap(setup: Setup, names: list[str], moves: float | None) -> float | None:
    """A proved upper bound on a max-plans stage's objective (the plans ``setup.model`` holds), else None.

    The plan bound; and in a repair whose earlier stage moved no more than its least moves
    (``moves``), ``Setup.repair_plans`` less the plans outside the model.
    """
    if names != ["max-plans"]:
        return None
    cap = float(setup.bound.value)
    if setup.least_moves is not None and setup.repair_plans is not None and moves is not None \
            and moves <= setup.least_moves:
        cap = min(cap, float(setup.repair_plans - setup.plans_outside))
    return cap


def whole_map_progress(setup: Setup, progress, names: list[str]):
    """``progress`` told the whole map's number of plans, where the model leaves ``Setup.plans_outside`` out.

    Every stage's ``plans``; a max-plans stage's incumbent and bound too.
    """
    outside = setup.plans_outside
    if progress is None or not outside:
        return progress
    keys = ("plans", "incumbent", "bound") if names == ["max-plans"] else ("plans",)

    def report(info: dict) -> None:
        progress({**info, **{key: info[key] + outside for key in keys if info.get(key) is not None}})

    return report


def repair_proved(setup: Setup, values: dict[str, float]) -> bool:
    """Whether a repair's answer (``objective_values``) is proved best on the whole map, however small its zone.

    It moves the least units (``Setup.least_moves``) and, when max-plans follows as the last
    objective, has the most plans those moves allow (``Setup.repair_plans``).
    """
    if setup.least_moves is None or values["disruption"] > setup.least_moves:
        return False
    later = list(setup.problem.objectives[1:])
    if later == ["max-plans"]:
        return setup.repair_plans is not None and values["max-plans"] >= setup.repair_plans
    return not later


def details_of(setup: Setup) -> dict:
    """The ``SolveResult.details`` every exact solver starts from: model size, candidates, bound, notes."""
    c = setup.candidates
    return {
        "units": len(setup.units), "modelled_units": len(setup.model), "pairs": c.pairs,
        "candidate_roots": len(c.members_of), "candidates": c.note, "restricted": c.restricted,
        "plan_bound": setup.bound.value, "plan_bound_method": setup.bound.method,
        "notes": list(setup.notes), "compile_seconds": setup.compile_seconds,
    }


REPAIR_LATER_SHARE = 0.25
"""Share of the time a repair's first stage leaves that its later stages get."""


def stage_share(problem: Problem, k: int, stages: int, left: float | None) -> float | None:
    """Seconds for stage ``k`` of ``stages`` when ``left`` remain: an even share of them, all for the last.

    A repair's first stage (the fewest moves) may take all of them: it is the repair, and a repair
    found late beats none (the first stage with no answer ends the search). Its later stages share
    a quarter of what it leaves (``REPAIR_LATER_SHARE``): with the moves fixed they have never added
    a plan on Lombardy, and a planner waits for the repair (``plan_cap`` proves them at once when the
    moves are the least).
    """
    if left is None:
        return left
    if problem.mode == "repair":
        return left if k == 0 else left * REPAIR_LATER_SHARE / (stages - k)
    if k == stages - 1:
        return left
    return left / (stages - k)


def stages_of(problem: Problem) -> list[list[str]]:
    """Objectives solved one after another (lexicographic), or all at once when weighted."""
    return [list(problem.objectives)] if problem.weights else [[o] for o in problem.objectives]
