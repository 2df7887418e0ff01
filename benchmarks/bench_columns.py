"""How low a bound from the set-packing relaxation could go: column generation, heuristic and exact pricing.

    python benchmarks/bench_columns.py [--rounds 80] [--tries 3] [--floor 25000] [--seed 0] [--plan CSV]
                                        [--province Lecco] [--exact ROUNDS] [--pricing-time S]

Every area plan is a connected group of municipalities that complies with the rules (a
*column*). The LP relaxation "choose columns, each municipality in at most one" bounds the number
of plans from above, and its value over *some* columns is at most its value over all of them.
The pricing, the LP and the bound are in ``solvers/column_bound.py`` (CP-SAT uses them as a bound
on maps of 20 to 70 units); this script runs them longer and on any map, and prints each round.

Heuristic rounds grow columns from every unit (adding the neighbour with the least LP dual per
inhabitant, with random noise, until the group complies under ``Layout.complies``, the class floor
and the ceiling; then units are dropped while it still complies and stays connected), re-solve
the LP over the columns found, and repeat while new columns with a dual sum under 1 turn up or
``--rounds`` run out. The default 80 rounds take about 21 minutes on one core under the shipped
rules on the whole region; ``--province`` works on one province alone. Their LP values are **not**
bounds: each is a lower estimate of the LP's value over every column, so no bound proved from this
relaxation can be below it. Every column is checked connected and compliant before it is used.

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
whose value over every column is likewise at least that, and the best partition into those columns
(CP-SAT, ``--integer-time`` seconds): the most plans any recombination of the columns gives. Under the
shipped rules, 25 rounds from ``default-cpsat.csv`` (24,169 columns) give a packing LP of 164.0 but a best
partition of 150, the plan's own count, proved in 6 s; at 25,000, 15 rounds from ``25k-cpsat.csv``
(12,724 columns) give 285.3 and 278, likewise. The gap between the LP and the plans found is the LP's
own (integrality), not plans the search missed among these columns.
"""

from __future__ import annotations

import argparse
import math
import time

from ortools.sat.python import cp_model

from lombardy_districts.model.options import Selection
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.selection import select_territory
from lombardy_districts.model.territory import Territory
from lombardy_districts.solvers.column_bound import Columns, column_lp, exact_rounds, generate
from lombardy_districts.solvers.units import Units
from lombardy_districts.workflows.propose import build_problem


def plan_columns(path: str, territory: Territory, units: Units) -> list[tuple[int, ...]]:
    """The plans of the plan CSV at ``path`` as columns of ``units`` (one unit per municipality)."""
    index = {code: i for i, code in enumerate(units.ids)}
    assignment = Plan.from_csv(path, territory).assignment
    return [tuple(sorted(index[code] for code in group.index)) for _, group in assignment.groupby(assignment)]


def best_partition(columns: list[tuple[int, ...]], n: int, seconds: float) -> tuple[str, int, int]:
    """CP-SAT's status, best count and bound for a partition of ``range(n)`` into the most ``columns``."""
    model = cp_model.CpModel()
    chosen = [model.new_bool_var(f"c{j}") for j in range(len(columns))]
    holding: list[list] = [[] for _ in range(n)]
    for j, column in enumerate(columns):
        for i in column:
            holding[i].append(chosen[j])
    for unit in holding:
        model.add_exactly_one(unit)
    model.maximize(sum(chosen))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return solver.status_name(status), 0, 0
    return solver.status_name(status), round(solver.objective_value), round(solver.best_objective_bound)


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
    parser.add_argument("--integer-time", type=float, default=60.0, metavar="S",
                        help="with --plan, seconds of CP-SAT for the best partition into the columns (default 60)")
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
        status, count, bound = best_partition(columns, n, args.integer_time)
        print(f"Best partition into these columns: {count} plans, bound {bound} ({status}, "
              f"{args.integer_time:.0f} s of CP-SAT).")


if __name__ == "__main__":
    main()
