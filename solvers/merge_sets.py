"""Merge mode as set partitioning over connected groups of plans (used by ``CPSATSolver``).

In merge mode the units are the status quo's plans and most of them comply alone. With
``max-plans`` first, an optimal answer has a simple shape: every unit that complies alone and
is not needed stays alone, and every merged plan is a *group*: connected, compliant, holding at
least one unit that fails alone, and not splittable into two connected compliant parts (else
splitting it gives one plan more). This module lists those groups up to ``K`` units
(``Groups``; ``K`` from 3, one more while step 1 or 2 asks for it, up to the option
``merge_group_size``) and picks a partition with CP-SAT:

1. **Plans.** ``z[G]`` per group (and per unit that complies alone), ``mu[i]`` when unit ``i``
   is in a group of more than ``K`` units (not listed). Each unit is covered once; maximise
   ``(K+1) sum z + sum mu``, which overcounts any plan of more than ``K`` units, so
   ``floor(optimum / (K+1))`` bounds the number of plans. An optimum with ``mu = 0``, or a
   partition into listed groups that reaches the bound, is a proved optimum of the merge problem.
2. **No larger group ties** (``larger_groups_excluded``): an LP dual bound shows that every
   plan with the optimal number of plans uses listed groups only, so the next objectives
   (collaboration, compact, disruption) are solved exactly over listed groups.
3. **Later objectives**, lexicographically, over listed groups with the plan count fixed.

In wall-clock runs, once a size lists more than ``RELAXED_COLUMNS`` groups (49,636 of up to 5
plans in the 274-plan merge), step 1 is not solved over them: the LP relaxation of its model
bounds the plans (``merge_groups.plan_bound``), and HiGHS looks for a partition into them that
meets the bound (``_partition_meeting``), which proves the number of plans; when it finds none in
two thirds of what is left of the time limit, step 2 goes on over the groups step 1 modelled.
Above ``AHEAD_COLUMNS`` groups the next size is listed before step 1 is solved (listing is cheap
next to step 1, 11 s over the 9,971 groups of up to 4 plans of that merge).

It applies (``applies``) when max-plans is the first objective, without weights, plan-count
options or locks; the compact model in ``cpsat_model`` handles every other case, and goes on
from this method's bound and best plan when step 1 does not prove the number of plans.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from ._budget import CPSAT_DETERMINISTIC_PER_SECOND, refuse_invalid, safety_seconds
from .merge_groups import Groups, larger_groups_excluded, plan_bound
from .model_data import integer_weights
from .model_setup import Setup
from .set_partition import partition_meeting

LATER = ("collaboration", "compact", "disruption")
RELAXED_COLUMNS = 20_000
"""Wall-clock runs do not solve step 1 over more listed groups than this (the 274-plan merge has
49,636 groups of up to 5 plans): HiGHS looks for a partition meeting the bound over them instead."""
AHEAD_COLUMNS = 5_000
"""Wall-clock runs with more listed groups than this list the next size too before solving step 1
(the 274-plan merge: 9,971 groups of up to 4 plans, whose step 1 takes 11 s); when that passes
``RELAXED_COLUMNS``, the LP bound over it (``merge_groups.plan_bound``) stands in for step 1."""


def applies(setup: Setup) -> bool:
    """Whether ``setup`` is a merge problem this method solves exactly (see the module docstring)."""
    return not setup.fixed and wanted(setup.problem, setup.options, setup.model)


def wanted(problem, options: dict, units) -> bool:
    """``applies`` before the setup exists: ``options`` the solver's tuning settings, ``units`` the units."""
    objectives = problem.objectives
    if problem.mode != "merge" or problem.weights or objectives[0] != "max-plans":
        return False
    if options.get("merge_groups") is False or units.locked:
        return False
    if problem.min_plans is not None or problem.max_plans is not None:
        return False
    if any(o not in LATER for o in objectives[1:]):
        return False
    if "disruption" in objectives and len(set(units.status_quo.tolist())) != len(units):
        return False  # a status quo plan in several parts: disruption is not additive over groups
    return True


@dataclass
class Answer:
    """What ``solve`` found: one label per modelled unit, the stages and how exact they are."""

    labels: list[int] | None
    statuses: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    bounds: dict = field(default_factory=dict)
    plan_bound: int | None = None
    exact: bool = False
    record: dict = field(default_factory=dict)


class _Stages:
    """CP-SAT parameters for every stage: a share of the time (or deterministic) budget, seed.

    The stages together use at most ``fraction`` of what is left of the budget when they start.
    """

    def __init__(self, time_limit, seed, clock, start, fraction, stop, workers=1):
        self.seed, self.clock, self.stop, self.workers = seed, clock, stop, workers
        now = time.perf_counter()
        self.deadline = None if time_limit is None else now + fraction * (time_limit - (now - start))
        self.until = None if clock is None else clock.used + fraction * clock.left()
        self.last = 0.0
        self.start, self.time_limit = start, time_limit

    def seconds_left(self) -> float:
        """Seconds left of the whole time limit (not only of the stages' share)."""
        return self.start + self.time_limit - time.perf_counter()

    def quick(self) -> bool:
        """Whether the last solve took less than a quarter of what is left."""
        if self.clock is not None:
            return self.last < (self.until - self.clock.used) / 4
        return self.deadline is None or self.last < (self.deadline - time.perf_counter()) / 4

    def run(self, model, stages_left: int, on_bound=None):
        """Solve ``model`` with its share of what is left; ``on_bound(value)`` sees each new bound."""
        solver = cp_model.CpSolver()
        if on_bound is not None:
            solver.best_bound_callback = on_bound
        params = solver.parameters
        params.random_seed = int(self.seed)
        # set partitioning lives on its LP relaxation: one worker with every constraint in the LP
        # proves in well under a second what the default portfolio of two workers does not in a minute
        params.num_workers = 1
        params.linearization_level = 2
        if self.clock is not None:
            share = max(0.5, self.until - self.clock.used) / stages_left
            params.max_deterministic_time = share
            params.max_time_in_seconds = safety_seconds(share / CPSAT_DETERMINISTIC_PER_SECOND)
        elif self.deadline is not None:
            params.max_time_in_seconds = max(0.5, (self.deadline - time.perf_counter()) / stages_left)
        params.catch_sigint_signal = False  # Ctrl-C reaches the front end, which stops us through ``stop``
        if self.stop.is_set():  # stopped already: no search, just what the hint gives at once
            params.max_time_in_seconds = 0.01
        with self.stop.hook(solver.stop_search):
            code = solver.solve(model)
        refuse_invalid(solver, code, model)
        self.last = solver.wall_time
        if self.clock is not None:
            self.last = solver.deterministic_time
            self.clock.spent(solver, code, params.max_time_in_seconds)
        return solver, code


def solve(setup: Setup, time_limit, seed, progress, start, clock=None, fraction=1.0, workers=1) -> Answer:
    """Solve the merge problem of ``setup`` by set partitioning (see the module docstring).

    Uses at most ``fraction`` of the time left (or of the deterministic budget ``clock``), with
    one CP-SAT worker whatever the solver's ``workers`` (which race HiGHS searches in the large case).

    Groups are listed from 3 units up; one more size is listed only while CP-SAT solves step 1
    but cannot rule out larger groups, and ``merge_group_size`` allows a group holding all the
    units that step 1 put in larger plans.
    """
    opts = setup.options
    n = len(setup.model)
    later = list(setup.problem.objectives[1:])
    runner = _Stages(time_limit, seed, clock, start, fraction, setup.stop, workers)
    groups = Groups(setup, int(opts["merge_group_sets"]))
    top = max(1, int(opts["merge_group_size"]))
    while groups.size < min(3, top) and groups.grow():
        pass
    known = None if setup.hint is None else len(set(setup.hint))
    best = {"bound": n}  # the best plan bound over all sizes so far

    def report(value, plans=known):
        if progress is not None:
            progress({"incumbent": None if plans is None else float(plans), "plans": plans,
                      "bound": float(min(best["bound"], math.floor(value / (groups.size + 1) + 1e-9))),
                      "elapsed": time.perf_counter() - start})

    step = _count_step(setup, groups, runner, later, top, report, best)
    if isinstance(step, Answer):
        return step
    return _after_count(setup, groups, runner, later, report, best["bound"], step)


@dataclass
class _Step:
    """Where step 1 stopped: its model and variables, the last solver, the group size and answer."""

    model: cp_model.CpModel
    z: list
    mu: list
    big: object
    solver: cp_model.CpSolver
    size: int
    previous: list[int]
    proved: bool
    excluded: bool
    whole: list[int] | None  # the last step-1 answer that partitions every unit into listed groups


def _count_step(setup: Setup, groups: Groups, runner: _Stages, later: list, top: int, report,
                best: dict) -> _Step | Answer:
    """Step 1, from the smallest group size up while it asks for larger groups (module docstring)."""
    n = len(setup.model)
    previous = None  # groups chosen by the last step-1 answer
    whole = None  # the last step-1 answer that partitions every unit into listed groups (a compliant plan)
    while True:
        k = groups.size
        m, z, mu, big = _relaxed_model(setup, groups, previous)
        solver, code = runner.run(m, 2 + len(later), report)
        if code == cp_model.INFEASIBLE:  # the relaxation has no answer, so the problem has none
            return Answer(None, ["INFEASIBLE"], plan_bound=0, exact=True, record=_record(groups))
        if code != cp_model.OPTIMAL and code != cp_model.FEASIBLE:
            if previous is None:
                return Answer(None, [solver.status_name(code)], record=_record(groups))
            proved = excluded = False  # out of time at this size: go on with what the smaller one gave
            break
        best["bound"] = min(best["bound"], math.floor(solver.best_objective_bound / (k + 1) + 1e-9))
        previous = [c for c in range(len(z)) if solver.value(z[c])]  # column indices stay as groups grow
        partition = not any(solver.value(v) for v in mu)
        whole = previous if partition else whole
        proved = code == cp_model.OPTIMAL and partition
        excluded = proved and (not later or larger_groups_excluded(groups, n, len(previous)))
        if not _list_more(groups, runner, code == cp_model.OPTIMAL and not excluded and groups.size < top, top,
                          best):
            break
    return _Step(m, z, mu, big, solver, k, previous, proved, excluded, whole)


def _list_more(groups: Groups, runner: _Stages, wanted: bool, top: int, best: dict) -> bool:
    """List the next size for step 1 when ``wanted`` and the last solve was quick; whether to solve it.

    Wall-clock runs also list it when the last solve was not quick, and keep it only when it holds
    more than ``RELAXED_COLUMNS`` groups: step 1 is then skipped, the LP bound over them lowers
    ``best["bound"]`` and ``_partition_meeting`` takes them (listing is cheap next to the solves).
    Above ``AHEAD_COLUMNS`` groups they list two sizes at once.
    """
    if not wanted:
        return False
    quick = runner.quick()
    if not quick and runner.clock is not None:
        return False
    count, size = len(groups.columns), groups.size
    if not groups.grow():
        return False
    wall = runner.clock is None
    if wall and AHEAD_COLUMNS < len(groups.columns) <= RELAXED_COLUMNS and groups.size < top:
        groups.grow()  # step 1 over this many groups would be slow: list the next size too
    if wall and len(groups.columns) > RELAXED_COLUMNS:
        # step 1 over this many groups costs more than it lowers the bound: step 2 takes them
        best["bound"] = min(best["bound"], plan_bound(groups))
        return False
    if not quick:
        groups.keep(count, size)
        return False
    return True


def _after_count(setup: Setup, groups: Groups, runner: _Stages, later: list, report, plan_bound: int,
                 step: _Step) -> Answer:
    """Steps 2 and 3: the best partition into listed groups, then the later objectives."""
    n = len(setup.model)
    m, z, mu, big, solver, k = step.model, step.z, step.mu, step.big, step.solver, step.size
    proved, excluded = step.proved, step.excluded
    found = None
    if len(groups.columns) > len(z):  # groups listed after step 1's last model (``RELAXED_COLUMNS``)
        if not proved:
            found = _partition_meeting(groups, n, plan_bound, runner)
        if found is None:
            groups.keep(len(z), k)  # back to the groups step 1 modelled
        else:
            k = groups.size
            m, z, mu, big = _relaxed_model(setup, groups, found)
            proved = True
            excluded = not later or larger_groups_excluded(groups, n, len(found))
    record = _record(groups)
    if found is not None:
        record["partition_found_by"] = "HiGHS set partitioning over the listed groups"
    m.add(big == 0)  # from here on, partitions into listed groups only
    if not proved:  # the best partition into listed groups; proved when it meets the bound
        _hint_chosen(m, z, mu, step.previous)
        solver, code = runner.run(m, 1 + len(later))
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            whole = step.whole
            if whole is not None and len(groups.columns) == len(step.z):  # out of time or stopped: the
                # last partition step 1 found
                return Answer(_labels(groups, whole, n), ["FEASIBLE"], {"max-plans": float(len(whole))},
                              {"max-plans": float(plan_bound)}, plan_bound, record=record)
            return Answer(None, [solver.status_name(code)], plan_bound=plan_bound, record=record)
        plans = sum(solver.value(v) for v in z)
        proved = plans >= plan_bound
        excluded = proved and (not later or larger_groups_excluded(groups, n, plans))
    chosen = found if found is not None else [c for c in range(len(groups.columns)) if solver.value(z[c])]
    plans = len(chosen)
    if not proved:
        return Answer(_labels(groups, chosen, n), ["FEASIBLE"], {"max-plans": float(plans)},
                      {"max-plans": float(plan_bound)}, plan_bound, record=record)
    report((k + 1) * plans, plans)
    answer = Answer(None, ["OPTIMAL"], {"max-plans": float(plans)}, {"max-plans": float(plans)}, plans,
                    exact=True, record=record)
    if later:
        record["larger_groups_excluded"] = excluded
        if not excluded:
            answer.exact = False
            record["later_objectives_scope"] = f"best among plans of up to {k} merged units"
    m.add(sum(z) == plans)
    chosen = _later_stages(setup, groups, runner, (m, z, mu), chosen, answer)
    answer.labels = _labels(groups, chosen, n)
    return answer


def _later_stages(setup: Setup, groups: Groups, runner: _Stages, model, chosen: list[int], answer: Answer):
    """Step 3: the later objectives one after another over listed groups; returns the groups chosen.

    ``model`` is step 1's ``(m, z, mu)`` with the number of plans fixed; ``answer`` records each stage.
    """
    m, z, mu = model
    later = list(setup.problem.objectives[1:])
    for stage, name in enumerate(later):
        _hint_chosen(m, z, mu, chosen)
        expr, scale, sense = _objective(name, setup, groups, z)
        if sense > 0:
            m.maximize(expr)
        else:
            m.minimize(expr)
        solver, code = runner.run(m, len(later) - stage)
        answer.statuses.append(solver.status_name(code))
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            answer.exact = False
            break
        value = round(solver.objective_value)
        answer.values[name] = value / scale
        answer.bounds[name] = solver.best_objective_bound / scale
        answer.exact = answer.exact and code == cp_model.OPTIMAL
        chosen = [c for c in range(len(groups.columns)) if solver.value(z[c])]
        m.add(expr >= value if sense > 0 else expr <= value)
    return chosen


def _partition_meeting(groups: Groups, n: int, bound: int, runner: _Stages) -> list[int] | None:
    """A partition into the listed groups with ``bound`` plans (column indices), or None.

    ``set_partition.partition_meeting`` (reduced-cost fixing, then HiGHS searches racing on
    ``runner.workers`` cores) has two thirds of what is left of the whole time limit, not only of
    this method's share (it is the one chance to prove the number of plans); the rest stays for
    step 2 over the groups step 1 modelled, should it fail, or for the later objectives.
    """
    if runner.deadline is None:
        return None
    seconds = 2 * runner.seconds_left() / 3
    if seconds < 1.0:
        return None
    return partition_meeting(groups.columns, n, bound, seconds, runner.seed, runner.workers, runner.stop)


def _labels(groups: Groups, chosen, n) -> list[int]:
    """One label per unit: the index of its chosen group."""
    labels = [0] * n
    for c in chosen:
        for i in groups.columns[c]:
            labels[i] = c
    return labels


def _relaxed_model(setup: Setup, groups: Groups, previous=None):
    """Step 1's model: ``z`` per listed group, ``mu`` per unit in a larger plan, ``big`` if any.

    Hinted with the groups ``previous`` chosen (column indices), else with the warm start.
    ``merge_groups.plan_bound`` is its LP relaxation (cover and neighbour rows), written for scipy.
    """
    units, k = setup.model, groups.size
    n = len(units)
    m = cp_model.CpModel()
    z = [m.new_bool_var(f"z{c}") for c in range(len(groups.columns))]
    mu = [m.new_bool_var(f"mu{i}") for i in range(n)]
    big = m.new_bool_var("big")
    cover: list[list] = [[] for _ in range(n)]
    for c, col in enumerate(groups.columns):
        for i in col:
            cover[i].append(z[c])
    for i in range(n):
        m.add_exactly_one(cover[i] + [mu[i]])
        m.add_implication(mu[i], big)
        m.add(mu[i] <= sum(mu[j] for j in units.neighbors[i]))  # a larger plan is connected
    m.add(sum(mu) >= (k + 1) * big)
    if groups.bad:  # a larger plan of an optimum holds a unit that cannot be a plan alone
        m.add(sum(mu[i] for i in sorted(groups.bad)) >= big)
    for members in units.together:  # a set kept together is in a larger plan whole, or not at all
        for u in members[1:]:
            m.add(mu[u] == mu[members[0]])
    if previous is not None:
        _hint_chosen(m, z, mu, previous)
    else:
        _hint(m, z, mu, groups, setup.hint)
    m.maximize((k + 1) * sum(z) + sum(mu))
    return m, z, mu, big


def _record(groups: Groups) -> dict:
    record = {"method": "set partitioning over connected groups of plans", "group_size": groups.size,
              "groups": len(groups.columns), "connected_sets_listed": groups.enumerated,
              "units_failing_alone": len(groups.failing)}
    if groups.note:
        record["note"] = groups.note
    return record


def _objective(name, setup: Setup, groups: Groups, z):
    """(integer expression over ``z``, scale, sense) of a later objective."""
    units = setup.model
    if name == "collaboration":
        weights, scale = integer_weights(units.collaboration, "collaboration weights")
        value = [_inside(col, weights) for col in groups.columns]
        return sum(v * z[c] for c, v in enumerate(value) if v), scale, 1
    if name == "compact":
        counts = units.edge_count
        value = [_inside(col, counts) for col in groups.columns]
        return sum(counts.values()) - sum(v * z[c] for c, v in enumerate(value) if v), 1, -1
    # disruption: this method runs with one unit per status quo plan (``wanted``), and a merged
    # plan is the successor of each plan in it, so no municipality moves (``measures.moved``)
    return 0, 1, -1


def _inside(col: tuple[int, ...], pairs: dict) -> int:
    """Sum of ``pairs[(i, j)]`` over the pairs ``i < j`` of the sorted group ``col``."""
    return sum(pairs.get((i, j), 0) for k, i in enumerate(col) for j in col[k + 1:])


def _hint(m, z, mu, groups: Groups, hint) -> None:
    """Hint the warm start's plans that are listed groups."""
    if hint is None:
        return
    found: dict = {}
    for u, lab in enumerate(hint):
        found.setdefault(lab, []).append(u)
    wanted = {tuple(sorted(g)) for g in found.values()}
    chosen = [c for c, col in enumerate(groups.columns) if col in wanted]
    _hint_chosen(m, z, mu, chosen)


def _hint_chosen(m, z, mu, chosen) -> None:
    m.clear_hints()
    pick = set(chosen)
    for c, v in enumerate(z):
        m.add_hint(v, c in pick)
    for v in mu:
        m.add_hint(v, False)
