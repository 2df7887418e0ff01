"""Large-neighbourhood search for the CP-SAT solver on inputs too big for one exact model.

On the whole region (1,504 municipalities) the full model rarely improves the heuristic's warm
start within a minute. The search below instead improves the warm start a few area plans at a
time:

1. pick a small connected group of neighbouring area plans of the incumbent: a random seed plan
   (from the ``seed``'s generator), then random neighbouring plans until ``3..6`` plans (option
   ``lns_plans``) or ``lns_max_units`` units;
2. re-solve just their units exactly with the CP-SAT model of ``cpsat`` (all candidate pairs, the
   class floors, contiguity, ceiling, hard boundaries and locks), hinted with the incumbent, with a
   short deterministic time limit (``lns_sub_time``), maximising the problem's objectives
   lexicographically as one integer objective;
3. accept the answer when it is lexicographically better on the group; units outside the group
   keep their plans, so only the group's plans change and the whole plan stays compliant;
4. stop at the time limit (or after ``lns_iterations`` groups); with the option
   ``deterministic = True``, after ``lns_iterations`` groups or, when unset, a number of groups
   derived from the time limit left after the warm start (``_budget.LNS_ITERATIONS_PER_SECOND``),
   one worker each, the wall clock only as a safety net (``_budget.safety_seconds``).

Only objectives that add up over plans take part (``max-plans``, ``collaboration``, ``compact``):
changing a group's plans changes those objectives by exactly the group's change. With
``workers=1`` the sequence of groups and answers is the same for a seed (the sub-solves use
CP-SAT's deterministic time); the wall-clock limit decides how far along it the search gets,
unless the run is deterministic.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from lombardy_districts.errors import InputError

from ._budget import LNS_ITERATIONS_PER_SECOND, NO_LIMIT, SAFETY_FACTOR, refuse_invalid, safety_seconds
from .bounds import PlanBound
from .cpsat_model import CpsatModel
from .exact import unit_values
from .model_data import ClassTerms, build_candidates, integer_weights
from .model_setup import SENSE, Setup

log = logging.getLogger(__name__)

LOCAL_OBJECTIVES = ("max-plans", "collaboration", "compact")
"""Objectives that change only with the plans a neighbourhood re-solves."""

TUNING = {
    "lns": "auto",          # True, False or "auto" (large restricted models with a warm start)
    "lns_plans": (3, 6),    # how many neighbouring area plans a neighbourhood takes (low, high)
    "lns_max_units": 80,    # at most this many units in one neighbourhood
    "lns_sub_time": 0.5,    # CP-SAT deterministic time per neighbourhood solve (about 1 s of wall time)
    "lns_iterations": None,  # stop after this many neighbourhoods (None: at the time limit)
}


@dataclass
class LnsRecord:
    """What the search did: counts, and the objectives before and after (``LOCAL_OBJECTIVES`` only)."""

    iterations: int = 0
    improvements: int = 0
    optimal_groups: int = 0
    start: dict | None = None
    end: dict | None = None
    elapsed: float = 0.0
    deterministic: bool = False
    planned: int | None = None
    wall_limit_hit: bool = False

    def to_dict(self) -> dict:
        """JSON-ready record."""
        out = {"iterations": self.iterations, "improvements": self.improvements,
               "groups_solved_optimally": self.optimal_groups, "start": self.start, "end": self.end,
               "elapsed_s": round(self.elapsed, 2)}
        if self.deterministic:
            out.update(planned_iterations=self.planned, wall_limit_hit=self.wall_limit_hit)
        return out

    def budget(self, setup: Setup) -> dict:
        """Deterministic mode's account for ``details["budget"]``: groups planned and done, safety net."""
        warm = setup.warm_start.get("budget")
        hit = self.wall_limit_hit or bool(warm and warm["wall_limit_hit"])
        return {"deterministic": True, "workers": 1, "lns_iterations": self.planned,
                "lns_iterations_done": self.iterations, "lns_iterations_per_second": LNS_ITERATIONS_PER_SECOND,
                "warm_start": warm, "wall_limit_hit": hit, "reproducible": not hit}


def applies(setup: Setup) -> bool:
    """True when ``improve`` should run on ``setup`` (setting ``lns``; see ``TUNING``)."""
    return setup.hint is not None and wanted(setup.problem, setup.options, setup.candidates.restricted, setup.fixed)


def wanted(problem, tuning: dict, restricted: bool, fixed) -> bool:
    """True when the search fits ``problem`` and its tuning setting ``lns`` asks for it.

    ``auto``: when the whole model is restricted (large inputs). Never with weights, a bounded
    number of plans, repair mode's fixed plans or an objective other than ``LOCAL_OBJECTIVES``.
    """
    choice = lns_options(tuning)["lns"]
    if choice is False or fixed or problem.weights or not set(problem.objectives) <= set(LOCAL_OBJECTIVES):
        return False
    if problem.min_plans is not None or problem.max_plans is not None:
        return False
    return choice is True or (choice == "auto" and restricted)


def scores(units, labels, objectives) -> tuple:
    """Lexicographic score of ``labels`` over ``units`` (higher is better): sense x value per objective."""
    values = unit_values(units, labels)
    return tuple(round(SENSE[name] * values[name], 9) for name in objectives)


def improve(setup: Setup, time_limit: float | None, seed: int, workers: int | None, progress, start: float):
    """Improve ``setup.hint`` by large-neighbourhood search; returns ``(labels, LnsRecord)``.

    ``labels`` is one label per unit of ``setup.model`` (the incumbent at the end); ``start`` is
    the solve's ``time.perf_counter()`` origin for progress reports.
    """
    opts = lns_options(setup.options)
    units, objectives = setup.model, setup.problem.objectives
    rng = np.random.default_rng(seed)
    labels = _relabel(setup.hint)
    record = LnsRecord(start=_named(scores(units, labels, objectives), objectives))
    low, high = opts["lns_plans"]
    began = time.perf_counter()
    origin = start + setup.compile_seconds  # the time limit leaves out a first compile
    deadline = None if time_limit is None else origin + time_limit
    iterations = opts["lns_iterations"]
    if setup.deterministic:
        workers, record.deterministic = 1, True
        seconds = (NO_LIMIT if time_limit is None else time_limit) - setup.warm_start.get("seconds", 0.0)
        if iterations is None:
            iterations = max(1, round(max(0.0, seconds) * LNS_ITERATIONS_PER_SECOND))
        record.planned = iterations
        deadline = None
    if deadline is None and iterations is None:
        iterations = 200
    safety = origin + safety_seconds(NO_LIMIT if time_limit is None else time_limit)
    next_label = max(labels) + 1
    settled: set[tuple[int, ...]] = set()
    while (iterations is None or record.iterations < iterations) and not setup.stop.is_set() and \
            (deadline is None or deadline - time.perf_counter() > 0.3):
        if record.deterministic and time.perf_counter() > safety:
            record.wall_limit_hit = True
            break
        slack = _slack(setup, labels) if objectives[0] == "max-plans" else None
        for _ in range(20):  # skip groups already proved to have nothing better
            group = neighbourhood(units, labels, int(rng.integers(low, high + 1)), opts["lns_max_units"], rng,
                                  slack)
            if tuple(group) not in settled:
                break
        record.iterations += 1
        left = None if deadline is None else deadline - time.perf_counter()
        answer, optimal, cut_short = _solve_group(setup, labels, group, opts["lns_sub_time"], left, seed, workers,
                                                  record.deterministic)
        record.wall_limit_hit |= cut_short
        record.optimal_groups += optimal
        if answer is not None:
            new = list(labels)
            for u, lab in zip(group, answer):
                new[u] = next_label + lab
            if scores(units, new, objectives) > scores(units, labels, objectives):
                labels = _relabel(new)
                next_label = max(labels) + 1
                record.improvements += 1
            elif optimal:
                settled.add(tuple(group))
        if progress is not None:
            value = scores(units, labels, objectives)[0] * SENSE[objectives[0]]
            progress({"incumbent": value, "bound": float(setup.bound.value) if objectives[0] == "max-plans"
                      else None, "elapsed": time.perf_counter() - start, "plans": len(set(labels))})
    record.end = _named(scores(units, labels, objectives), objectives)
    record.elapsed = time.perf_counter() - began
    log.info("lns: %d neighbourhoods, %d improvements: %s -> %s in %.1f s", record.iterations,
             record.improvements, record.start, record.end, record.elapsed)
    return labels, record


def neighbourhood(units, labels, plans: int, max_units: int, rng: np.random.Generator,
                  slack: dict[int, float] | None = None) -> list[int]:
    """Units of a random connected group of about ``plans`` neighbouring area plans (whole plans only).

    With ``slack`` (plan label -> population over its floor, minus one), half of the seed plans
    are drawn in proportion to ``slack + 0.1``: plans well above their floor are where a group
    can make room for one more plan. The other half are drawn uniformly.
    """
    members: dict[int, list[int]] = {}
    for u, lab in enumerate(labels):
        members.setdefault(lab, []).append(u)
    touching: dict[int, set[int]] = {lab: set() for lab in members}
    for i, j in units.edges:
        a, b = labels[i], labels[j]
        if a != b:
            touching[a].add(b)
            touching[b].add(a)
    order = sorted(members)
    if slack is not None and rng.random() < 0.5:
        weight = np.array([max(slack[lab], 0.0) + 0.1 for lab in order])
        first = order[int(rng.choice(len(order), p=weight / weight.sum()))]
    else:
        first = order[int(rng.integers(len(order)))]
    chosen, size = [first], len(members[first])
    frontier = sorted(touching[first])
    while len(chosen) < plans and frontier:
        pick = frontier.pop(int(rng.integers(len(frontier))))
        if size + len(members[pick]) > max_units and len(chosen) >= 2:
            continue
        chosen.append(pick)
        size += len(members[pick])
        frontier = sorted((set(frontier) | touching[pick]) - set(chosen))
    return sorted(u for lab in chosen for u in members[lab])


def _slack(setup: Setup, labels) -> dict[int, float]:
    """Plan label -> its population over its class floor, minus one (0 = exactly at the floor)."""
    units, terms = setup.model, setup.terms
    members: dict[int, list[int]] = {}
    for u, lab in enumerate(labels):
        members.setdefault(lab, []).append(u)
    out = {}
    for lab, group in members.items():
        floor = terms.floors[terms.classify(group)] if not terms.uniform else min(terms.floors.values())
        out[lab] = float(units.population[group].sum()) / max(floor, 1) - 1.0
    return out


def _solve_group(setup, labels, group, sub_time, left, seed, workers, deterministic=False):
    """Exact CP-SAT re-solve of ``group``'s units.

    Returns (labels per group unit or None, proved optimal, stopped by the wall clock in
    deterministic mode, where the wall limit is only a safety net of ``SAFETY_FACTOR * 3 * sub_time``).
    """
    sub = setup.model.subset(group)
    hint = [labels[u] for u in group]
    rules = setup.problem.rules
    ceiling = rules.ceiling
    try:
        candidates = build_candidates(sub, rules.lowest_floor, ceiling, None, hint,
                                      population_limit_is_rule=ceiling is not None)
    except ValueError:  # cannot happen for a compliant incumbent; never let it stop the search
        return None, False, False
    sub_setup = Setup(setup.problem, sub, sub, list(range(len(sub))), {}, ClassTerms.from_units(sub, rules),
                      candidates, hint, PlanBound(len(sub), "neighbourhood", []),
                      setup.options, deterministic=setup.deterministic, stop=setup.stop)
    model = CpsatModel(sub_setup)
    objectives = setup.problem.objectives
    total, factor = 0, 1
    for name in reversed(objectives):
        expr, _ = model.objective_terms(name)
        span = _span(model, name, sub)
        total += SENSE[name] * factor * expr
        factor *= span + 1
    if isinstance(total, int):  # nothing to improve (e.g. no collaboration ties in the group)
        return None, True, False
    model.m.maximize(total)
    solver = model.cp.CpSolver()
    params = solver.parameters
    params.max_deterministic_time = float(sub_time)
    params.max_time_in_seconds = float(max(0.2, min(left, 3 * sub_time))) if left is not None else 3 * sub_time
    if deterministic:
        params.max_time_in_seconds = SAFETY_FACTOR * 3 * sub_time
    params.random_seed = int(seed)
    params.num_workers = int(workers) if workers else 1
    params.catch_sigint_signal = False  # Ctrl-C reaches the front end, which stops us through setup.stop
    with setup.stop.hook(solver.stop_search):
        code = solver.solve(model.m)
    refuse_invalid(solver, code, model.m)
    cut_short = (deterministic and code != model.cp.OPTIMAL
                 and solver.wall_time >= 0.95 * params.max_time_in_seconds)
    if code not in (model.cp.OPTIMAL, model.cp.FEASIBLE):
        return None, False, cut_short
    return [solver.value(v) for v in model.lab], code == model.cp.OPTIMAL, cut_short


def _span(model, name, sub) -> int:
    """Largest value the integer objective ``name`` can take on ``sub`` (its range from 0)."""
    if name == "max-plans":
        return len(sub)
    if name == "compact":
        return sum(sub.edge_count.values())
    weights, _ = integer_weights(sub.collaboration, "collaboration weights")
    return int(sum(weights.values()))


def _relabel(labels) -> list[int]:
    """Labels as ``0..k-1`` in order of first appearance."""
    index: dict = {}
    return [index.setdefault(lab, len(index)) for lab in labels]


def _named(score: tuple, objectives) -> dict:
    return {name: SENSE[name] * value for name, value in zip(objectives, score)}


def lns_options(tuning: dict) -> dict:
    """``TUNING`` updated by the solver's ``tuning``, checked; every problem is raised at once."""
    opts = {**TUNING, **{k: v for k, v in tuning.items() if k in TUNING}}
    problems = []
    if opts["lns"] not in (True, False, "auto"):
        problems.append(f"option lns = {opts['lns']!r}; allowed: true, false, auto")
    pair = opts["lns_plans"]
    if not (isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(v, int) for v in pair)
            and 1 <= pair[0] <= pair[1]):
        problems.append(f"option lns_plans = {pair!r}: must be two whole numbers (low, high) with "
                        "1 <= low <= high, e.g. (3, 8)")
    for name in ("lns_max_units", "lns_iterations"):
        value = opts[name]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            problems.append(f"option {name} = {value!r}: must be a whole number >= 1"
                            + (" or None (until the time limit)" if name == "lns_iterations" else ""))
    if not isinstance(opts["lns_sub_time"], int | float) or opts["lns_sub_time"] <= 0:
        problems.append(f"option lns_sub_time = {opts['lns_sub_time']!r}: must be a number of seconds > 0")
    if problems:
        raise InputError(problems)
    return opts
