"""Is a plan a local optimum? Re-solve connected groups of its area plans exactly, with CP-SAT.

    python benchmarks/bench_local.py PLAN.csv [--floor 25000] [--all-up-to 4]
                                      [--sizes 8-12 --groups 150 --seed 0] [--time-limit 15]

A plan with one more area plan somewhere near could be found by dissolving a few neighbouring plans
and dividing their municipalities again. Each group of plans (connected through shared borders) is
solved on its own municipalities and their contiguity within the region's graph, by CP-SAT with
``max-plans`` (``--time-limit`` seconds, one worker); the script prints how many groups were proved,
how many gave more plans than they hold, and each gain. ``--all-up-to K`` takes every connected
group of 2 to K plans (each once, by the ESU enumeration of connected subgraphs); otherwise
``--groups`` random ones of ``--sizes`` plans (from a random plan, adding random neighbours) that
pass the test below.

Under one floor for every class (``--floor``) only the groups whose spare population could make one
more plan are solved: each municipality's population capped at the floor, summed over the group,
must reach the floor times one more than its plans (the bound without contiguity), else the group
is counted as skipped. Under the shipped class rules every group is solved.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator

import pandas as pd

from lombardy_districts import load
from lombardy_districts.model.territory import Territory
from lombardy_districts.solvers.cpsat import CPSATSolver
from lombardy_districts.workflows.propose import build_problem


def connected_groups(neighbours: dict[int, set[int]], largest: int) -> Iterator[frozenset[int]]:
    """Every connected set of 2 to ``largest`` nodes, each once (ESU: Wernicke 2006)."""
    def extend(group: frozenset[int], border: set[int], ext: set[int], root: int) -> Iterator[frozenset[int]]:
        if len(group) > 1:
            yield group
        if len(group) == largest:
            return
        ext = set(ext)
        while ext:
            new = ext.pop()
            fresh = {v for v in neighbours[new] if v > root and v not in group and v not in border}
            yield from extend(group | {new}, border | neighbours[new], ext | fresh, root)

    for root in sorted(neighbours):
        yield from extend(frozenset([root]), neighbours[root] | {root}, {v for v in neighbours[root] if v > root},
                          root)


def random_groups(neighbours: dict[int, set[int]], sizes: tuple[int, int], count: int, seed: int,
                  keep=lambda group: True) -> list[frozenset[int]]:
    """``count`` distinct connected groups of ``sizes`` plans that ``keep`` accepts, grown from random plans.

    Fewer if a thousand draws per group find no more.
    """
    rng, found = random.Random(seed), set()
    nodes = sorted(neighbours)
    for _ in range(count * 1000):
        if len(found) == count:
            break
        first = rng.choice(nodes)
        group, border = {first}, set(neighbours[first])
        size = rng.randint(*sizes)
        while len(group) < size and border:
            new = rng.choice(sorted(border))
            group.add(new)
            border = (border | neighbours[new]) - group
        if len(group) == size and keep(group):
            found.add(frozenset(group))
    return sorted(found, key=sorted)


def main() -> None:
    """Solve the groups and print what they give (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="a plan CSV: municipality_code,plan_id")
    parser.add_argument("--floor", type=int, help="one floor for every class instead of the shipped rules")
    parser.add_argument("--all-up-to", type=int, metavar="K", help="every connected group of 2 to K plans")
    parser.add_argument("--sizes", default="3-6", help="random groups of this many plans (default 3-6)")
    parser.add_argument("--groups", type=int, default=150, help="how many random groups (default 150)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=15.0, help="seconds of CP-SAT per group (default 15)")
    args = parser.parse_args()
    territory = load()
    plan = pd.read_csv(args.plan, dtype=str).set_index("municipality_code")["plan_id"]
    plan = plan.reindex(territory.municipalities.index)
    if plan.isna().any():
        raise SystemExit(f"{args.plan}: {int(plan.isna().sum())} municipalities have no plan")
    ids = {p: k for k, p in enumerate(sorted(set(plan)))}
    names = {k: p for p, k in ids.items()}
    label = plan.map(ids)
    members: dict[int, list[str]] = {k: [] for k in ids.values()}
    for code, k in label.items():
        members[k].append(code)
    neighbours: dict[int, set[int]] = {k: set() for k in members}
    for a, b in territory.graph.edges:
        if label[a] != label[b]:
            neighbours[label[a]].add(label[b])
            neighbours[label[b]].add(label[a])
    population = territory.municipalities["population"]
    spare = {k: int(population[codes].clip(upper=args.floor).sum()) - args.floor for k, codes in members.items()} \
        if args.floor else {}

    def could_gain(group) -> bool:
        return not args.floor or sum(spare[k] for k in group) >= args.floor

    if args.all_up_to:
        groups: Iterator[frozenset[int]] | list[frozenset[int]] = connected_groups(neighbours, args.all_up_to)
        what = f"every connected group of 2 to {args.all_up_to} plans"
    else:
        low, _, high = args.sizes.partition("-")
        groups = random_groups(neighbours, (int(low), int(high or low)), args.groups, args.seed, could_gain)
        what = f"{len(groups)} random connected groups of {args.sizes} plans (seed {args.seed})"
    rules = f"floor {args.floor:,}" if args.floor else "shipped class rules"
    print(f"{args.plan}: {len(members)} plans, {rules}; {what}", flush=True)
    start, statuses, skipped, gains = time.perf_counter(), {}, 0, 0
    for group in groups:
        if not could_gain(group):
            skipped += 1
            continue
        codes = [c for k in sorted(group) for c in members[k]]
        graph = territory.graph.subgraph(codes).copy()
        graph.graph = {key: value for key, value in territory.graph.graph.items() if key != "bridges"}
        part = Territory(territory.municipalities.loc[codes], graph, istat=territory.istat,
                         source_crs=territory.source_crs, cache=territory.cache)
        result = CPSATSolver.from_problem(build_problem(part, floor=args.floor),
                                          {"time_limit": args.time_limit, "seed": 0, "workers": 1}).solve()
        statuses[result.status] = statuses.get(result.status, 0) + 1
        count = 0 if result.plan is None else len(result.plan)
        if count > len(group):
            gains += 1
            print(f"gain: plans {sorted(names[k] for k in group)} ({len(codes)} municipalities) "
                  f"give {count} ({result.status})", flush=True)
        solved = sum(statuses.values())
        if solved % 500 == 0:
            print(f"  {solved:,} groups solved, {time.perf_counter() - start:.0f} s", flush=True)
    solved = sum(statuses.values())
    shown = ", ".join(f"{n:,} {s}" for s, n in sorted(statuses.items()))
    print(f"{solved:,} groups solved ({shown or 'none'}), {skipped:,} skipped (too little spare population), "
          f"{gains} with more plans; {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
