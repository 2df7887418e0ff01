"""Repair mode on the whole region: a planner's edits of a compliant plan, repaired by each solver.

    python benchmarks/bench_repair.py [--plan tests/data/lombardy_154_plans.csv] [--edits 1,1,3,3,6,10]
                                      [--solver heuristic --solver cpsat] [--time-limit 20] [--workers 1]
                                      [--fallback]

For each number of edits ``k`` (scenario ``i`` drawn with seed ``i``), ``k`` municipalities on a plan
border each join a neighbouring plan, as a planner does in the studio before pressing *Repair*;
each solver then repairs the edited plan (``propose(mode="repair")``, the shipped rules). Prints per
scenario and solver: the status, the municipalities moved from the edited plan (the scorecard's
``municipalities_moved``), the proved least number of moves (``repair_zone.least_moves``), the
plans, whether every plan complies, and the wall time. With ``--fallback`` each repair is given the
plan before the edits as its warm start (``solve(..., warm_start=)``), as the studio gives its last
complying step.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from lombardy_districts import Plan, Rules, Territory, build_problem, propose
from lombardy_districts.solvers.repair_zone import least_moves
from lombardy_districts.solvers.units import Units

PLAN = Path(__file__).parents[1] / "tests" / "data" / "lombardy_154_plans.csv"


def edited(plan: Plan, count: int, seed: int) -> Plan:
    """``plan`` with ``count`` border municipalities moved, each to a neighbouring plan (drawn with ``seed``)."""
    rng = random.Random(seed)
    assignment = plan.assignment.copy()
    graph = plan.territory.graph
    for _ in range(count):
        border = sorted(c for c in graph if any(assignment[n] != assignment[c] for n in graph[c]))
        code = rng.choice(border)
        assignment[code] = rng.choice(sorted({assignment[n] for n in graph[code]} - {assignment[code]}))
    return Plan(plan.territory, assignment)


def main() -> None:
    """Draw the edits, repair them and print the table (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=PLAN, help="a compliant plan of Lombardy (plan_id column)")
    parser.add_argument("--edits", default="1,1,3,3,6,10", help="municipalities moved, one number per scenario")
    parser.add_argument("--solver", action="append", default=[], help="heuristic, cpsat or pulp (repeatable)")
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--fallback", action="store_true", help="give the plan before the edits as warm start")
    args = parser.parse_args()
    territory, rules = Territory.load(), Rules.default()
    plan = Plan.from_csv(args.plan, territory)
    print("scenario | edits | solver | status | moved | least moves | plans | complies | wall s")
    for i, count in enumerate(int(k) for k in args.edits.split(",")):
        sq = edited(plan, count, seed=i)
        problem = build_problem(territory, mode="repair", status_quo=sq, rules=rules)
        least = least_moves(problem, Units.from_problem(problem))
        for solver in args.solver or ["heuristic", "cpsat"]:
            start = time.perf_counter()
            found = propose(territory, mode="repair", status_quo=sq, rules=rules,
                            options={"solver": solver, "time_limit": args.time_limit, "workers": args.workers,
                                     "seed": 0}, warm_start=plan if args.fallback else None)
            wall = time.perf_counter() - start
            card = found.scorecard
            moved = "-" if card is None else card.summary["municipalities_moved"]
            plans = "-" if found.plan is None else len(found.plan)
            complies = "-" if found.plan is None else found.plan.is_compliant(rules)
            print(f"{i} | {count} | {solver} | {found.result.status} | {moved} | {least} | {plans} | {complies} | "
                  f"{wall:.1f}", flush=True)


if __name__ == "__main__":
    main()
