"""Exact partitioning with OR-Tools CP-SAT: rooted plans, tree contiguity, exact class floors.

Formulation (units ``i``, candidate roots ``r`` from ``model_data.build_candidates``; ``N(i)`` the
neighbours of ``i``; ``p, terms`` population and class terms of ``model_data.ClassTerms``):

Assignment (``add_assignment``)
    ``x[i,r] in {0,1}``, ``sum_r x[i,r] = 1``; ``y[r] = x[r,r]``; ``x[i,r] <= y[r]``;
    ``lab[i] = sum_r r x[i,r]`` (the root of i's plan). The root is the most populous member.
Contiguity (``add_contiguity``), exact: every non-root unit has one parent in its own plan
    and a depth one more than its parent's, so following parents always ends at the root:
    ``a[i->j] in {0,1}`` for ``j in N(i)``; ``sum_j a[i->j] = 1 - y[i]``;
    ``a[i->j] => lab[i] = lab[j]``; ``a[i->j] => d[i] >= d[j] + 1``; ``d[i] >= 0``.
    Valid strengthening: ``x[i,r] <= sum_{j in N(i)} x[j,r]`` for ``i != r``.
Floors (``add_floors``), the class rule modelled exactly by reified booleans per root:
    ``mt[r] <=> sum_i mountain_i x[i,r] >= 1``; ``dh[r] <=> sum_i high_i x[i,r] >= 0``;
    ``dl[r] <=> sum_i low_i x[i,r] >= 0``; ``P[r] = sum_i p_i x[i,r] >= f_low y[r]``. The plan is
    mountain (``mm``) when ``mt`` and its density is below the mountain cut-off: ``!dh`` when that
    cut-off is the high-density one (the default), else ``bc[r] <=> sum_i cap_i x[i,r] >= 1`` and
    ``mm <=> mt & bc``. Then ``y & mm => P >= f_mountain``; ``y & !mm & dh => P >= f_high``;
    ``y & !mm & !dh & dl => P >= f_low_density``; ``y & !mm & !dh & !dl => P >= f_standard``.
Number of plans (``add_plan_count``, options ``plans`` / ``min_plans`` / ``max_plans``):
    ``min_plans <= sum_r y[r] <= max_plans`` (``plans = k`` sets both to k).
Ceiling (``add_ceiling``): ``P[r] <= ceiling``. Hard boundaries and exclusive locks: pairs
    not in the candidate set; locked municipalities (``add_locks``): equal ``lab`` within a
    label, ``AllDifferent`` across labels; in repair mode a label that is a current plan's id also
    ``lab == owner`` of that plan (``_kept``). Groups kept whole (``keep_together``, ``add_together``):
    neighbouring members are one unit (``units``); the units of one ``Units.together`` set have
    equal ``lab``, and contiguity then brings the municipalities between them into the plan.
Objectives (``objective_terms``):
    max-plans ``sum_r y[r]`` (max); collaboration ``sum w_ij s_ij`` (max) and compact
    ``|E| - sum_{ij in E} s_ij`` (min) with ``s_ij => lab[i] = lab[j]`` and
    ``s_ij + x[i,r] - x[j,r] <= 1`` (compact weighs each unit edge by the municipality edges
    behind it); disruption (min) ``sum_i w_i (1 - k_i)`` with ``owner[q]`` the root of the plan
    continuing status quo plan ``q`` (its successor; several plans may share one) and
    ``k_i => lab[i] = owner[sq(i)]``. Lexicographic: solve, fix ``obj >= best`` (or ``<=``),
    solve the next; or one weighted sum (``problem.weights``, sign by sense).

When the candidate set is restricted (large inputs, see ``exact.DEFAULTS``) the model is
exact for that set only; the reported bound on the number of plans then comes from
``bounds.plan_count_bound``, a relaxation of the full problem, and ``details`` says so.

Large inputs (option ``lns``, default ``auto``: whenever the whole model would be restricted and
the objectives are among max-plans, collaboration, compact without weights or a ``plans``
option): the whole model is not built. The heuristic's warm start is improved instead by
large-neighbourhood search (``lns``): small groups of neighbouring plans are re-solved exactly
with this same model, and an answer is kept only when it is better on the group.

Merge mode with max-plans first (``merge_sets.applies``): set partitioning over connected,
compliant groups of status quo plans, with a proof that no larger group could do as well
(``merge_sets``); when it cannot prove the number of plans in its share of the time
(``merge_groups_share``), its bound and best plan go on to the model above or to the search below.
When it proves the number of plans but not the later objectives (large merges, wall-clock runs), the
search below improves them in the time left.

Deterministic mode (option ``deterministic = True``): one worker and CP-SAT's deterministic time
limit (``max_deterministic_time``, derived from the time limit by ``_budget``), the wall-clock
limit only as a safety net; the same seed then gives the same plan on any machine.
``details["budget"]`` records the deterministic time used and whether the safety net was hit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from lombardy_districts.model.problem import SolveResult, relative_gap

from . import exact, lns, merge_sets
from ._budget import CpsatClock
from .base import Progress, Solver
from .column_bound import column_seconds, tighter_by_columns
from .cpsat_model import CpsatModel
from .exact import (
    checked_plan,
    details_of,
    full_labels,
    heuristic_hint,
    objective_values,
    prepared,
    rejected,
    stages_of,
)
from .model_setup import SENSE, Setup
from .repair_zone import widened

log = logging.getLogger(__name__)


class CPSATSolver(Solver):
    """CP-SAT partitioning model (see the module docstring for the formulation)."""

    name = "cpsat"
    TUNING = {**exact.TUNING, **lns.TUNING}
    WORKERS = 2

    def solve(self, warm_start=None, progress: Progress | None = None) -> SolveResult:
        """Solve (``_solve_once``); a repair zone shown to hold no repair is widened (``repair_zone.widened``)."""
        return widened(self, warm_start, progress)

    def _solve_once(self, warm_start, progress: Progress | None) -> SolveResult:
        """Solve; the time limit covers preparation, warm start and every lexicographic stage.

        It leaves out the first compile after installing of the heuristic's search (``Setup.compile_seconds``).
        """
        start = time.perf_counter()
        problem, tuning = self.problem, self.tuning
        time_limit, seed, workers = self.options.time_limit, self.options.seed, self.threads
        deterministic = self.options.deterministic
        setup = prepared(self.name, problem, start, tuning, warm_start, time_limit, seed, progress,
                         skip_candidates=lambda restricted, hint, fixed: lns.wanted(problem, tuning, restricted, fixed),
                         skip_warm_start=lambda options, units: merge_sets.wanted(problem, options, units),
                         deterministic=deterministic, stop=self.stop, workers=workers)
        if isinstance(setup, SolveResult):
            return setup
        details = details_of(setup)
        clock = CpsatClock(setup.warm_start, time_limit) if deterministic else None
        if clock is not None:
            workers = 1
            details.update(deterministic=True, budget=clock.record())
        if merge_sets.applies(setup):
            result = self._solve_by_groups(setup, details, time_limit, seed, progress, start, clock)
            if result is not None:
                return result
            details.update(plan_bound=setup.bound.value, plan_bound_method=setup.bound.method)
        if self.stop.is_set():
            return self._stopped(setup, details, start)
        if lns.applies(setup):
            return self._solve_by_lns(setup, details, time_limit, seed, workers, progress, start)
        built = CpsatModel(setup)
        stages = stages_of(problem)
        statuses: list[str] = []
        values: dict[str, float | None] = {}
        bounds: dict[str, float] = {}
        answer = None
        for k, names in enumerate(stages):
            if self.stop.is_set():
                details["notes"].append("stopped before the stage " + "+".join(names))
                break
            left = None if time_limit is None else max(0.5, time_limit - setup.used(start))
            if clock is not None:
                left = clock.left()
            share = exact.stage_share(problem, k, len(stages), left)
            cap = exact.plan_cap(setup, names, values.get("disruption"))
            status, stage_answer, bound = self._stage(built, names, share, time_limit, seed, workers, progress,
                                                      start, clock, cap)
            statuses.append(status)
            if clock is not None:
                details["budget"] = clock.record()
            if stage_answer is None:
                break
            answer = stage_answer
            label = "+".join(names)
            bounds[label] = bound
            values[label] = built.stage_value
            built.fix_stage(names, problem.weights, built.stage_value)
        elapsed = time.perf_counter() - start
        if answer is None and setup.hint is not None:
            answer = setup.hint  # CP-SAT found nothing in time: fall back on the (compliant) warm start
            statuses.append("WARM_START")
            details["notes"].append("CP-SAT found no solution in time; the warm start is returned")
        if answer is None:
            infeasible = bool(statuses) and statuses[0] == "INFEASIBLE"
            return exact.no_plan(self.name, setup, infeasible, "CP-SAT", details, elapsed)
        labels = full_labels(setup, answer)
        plan, violations = checked_plan(setup, labels)
        if violations:
            return rejected(self.name, violations, details, elapsed)
        objective, bound, status = _summary(setup, labels, problem, statuses, bounds, details)
        details.update(stage_status=statuses, stage_objective=values, stage_bound=bounds)
        return SolveResult(self.name, status, plan, objective, bound, relative_gap(objective, bound), elapsed,
                           message=f"{len(plan)} plans, {status}", details=details)


    def _stage(self, built, names, share, time_limit, seed, workers, progress, start, clock, cap):
        """One lexicographic stage: ``built.optimise``'s ``(status, answer, bound)``; ``cap``: ``exact.plan_cap``.

        A max-plans stage keeps a reserve for ``column_bound.tighter_by_columns``, which runs when the
        stage proves nothing. CP-SAT's bound is for its (maybe restricted) model; the separate plan
        bound holds for the full one.
        """
        setup = built.setup
        floor = setup.least_moves if names == ["disruption"] else None
        reserve = _column_reserve(setup, time_limit) if names == ["max-plans"] else 0.0
        if share is not None and reserve:
            share = max(0.5, share - reserve)
        told = _capped(exact.whole_map_progress(setup, progress, names), cap)
        status, answer, bound = built.optimise(names, setup.problem.weights, share, seed, workers, told, start,
                                               clock, cap=cap, floor=floor)
        if reserve and answer is not None and status != "OPTIMAL" and not self.stop.is_set():
            found = int(built.stage_value)
            before = setup.bound.value
            _tighten_by_columns(setup, found, reserve, seed, clock, self.stop)
            if progress is not None and setup.bound.value < before:
                progress({"incumbent": float(found), "plans": found, "bound": float(setup.bound.value),
                          "elapsed": time.perf_counter() - start})
        return status, answer, bound

    def _stopped(self, setup, details, start) -> SolveResult:
        """The search was stopped before the model or the neighbourhood search ran: the best plan so far."""
        elapsed = time.perf_counter() - start
        if setup.hint is None:
            return SolveResult(self.name, "timeout", None, wall_time=elapsed, details=details,
                               message="stopped before any compliant plan was found")
        full = full_labels(setup, setup.hint)
        plan, violations = checked_plan(setup, full)
        if violations:
            return rejected(self.name, violations, details, elapsed)
        details["notes"].append("stopped: the best plan found so far is returned")
        objective, bound, status = _summary(setup, full, self.problem, ["STOPPED"], {}, details)
        return SolveResult(self.name, status, plan, objective, bound, relative_gap(objective, bound), elapsed,
                           message=f"{len(plan)} plans", details=details)

    def _solve_by_lns(self, setup, details, time_limit, seed, workers, progress, start) -> SolveResult:
        """Large inputs: improve the warm start by large-neighbourhood search (``lns``)."""
        labels, record = lns.improve(setup, time_limit, seed, workers, progress, start)
        details["lns"] = record.to_dict()
        if record.deterministic:
            details.update(deterministic=True, budget=record.budget(setup))
        details["notes"].append(f"large-neighbourhood search: {record.iterations} groups of neighbouring plans "
                                f"re-solved exactly, {record.improvements} improvements")
        elapsed = time.perf_counter() - start
        full = full_labels(setup, labels)
        plan, violations = checked_plan(setup, full)
        if violations:  # never expected; the warm start is compliant, so fall back on it
            details["rejected"] = violations[:10]
            full = full_labels(setup, setup.hint)
            plan, violations = checked_plan(setup, full)
            if violations:
                return SolveResult(self.name, "timeout", None, wall_time=elapsed, details=details,
                                   message="no compliant plan: " + "; ".join(violations[:3]))
        objective, bound, status = _summary(setup, full, self.problem, ["LNS"], {}, details)
        details.update(stage_status=["LNS"], stage_objective=record.end)
        return SolveResult(self.name, status, plan, objective, bound, relative_gap(objective, bound), elapsed,
                           message=f"{len(plan)} plans, {status} (large-neighbourhood search)", details=details)


    def _solve_by_groups(self, setup, details, time_limit, seed, progress, start, clock):
        """Merge mode by set partitioning over groups of plans (``merge_sets``).

        Returns the result when the number of plans is proved (or the problem proved
        infeasible); otherwise None, after handing a better plan and bound on to ``setup``
        so that the compact model or the neighbourhood search goes on with the time left.
        """
        answer = merge_sets.solve(setup, time_limit, seed, _capped(progress, setup.bound.value), start, clock,
                                  fraction=setup.options["merge_groups_share"], workers=self.threads)
        details["merge_groups"] = answer.record
        if clock is not None:
            details["budget"] = clock.record()
        if answer.plan_bound is not None and answer.plan_bound < setup.bound.value:
            setup.bound = replace(setup.bound, value=answer.plan_bound,
                                  method=f"{setup.bound.method}, tightened by set partitioning over groups of plans")
        if answer.labels is None and answer.exact:
            return SolveResult(self.name, "infeasible", None, bound=0.0, wall_time=time.perf_counter() - start,
                               message="no merge of the status quo's plans meets the rules (proved)",
                               details=details)
        if answer.statuses[0] != "OPTIMAL":
            if answer.labels is not None and (setup.hint is None
                                              or len(set(answer.labels)) > len(set(setup.hint))):
                setup.hint = answer.labels
            details["notes"].append("set partitioning over groups of plans did not prove the number of plans; "
                                    "the search goes on from its best plan")
            left = None if time_limit is None else max(1.0, time_limit - setup.used(start))
            said = len(setup.notes)
            heuristic_hint(setup, left, seed, progress)
            details["notes"].extend(setup.notes[said:])
            return None
        labels = answer.labels
        if not answer.exact and clock is None:
            labels = self._polish(setup, labels, details, time_limit, seed, progress, start)
        full = full_labels(setup, labels)
        plan, violations = checked_plan(setup, full)
        elapsed = time.perf_counter() - start
        if violations:  # never expected: every listed group complies, and the search keeps compliance
            return rejected(self.name, violations, details, elapsed)
        values = objective_values(setup, full)
        status = "optimal" if answer.exact else "feasible"
        details.update(objectives=values, stage_status=answer.statuses, stage_objective=answer.values,
                       stage_bound=answer.bounds, bound_method="set partitioning over groups of plans")
        objective = values["max-plans"]
        return SolveResult(self.name, status, plan, objective, objective, 0.0, elapsed,
                           message=f"{len(plan)} plans, {status} (set partitioning over groups of plans)",
                           details=details)


    def _polish(self, setup, labels, details, time_limit, seed, progress, start):
        """Labels improved in the later objectives by the neighbourhood search (``lns``), when it applies.

        Used once the number of plans is proved and the later objectives are not (large merges), in
        the time left. It accepts only lexicographically better plans, so the number of plans stays the proved one.
        In the 274-plan merge it has about 15 s of the minute after the partition is proved.
        """
        if time_limit is None or time_limit - setup.used(start) < 1.0 or \
                not lns.wanted(setup.problem, setup.options, setup.candidates.restricted, setup.fixed):
            return labels
        setup.hint = labels  # the search starts from its hint
        better, record = lns.improve(setup, time_limit, seed, self.threads, progress, start)
        details["lns"] = record.to_dict()
        details["notes"].append(f"large-neighbourhood search after the proof: {record.iterations} groups of "
                                f"neighbouring plans re-solved exactly, {record.improvements} improvements")
        return better


def _capped(progress, cap):
    """``progress`` reporting at most ``cap`` as the bound."""
    if progress is None or cap is None:
        return progress

    def report(info):
        bound = info.get("bound")
        progress({**info, "bound": cap if bound is None else min(bound, cap)})

    return report


def _summary(setup: Setup, labels, problem, statuses, bounds, details):
    """Objective (primary, or weighted sum), valid bound and status of the final answer."""
    values = objective_values(setup, labels)
    details["objectives"] = values
    all_optimal = all(s == "OPTIMAL" for s in statuses) and len(statuses) == len(
        [1] if problem.weights else problem.objectives)
    restricted = setup.candidates.restricted or bool(setup.fixed)
    whole_map = exact.repair_proved(setup, values)
    status = "optimal" if (all_optimal and not restricted) or whole_map else "feasible"
    if all_optimal and restricted and not whole_map:
        details["bound_scope"] = "optimal for the restricted model only"
    first = problem.objectives[0]
    if problem.weights:
        objective = sum(problem.weights.get(o, 1.0) * SENSE[o] * values[o] for o in problem.objectives)
        bound = None if restricted else next(iter(bounds.values()), None)
        return objective, bound, status
    objective = values[first]
    model_bound = bounds.get(first)
    if first == "max-plans":
        bound = float(setup.bound.value)
        if setup.plan_range[1] is not None:
            bound = min(bound, float(setup.plan_range[1]))
        if not restricted and model_bound is not None:
            bound = min(bound, float(model_bound))
        details["bound_method"] = ("min of " if not restricted else "") + setup.bound.method + (
            " and the CP-SAT bound" if not restricted else "")
        later_proved = len(statuses) == len(problem.objectives) and all(s == "OPTIMAL" for s in statuses[1:])
        if bound <= objective and status == "feasible" and not setup.fixed and later_proved:
            status = "optimal"  # the plans meet their bound, and any later objective was proved too
        return objective, bound, status
    moves = setup.least_moves  # a repair's least moves: a proof for the whole map
    if restricted:
        details.setdefault("bound_scope", "bound of the restricted model only")
        details["restricted_bound"] = model_bound
        return objective, moves, status
    proved = [b for b in (moves, model_bound) if b is not None]
    return objective, max(proved) if proved else None, status


def _column_reserve(setup: Setup, time_limit: float | None) -> float:
    """Seconds kept from the max-plans stage for ``column_bound.tighter_by_columns`` (0: it does not apply).

    It applies to the whole model (not restricted, nothing fixed) on maps of the size it can help.
    """
    if setup.candidates.restricted or setup.fixed or setup.problem.objectives[0] != "max-plans":
        return 0.0
    return column_seconds(setup.model, time_limit)


def _tighten_by_columns(setup: Setup, found: int, seconds: float, seed: int, clock, stop) -> None:
    """After a max-plans stage that proved nothing: the column bound, when lower, becomes the plan bound.

    Its seconds count as CP-SAT's deterministic time in deterministic mode, so later stages get the rest.
    """
    bound, ran = tighter_by_columns(setup.bound, setup.model, setup.problem.rules, found, seconds, seed,
                                    clock is not None, stop)
    setup.bound = bound
    if ran and clock is not None:
        clock.used += seconds
