"""How much work the heuristic counts in a second: the rate behind ``--deterministic``.

    python benchmarks/bench_rate.py [--seconds 60] [--seed 0] [--scenarios 80k,25k,default]

With ``--deterministic`` the heuristic stops after ``time_limit * HEURISTIC_WORK_PER_SECOND``
work units (``solvers/_budget.py``), so that a seed gives the same plan on any machine. This
script runs the heuristic on the wall clock, one worker (as deterministic runs have), on the
embedded Lombardy map for each scenario (80k and 25k: one floor; default: the shipped class
rules), and prints the work units it counted per second of its time limit next to the constant.
The constant should sit among them, so that ``--time-limit 60 --deterministic`` does about what
a 60 s run does on this machine.
"""

from __future__ import annotations

import argparse

from lombardy_districts import load
from lombardy_districts.solvers._budget import HEURISTIC_WORK_PER_SECOND
from lombardy_districts.workflows.propose import propose

FLOORS = {"80k": 80_000, "25k": 25_000, "default": None}


def main() -> None:
    """Run each scenario and print its rate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenarios", default="80k,25k,default",
                        help=f"comma-separated, among {', '.join(FLOORS)}")
    args = parser.parse_args()
    names = args.scenarios.split(",")
    unknown = [n for n in names if n not in FLOORS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}: choose among {', '.join(FLOORS)}")
    territory = load()
    print(f"HEURISTIC_WORK_PER_SECOND = {HEURISTIC_WORK_PER_SECOND:,}")
    print("| scenario | plans | work units | per second | compile s | shaking rounds |")
    print("|---|---|---|---|---|---|")
    for name in names:
        options = {"solver": "heuristic", "time_limit": args.seconds, "seed": args.seed, "workers": 1}
        result = propose(territory, floor=FLOORS[name], options=options).result
        work = result.details["work_units"]
        print(f"| {name} | {len(result.plan) if result.plan is not None else '-'} | {work:,} | "
              f"{work / args.seconds:,.0f} | {result.details['compile_seconds']} | {result.details['shakes']} |",
              flush=True)


if __name__ == "__main__":
    main()
