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
    ``dl[r] <=> sum_i low_i x[i,r] >= 0``; ``P[r] = sum_i p_i x[i,r] >= f_low y[r]`` and
    ``y & mt => P >= f_mountain``; ``y & !mt & dh => P >= f_high``;
    ``y & !mt & !dh & dl => P >= f_low_density``; ``y & !mt & !dh & !dl => P >= f_standard``.
Number of plans (``add_plan_count``, options ``plans`` / ``min_plans`` / ``max_plans``):
    ``min_plans <= sum_r y[r] <= max_plans`` (``plans = k`` sets both to k).
Ceiling (``add_ceiling``): ``P[r] <= ceiling``. Hard boundaries and exclusive locks: pairs
    not in the candidate set; locked municipalities (``add_locks``): equal ``lab`` within a
    label, ``AllDifferent`` across labels.
Objectives (``objective_terms``):
    max-plans ``sum_r y[r]`` (max); collaboration ``sum w_ij s_ij`` (max) and compact
    ``|E| - sum_{ij in E} s_ij`` (min) with ``s_ij => lab[i] = lab[j]`` and
    ``s_ij + x[i,r] - x[j,r] <= 1``; disruption (min) ``sum_i w_i (1 - k_i)`` with
    ``owner[q]`` the root inheriting status quo plan ``q`` (``AllDifferent``, or none) and
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

Deterministic mode (option ``deterministic = True``): one worker and CP-SAT's deterministic time
limit (``max_deterministic_time``, derived from the time limit by ``_budget``), the wall-clock
limit only as a safety net; the same seed then gives the same plan on any machine.
``details["budget"]`` records the deterministic time used and whether the safety net was hit.
"""

from __future__ import annotations

import logging
import time

from lombardy_districts.errors import InfeasibleError
from lombardy_districts.problem import SolveResult

from . import lns
from ._budget import CPSAT_DETERMINISTIC_PER_SECOND, CpsatClock, is_deterministic, safety_seconds
from .base import Progress, Solver
from .exact import SENSE, Setup, checked_plan, full_labels, gap_of, objective_values, prepare
from .model_data import integer_weights

log = logging.getLogger(__name__)


class CPSATSolver(Solver):
    """CP-SAT partitioning model (see the module docstring for the formulation)."""

    name = "cpsat"

    def solve(self, time_limit: float | None = 60.0, seed: int = 0, workers: int | None = None,
              warm_start=None, progress: Progress | None = None) -> SolveResult:
        """Solve; ``time_limit`` covers preparation, warm start and every lexicographic stage."""
        start = time.perf_counter()
        problem = self.problem
        try:
            setup = prepare(problem, warm_start, time_limit, seed, progress,
                            skip_candidates=lambda restricted, hint, fixed: lns.wanted(problem, restricted, fixed))
        except InfeasibleError as exc:
            return SolveResult(self.name, "infeasible", None, wall_time=time.perf_counter() - start,
                               message=str(exc))
        details = _details(setup)
        if setup.bound.infeasible_parts:
            return SolveResult(self.name, "infeasible", None, bound=0.0, wall_time=time.perf_counter() - start,
                               message="; ".join(setup.bound.infeasible_parts), details=details)
        if lns.applies(setup):
            return self._solve_by_lns(setup, details, time_limit, seed, workers, progress, start)
        clock = CpsatClock(setup.warm_start, time_limit) if is_deterministic(problem.options) else None
        if clock is not None:
            workers = 1
            details.update(deterministic=True, budget=clock.record())
        built = _Model(setup)
        stages = [list(problem.objectives)] if problem.weights else [[o] for o in problem.objectives]
        statuses, values, bounds = [], {}, {}
        answer = None
        for k, names in enumerate(stages):
            left = None if time_limit is None else max(0.5, time_limit - (time.perf_counter() - start))
            if clock is not None:
                left = clock.left()
            share = left if left is None or k == len(stages) - 1 else left / (len(stages) - k)
            # CP-SAT's bound is for its (maybe restricted) model; the separate plan bound holds for the full one
            cap = setup.bound.value if names == ["max-plans"] else None
            status, stage_answer, bound = built.optimise(names, problem.weights, share, seed, workers,
                                                         _capped(progress, cap), start, clock)
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
            first = statuses[0] if statuses else "UNKNOWN"
            proven = first == "INFEASIBLE" and not setup.candidates.restricted
            msg = ("no plan meets the rules (CP-SAT proved the model infeasible)" if proven else
                   "no plan found within the time limit" if first != "INFEASIBLE" else
                   "the restricted candidate model is infeasible (not proved for the full problem); "
                   "set options restrict=False or raise max_plan_population")
            return SolveResult(self.name, "infeasible" if proven else "timeout", None,
                               bound=0.0 if proven else None, wall_time=elapsed, message=msg, details=details)
        labels = full_labels(setup, answer)
        plan, violations = checked_plan(setup, labels)
        if violations:
            details["rejected"] = violations[:10]
            return SolveResult(self.name, "timeout", None, wall_time=elapsed, details=details,
                               message="the model's answer failed the evaluator and was not returned: "
                                       + "; ".join(violations[:3]))
        objective, bound, status = _summary(setup, labels, problem, statuses, bounds, details)
        details.update(stage_status=statuses, stage_objective=values, stage_bound=bounds)
        return SolveResult(self.name, status, plan, objective, bound, gap_of(objective, bound), elapsed,
                           message=f"{len(plan)} plans, {status}", details=details)


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
        return SolveResult(self.name, status, plan, objective, bound, gap_of(objective, bound), elapsed,
                           message=f"{len(plan)} plans, {status} (large-neighbourhood search)", details=details)


def _capped(progress, cap):
    """``progress`` reporting at most ``cap`` as the bound."""
    if progress is None or cap is None:
        return progress

    def report(info):
        bound = info.get("bound")
        progress({**info, "bound": cap if bound is None else min(bound, cap)})

    return report


def _details(setup: Setup) -> dict:
    c = setup.candidates
    return {
        "units": len(setup.units), "modelled_units": len(setup.model), "pairs": c.pairs,
        "candidate_roots": len(c.members_of), "candidates": c.note, "restricted": c.restricted,
        "plan_bound": setup.bound.value, "plan_bound_method": setup.bound.method,
        "notes": list(setup.notes),
    }


def _summary(setup: Setup, labels, problem, statuses, bounds, details):
    """Objective (primary, or weighted sum), valid bound and status of the final answer."""
    values = objective_values(setup, labels)
    details["objectives"] = values
    all_optimal = all(s == "OPTIMAL" for s in statuses) and len(statuses) == len(
        [1] if problem.weights else problem.objectives)
    restricted = setup.candidates.restricted or bool(setup.fixed)
    status = "optimal" if all_optimal and not restricted else "feasible"
    if all_optimal and restricted:
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
        if bound <= objective and status == "feasible" and not setup.fixed:
            status = "optimal"
        return objective, bound, status
    if restricted:
        details["bound_scope"] = "bound of the restricted model only"
        details["restricted_bound"] = model_bound
        return objective, None, status
    return objective, model_bound, status


class _Model:
    """The CP-SAT model of a ``Setup``; one builder method per constraint family."""

    def __init__(self, setup: Setup):
        from ortools.sat.python import cp_model

        self.cp = cp_model
        self.setup = setup
        self.m = cp_model.CpModel()
        self.stage_value = None
        self.all_vars = []
        self.add_assignment()
        self.add_contiguity()
        self.add_floors()
        self.add_ceiling()
        self.add_locks()
        self.add_plan_count()
        self.same = {}
        self.kept = None
        self.add_hint()

    def _bool(self):
        v = self.m.new_bool_var("")
        self.all_vars.append(v)
        return v

    def add_assignment(self):
        """``x``, ``y``, ``lab``: each unit in exactly one plan, the root in its own."""
        c, m = self.setup.candidates, self.m
        self.x = {(i, r): self._bool() for i, roots in enumerate(c.roots_of) for r in roots}
        self.y = {r: self.x[r, r] for r in c.members_of}
        self.lab = []
        for i, roots in enumerate(c.roots_of):
            m.add_exactly_one(self.x[i, r] for r in roots)
            for r in roots:
                if r != i:
                    m.add_implication(self.x[i, r], self.y[r])
            v = m.new_int_var_from_domain(self.cp.Domain.from_values(roots), "")
            m.add(v == sum(r * self.x[i, r] for r in roots))
            self.lab.append(v)
            self.all_vars.append(v)

    def add_contiguity(self):
        """Parent arcs with strictly decreasing depth inside each plan, plus neighbour cuts."""
        units, c, m = self.setup.model, self.setup.candidates, self.m
        roots = [set(r) for r in c.roots_of]
        size = {r: len(mem) for r, mem in c.members_of.items()}
        self.depth = []
        for i in range(len(units)):
            top = max(size[r] for r in c.roots_of[i]) - 1
            d = m.new_int_var(0, max(top, 0), "")
            self.depth.append(d)
            self.all_vars.append(d)
        self.arcs = {}
        for i in range(len(units)):
            for j in units.neighbors[i]:
                if roots[i] & roots[j] and (roots[i] - {i}):
                    a = self._bool()
                    self.arcs[i, j] = a
                    m.add(self.lab[i] == self.lab[j]).only_enforce_if(a)
                    m.add(self.depth[i] >= self.depth[j] + 1).only_enforce_if(a)
        for i in range(len(units)):
            out = [self.arcs[i, j] for j in units.neighbors[i] if (i, j) in self.arcs]
            y = self.y.get(i)
            m.add(sum(out) + (y if y is not None else 0) == 1)
            for r in c.roots_of[i]:
                if r != i:
                    near = [self.x[j, r] for j in units.neighbors[i] if r in roots[j]]
                    m.add(self.x[i, r] <= sum(near))

    def _population(self, r):
        p = self.setup.model.population
        return sum(int(p[i]) * self.x[i, r] for i in self.setup.candidates.members_of[r])

    def add_floors(self):
        """Population floor of each plan's class, the class decided by reified booleans."""
        terms, c, m = self.setup.terms, self.setup.candidates, self.m
        floors = terms.floors
        low = min(floors.values())
        self.population = {}
        for r, members in c.members_of.items():
            pop = self._population(r)
            self.population[r] = pop
            y = self.y[r]
            m.add(pop >= low * y)
            if terms.uniform:
                continue
            mt, dh, dl = self._bool(), self._bool(), self._bool()
            inside = self._hinted_members(r)
            for flag, coef, cut in ((mt, terms.mountain, 1), (dh, terms.high, 0), (dl, terms.low, 0)):
                expr = sum(int(coef[i]) * self.x[i, r] for i in members if coef[i] != 0)
                m.add(expr >= cut).only_enforce_if(flag)
                m.add(expr <= cut - 1).only_enforce_if(~flag)
                if inside is not None:
                    m.add_hint(flag, int(sum(int(coef[i]) for i in inside)) >= cut)
            cases = (("mountain", [y, mt]), ("high_density", [y, ~mt, dh]),
                     ("low_density", [y, ~mt, ~dh, dl]), ("standard", [y, ~mt, ~dh, ~dl]))
            for name, condition in cases:
                if floors[name] > low:
                    m.add(pop >= floors[name]).only_enforce_if(condition)

    def _hinted_members(self, r):
        """Members of the warm start's plan rooted at ``r`` ([] when r is no root there), or None."""
        hint = self.setup.hint
        if hint is None:
            return None
        if not hasattr(self, "_hint_plans"):
            rank = self.setup.candidates.rank
            groups: dict = {}
            for u, lab in enumerate(hint):
                groups.setdefault(lab, []).append(u)
            self._hint_plans = {min(g, key=lambda u: rank[u]): g for g in groups.values()}
        return self._hint_plans.get(r, [])

    def add_ceiling(self):
        """No plan above the ceiling."""
        ceiling = self.setup.problem.rules.ceiling
        if ceiling is not None:
            for pop in self.population.values():
                self.m.add(pop <= ceiling)

    def add_plan_count(self):
        """Options ``plans`` / ``min_plans`` / ``max_plans``: bounds on the number of roots used."""
        low, high = self.setup.model_plan_range
        count = sum(self.y.values())
        if low is not None:
            self.m.add(count >= low)
        if high is not None:
            self.m.add(count <= high)

    def add_locks(self):
        """Locked units share their label's plan; different labels, different plans."""
        by_label: dict[str, list[int]] = {}
        for u, label in self.setup.model.locked.items():
            by_label.setdefault(label, []).append(u)
        heads = []
        for members in by_label.values():
            heads.append(self.lab[members[0]])
            for u in members[1:]:
                self.m.add(self.lab[u] == self.lab[members[0]])
        if len(heads) > 1:
            self.m.add_all_different(heads)

    def _same(self, i, j):
        """Boolean that can be 1 only when units i and j share a plan."""
        key = (min(i, j), max(i, j))
        if key not in self.same:
            s = self._bool()
            c = self.setup.candidates
            ri, rj = set(c.roots_of[i]), set(c.roots_of[j])
            if not ri & rj:
                self.m.add(s == 0)
            else:
                self.m.add(self.lab[i] == self.lab[j]).only_enforce_if(s)
                for r in ri:
                    self.m.add(s + self.x[i, r] - (self.x[j, r] if r in rj else 0) <= 1)
                self._root_cuts(s, i, j)
            hint = self.setup.hint
            if hint is not None:
                self.m.add_hint(s, hint[i] == hint[j])
            self.same[key] = s
        return self.same[key]

    def _root_cuts(self, s, i, j):
        """Add valid cuts on ``s`` (units i and j together).

        The root of their plan ranks at or before both, so the lower-ranked of the two (``lo``) is
        no root, ``s <= 1 - y[lo]``, and the other (``hi``) is the root or no root,
        ``s <= x[lo, hi] + 1 - y[hi]``.
        """
        rank = self.setup.candidates.rank
        hi, lo = (i, j) if rank[i] < rank[j] else (j, i)
        if lo in self.y:
            self.m.add(s + self.y[lo] <= 1)
        if hi in self.y:
            self.m.add(s + self.y[hi] - self.x.get((lo, hi), 0) <= 1)

    def _kept(self):
        """Disruption terms: ``owner`` of each status quo plan and ``k_i`` per unit."""
        if self.kept is None:
            units, c = self.setup.model, self.setup.candidates
            sq = units.status_quo
            owners = {}
            for q in sorted(set(int(v) for v in sq)):
                values = sorted({r for i in range(len(units)) if sq[i] == q for r in c.roots_of[i]})
                dom = self.cp.Domain.from_values([-1 - q] + values)
                owners[q] = self.m.new_int_var_from_domain(dom, "")
                self.all_vars.append(owners[q])
            self.m.add_all_different(owners.values())
            self.kept = []
            for i in range(len(units)):
                k = self._bool()
                self.m.add(self.lab[i] == owners[int(sq[i])]).only_enforce_if(k)
                self.kept.append(k)
        return self.kept

    def objective_terms(self, name):
        """(integer expression, scale): objective value = expression / scale, sense ``SENSE[name]``."""
        units = self.setup.model
        if name == "max-plans":
            return sum(self.y.values()), 1
        if name == "collaboration":
            weights, scale = integer_weights(units.collaboration, "collaboration weights")
            return sum(w * self._same(i, j) for (i, j), w in weights.items() if w), scale
        if name == "compact":
            return len(units.edges) - sum(self._same(i, j) for i, j in units.edges), 1
        if name == "disruption":
            w = self.setup.disruption_weight
            kept = self._kept()
            return int(w.sum()) - sum(int(w[i]) * kept[i] for i in range(len(units))), 1
        raise ValueError(name)

    def _objective(self, names, weights):
        if not weights:
            expr, scale = self.objective_terms(names[0])
            return expr, scale, SENSE[names[0]]
        total = 0
        for name in names:
            expr, scale = self.objective_terms(name)
            coef = round(weights.get(name, 1.0) * SENSE[name] * 1_000_000 / scale)
            total += coef * expr
        return total, 1_000_000, 1

    def optimise(self, names, weights, time_limit, seed, workers, progress, start, clock=None):
        """Solve one stage; returns (status name, root label per unit or None, bound in user units).

        With a ``CpsatClock``, ``time_limit`` is deterministic time, one worker searches
        and the wall clock stops the stage only at ``safety_seconds`` of its share.
        """
        expr, scale, sense = self._objective(names, weights)
        if sense > 0:
            self.m.maximize(expr)
        else:
            self.m.minimize(expr)
        solver = self.cp.CpSolver()
        params = solver.parameters
        if time_limit is not None:
            params.max_time_in_seconds = float(time_limit)
        params.random_seed = int(seed)
        params.num_workers = int(workers) if workers else 2
        if clock is not None:
            params.num_workers = 1
            params.max_deterministic_time = float(time_limit)
            params.max_time_in_seconds = safety_seconds(float(time_limit) / CPSAT_DETERMINISTIC_PER_SECOND)
        if self.setup.candidates.restricted:
            # Large models: CP-SAT's presolve can eat the whole time limit before it even uses the
            # warm start; without it the hint is the first incumbent at once.
            params.cp_model_presolve = False
        callback = _callback(self, scale, start, progress)
        if progress is not None:
            def on_bound(value):
                progress({"incumbent": callback.best, "bound": value / scale,
                          "elapsed": time.perf_counter() - start, "plans": callback.plans})
            solver.best_bound_callback = on_bound
        code = solver.solve(self.m, callback)
        status = solver.status_name(code)
        if clock is not None:
            clock.spent(solver, code, params.max_time_in_seconds)
        log.info("cpsat stage %s: %s objective %s bound %s in %.1f s", "+".join(names), status,
                 solver.objective_value if code in (self.cp.OPTIMAL, self.cp.FEASIBLE) else None,
                 solver.best_objective_bound, solver.wall_time)
        if code not in (self.cp.OPTIMAL, self.cp.FEASIBLE):
            return status, None, None
        self.stage_value = solver.objective_value / scale
        self.stage_expr = (expr, sense)
        labels = [solver.value(v) for v in self.lab]
        self.m.clear_hints()
        for v in self.all_vars:
            self.m.add_hint(v, solver.value(v))
        return status, labels, solver.best_objective_bound / scale

    def fix_stage(self, names, weights, value):
        """Keep the stage's objective at least as good as ``value`` in later stages."""
        expr, sense = self.stage_expr
        _, scale, _ = self._objective(names, weights)
        target = round(value * scale)
        self.m.add(expr >= target if sense > 0 else expr <= target)

    def add_hint(self):
        """Hint every variable from the warm start (roots, arcs along a BFS tree, depths)."""
        hint = self.setup.hint
        if hint is None:
            return
        units, c = self.setup.model, self.setup.candidates
        groups: dict = {}
        for u, lab in enumerate(hint):
            groups.setdefault(lab, []).append(u)
        for members in groups.values():
            root = min(members, key=lambda u: c.rank[u])
            inside = set(members)
            for i in members:
                for r in c.roots_of[i]:
                    self.m.add_hint(self.x[i, r], r == root)
                self.m.add_hint(self.lab[i], root)
            depth, order = {root: 0}, [root]
            parent = {}
            for u in order:
                for v in units.neighbors[u]:
                    if v in inside and v not in depth:
                        depth[v] = depth[u] + 1
                        parent[v] = u
                        order.append(v)
            for i in members:
                if i in depth:
                    self.m.add_hint(self.depth[i], depth[i])
                for j in units.neighbors[i]:
                    if (i, j) in self.arcs:
                        self.m.add_hint(self.arcs[i, j], parent.get(i) == j)


def _callback(model: _Model, scale: int, start: float, progress):
    """A solution callback that reports each new incumbent to ``progress``."""
    from ortools.sat.python import cp_model

    class Callback(cp_model.CpSolverSolutionCallback):
        def __init__(self):
            super().__init__()
            self.best, self.plans = None, None

        def on_solution_callback(self):
            self.best = self.objective_value / scale
            self.plans = int(sum(self.value(y) for y in model.y.values()))
            if progress is not None:
                progress({"incumbent": self.best, "bound": self.best_objective_bound / scale,
                          "elapsed": time.perf_counter() - start, "plans": self.plans})

    return Callback()
