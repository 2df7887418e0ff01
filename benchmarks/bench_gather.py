"""What chain moves add to the heuristic's shaking: shake a plan with and without them, seed by seed.

    python benchmarks/bench_gather.py PLAN.csv [--floor 80000] [--seconds 60] [--seeds 0-7] [--shares 0,0.2]
                                      [--out BEST.csv]

The heuristic's last stage shakes its best plan (``solvers/_perturb.py``) and spends a share of
that work (tuning ``chain_share``, default 0.2) on chain moves (``solvers/_gather.py``: spare
population handed region to region into one region, which is then split if it can be). This
script shakes a compliant plan in one process for ``--seconds`` per run, once per seed and share,
under the shipped class rules or one ``--floor``, and prints the plans reached and when each gain
came. With ``--out`` it writes the plan with the most plans (check it with ``lombardy-districts
evaluate BEST.csv``, with ``--floor F`` if given); the scorecard judges it before it is written.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np

from lombardy_districts import load
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.scorecard import evaluate
from lombardy_districts.solvers._budget import Budget
from lombardy_districts.solvers._layout import Layout
from lombardy_districts.solvers._local import compiled
from lombardy_districts.solvers._perturb import perturb
from lombardy_districts.solvers.heuristic import _from_plan
from lombardy_districts.solvers.units import Units
from lombardy_districts.workflows.propose import build_problem


def seeds(text: str) -> list[int]:
    """``0-7`` or ``0,3,5``: the seeds to run."""
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return [int(s) for s in text.split(",")]


def _heard(gains: list[str], began: float, part) -> None:
    gains.append(f"{len(part)} at {time.perf_counter() - began:.1f} s")


def main() -> None:
    """Shake the plan once per seed and share (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="a compliant plan CSV: municipality_code,plan_id")
    parser.add_argument("--floor", type=int, help="one floor for every class instead of the shipped rules")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of shaking per run (default 60)")
    parser.add_argument("--seeds", type=seeds, default=seeds("0-3"), help="e.g. 0-7 or 0,3 (default 0-3)")
    parser.add_argument("--shares", default="0,0.2", help="chain shares to compare (default 0,0.2)")
    parser.add_argument("--out", help="write the plan with the most plans here")
    args = parser.parse_args()
    territory = load()
    problem = build_problem(territory, floor=args.floor)
    units = Units.from_problem(problem)
    layout = Layout(units, problem.rules)
    plan = Plan.from_csv(args.plan, territory)
    start = _from_plan(layout, units, plan)
    if start is None:
        raise SystemExit(f"{args.plan}: not every plan complies and is connected under these rules")
    compiled(layout)
    described = "shipped class rules" if args.floor is None else f"floor {args.floor:,}"
    print(f"{args.plan}: {len(start)} plans, {described}; {args.seconds:g} s of shaking per run, one process",
          flush=True)
    best = start
    for share in [float(s) for s in args.shares.split(",")]:
        reached = []
        for seed in args.seeds:
            gains: list[str] = []
            heard = partial(_heard, gains, time.perf_counter())
            out, rounds = perturb(layout, start, np.random.default_rng(seed), Budget(args.seconds), 10**6, 10**9,
                                  on_better=heard, chain_share=share)
            reached.append(len(out))
            print(f"chain share {share:g}, seed {seed}: {len(out)} plans after {rounds} rounds"
                  f"{' (' + ', '.join(gains) + ')' if gains else ''}", flush=True)
            if len(out) > len(best):
                best = out
        print(f"chain share {share:g}: {', '.join(map(str, reached))} plans", flush=True)
    if args.out and best is not start:
        new = units.to_plan(problem, best.labels())
        assert evaluate(new, problem.rules).plans["compliant"].all()
        new.to_csv(args.out)
        print(f"written: {args.out} ({len(best)} plans, every one compliant by the scorecard)")


if __name__ == "__main__":
    main()
