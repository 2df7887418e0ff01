"""The proved upper bound on the number of plans alone, on the whole region: its value, method and time.

    python benchmarks/bench_bound.py [--floor 25000 --floor 80000] [--zones province --zones ats]

Prints one line per rule set: the shipped class rules, then each ``--floor`` (one floor for every
class), with ``plan_count_bound``'s value, the time it took and the method that proved it, and under
the class rules each relaxation on its own (unit shares, class sums, both together), so a change to
one of them shows where the number moved, and where the unit shares come from: per class, the units
whose largest share is in that class (ties to the first in ``CLASSES``), their population and the
sum of their shares. With ``--zones COLUMN`` (a column of the municipality table), the class MIP is
also summed over that column's zones as if no plan could cross their borders: **not a bound** (plans
do cross), but the lowest that summing the class rule zone by zone could bring it. No solver runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lombardy_districts.model.rules import CLASSES
from lombardy_districts.model.territory import Territory
from lombardy_districts.solvers.bounds import plan_count_bound, share_count
from lombardy_districts.solvers.class_bound import class_rule_bound
from lombardy_districts.solvers.share_bound import class_shares
from lombardy_districts.solvers.units import Units
from lombardy_districts.workflows.propose import build_problem


def main() -> None:
    """Measure and print the bounds (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", type=int, action="append", default=[], help="also a uniform floor")
    parser.add_argument("--zones", action="append", default=[], metavar="COLUMN",
                        help="also the class MIP summed over this column's zones, no plan across (not a bound)")
    args = parser.parse_args()
    territory = Territory.load()
    for floor in [None, *args.floor]:
        problem = build_problem(territory, floor=floor)
        units = Units.from_problem(problem)
        start = time.perf_counter()
        bound = plan_count_bound(units, problem.rules)
        wall = time.perf_counter() - start
        print(f"{'shipped class rules' if floor is None else f'floor {floor:,}'}: {bound.value} plans at most "
              f"({wall:.1f} s): {bound.method}", flush=True)
        if floor is None:
            everything = np.arange(len(units))
            shares = class_shares(units, problem.rules)
            print(f"  unit shares alone {share_count(units, problem.rules)}; class sums alone "
                  f"{class_rule_bound(units, problem.rules, everything)}; both together "
                  f"{class_rule_bound(units, problem.rules, everything, shares)} (one part, no hard boundaries)")
            best = shares.argmax(axis=1)
            for c, name in enumerate(CLASSES):
                mine = best == c
                print(f"  largest share in a {name} plan: {int(mine.sum()):,} units, "
                      f"{int(units.population[mine].sum()):,} inhabitants, shares {shares[mine, c].sum():.1f}")
            for column in args.zones:
                zone = territory.municipalities.loc[list(units.ids), column].astype(str).to_numpy()
                total = sum(class_rule_bound(units, problem.rules, np.flatnonzero(zone == z), shares)
                            for z in sorted(set(zone)))
                print(f"  class MIP summed over {len(set(zone))} zones of {column}, no plan across their borders "
                      f"(not a bound): {total}", flush=True)


if __name__ == "__main__":
    main()
