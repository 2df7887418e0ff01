r"""A bound on the number of plans from the set-packing LP over every connected compliant group.

Every area plan is a connected group of units that complies with the rules (a *column*). The LP
``max sum_S x_S`` subject to ``sum_{S ni i} x_S <= 1`` for every unit, ``x >= 0``, over every
column bounds the number of plans from above. Column generation solves it over a growing list of
columns; its duals ``y >= 0`` (one per unit) price the columns left out. If ``theta`` is a proved
lower bound on ``sum_{i in S} y_i`` over *every* column ``S``, then ``y / theta`` is feasible for the
dual LP over all of them, so

.. math::

    \#\text{plans} \le \text{LP} \le \frac{\sum_i y_i}{\min(1, \theta)},

a bound at every round, equal to the LP once pricing proves ``theta >= 1``. Columns come from two
kinds of pricing:

- heuristic (``Columns.grow``): from every unit, add the neighbour with the least dual per
  inhabitant (with noise) until the group complies under ``Layout.complies`` (class floor and
  ceiling), then drop units while it complies and stays connected;
- exact (``least_column``): a CP-SAT model of one connected compliant group (a root, parent arcs
  with decreasing depth, the class floor of ``cpsat_model.add_class_floor``, the ceiling) with the
  least dual sum; its proved bound is ``theta``.

Hard boundaries, locks and groups kept whole are left out, which only loosens the bound. Exact
pricing is quick on about 60 units (Mantova, 64: the LP 11.48 proved in 5 s) and weak beyond
about 80 (Lecco, 84: no positive ``theta`` in 20 s per round), so ``bounds`` uses it on small
maps only (``column_bound``).
"""

from __future__ import annotations

import math
import time

import numpy as np
from ortools.sat.python import cp_model
from scipy.optimize import linprog

from lombardy_districts.model.rules import Rules
from lombardy_districts.model.stop import Stop

from ._budget import refuse_invalid, safety_seconds
from ._layout import Layout
from .bounds import PlanBound, whole
from .cpsat_model import add_class_floor
from .model_data import ClassTerms
from .set_partition import cover_matrix
from .units import Units, reach

COLUMN_METHOD = "set-packing LP over connected compliant groups (column generation, exact pricing by CP-SAT)"
COLUMN_UNITS = (20, 70)
"""``tighter_by_columns`` runs on maps of this many units (on Sondrio, 77, and Lecco, 84, it proved nothing in 10 s)."""
COLUMN_SHARE, COLUMN_SECONDS = 0.15, 10.0
"""... for this share of the time limit, at most this many seconds."""


class Columns:
    """Grow, trim and check compliant connected columns of one problem's units."""

    def __init__(self, units: Units, rules, seed: int):
        self.units, self.layout = units, Layout(units, rules)
        self.rng = np.random.default_rng(seed)

    def complies(self, group) -> bool:
        """Whether the units of ``group`` meet the floor of their class and the ceiling (``Layout``)."""
        return self.layout.complies(self.layout.totals(group))

    def valid(self, group) -> bool:
        """Whether ``group`` complies and is connected."""
        return self.complies(group) and len(reach(self.units.neighbors, group[0], set(group))) == len(group)

    def grow(self, seed_unit: int, duals: np.ndarray, noise: float) -> tuple[int, ...] | None:
        """A compliant connected column holding ``seed_unit``, cheap in duals; None if none is found."""
        u = self.units
        group, inside, frontier = [seed_unit], {seed_unit}, set(u.neighbors[seed_unit])
        while not self.complies(group) and frontier and duals[group].sum() < 2:
            options = sorted(frontier)
            cost = (duals[options] + 1e-4) / (u.population[options] + 1)
            pick = options[int(np.argmin(cost * self.rng.uniform(1 - noise, 1 + noise, len(options))))]
            group.append(pick)
            inside.add(pick)
            frontier = (frontier | set(u.neighbors[pick])) - inside
        return self.trim(group, duals) if self.complies(group) else None

    def trim(self, group: list[int], duals: np.ndarray) -> tuple[int, ...]:
        """Drop the dearest units while the group still complies and stays connected."""
        dropped = True
        while dropped:
            dropped = False
            for unit in sorted(group, key=lambda v: -duals[v]):
                rest = [v for v in group if v != unit]
                if rest and self.valid(rest):
                    group, dropped = rest, True
                    break
        return tuple(sorted(group))


def column_lp(columns: list[tuple[int, ...]], n: int, exact: bool = False) -> tuple[float, np.ndarray]:
    """Value and unit duals of the LP over ``columns``.

    Each unit in at most one column (packing; duals at least 0), or with ``exact`` in exactly one
    (set partitioning; the columns must cover every unit).
    """
    cover, ones = cover_matrix(columns, n), np.ones(n)
    result = linprog(-np.ones(len(columns)), A_ub=None if exact else cover, b_ub=None if exact else ones,
                     A_eq=cover if exact else None, b_eq=ones if exact else None, bounds=(0, None), method="highs")
    if result.status != 0:
        raise RuntimeError(f"{'set-partitioning' if exact else 'packing'} LP failed: {result.message}")
    duals = -(result.eqlin if exact else result.ineqlin).marginals
    return -result.fun, duals if exact else np.maximum(duals, 0.0)


SCALE = 10**6
"""Duals enter the pricing model as whole millionths, rounded down: its bound stays a bound."""
HEURISTIC_ROUNDS = 20
EXACT_ROUNDS = 200
PRICING_SECONDS = 2.0
"""``column_bound``'s rounds: heuristic ones first, then exact ones of this many seconds each."""


def least_column(units: Units, rules, duals: np.ndarray, seconds: float, seed: int = 0, workers: int = 0,
                 deterministic: bool = False):
    """The connected compliant group of ``units`` with the least dual sum, by CP-SAT.

    Returns ``(theta, found)``: ``theta`` a proved lower bound on the dual sum of every connected
    group that meets its class floor and the ceiling (hard boundaries and locks are left out, as in
    ``Columns``), and ``found`` the groups CP-SAT met on the way (dual sums rounded down, so check
    them). ``theta`` is the least sum itself when CP-SAT proves its answer optimal within ``seconds``
    (deterministic time with ``deterministic``, one worker; else ``workers``, 0 for CP-SAT's choice).
    """
    n = len(units)
    m = cp_model.CpModel()
    x = [m.new_bool_var(f"x{i}") for i in range(n)]
    root = [m.new_bool_var(f"root{i}") for i in range(n)]
    depth = [m.new_int_var(0, n, f"d{i}") for i in range(n)]
    m.add_exactly_one(root)
    for i in range(n):
        m.add_implication(root[i], x[i])
        for j in range(i):  # the root is the group's first unit
            m.add_implication(root[i], ~x[j])
        parents = []
        for j in units.neighbors[i]:
            arc = m.new_bool_var("")
            m.add_implication(arc, x[j])
            m.add(depth[i] >= depth[j] + 1).only_enforce_if(arc)
            parents.append(arc)
        m.add(sum(parents) == x[i] - root[i])  # a member other than the root has one parent
    pop = sum(int(units.population[i]) * x[i] for i in range(n))
    add_class_floor(m, ClassTerms.from_units(units, rules), dict(enumerate(x)), pop, 1,
                    lambda: m.new_bool_var(""))
    if rules.ceiling is not None:
        m.add(pop <= rules.ceiling)
    weights = np.floor(np.maximum(duals, 0.0) * SCALE).astype(np.int64)
    m.minimize(sum(int(w) * v for w, v in zip(weights, x) if w))
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = seed
    if deterministic:
        solver.parameters.num_workers = 1
        solver.parameters.max_deterministic_time = seconds
        solver.parameters.max_time_in_seconds = safety_seconds(seconds)
    else:
        solver.parameters.num_workers = workers
        solver.parameters.max_time_in_seconds = seconds
    found: list[tuple[int, ...]] = []

    class Found(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self):
            found.append(tuple(i for i in range(n) if self.value(x[i])))

    code = solver.solve(m, Found())
    refuse_invalid(solver, code, m)
    if solver.status_name(code) == "INFEASIBLE":
        return float("inf"), []
    return max(0.0, solver.best_objective_bound) / SCALE, found


def exact_rounds(grower: Columns, columns: list[tuple[int, ...]], rounds: int, seconds: float, seed: int = 0,
                 workers: int = 0, deterministic: bool = False):
    """Rounds of exact pricing that add to ``columns``; yields ``(LP, bound)`` after each pricing.

    ``bound`` is ``LP / min(1, theta)`` (module docstring), a bound on the number of plans. Stops
    after ``rounds`` rounds, or when pricing finds no new group with a dual sum under 1.
    ``seconds``, ``workers``, ``deterministic``: each pricing's (``least_column``).
    """
    n = len(grower.units)
    known = set(columns)
    for _ in range(rounds):
        value, duals = column_lp(columns, n) if columns else (0.0, np.zeros(n))
        theta, found = least_column(grower.units, grower.layout.rules, duals, seconds, seed, workers, deterministic)
        yield value, (value / min(1.0, theta) if theta > 0 else float("inf"))
        if not _add_new(grower, columns, known, found, duals):
            return


def generate(grower: Columns, columns: list[tuple[int, ...]], rounds: int, tries: int):
    """Rounds of pricing that add to ``columns`` in place; yields the packing LP after each.

    Stops after ``rounds + 1`` rounds, or when a round finds no new column with a dual sum under 1.
    """
    n = len(grower.units)
    known = set(columns)
    duals = np.zeros(n)  # the first round grows columns by population alone
    for _ in range(rounds + 1):
        grown = (grower.grow(unit, duals, 0.5 if k else 0.0) for unit in range(n) for k in range(tries))
        if not _add_new(grower, columns, known, [c for c in grown if c is not None], duals):
            return
        value, duals = column_lp(columns, n)
        yield value


def _add_new(grower: Columns, columns: list, known: set, candidates, duals: np.ndarray) -> bool:
    """Add to ``columns`` (and ``known``) the candidates not known yet with a dual sum under 1.

    Returns whether any was added. A column that is not connected and compliant is refused: the
    LP would no longer be a relaxation of the plans.
    """
    new = [c for c in dict.fromkeys(candidates) if c not in known and duals[list(c)].sum() < 1 - 1e-6]
    bad = [c for c in new if not grower.valid(list(c))]
    if bad:
        raise RuntimeError(f"column {bad[0]} is not connected and compliant; this is a bug: please report it")
    known.update(new)
    columns += new
    return bool(new)


def column_bound(units: Units, rules, seconds: float, seed: int = 0, deterministic: bool = False,
                 stop: Stop | None = None) -> float:
    """The least bound the rounds prove in about ``seconds`` (module docstring); inf if none.

    ``HEURISTIC_ROUNDS`` rounds of heuristic pricing, then exact rounds of ``PRICING_SECONDS`` each
    (one worker) while time is left. ``deterministic``: the exact rounds count CP-SAT's
    deterministic time and stop after ``seconds / PRICING_SECONDS`` rounds, so the same bound comes
    out on any machine.
    """
    grower = Columns(units, rules, seed)
    columns: list[tuple[int, ...]] = []
    end = time.perf_counter() + seconds
    for _ in generate(grower, columns, HEURISTIC_ROUNDS, 3):
        if (stop is not None and stop.is_set()) or (not deterministic and time.perf_counter() > end):
            return math.inf
    best = math.inf
    planned = max(1, int(seconds / PRICING_SECONDS)) if deterministic else EXACT_ROUNDS
    for _, bound in exact_rounds(grower, columns, planned, PRICING_SECONDS, seed, 1, deterministic):
        best = min(best, bound)
        if (stop is not None and stop.is_set()) or (not deterministic and time.perf_counter() > end):
            break
    return best


def column_seconds(units: Units, time_limit: float | None) -> float:
    """Seconds ``tighter_by_columns`` may take on ``units`` within ``time_limit`` (0: it does not run)."""
    low, high = COLUMN_UNITS
    if not low <= len(units) <= high:
        return 0.0
    return min(COLUMN_SECONDS, COLUMN_SHARE * (60.0 if time_limit is None else time_limit))


def tighter_by_columns(bound: PlanBound, units: Units, rules: Rules, found: int, seconds: float, seed: int,
                       deterministic: bool = False, stop=None) -> tuple[PlanBound, bool]:
    """``bound``, or the column bound (``column_bound``) when lower; and whether that ran.

    It runs for ``seconds`` only while ``bound`` is above ``found``, the number of plans of a plan
    in hand: when the two meet there is nothing left to prove.
    """
    if seconds <= 0 or bound.value <= found or bound.infeasible_parts:
        return bound, False
    value = column_bound(units, rules, seconds, seed, deterministic, stop)
    if math.isfinite(value) and whole(value) < bound.value:
        return PlanBound(whole(value), f"{COLUMN_METHOD} (tighter than the {bound.method})", []), True
    return bound, True
