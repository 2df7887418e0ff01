"""Repair mode on the whole region: a planner's edits of a compliant plan, repaired by each solver.

    python benchmarks/bench_repair.py [--plan tests/data/lombardy_154_plans.csv] [--edits 1,1,3,3,6,10]
                                      [--solver heuristic --solver cpsat] [--time-limit 20] [--workers 1]
                                      [--fallback | --studio]

For each number of edits ``k`` (scenario ``i`` drawn with seed ``i``), ``k`` municipalities on a plan
border each join a neighbouring plan, as a planner does in the studio before pressing *Repair*;
each solver then repairs the edited plan (``propose(mode="repair")``, the shipped rules). Prints per
scenario and solver: the status, the municipalities moved from the edited plan (the scorecard's
``municipalities_moved``), the proved least number of moves (``repair_zone.least_moves``), the
plans, whether every plan complies, and the wall time. With ``--fallback`` each repair is given the
plan before the edits as its warm start (``solve(..., warm_start=)``), as the studio gives its last
complying step. With ``--studio`` the edits are made in the planning studio (``StudioState``, what its
web API calls, on the plan opened as the current one) and *Repair* is pressed once its worker is
ready, as after a planner's edits; the wall time runs from the press to the candidate being ready,
and the moves are counted from the edited plan.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from lombardy_districts import Plan, Rules, Territory, build_problem, evaluate, propose
from lombardy_districts.model.options import DataOptions, Selection, SolverOptions
from lombardy_districts.solvers.repair_zone import least_moves
from lombardy_districts.solvers.units import Units
from lombardy_districts.studio.state import StudioState
from lombardy_districts.workflows.inputs import read_inputs

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
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--fallback", action="store_true", help="give the plan before the edits as warm start")
    how.add_argument("--studio", action="store_true", help="edit and press Repair in the planning studio")
    args = parser.parse_args()
    territory, rules = Territory.load(), Rules.default()
    plan = Plan.from_csv(args.plan, territory)
    print("scenario | edits | solver | status | moved | least moves | plans | complies | wall s")
    for i, count in enumerate(int(k) for k in args.edits.split(",")):
        sq = edited(plan, count, seed=i)
        problem = build_problem(territory, mode="repair", status_quo=sq, rules=rules)
        least = least_moves(problem, Units.from_problem(problem))
        for solver in args.solver or ["heuristic", "cpsat"]:
            options = {"solver": solver, "time_limit": args.time_limit, "workers": args.workers, "seed": 0}
            if args.studio:
                status, repaired, wall = in_studio(args.plan, plan, sq, options)
            else:
                start = time.perf_counter()
                found = propose(territory, mode="repair", status_quo=sq, rules=rules, options=options,
                                warm_start=plan if args.fallback else None)
                status, repaired, wall = found.result.status, found.plan, time.perf_counter() - start
            card = None if repaired is None else evaluate(repaired, rules, status_quo=sq)
            moved = "-" if card is None else card.summary["municipalities_moved"]
            plans = "-" if repaired is None else len(repaired)
            complies = "-" if repaired is None else repaired.is_compliant(rules)
            print(f"{i} | {count} | {solver} | {status} | {moved} | {least} | {plans} | {complies} | "
                  f"{wall:.1f}", flush=True)


READY = 5.0
"""Seconds the studio's worker is given to start before the edits (a planner takes longer to make them)."""


def in_studio(path: Path, plan: Plan, edited_plan: Plan, options: dict) -> tuple[str, Plan | None, float]:
    """``edited_plan``'s edits of ``plan`` made in the studio, then *Repair*: (status, candidate, seconds)."""
    inputs = read_inputs(DataOptions(), Selection(), {"status_quo": path})
    state = StudioState(inputs, Path(tempfile.mkdtemp()) / "workspace", solver=SolverOptions.from_mapping(options))
    try:
        state.warm()
        time.sleep(READY)
        changed = edited_plan.assignment[edited_plan.assignment != plan.assignment]
        for code, target in changed.items():
            state.edit({"op": "move", "codes": [code], "plan": target, "version": state.session.version})
        start = time.perf_counter()
        state.start_job("repair", state.session.version)
        while (answer := state.job_status())["job"]["state"] == "running":
            time.sleep(0.02)
        wall = time.perf_counter() - start
        candidate = answer["candidate"]
        if candidate is None:
            return answer["job"]["state"], None, wall
        territory = edited_plan.territory
        repaired = Plan(territory, dict(zip(territory.codes, candidate["assignment"], strict=True)))
        return candidate["result"]["status"], repaired, wall
    finally:
        state.close()


if __name__ == "__main__":
    main()
