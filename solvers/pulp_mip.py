"""The same partition problem as an independent MILP with PuLP/CBC; for small instances.

Formulation (candidate pairs and class terms shared with ``cpsat`` through ``model_data``;
the contiguity and class encodings are different, so the two solvers cross-check each other):

Assignment (``_assignment``): ``x[i,r] in {0,1}``, ``sum_r x[i,r] = 1``, ``x[i,r] <= x[r,r] = y[r]``.
Contiguity (``_flow``), a single-commodity flow per root: ``f[i,j,r] >= 0`` on arcs between
    candidate members of ``r``; ``f[i,j,r] <= (|M_r| - 1) x[i,r]`` and ``<= (|M_r| - 1) x[j,r]``;
    for every member ``i != r``: inflow - outflow = ``x[i,r]``. Every member then receives flow
    from the root along arcs inside the plan, i.e. the plan is connected.
Floors (``_floors``), big-M reification of the class rule: ``mt, dh, dl in {0,1}`` with
    ``mt = 1 <=> sum_i mountain_i x[i,r] >= 1``, ``dh = 1 <=> sum_i high_i x[i,r] >= 0``,
    ``dl = 1 <=> sum_i low_i x[i,r] >= 0``; mountain ``mm = mt AND below`` (``mm <= mt``,
    ``mm <= below``, ``mm >= mt + below - 1``), ``below = 1 - dh`` when the mountain density cut-off
    is the high-density one, else ``below = 1 <=> sum_i cap_i x[i,r] >= 1``; ``P[r] >= f_low y``,
    ``P >= f_m mm``, ``P >= f_h (y - mm + dh - 1)``, ``P >= f_l (y - mm - dh + dl - 1)``,
    ``P >= f_s (y - mm - dh - dl)``.
Number of plans (``_plan_count``): ``min_plans <= sum_r y[r] <= max_plans`` (the problem's
    ``min_plans`` and ``max_plans``). Ceiling ``P[r] <= ceiling``; locks ``x[i,r] = x[j,r]`` within a label and
    ``x[a,r] + x[b,r] <= 1`` across labels; groups kept whole (``keep_together``, ``_together``):
    ``x[i,r] = x[j,r]`` for the units of one ``Units.together`` set (a missing pair counts 0).
Objectives: max-plans ``sum y``; collaboration ``sum w s`` and compact ``sum c (1 - s)`` (``c``
    the municipality edges behind a unit edge) with ``s_ij <= 1 - x[i,r] + x[j,r]`` both ways;
    disruption ``sum_i w_i (1 - sum_r k[i,r])`` with ``h[r,q]`` (plan r continues status quo plan
    q, its successor; ``h <= y``, ``sum_r h <= 1``, several q may share one r),
    ``k[i,r] <= x[i,r]``, ``k[i,r] <= h[r, sq(i)]``; in repair mode a unit locked to current plan
    q has ``x[i,r] <= h[r,q]``. Lexicographic by fixing each stage's value.
"""

from __future__ import annotations

import logging
import time

import pulp

from lombardy_districts.model.problem import SolveResult, relative_gap

from . import exact
from ._cbc import timed_cbc
from .base import Progress, Solver
from .exact import (
    checked_plan,
    details_of,
    full_labels,
    objective_values,
    prepared,
    rejected,
    stages_of,
)
from .model_data import integer_weights
from .model_setup import SENSE, Setup
from .repair_zone import widened

log = logging.getLogger(__name__)


class PulpSolver(Solver):
    """MILP with PuLP and CBC (see the module docstring); meant for small instances."""

    name = "pulp"
    TUNING = {**exact.TUNING, "restrict": False}

    def solve(self, warm_start=None, progress: Progress | None = None) -> SolveResult:
        """Solve (``_solve_once``); a repair zone shown to hold no repair is widened (``repair_zone.widened``)."""
        return widened(self, warm_start, progress)

    def _solve_once(self, warm_start, progress: Progress | None) -> SolveResult:
        """Solve with CBC; ``progress`` is called once per lexicographic stage."""
        start = time.perf_counter()
        problem = self.problem
        time_limit, seed, workers = self.options.time_limit, self.options.seed, self.threads
        setup = prepared(self.name, problem, start, self.tuning, warm_start, time_limit, seed, stop=self.stop)
        if isinstance(setup, SolveResult):
            return setup
        details = details_of(setup)
        model = _Milp(setup, pulp)
        stages = stages_of(problem)
        statuses, answer, moves = [], None, None
        for k, names in enumerate(stages):
            if self.stop.is_set():  # CBC runs in its own process: a stop ends the search between stages
                statuses.append("stopped")
                break
            left = None if time_limit is None else max(1.0, time_limit - setup.used(start))
            share = exact.stage_share(problem, k, len(stages), left)
            cap = exact.plan_cap(setup, names, moves)
            model.tick = _ticker(progress, start, f"CBC is solving stage {k + 1} of {len(stages)} "
                                 f"({'+'.join(names)}); it reports only when a stage ends")
            status, labels, value = model.optimise(names, problem.weights, share, seed, workers, cap)
            statuses.append(status)
            if labels is None:
                break
            answer = labels
            if names == ["disruption"]:
                moves = value
            told = exact.whole_map_progress(setup, progress, names)
            if told is not None:  # a stage other than the plan count says which (as CP-SAT's reports do)
                named = {} if names == ["max-plans"] else {"objective": "+".join(names)}
                told({"incumbent": value, "bound": value if status == "optimal" else None,
                      "elapsed": time.perf_counter() - start, "plans": len(set(labels)), **named})
            model.fix(value)
        elapsed = time.perf_counter() - start
        if answer is None and setup.hint is not None and statuses[0] != "infeasible":
            answer = setup.hint  # CBC found nothing in time (or was stopped): the (compliant) warm start
            statuses.append("warm_start")
            details["notes"].append("CBC found no solution in time; the warm start is returned")
        if answer is None:
            return exact.no_plan(self.name, setup, statuses[0] == "infeasible", "CBC", details, elapsed)
        labels = full_labels(setup, answer)
        plan, violations = checked_plan(setup, labels)
        if violations:
            return rejected(self.name, violations, details, elapsed)
        values = objective_values(setup, labels)
        details["objectives"] = values
        details["stage_status"] = statuses
        restricted = setup.candidates.restricted or bool(setup.fixed)
        optimal = all(s == "optimal" for s in statuses) and len(statuses) == len(stages)
        status = "optimal" if (optimal and not restricted) or exact.repair_proved(setup, values) else "feasible"
        if problem.weights:
            objective = sum(problem.weights.get(o, 1.0) * SENSE[o] * values[o] for o in problem.objectives)
        else:
            objective = values[problem.objectives[0]]
        bound = objective if optimal and not restricted else setup.least_moves
        if problem.objectives[0] == "max-plans" and not problem.weights and bound is None:
            bound = float(setup.bound.value if setup.plan_range[1] is None
                          else min(setup.bound.value, setup.plan_range[1]))
            details["bound_method"] = setup.bound.method
        return SolveResult(self.name, status, plan, objective, bound, relative_gap(objective, bound), elapsed,
                           message=f"{len(plan)} plans, {status}", details=details)


def _ticker(progress: Progress | None, start: float, note: str):
    """A report of the time alone while CBC runs: the note the first time, then just the clock."""
    if progress is None:
        return None
    said = [False]

    def tick() -> None:
        report = {"incumbent": None, "bound": None, "elapsed": time.perf_counter() - start, "plans": None}
        progress(report if said[0] else {**report, "note": note})
        said[0] = True
    return tick


class _Milp:
    """The PuLP model of a ``Setup``; one builder per constraint family."""

    def __init__(self, setup: Setup, pulp):
        self.setup, self.pulp = setup, pulp
        self.tick = None  # called about once a second while CBC runs (``_ticker``)
        self.prob = pulp.LpProblem("plans", pulp.LpMaximize)
        self.stage = None
        self._assignment()
        self._flow()
        self._floors()
        self._locks()
        self._together()
        self._plan_count()
        self.same: dict = {}
        self.kept: list | None = None
        if setup.problem.mode == "repair":
            self._kept()  # repair keeps every current plan, whatever the objectives

    def _var(self, name, cat="Binary", low=0, up=1):
        return self.pulp.LpVariable(name, lowBound=low, upBound=up, cat=cat)

    def _assignment(self):
        c = self.setup.candidates
        self.x = {(i, r): self._var(f"x_{i}_{r}") for i, roots in enumerate(c.roots_of) for r in roots}
        self.y = {r: self.x[r, r] for r in c.members_of}
        for i, roots in enumerate(c.roots_of):
            self.prob += self.pulp.lpSum(self.x[i, r] for r in roots) == 1
            for r in roots:
                if r != i:
                    self.prob += self.x[i, r] <= self.y[r]

    def _flow(self):
        units, c, lp = self.setup.model, self.setup.candidates, self.pulp
        for r, members in c.members_of.items():
            inside = set(members)
            big = len(members) - 1
            if big == 0:
                continue
            inflow = {i: [] for i in members}
            outflow = {i: [] for i in members}
            for i in members:
                for j in units.neighbors[i]:
                    if j in inside and j != r:
                        f = self._var(f"f_{i}_{j}_{r}", "Continuous", 0, big)
                        self.prob += f <= big * self.x[i, r]
                        self.prob += f <= big * self.x[j, r]
                        outflow[i].append(f)
                        inflow[j].append(f)
            for i in members:
                if i != r:
                    self.prob += lp.lpSum(inflow[i]) - lp.lpSum(outflow[i]) == self.x[i, r]

    def _floors(self):
        terms, c, lp = self.setup.terms, self.setup.candidates, self.pulp
        p = self.setup.model.population
        floors, low = terms.floors, min(terms.floors.values())
        ceiling = self.setup.problem.rules.ceiling
        for r, members in c.members_of.items():
            pop = lp.lpSum(int(p[i]) * self.x[i, r] for i in members)
            y = self.y[r]
            self.prob += pop >= low * y
            if ceiling is not None:
                self.prob += pop <= ceiling
            if terms.uniform:
                continue
            flags = {}
            parts = [("mt", terms.mountain, 1), ("dh", terms.high, 0), ("dl", terms.low, 0)]
            if terms.cap is not None:
                parts.append(("bc", terms.cap, 1))
            for name, coef, cut in parts:
                flag = self._var(f"{name}_{r}")
                expr = lp.lpSum(int(coef[i]) * self.x[i, r] for i in members if coef[i] != 0)
                top = sum(int(coef[i]) for i in members if coef[i] > 0)
                bottom = sum(int(coef[i]) for i in members if coef[i] < 0)
                self.prob += expr >= cut - (cut - bottom) * (1 - flag)    # flag = 1 => expr >= cut
                self.prob += expr <= cut - 1 + (top - cut + 1) * flag     # flag = 0 => expr <= cut - 1
                flags[name] = flag
            mt, dh, dl = flags["mt"], flags["dh"], flags["dl"]
            below = flags.get("bc", 1 - dh)
            mm = self._var(f"mm_{r}")  # mountain: mostly mountain area and below the density cut-off
            self.prob += mm <= mt
            self.prob += mm <= below
            self.prob += mm >= mt + below - 1
            self.prob += pop >= floors["mountain"] * mm
            self.prob += pop >= floors["high_density"] * (y - mm + dh - 1)
            self.prob += pop >= floors["low_density"] * (y - mm - dh + dl - 1)
            self.prob += pop >= floors["standard"] * (y - mm - dh - dl)

    def _plan_count(self):
        low, high = self.setup.model_plan_range
        count = self.pulp.lpSum(self.y.values())
        if low is not None:
            self.prob += count >= low
        if high is not None:
            self.prob += count <= high

    def _locks(self):
        c = self.setup.candidates
        by_label: dict[str, list[int]] = {}
        for u, label in self.setup.model.locked.items():
            by_label.setdefault(label, []).append(u)
        heads = []
        for members in by_label.values():
            heads.append(members[0])
            for u in members[1:]:
                for r in set(c.roots_of[u]) | set(c.roots_of[members[0]]):
                    self.prob += self.x.get((u, r), 0) == self.x.get((members[0], r), 0)
        for a in range(len(heads)):
            for b in range(a + 1, len(heads)):
                for r in set(c.roots_of[heads[a]]) & set(c.roots_of[heads[b]]):
                    self.prob += self.x[heads[a], r] + self.x[heads[b], r] <= 1

    def _together(self):
        c = self.setup.candidates
        for members in self.setup.model.together:
            head = members[0]
            for u in members[1:]:
                for r in set(c.roots_of[u]) | set(c.roots_of[head]):
                    self.prob += self.x.get((u, r), 0) == self.x.get((head, r), 0)

    def _same(self, i, j):
        key = (min(i, j), max(i, j))
        if key not in self.same:
            s = self._var(f"s_{key[0]}_{key[1]}")
            c = self.setup.candidates
            for a, b in ((i, j), (j, i)):
                for r in c.roots_of[a]:
                    self.prob += s <= 1 - self.x[a, r] + self.x.get((b, r), 0)
            self.same[key] = s
        return self.same[key]

    def _kept(self):
        if self.kept is None:
            units, c, lp = self.setup.model, self.setup.candidates, self.pulp
            sq = [int(v) for v in units.status_quo]
            h = {}
            for i in range(len(units)):
                for r in c.roots_of[i]:
                    if (r, sq[i]) not in h:
                        h[r, sq[i]] = self._var(f"h_{r}_{sq[i]}")
            repair = self.setup.problem.mode == "repair"
            for (r, _), v in h.items():  # several status quo plans may share a successor ...
                self.prob += v <= self.y[r]
            if repair:  # ... except in repair mode, which keeps every current plan
                for r in {r for r, _ in h}:
                    self.prob += lp.lpSum(v for (rr, _), v in h.items() if rr == r) <= self.y[r]
            for q in set(sq):
                owned = lp.lpSum(v for (_, qq), v in h.items() if qq == q)
                self.prob += (owned == 1) if repair else (owned <= 1)
            self.kept = []
            for i in range(len(units)):
                ks = []
                for r in c.roots_of[i]:
                    k = self._var(f"k_{i}_{r}", "Continuous")
                    self.prob += k <= self.x[i, r]
                    self.prob += k <= h[r, sq[i]]
                    ks.append(k)
                self.kept.append(lp.lpSum(ks))
            if repair:
                self._owner_holds_most(sq)
                for u, q in units.lock_plan.items():  # a lock names the current plan whose successor holds it
                    for r in c.roots_of[u]:
                        self.prob += self.x[u, r] <= h.get((r, q), 0)
        return self.kept

    def _owner_holds_most(self, sq) -> None:
        """Repair mode: each plan's owner holds at least as much of it as any other plan (its successor).

        Measured as the scorecard does, municipalities then inhabitants (``Units.heir_weights``).
        """
        c, lp, kept_of = self.setup.candidates, self.pulp, self.kept
        w = self.setup.model.heir_weights()
        assert kept_of is not None
        for q in set(sq):
            units = [i for i in range(len(sq)) if sq[i] == q]
            kept = lp.lpSum(int(w[i]) * kept_of[i] for i in units)
            for r in sorted({r for i in units for r in c.roots_of[i]}):
                self.prob += kept >= lp.lpSum(int(w[i]) * self.x[i, r] for i in units if (i, r) in self.x)

    def _terms(self, name):
        units, lp = self.setup.model, self.pulp
        if name == "max-plans":
            return lp.lpSum(self.y.values()), 1
        if name == "collaboration":
            weights, scale = integer_weights(units.collaboration, "collaboration weights")
            return lp.lpSum(w * self._same(i, j) for (i, j), w in weights.items() if w), scale
        if name == "compact":
            counts = units.edge_count
            return sum(counts.values()) - lp.lpSum(counts[i, j] * self._same(i, j) for i, j in units.edges), 1
        if name == "disruption":
            w = self.setup.disruption_weight
            kept = self._kept()
            return int(w.sum()) - lp.lpSum(int(w[i]) * kept[i] for i in range(len(units))), 1
        raise ValueError(name)

    def optimise(self, names, weights, time_limit, seed, workers, cap=None):
        """Solve one stage: (status, root label per unit or None, objective in user units).

        ``cap``, a proved upper bound on the number of plans, enters the model of a max-plans
        stage, so CBC stops with a proof as soon as a solution reaches it.
        """
        lp = self.pulp
        if weights:  # scaled by the largest weight, as in the CP-SAT model: small coefficients
            top = max(weights.get(n, 1.0) for n in names) or 1.0
            expr = lp.lpSum(round(weights.get(n, 1.0) / top * SENSE[n] * 1_000_000 / self._terms(n)[1])
                            * self._terms(n)[0] for n in names)
            scale, sense = 1_000_000 / top, 1
        else:
            expr, scale = self._terms(names[0])
            sense = SENSE[names[0]]
            if cap is not None and sense > 0:
                self.prob += expr <= cap * scale
        self.prob.sense = lp.LpMaximize if sense > 0 else lp.LpMinimize
        self.prob.setObjective(expr)
        solver = timed_cbc(lp, time_limit, self.setup.stop, self.tick, threads=workers or 1,
                           options=[f"randomCbcSeed {int(seed) % (2**31 - 1) + 1}"])  # CBC: 1 to 2^31-1
        try:
            self.prob.solve(solver)
        except lp.PulpSolverError:
            if not self.setup.stop.is_set():
                raise
            return "stopped", None, None  # Ctrl-C reached CBC too (same process group) and it gave up
        sol = self.prob.sol_status
        if sol == 0 and self.prob.status == lp.LpStatusInfeasible:
            sol = -1  # CBC proved it infeasible; its solution status only says there is no solution
        status = {1: "optimal", 2: "feasible", -1: "infeasible"}.get(sol, "timeout")
        log.info("pulp stage %s: %s", "+".join(names), status)
        if sol not in (1, 2):
            return status, None, None
        # CBC leaves a variable it never needed without a value, where lp.value gives None: count it 0
        value = expr.constant + sum(coef * (var.varValue or 0.0) for var, coef in expr.items())
        self.stage = (expr, sense, value)
        c = self.setup.candidates
        labels = [max(c.roots_of[i], key=lambda r: self.x[i, r].value() or 0) for i in range(len(c.roots_of))]
        return status, labels, value / scale

    def fix(self, value):
        """Keep the last stage's objective at its value in later stages.

        Every stage's expression takes whole values (integer weights), so a slack of one half keeps
        exactly the same plans while CBC's tolerances cannot make the stage look infeasible.
        """
        expr, sense, raw = self.stage
        self.prob += (expr >= raw - 0.5) if sense > 0 else (expr <= raw + 0.5)
