"""The CP-SAT model behind ``CPSATSolver``: one builder per constraint family.

The formulation is in the docstring of ``solvers.cpsat``; ``CPSATSolver`` and the
large-neighbourhood search (``solvers.lns``) both build this model.
"""

from __future__ import annotations

import logging
import math
import time
from functools import partial

from ortools.sat.python import cp_model

from ._budget import CPSAT_DETERMINISTIC_PER_SECOND, refuse_invalid, safety_seconds
from .model_data import integer_weights
from .model_setup import SENSE, Setup

log = logging.getLogger(__name__)


def add_class_floor(m, terms, x: dict, pop, y, new_bool, inside=None) -> None:
    """The floor of its class for the plan whose members are the literals ``x`` (unit -> literal).

    ``pop`` is its population (a linear expression), ``y`` the literal saying the plan exists,
    ``new_bool`` makes a Boolean variable, ``inside`` (the warm start's members, or None) hints the
    class flags. The class is decided by reified booleans over ``terms`` (``model_data.ClassTerms``).
    """
    floors = terms.floors
    low = min(floors.values())
    m.add(pop >= low * y)
    if terms.uniform:
        return
    mt, dh, dl = new_bool(), new_bool(), new_bool()
    flags = [(mt, terms.mountain, 1), (dh, terms.high, 0), (dl, terms.low, 0)]
    below = None
    if terms.cap is not None:
        below = new_bool()
        flags.append((below, terms.cap, 1))
    for flag, coef, cut in flags:
        expr = sum(int(coef[i]) * lit for i, lit in x.items() if coef[i] != 0)
        m.add(expr >= cut).only_enforce_if(flag)
        m.add(expr <= cut - 1).only_enforce_if(~flag)
        if inside is not None:
            m.add_hint(flag, int(sum(int(coef[i]) for i in inside)) >= cut)
    for name, condition in _class_cases(m, new_bool, y, mt, dh, dl, below):
        if floors[name] > low:
            m.add(pop >= floors[name]).only_enforce_if(condition)


def _class_cases(m, new_bool, y, mt, dh, dl, below):
    """(class, literals that together mean the plan rooted at ``y`` has that class).

    Mountain needs ``mt`` and a density below the cap: ``below``, or not dense (``~dh``)
    when the cap is the high-density cut-off (``below`` None).
    """
    if below is None:
        return (("mountain", [y, mt, ~dh]), ("high_density", [y, dh]),
                ("low_density", [y, ~mt, ~dh, dl]), ("standard", [y, ~mt, ~dh, ~dl]))
    mm = new_bool()  # mountain = mt and below
    m.add_bool_and([mt, below]).only_enforce_if(mm)
    m.add_bool_or([~mt, ~below]).only_enforce_if(~mm)
    return (("mountain", [y, mm]), ("high_density", [y, ~mm, dh]),
            ("low_density", [y, ~mm, ~dh, dl]), ("standard", [y, ~mm, ~dh, ~dl]))


class CpsatModel:
    """The CP-SAT model of a ``Setup``; one builder method per constraint family."""

    def __init__(self, setup: Setup):
        self.cp = cp_model
        self.setup = setup
        self.m = cp_model.CpModel()
        self.stage_value = None
        self.all_vars: list = []
        self.add_assignment()
        self.add_contiguity()
        self.add_floors()
        self.add_ceiling()
        self.add_locks()
        self.add_together()
        self.add_plan_count()
        self.same: dict = {}
        self.kept: list | None = None
        if setup.problem.mode == "repair":
            self._kept()  # repair keeps every current plan, whatever the objectives
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
        c = self.setup.candidates
        self.population = {}
        for r, members in c.members_of.items():
            pop = self._population(r)
            self.population[r] = pop
            add_class_floor(self.m, self.setup.terms, {i: self.x[i, r] for i in members}, pop, self.y[r],
                            self._bool, self._hinted_members(r))

    def _hinted_members(self, r):
        """Members of the warm start's plan rooted at ``r`` ([] when r is no root there), or None."""
        if self.setup.hint is None:
            return None
        return self._hint_plans().get(r, [])

    def _hint_plans(self) -> dict:
        """The warm start's plans: root (its member ranked first) -> members; computed once."""
        if not hasattr(self, "_hint_roots"):
            hint, rank = self.setup.hint, self.setup.candidates.rank
            assert hint is not None
            groups: dict = {}
            for u, lab in enumerate(hint):
                groups.setdefault(lab, []).append(u)
            self._hint_roots = {min(g, key=lambda u: rank[u]): g for g in groups.values()}
        return self._hint_roots

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

    def add_together(self):
        """Units of one ``together`` set (``keep_together``) share a plan: equal labels."""
        for members in self.setup.model.together:
            for u in members[1:]:
                self.m.add(self.lab[u] == self.lab[members[0]])

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
        """Disruption terms: ``owner`` (successor) of each status quo plan and ``k_i`` per unit.

        Several status quo plans may share a successor (a merger moves nobody); minimising the
        units not kept makes each owner the plan holding most of its plan (``measures.moved``).
        In repair mode every plan is kept: owners are all different, and each is the plan
        holding most of its status quo plan, so the successors the scorecard finds are these; a
        unit locked to a current plan is in that plan's owner (``Units.lock_plan``).
        """
        if self.kept is None:
            units, c = self.setup.model, self.setup.candidates
            sq = units.status_quo
            repair = self.setup.problem.mode == "repair"
            owners, members = {}, {}
            for q in sorted(set(int(v) for v in sq)):
                members[q] = [i for i in range(len(units)) if sq[i] == q]
                values = sorted({r for i in members[q] for r in c.roots_of[i]})
                dom = self.cp.Domain.from_values(values if repair else [-1 - q] + values)
                owners[q] = self.m.new_int_var_from_domain(dom, "")
                self.all_vars.append(owners[q])
            self.kept = []
            for i in range(len(units)):
                k = self._bool()
                self.m.add(self.lab[i] == owners[int(sq[i])]).only_enforce_if(k)
                self.kept.append(k)
            if repair:
                self._keep_every_plan(owners, members)
                for u, q in units.lock_plan.items():  # a lock names the current plan whose successor holds it
                    self.m.add(self.lab[u] == owners[q])
            self._hint_kept(owners, members)
        return self.kept

    def _hint_kept(self, owners, members) -> None:
        """Hint each owner as the warm start's plan holding most of its status quo plan, and ``k_i``."""
        if self.setup.hint is None or self.kept is None:
            return
        w = self.setup.disruption_weight
        root_of = {u: r for r, group in self._hint_plans().items() for u in group}
        for q, units in members.items():
            held: dict = {}
            for i in units:
                held[root_of[i]] = held.get(root_of[i], 0) + (1 if w is None else int(w[i]))
            owner = max(sorted(held), key=lambda r: held[r])
            self.m.add_hint(owners[q], owner)
            for i in units:
                self.m.add_hint(self.kept[i], root_of[i] == owner)

    def _keep_every_plan(self, owners, members) -> None:
        """Repair mode: distinct owners, each holding at least as much of its plan as any other plan.

        "As much" is measured as the scorecard does: municipalities, then inhabitants (``Units.heir_weights``),
        so each owner is the plan's successor and a repair never reads as a merger.
        """
        c, kept_of = self.setup.candidates, self.kept
        w = self.setup.model.heir_weights()
        assert kept_of is not None
        self.m.add_all_different(owners.values())
        for units in members.values():
            kept = sum(int(w[i]) * kept_of[i] for i in units)
            for r in sorted({r for i in units for r in c.roots_of[i]}):
                self.m.add(kept >= sum(int(w[i]) * self.x[i, r] for i in units if (i, r) in self.x))

    def objective_terms(self, name):
        """(integer expression, scale): objective value = expression / scale, sense ``SENSE[name]``."""
        units = self.setup.model
        if name == "max-plans":
            return sum(self.y.values()), 1
        if name == "collaboration":
            weights, scale = integer_weights(units.collaboration, "collaboration weights")
            return sum(w * self._same(i, j) for (i, j), w in weights.items() if w), scale
        if name == "compact":
            counts = units.edge_count
            return sum(counts.values()) - sum(counts[i, j] * self._same(i, j) for i, j in units.edges), 1
        if name == "disruption":
            w = self.setup.disruption_weight
            kept = self._kept()
            return int(w.sum()) - sum(int(w[i]) * kept[i] for i in range(len(units))), 1
        raise ValueError(name)

    def _objective(self, names, weights):
        """(expression, scale, sense); a weighted sum is scaled by its largest weight (small coefficients)."""
        if not weights:
            expr, scale = self.objective_terms(names[0])
            return expr, scale, SENSE[names[0]]
        top = max(weights.get(name, 1.0) for name in names) or 1.0
        total = 0
        for name in names:
            expr, scale = self.objective_terms(name)
            coef = round(weights.get(name, 1.0) / top * SENSE[name] * 1_000_000 / scale)
            total += coef * expr
        return total, 1_000_000 / top, 1

    def optimise(self, names, weights, time_limit, seed, workers, progress, start, clock=None, cap=None,
                 floor=None):
        """Solve one stage; returns (status name, root label per unit or None, bound in user units).

        With a ``CpsatClock``, ``time_limit`` is deterministic time, one worker searches
        and the wall clock stops the stage only at ``safety_seconds`` of its share. ``cap`` is a
        proved upper bound on the stage's objective (the number of plans): it enters the model, so
        CP-SAT stops with OPTIMAL as soon as a solution reaches it; ``floor``, likewise, a proved
        lower bound on a minimised one (the municipalities a repair moves).
        """
        expr, scale, sense = self._objective(names, weights)
        if progress is not None and tuple(names) != ("max-plans",):  # say which objective the numbers are
            progress = partial(_labelled, progress, "+".join(names))
        if cap is not None and sense > 0:
            self.m.add(expr <= math.floor(cap * scale))
        if floor is not None and sense < 0:
            self.m.add(expr >= math.ceil(floor * scale))
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
        params.catch_sigint_signal = False  # Ctrl-C reaches the front end, which stops us through setup.stop
        if clock is not None:
            params.num_workers = 1
            params.max_deterministic_time = float(time_limit)
            params.max_time_in_seconds = safety_seconds(float(time_limit) / CPSAT_DETERMINISTIC_PER_SECOND)
        if self.setup.candidates.restricted:
            # Large models: CP-SAT's presolve can eat the whole time limit before it even uses the
            # warm start; without it the hint is the first incumbent at once.
            params.cp_model_presolve = False
        callback = solution_callback(self, scale, start, progress)
        if progress is not None:
            def on_bound(value):
                progress({"incumbent": callback.best, "bound": value / scale,
                          "elapsed": time.perf_counter() - start, "plans": callback.plans})
            solver.best_bound_callback = on_bound
        with self.setup.stop.hook(solver.stop_search):
            code = solver.solve(self.m, callback)
        refuse_invalid(solver, code, self.m)
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
        for root, members in self._hint_plans().items():
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


def _labelled(progress, objective: str, info: dict) -> None:
    progress({**info, "objective": objective})


def solution_callback(model: CpsatModel, scale: int, start: float, progress):
    """A solution callback that reports each new incumbent to ``progress``."""
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
