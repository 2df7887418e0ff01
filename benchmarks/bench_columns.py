"""How low a bound from the set-packing relaxation could go: column generation, heuristic pricing.

    python benchmarks/bench_columns.py [--rounds 80] [--tries 3] [--floor 25000] [--seed 0] [--plan CSV]
                                        [--province Lecco] [--exact ROUNDS] [--pricing-time S]

Every area plan is a connected group of municipalities that complies with the rules (a
*column*). The LP relaxation "choose columns, each municipality in at most one" bounds the number
of plans from above, and its value over *some* columns is at most its value over all of them.
This script grows columns from every unit (adding the neighbour with the least LP dual per
inhabitant, with random noise, until the group complies under ``Layout.complies``, the class floor
and the ceiling; then units are dropped while it still complies and stays connected), re-solves
the LP over the columns found, and repeats while new columns with a dual sum under 1 turn up or
``--rounds`` run out. The default 80 rounds take about 21 minutes on one core under the shipped
rules on the whole region; ``--province`` works on one province alone.

It prints, per round, the LP value over the columns so far. That value is **not** a bound: it is
a lower estimate of the LP's value over every column, so no bound proved from this relaxation can
be below it. A bound needs exact pricing (the least dual sum over every compliant connected group),
which this script does not do. Every column is checked connected and compliant before it is used.

With ``--exact ROUNDS`` the heuristic rounds are followed by rounds of **exact pricing**
(``least_column``): a CP-SAT model of one connected compliant group (a root, parent arcs with
decreasing depth, the class floor of ``cpsat_model.add_class_floor``) with the least dual sum.
Its proved lower bound ``theta`` on that sum over *every* compliant connected group makes
``duals / theta`` feasible for the dual of the packing LP over all of them, so
``LP / min(1, theta)`` **is** a bound on the number of plans, printed each round; the columns it
finds are added, and when it proves ``theta >= 1`` the LP itself is the bound. On Lodi (60 units)
the heuristic rounds end at 4.05 and exact pricing raises the LP to 4.63 in about 40 rounds and 8
minutes: the heuristic rounds can stop far below the LP, so treat their value as a floor only.

With ``--plan`` (a compliant plan's CSV, such as one of ``benchmarks/plans/``) its plans are columns
from the start, so the columns can partition the map, and the script also prints the LP of set
partitioning ("each municipality in exactly one") over the final columns: the tighter relaxation,
whose value over every column is likewise at least that.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from ortools.sat.python import cp_model
from scipy.optimize import linprog

from lombardy_districts.model.options import Selection
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.selection import select_territory
from lombardy_districts.model.territory import Territory
from lombardy_districts.solvers._layout import Layout
from lombardy_districts.solvers.cpsat_model import add_class_floor
from lombardy_districts.solvers.model_data import ClassTerms
from lombardy_districts.solvers.set_partition import cover_matrix
from lombardy_districts.solvers.units import Units, reach
from lombardy_districts.workflows.propose import build_problem


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
    """Value and unit duals of the LP over ``columns``: each unit in at most one (packing; duals at
    least 0), or with ``exact`` in exactly one (set partitioning; the columns must cover every unit)."""
    cover, ones = cover_matrix(columns, n), np.ones(n)
    result = linprog(-np.ones(len(columns)), A_ub=None if exact else cover, b_ub=None if exact else ones,
                     A_eq=cover if exact else None, b_eq=ones if exact else None, bounds=(0, None), method="highs")
    if result.status != 0:
        raise RuntimeError(f"{'set-partitioning' if exact else 'packing'} LP failed: {result.message}")
    duals = -(result.eqlin if exact else result.ineqlin).marginals
    return -result.fun, duals if exact else np.maximum(duals, 0.0)


SCALE = 10**6
"""Duals enter the pricing model as whole millionths, rounded down: its bound stays a bound."""


def least_column(units: Units, rules, duals: np.ndarray, seconds: float, seed: int = 0):
    """The connected compliant group of ``units`` with the least dual sum, by CP-SAT.

    Returns ``(theta, found)``: ``theta`` a proved lower bound on the dual sum of every connected
    group that meets its class floor and the ceiling (hard boundaries and locks are left out, as in
    ``Columns``), and ``found`` the groups CP-SAT met on the way (dual sums rounded down, so check
    them). ``theta`` is the least sum itself when CP-SAT proves its answer optimal within ``seconds``.
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
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.random_seed = seed
    found: list[tuple[int, ...]] = []

    class Found(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self):
            found.append(tuple(i for i in range(n) if self.value(x[i])))

    code = solver.solve(m, Found())
    if solver.status_name(code) == "INFEASIBLE":
        return float("inf"), []
    return max(0.0, solver.best_objective_bound) / SCALE, found


def exact_rounds(grower: Columns, columns: list[tuple[int, ...]], rounds: int, seconds: float, seed: int = 0):
    """Rounds of exact pricing that add to ``columns``; yields ``(LP, bound)`` after each pricing.

    ``bound`` is ``LP / min(1, theta)`` (module docstring), a bound on the number of plans. Stops
    after ``rounds`` rounds, or when pricing proves that no group has a dual sum under 1.
    """
    n = len(grower.units)
    known = set(columns)
    for _ in range(rounds):
        value, duals = column_lp(columns, n) if columns else (0.0, np.zeros(n))
        theta, found = least_column(grower.units, grower.layout.rules, duals, seconds, seed)
        yield value, (value / min(1.0, theta) if theta > 0 else float("inf"))
        new = [c for c in dict.fromkeys(found) if c not in known and duals[list(c)].sum() < 1 - 1e-6]
        if not new:
            return
        assert all(grower.valid(list(c)) for c in new), "a column is not connected and compliant"
        known.update(new)
        columns += new


def plan_columns(path: str, territory: Territory, units: Units) -> list[tuple[int, ...]]:
    """The plans of the plan CSV at ``path`` as columns of ``units`` (one unit per municipality)."""
    index = {code: i for i, code in enumerate(units.ids)}
    assignment = Plan.from_csv(path, territory).assignment
    return [tuple(sorted(index[code] for code in group.index)) for _, group in assignment.groupby(assignment)]


def generate(grower: Columns, columns: list[tuple[int, ...]], rounds: int, tries: int):
    """Rounds of pricing that add to ``columns`` in place; yields the packing LP after each.

    Stops after ``rounds + 1`` rounds, or when a round finds no new column with a dual sum under 1.
    """
    n = len(grower.units)
    known = set(columns)
    duals = np.zeros(n)  # the first round grows columns by population alone
    for _ in range(rounds + 1):
        new = []
        for unit in range(n):
            for k in range(tries):
                column = grower.grow(unit, duals, 0.5 if k else 0.0)
                if column is not None and column not in known and duals[list(column)].sum() < 1 - 1e-6:
                    known.add(column)
                    new.append(column)
        if not new:
            return
        assert all(grower.valid(list(c)) for c in new), "a column is not connected and compliant"
        columns += new
        value, duals = column_lp(columns, n)
        yield value


def main() -> None:
    """Run the column generation and print each round (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=80, help="rounds of pricing (default 80)")
    parser.add_argument("--tries", type=int, default=3, help="columns grown per unit and round (default 3)")
    parser.add_argument("--floor", type=int, default=None,
                        help="one floor for every class instead of the shipped rules")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plan", help="a compliant plan CSV whose plans start the columns")
    parser.add_argument("--province", action="append", default=[], help="work on this province alone")
    parser.add_argument("--exact", type=int, default=0, metavar="ROUNDS",
                        help="then this many rounds of exact pricing, each printing a bound (default 0)")
    parser.add_argument("--pricing-time", type=float, default=20.0, metavar="S",
                        help="seconds of CP-SAT per exact pricing (default 20)")
    args = parser.parse_args()
    territory = select_territory(Territory.load(), Selection(province=tuple(args.province)))
    problem = build_problem(territory, floor=args.floor)
    units = Units.from_problem(problem)
    grower = Columns(units, problem.rules, args.seed)
    n = len(units)
    columns = plan_columns(args.plan, territory, units) if args.plan else []
    if not all(grower.valid(list(c)) for c in columns):
        raise SystemExit(f"{args.plan}: a plan is not connected and compliant under these rules")
    begin = time.perf_counter()
    value = column_lp(columns, n)[0] if columns else 0.0
    for round_, value in enumerate(generate(grower, columns, args.rounds, args.tries)):
        print(f"round {round_}: {len(columns):,} columns, packing LP {value:.2f} "
              f"({time.perf_counter() - begin:.0f} s)", flush=True)
    rules = "shipped class rules" if args.floor is None else f"floor {args.floor:,}"
    rules += f", {' + '.join(args.province)} alone" if args.province else ""
    print(f"No bound from the packing LP can be below {value:.2f} ({rules}).")
    best = float("inf")
    for round_, (value, bound) in enumerate(exact_rounds(grower, columns, args.exact, args.pricing_time,
                                                           args.seed)):
        best = min(best, bound)
        print(f"exact round {round_}: {len(columns):,} columns, packing LP {value:.3f}, "
              f"bound {bound:.3f} ({time.perf_counter() - begin:.0f} s)", flush=True)
    if args.exact and math.isfinite(best):
        how = ("the LP's value, up to the duals' rounding" if best <= value * (1 + 1e-5)
               else "pricing did not prove the LP's value")
        print(f"Proved bound: {best:.3f} ({how}): at most {math.floor(best + 1e-9)} plans ({rules}).")
    if args.plan:
        exact = column_lp(columns, n, exact=True)[0]
        print(f"Set-partitioning LP over the same {len(columns):,} columns: {exact:.2f}; "
              "no bound from it can be below that either.")


if __name__ == "__main__":
    main()
