"""The heuristic solver: region growing from many starts, then local search.

How it works (every random choice comes from ``numpy.random.default_rng(seed)``):

1. **Check** the problem with ``lombardy_districts.feasibility.check_feasible``; a problem proved
   infeasible returns status ``infeasible`` with the reason, and no plan.
2. **Start.** In ``repair`` mode, or when ``disruption`` is the first objective, start from the
   status quo and repair it (``_repair``; in repair mode also in a random order of the short plans,
   ``_repair.RESTARTS`` times, keeping the repair that moves fewest, unless one moves as few as any
   repair must). Otherwise grow regions from several seeds
   (``_grow``: each region adds the neighbour that completes its floor with the least spare
   population, else the best-connected one; leftovers below the floor merge into neighbours)
   and keep the start with the most plans. A compliant ``warm_start`` plan competes too.
   A problem that passes the check but where no start complies ends with status ``timeout``
   and no plan: the heuristic proves nothing.
3. **More plans** (objective ``max-plans``): split regions along spanning-tree cuts and rebuild
   groups of neighbouring regions (``_local``), until the upper bound is reached (the simple bound
   of ``bounds.plan_count_bound``, the least of every relaxation there), the
   search is idle for ``patience`` moves, or time runs out. Then re-partition exactly, with
   CP-SAT, small groups of neighbouring regions whose units' shares allow one more plan
   (``_regroup``), and after each gain search locally again. Then restart from a fresh start
   while restarts remain (default: none), keeping the best; then, while time remains, shake the
   best plan (``_perturb``: dissolve a ball of neighbouring regions, grow it again, search around
   it, keep any gain; ``chain_share`` of that work goes to chain moves, ``_gather``, which hand
   spare population region to region into one region and split it) until ``perturb_rounds``
   rounds bring nothing (None: ``IDLE_ROUNDS``).
   With several workers (``workers``; ``cpsat``'s warm start has 2) on a map of at least
   ``SIDE_BY_SIDE_UNITS`` units, as many forked processes search at once (``_side_by_side``):
   each with a seed of its own for ``FIRST_SHARE`` of the time, then in rounds of
   ``ROUND_SECONDS`` in which each shakes the best plan so far. Measured at a uniform 25,000
   floor, 60 s, seeds 0-3 (30 November 2026, the 2-core machine, with the compiled regrowth):
   278, 279, 279, 279 plans with 2 workers, 278, 278, 277, 279 with one; with the compiled
   rounds (``_compiled_shake``, 1 December, about 15,500 rounds instead of 2,200): 279, 279, 278,
   278 with 2 workers (80,000: 103, 102, 102, 102).
4. **Polish** the other objectives (collaboration, compact, disruption) by moving boundary units
   between plans without changing their number (``_moves``), in the ``POLISH_SHARE`` of the time
   limit the search leaves for it. The polish starts from the plan the later objectives rank first
   among those with the most plans that the shaking met (``_moves.Favourite``; in every process),
   not from the walk's latest: at 80,000 with collaboration second, seed 0, deterministic, 65.6%
   of the collaboration kept instead of 60.9%, with the same 103 plans (3 December 2026).
5. **Judge**: the municipality-level plan must pass ``plan.violations(rules) == []``; otherwise
   no plan is returned.

With ``keep_together`` (e.g. every union of municipalities in one plan) the heuristic moves whole
groups: ``Units.joined`` makes each group, with the municipalities that join its parts when they do
not touch, one unit; the bound on the number of plans is computed before that restriction.

The class floor of every region is computed from its own totals with the rule of
``Rules.classify``, so a region's floor changes as it grows. A run that stops by bound or
patience (not by the time limit) in one process gives the same plan for the same seed. With the option
``deterministic = True`` the search counts work instead of time (``_budget.Budget``), so every
run with the same seed gives the same plan, on any machine, unless the wall-clock safety net
(``_budget.safety_seconds``: five times the time limit plus 10 s) stops it; ``details["budget"]``
records which, and ``stopped_by`` is then ``work_budget`` or ``wall_safety_limit``.
"""

from __future__ import annotations

import logging
import time
from functools import partial

import numpy as np

from lombardy_districts.errors import InfeasibleError
from lombardy_districts.model.feasibility import check_feasible
from lombardy_districts.model.problem import SolveResult, relative_gap

from ._budget import Budget
from ._grow import Region, grow, lock_regions, totals_ok
from ._layout import Layout
from ._local import Partition, compiled, improve_count
from ._moves import Favourite, polish, polishes, rank, values
from ._perturb import perturb
from ._regroup import group_shares, regroup
from ._repair import ATTEMPTS, RESTARTS, keeps_every_plan, repair, status_quo_partition
from ._workers import can_fork, side_by_side
from .base import Progress, Solver
from .bounds import problem_bound
from .repair_zone import least_moves, moving_locks
from .units import Units

log = logging.getLogger(__name__)

COMPILE_NOTE_S = 2.0
"""A first compile longer than this is said in the progress, so an elapsed time past the limit is explained."""
PREPARING = ("preparing the search (the first run after installing compiles it: under a minute, not counted in "
             "the time limit)")
"""The progress note before the search starts: Numba's compile, cached after the first run, is silent."""
POLISH_SHARE = 0.02
"""Share of the time limit kept from the search for polishing the later objectives (when there are any).

Polishing Lombardy's plans for collaboration takes about 0.1 s (1.2 s kept of 60); without this share a
search that ran to its time limit left none, and ``max-plans,collaboration`` kept no more ties than
``max-plans``."""
SIDE_BY_SIDE_UNITS = 150
"""Several workers search side by side only on maps of at least this many units (else one does) ..."""
FIRST_SHARE = 0.35
"""... the share of the time each process then searches on its own seed ..."""
ROUND_SECONDS = 10.0
"""... and then the length of each round in which each shakes the best plan so far."""
IDLE_ROUNDS = (1000, 25)
"""Shaking stops after ``a + b * plans`` rounds that bring nothing (unless ``perturb_rounds`` says otherwise).

Sized for the compiled regrowth (``_compiled``), about seven times as many rounds per second as
the Python one, which stopped after ``200 + 5 * plans``: at 25,000 one process makes about 3,300
rounds in 60 s, so a 60 s run there ends by its time limit.
"""


def _compile(layout: Layout, budget: Budget, bound: int, t0: float, progress: Progress | None) -> float:
    """Compile the search's rounds (the first run after installing), left out of the time limit; the seconds taken."""
    def say(note: str) -> None:
        if progress is not None:
            progress({"incumbent": None, "bound": float(bound), "elapsed": time.perf_counter() - t0,
                      "plans": None, "note": note})

    say(PREPARING)
    ready = time.perf_counter()
    compiled(layout)  # here, before any side-by-side fork, rather than in every process
    seconds = time.perf_counter() - ready
    budget.exclude(seconds)  # set-up, as loading the map is
    if seconds > COMPILE_NOTE_S:  # the clock shows it: say why
        say(f"compiled in {seconds:.0f} s (once per installation); the time limit counts from here")
    return seconds


class HeuristicSolver(Solver):
    """Fast constructive method plus local search; serves scratch, merge and repair modes.

    Tuning settings: ``starts`` (constructions per restart, default 8), ``restarts`` (fresh
    constructions and searches, default 1), ``perturb_rounds`` (idle rounds of ``_perturb`` before
    it stops, None: ``IDLE_ROUNDS``; 0 turns the step off),
    ``patience`` (idle local-search moves before the search moves on, None: ``max(200, 30 * plans)``),
    ``regroup_regions`` (largest group of regions the exact regrouping re-partitions, default 5;
    0 turns the step off), ``regroup_time`` (CP-SAT deterministic seconds per group, default 0.3),
    ``regroup_tries`` (groups tried in vain before the step gives way to the next one, default 50,
    so that the shaking gets time; None: all of them), ``chain_share`` (the share of the shaking's
    work spent on chain moves, ``_gather``, default 0.2; 0 turns them off; from 1, every round
    after the first is one).
    """

    name = "heuristic"
    PLAN_COUNT = False
    TUNING = {"starts": 8, "restarts": 1, "patience": None, "regroup_regions": 5, "regroup_time": 0.3,
              "regroup_tries": 50, "perturb_rounds": None, "chain_share": 0.2}

    def solve(self, warm_start=None, progress: Progress | None = None) -> SolveResult:
        """Search for a compliant plan; see the module docstring for the method."""
        t0 = time.perf_counter()
        problem = self.problem
        time_limit, seed = self.options.time_limit, self.options.seed
        deterministic = self.options.deterministic
        objectives = list(problem.objectives)
        if problem.mode == "repair" and "disruption" not in objectives:
            objectives.insert(0, "disruption")
        kept = POLISH_SHARE * time_limit if time_limit is not None and polishes(objectives) else 0.0
        budget = Budget(None if time_limit is None else time_limit - kept, deterministic, stop=self.stop)
        prepared = self._prepare(t0)
        if isinstance(prepared, SolveResult):
            return prepared
        units, layout, bound, method = prepared
        rng = np.random.default_rng(seed)
        opts = self.tuning
        state = {"best": None, "stopped_by": None, "starts": 0, "shakes": 0, "bound_method": method,
                 "compile_seconds": 0.0, "work": 0}  # work: counted in side-by-side processes

        def tell(plans: int) -> None:
            if progress is not None:
                progress({"incumbent": float(plans), "bound": float(bound),
                          "elapsed": time.perf_counter() - t0, "plans": plans})

        candidates = []
        if problem.mode == "repair":  # every current plan is kept: only moves, never a merger of two plans
            repaired = self._repair(layout, units, bound, t0, rng, objectives, budget, warm_start, state)
            if isinstance(repaired, SolveResult):
                return repaired
            return self._result(layout, units, repaired, objectives, rng, bound, state, budget, kept, t0)
        if units.status_quo is not None and objectives[0] == "disruption":
            part, _ = status_quo_partition(layout)
            part = repair(layout, part)
            if totals_ok(layout, list(part.regions.values())):
                candidates.append(part)
        if warm_start is not None:
            given = _from_plan(layout, units, warm_start)
            if given is not None:
                candidates.append(given)
        if not candidates or "max-plans" in objectives[:1]:
            state["compile_seconds"] = _compile(layout, budget, bound, t0, progress)
            favourite = Favourite(layout, objectives, problem.weights)
            best = self._search(layout, rng, budget, bound, opts, state, tell, candidates, favourite)
            if best is not None:
                candidates.append(best)
        if not candidates:
            return SolveResult(self.name, "timeout", None, bound=float(bound),
                               message="the heuristic found no compliant plan (this proves nothing: "
                                       "try more time, another seed, or an exact solver)",
                               wall_time=time.perf_counter() - t0)
        scored = [(rank(values(layout, p), objectives, problem.weights), i) for i, p in enumerate(candidates)]
        part = candidates[max(scored)[1]]
        return self._result(layout, units, part, objectives, rng, bound, state, budget, kept, t0)

    def _repair(self, layout, units, bound, t0, rng, objectives, budget, warm_start, state
                ) -> Partition | SolveResult:
        """Repair mode: the status quo fixed by moving municipalities, keeping every plan; or why not.

        The ``ATTEMPTS`` in turn until one repairs; then up to ``RESTARTS`` more, each with the
        settings of an attempt and the short plans fixed in a random order. Each repair is polished
        (``polish``) and the one the objectives rank first kept, until one moves as few as any
        repair must (``least_moves``, here only a reason to stop: with ``keep_together`` groups it
        counts them approximately). A ``warm_start`` that complies and keeps every plan
        (``_repair_fallback``) is polished and offered too, unless a repair already meets the least
        moves: it is the answer when no attempt repairs, or when it moves fewer (``state["fallback"]``).
        A repair in which a region continues two current plans, or that leaves a municipality locked
        to a current plan outside that plan's successor (``keeps_every_plan``), is not taken.
        """
        best, key, short = None, None, []  # short: the plans the last attempt left below their floor

        def offer(part) -> bool:
            nonlocal best, key
            part = polish(layout, part, objectives, self.problem.weights, rng, budget)
            mine = rank(values(layout, part), objectives, self.problem.weights)
            if keeps_every_plan(layout, part) and (key is None or mine > key):
                best, key = part, mine
                return True
            return False

        for chain, by_population in ATTEMPTS:  # the next attempt only when one leaves a plan short
            part, keep = status_quo_partition(layout, by_population)
            part = repair(layout, part, keep, chain)
            short = [r for r in part.regions.values() if not layout.complies(r.totals)]
            if not short:
                offer(part)
                break
        least = least_moves(self.problem, units)
        for k in range(RESTARTS):
            if best is not None and values(layout, best)["moved"] <= least or budget.expired():
                break
            chain, by_population = ATTEMPTS[k % len(ATTEMPTS)]
            part, keep = status_quo_partition(layout, by_population)
            part = repair(layout, part, keep, chain, rng)
            if all(layout.complies(r.totals) for r in part.regions.values()):
                offer(part)
        fallback = _repair_fallback(self.problem, layout, units, warm_start)
        if fallback is not None and (best is None or values(layout, best)["moved"] > least):
            state["fallback"] = offer(fallback)
        if best is not None:
            return best
        sq = self.problem.status_quo
        assert sq is not None  # repair mode has one (Problem checks it)
        names = sorted({sq.name(sq.assignment[units.members[next(iter(r.members))][0]]) for r in short})
        if names:
            what = f"repair {', '.join(names)} by moving municipalities while keeping every current plan"
        else:  # every attempt met the floors, but read as a merger or left a lock unkept
            what = ("keep every current plan: each repair it found left one plan holding most of the "
                    "municipalities of two current plans (a merger)")
            if moving_locks(units):
                what += " or a locked municipality outside the plan its lock names"
        return SolveResult(self.name, "timeout", None, bound=float(bound), wall_time=time.perf_counter() - t0,
                           message=f"the heuristic could not {what}; try an "
                                   "exact solver (cpsat), a complying plan to fall back on (--warm-start), or "
                                   "--mode merge to merge plans")

    def _result(self, layout, units, part, objectives, rng, bound, state, budget, kept, t0) -> SolveResult:
        """``part`` polished in the ``kept`` seconds given back to ``budget``, checked, with the search record."""
        problem, seed = self.problem, self.options.seed
        budget.extend(kept)
        part = polish(layout, part, objectives, problem.weights, rng, budget)
        plan = units.to_plan(problem, part.labels())
        broken = plan.violations(problem.rules, collaboration=problem.collaboration)
        wall = time.perf_counter() - t0
        if broken:
            log.warning("heuristic plan failed the judge: %s", broken[:3])
            return SolveResult(self.name, "timeout", None,
                               bound=float(bound), wall_time=wall,
                               message="the heuristic's plan failed the rules: " + "; ".join(broken[:5]))
        vals = values(layout, part)
        count = len(plan)
        objective = float(count) if objectives[0] == "max-plans" else rank(vals, objectives, problem.weights)[0]
        details = {"plans": count, "bound": bound,
                   "objectives": {"max-plans": float(count), "collaboration": vals["collaboration"],
                                  "compact": float(vals["cut"]),
                                  **({"disruption": float(vals["moved"])} if units.status_quo is not None else {})},
                   "stopped_by": state["stopped_by"], "starts": state["starts"], "shakes": state["shakes"],
                   "seed": seed,
                   "bound_method": state["bound_method"], "compile_seconds": round(state["compile_seconds"], 1),
                   "work_units": budget.work + state["work"]}
        if state.get("fallback"):
            details["notes"] = ["this repair starts from the plan given to fall back on and moves municipalities "
                                "back where the rules allow: it moves fewer than any the heuristic found from the "
                                "current plan, if it found one"]
        if self.options.deterministic:
            details.update(deterministic=True, budget=budget.record())
            if details["stopped_by"] == "time_limit":
                details["stopped_by"] = "wall_safety_limit" if budget.wall_limit_hit else "work_budget"
        gap = relative_gap(count, bound) if objectives[0] == "max-plans" else None
        # the plan count is the whole objective and meets its proved bound: nothing could be better
        proved = problem.plans_only and count >= bound
        log.info("heuristic: %d plans (bound %d) in %.1f s, %d work units", count, bound, wall, budget.work)
        status = "optimal" if proved else "feasible"
        return SolveResult(self.name, status, plan, objective=objective,
                           bound=float(bound) if objectives[0] == "max-plans" else None,
                           gap=gap, wall_time=wall, message=f"{count} plans", details=details)

    def _prepare(self, t0: float) -> tuple[Units, Layout, int, str] | SolveResult:
        """Units (groups of ``keep_together`` joined), their layout and the plan bound; or why not."""
        problem = self.problem
        try:
            check_feasible(problem)
        except InfeasibleError as exc:
            return SolveResult(self.name, "infeasible", None, message=str(exc), wall_time=time.perf_counter() - t0)
        units = Units.from_problem(problem)
        # before joining: bounds for the problem itself
        proved = problem_bound(problem, units)
        bound, method = proved.value, proved.method
        joined = units.joined()
        if joined is None:
            return SolveResult(self.name, "timeout", None, bound=float(bound), wall_time=time.perf_counter() - t0,
                               message="the heuristic cannot join the parts of a group that keep_together keeps "
                                       "in one plan (this proves nothing: try an exact solver)")
        return joined, Layout(joined, problem.rules), bound, method

    def _search(self, layout, rng, budget, bound, opts, state, tell, seeds, favourite) -> Partition | None:
        """The partition with most plans: ``_search_one``, or with several workers ``_side_by_side``.

        ``tell(plans)`` hears of each better plan. Of the plans with most regions the search met,
        the one ``favourite`` (a ``Favourite``) keeps when the later objectives rank it first.
        """
        if self.threads > 1 and layout.n >= SIDE_BY_SIDE_UNITS and not budget.deterministic and can_fork():
            best = self._side_by_side(layout, budget, bound, opts, state, tell, seeds, favourite)
        else:
            best = self._search_one(layout, rng, budget, bound, opts, state, lambda part: tell(len(part)), seeds,
                                    favourite)
        return favourite.pick(best)

    def _side_by_side(self, layout, budget, bound, opts, state, tell, seeds, favourite) -> Partition | None:
        """``_search_one`` in ``workers`` processes at once, then rounds of shaking the best plan in each.

        Each process first searches with a seed of its own for ``FIRST_SHARE`` of the time; then,
        round after round of ``ROUND_SECONDS``, each shakes the best plan so far with a seed of its
        own, until the time is up, the bound is met or ``perturb_rounds`` rounds bring nothing.
        A round's best plan has at least the plans of the one it shook (``perturb`` keeps the latest
        plan of the best count), and the next round shakes it, so the walk is not sent back.
        """
        seed, workers, stop = self.options.seed, self.threads, self.stop
        rounds = opts["perturb_rounds"]
        shaking = rounds is None or rounds > 0
        told = 0

        def heard(k: int, plans: int) -> None:  # the most plans any process has found so far
            nonlocal told
            if plans > told:
                told = plans
                tell(plans)

        seconds = min(budget.seconds * FIRST_SHARE, budget.wall_left()) if shaking else budget.wall_left()
        tasks = [partial(self._first_task, layout, seed, k, seconds, bound, opts, seeds, favourite)
                 for k in range(workers)]
        answers = [a for a in side_by_side(tasks, seconds, stop, heard) if a is not None]
        state["starts"] = sum(sub["starts"] for _, sub in answers)
        state["shakes"] = sum(sub["shakes"] for _, sub in answers)
        state["work"] = sum(sub["work"] for _, sub in answers)
        found = [(labels, sub) for labels, sub in answers if labels is not None]
        for _, sub in found:
            favourite.offer(*sub["favourite"])
        if not found:
            state["stopped_by"] = "interrupted" if stop.is_set() else "time_limit"
            return None
        labels, sub = max(found, key=lambda a: len(set(a[0])))
        best = Partition.from_labels(layout, labels)
        state["stopped_by"] = sub["stopped_by"]
        if state["stopped_by"] in ("bound", "patience"):  # met the bound, or shook until idle
            return best
        idle, most_idle, round_no = 0, shaking_patience(rounds, len(best)), 0
        while shaking and len(best) < bound and idle < most_idle and budget.wall_left() > 1.0 and not stop.is_set():
            seconds, round_no = min(ROUND_SECONDS, budget.wall_left()), round_no + 1
            shakes = [partial(_shake_task, layout, best, [seed, round_no, k], seconds, bound, most_idle - idle,
                              float(opts["chain_share"]), favourite)
                      for k in range(workers)]
            answers = [a for a in side_by_side(shakes, seconds, stop, heard) if a is not None]
            if not answers:
                break
            state["shakes"] += sum(done for _, done, _, _ in answers)
            state["work"] += sum(work for _, _, work, _ in answers)
            for _, _, _, kept in answers:
                favourite.offer(*kept)
            labels = max((labels for labels, _, _, _ in answers), key=lambda a: len(set(a)))
            idle = 0 if len(set(labels)) > len(best) else idle + max(done for _, done, _, _ in answers)
            best = Partition.from_labels(layout, labels)  # as many plans or more: the walk goes on from it
        state["stopped_by"] = ("bound" if len(best) >= bound else
                               "interrupted" if stop.is_set() else
                               "time_limit" if budget.wall_left() <= 1.0 else "patience")
        return best

    def _first_task(self, layout, seed, k, seconds, bound, opts, seeds, favourite, event,
                    say) -> tuple[list[int] | None, dict]:
        """A process's own search with seed ``[seed, k]`` (``_side_by_side``): its labels and record.

        The record holds the process's ``favourite`` as labels and count (``Favourite.offer``'s arguments).
        """
        sub: dict = {"stopped_by": None, "starts": 0, "shakes": 0}
        budget = Budget(seconds, stop=event)
        part = self._search_one(layout, np.random.default_rng([seed, k]), budget, bound, opts,
                                sub, lambda part: say(len(part)), seeds, favourite)
        sub["work"] = budget.work
        sub["favourite"] = _offered(favourite)
        return None if part is None else part.labels(), sub

    def _search_one(self, layout, rng, budget, bound, opts, state, report, seeds, favourite) -> Partition | None:
        """Multi-start construction plus split/rebuild local search; the partition with most plans.

        ``favourite`` is offered the plans of the walk (``perturb``).
        """
        starts = int(opts["starts"])
        restarts = int(opts["restarts"])
        locked = lock_regions(layout)
        if locked is None:
            return None
        best = max(seeds, key=len) if seeds else None
        if best is not None:
            report(best)
        tried: set = set()  # groups the exact regrouping tried in vain, over every restart
        shares = group_shares(self.problem, layout) if int(opts["regroup_regions"]) > 0 else []
        for restart in range(restarts):
            first = None
            for k in range(starts):
                if budget.expired() and first is not None:
                    break
                budget.spend(layout.n)
                regions = grow(layout, set(range(layout.n)), rng, start=[r.clone() for r in locked],
                               periphery=[1.0, 0.9, 0.7][k % 3], noise=[1.0, 0.3, 3.0][k % 3])
                state["starts"] += 1
                if totals_ok(layout, regions) and (first is None or len(regions) > len(first)):
                    first = Partition(layout, regions)
            if restart == 0 and best is not None and (first is None or len(best) >= len(first)):
                first = best.copy()
            if first is None:
                break
            report(first)
            patience = int(opts["patience"] or max(200, 30 * len(first)))
            first = improve_count(layout, first, rng, budget, bound=bound, patience=patience,
                                  on_better=report)
            first = self._regroup(layout, first, shares, rng, budget, bound, opts, report, tried, patience)
            if best is None or len(first) > len(best):
                best = first
                report(best)
            if len(best) >= bound:
                state["stopped_by"] = "bound"
                break
            if budget.expired():
                state["stopped_by"] = "interrupted" if self.stop.is_set() else "time_limit"
                break
            state["stopped_by"] = "patience"
        rounds = opts["perturb_rounds"]
        if best is not None and state["stopped_by"] == "patience" and (rounds is None or rounds > 0):
            best, state["shakes"] = perturb(layout, best, rng, budget, bound,
                                            idle_rounds=shaking_patience(rounds, len(best)), on_better=report,
                                            chain_share=float(opts["chain_share"]), favourite=favourite)
            state["stopped_by"] = ("bound" if len(best) >= bound else
                                   "patience" if not budget.expired() else
                                   "interrupted" if self.stop.is_set() else "time_limit")
        return best

    def _regroup(self, layout, part, shares, rng, budget, bound, opts, report, tried, patience) -> Partition:
        """Exact regrouping of small groups of regions (``_regroup``), local search again after each gain."""
        size = int(opts["regroup_regions"])
        while size > 0 and len(part) < bound and not budget.expired():
            if not regroup(layout, self.problem, part, shares, budget, self.options.seed, tried, max_regions=size,
                           sub_time=float(opts["regroup_time"]), max_tries=opts["regroup_tries"]):
                break
            report(part)
            part = improve_count(layout, part, rng, budget, bound=bound, patience=patience, on_better=report)
        return part


def _shake_task(layout, part, seed, seconds, bound, idle_rounds, chain_share, favourite, event,
                say) -> tuple[list[int], int, int, tuple]:
    """A process's round of shaking ``part`` with seed ``seed`` (``_side_by_side``).

    Its best labels, rounds, work, and its ``favourite`` as ``Favourite.offer``'s arguments.
    """
    budget = Budget(seconds, stop=event)
    best, rounds = perturb(layout, part, np.random.default_rng(seed), budget, bound, idle_rounds,
                           on_better=lambda better: say(len(better)), chain_share=chain_share, favourite=favourite)
    return best.labels(), rounds, budget.work, _offered(favourite)


def _offered(favourite: Favourite) -> tuple[list[int], int]:
    """``favourite``'s labels and count, to offer to the parent process's (none: an empty offer)."""
    return ([], -1) if favourite.labels is None else (favourite.labels.tolist(), favourite.count)


def shaking_patience(rounds: int | None, plans: int) -> int:
    """Rounds of shaking that bring nothing before it stops: ``rounds``, or ``IDLE_ROUNDS`` for ``plans`` plans."""
    return int(rounds or IDLE_ROUNDS[0] + IDLE_ROUNDS[1] * plans)


def _repair_fallback(problem, layout: Layout, units: Units, plan) -> Partition | None:
    """A repair's fallback: ``plan`` (e.g. the studio's last complying step) when it may be a starting point.

    ``Problem.warm_start_problems`` says whether (``propose.solve`` refuses it otherwise; a solver
    called directly ignores it). The polish that follows moves its municipalities back to the
    current plans where the rules allow.
    """
    if plan is None or problem.warm_start_problems(plan):
        return None
    return _from_plan(layout, units, plan)


def _from_plan(layout: Layout, units: Units, plan) -> Partition | None:
    """Unit-level partition of a warm-start plan, or None if it does not fit the units or rules."""
    by_label: dict[str, set[int]] = {}
    for u, members in enumerate(units.members):
        labels = {plan.assignment.get(c) for c in members}
        if len(labels) != 1 or None in labels:
            return None
        by_label.setdefault(labels.pop(), set()).add(u)
    regions = [Region(layout, m) for _, m in sorted(by_label.items())]
    if not all(layout.complies(r.totals) and layout.connected(r.members) for r in regions):
        return None
    return Partition(layout, regions)
