"""Can one more plan be made by gathering spare population into one plan? A chain-move prototype.

    python benchmarks/bench_gather.py PLAN.csv [--floor 80000] [--targets 6] [--tries 5] [--seed 0] [--out NEW.csv]

A plan with one plan fewer than possible may have its spare population (population over the floor)
spread over many plans, more than an exact re-solve of neighbouring plans can take in
(``bench_local.py``). This prototype gathers it instead: a *target* plan is chosen (the plans with
the most spare population, each municipality's capped at the plan's floor, in turn), and in passes
every other plan, farthest from the target first (steps in the graph of plans), hands municipalities
on its border to a neighbouring plan one step nearer the target, smallest first, as long as both
still comply (under the shipped class rules, or one ``--floor`` for every class: the class, and so
the floor, of each plan is worked out from its totals) and the giver stays connected. Spare
population flows inwards, plan to plan; after each pass random spanning trees of the target are cut
where both sides comply.
Ties between municipalities of one population are broken at random, and each target is tried
``--tries`` times from the original plan with other draws, as the result turns on them.
A cut found is one plan more: the script has the scorecard (``evaluate``) check that every plan
complies, prints it, and with ``--out`` writes the plan (check it with ``lombardy-districts evaluate NEW.csv``,
with ``--floor F`` if given). Nothing of this is in the solvers yet; it measures whether such a move
would help.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Collection

import networkx as nx
import pandas as pd

from lombardy_districts import load
from lombardy_districts.model.measures import ClassRule, area_units
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.scorecard import evaluate

SPLIT_TRIES = 300
PASSES = 60


Floor = Callable[[Collection], int]
"""The floor of the plan that a set of municipalities would form (its class's)."""


class Gathering:
    """A plan (municipality -> plan id) on ``graph`` whose plans hand municipalities towards one plan."""

    def __init__(self, graph: nx.Graph, population: dict, plan: dict, floor: Floor, rng: random.Random,
                 lowest: int = 0):
        self.graph, self.population, self.floor, self.rng = graph, population, floor, rng
        self.lowest = lowest  # the lowest floor of any class: a plan splits only from twice that
        self.plan = dict(plan)
        self.members: dict = {}
        for unit, p in self.plan.items():
            self.members.setdefault(p, set()).add(unit)
        self.total = {p: sum(population[u] for u in units) for p, units in self.members.items()}

    def complies(self, units: Collection) -> bool:
        return sum(self.population[u] for u in units) >= self.floor(units)

    def spare(self, p) -> int:
        """Population over the plan's floor, each municipality's capped at that floor."""
        floor = self.floor(self.members[p])
        return sum(min(self.population[u], floor) for u in self.members[p]) - floor

    def distances(self, target) -> dict:
        """Steps from ``target`` in the graph of plans (plans sharing a border)."""
        plans = nx.Graph()
        plans.add_nodes_from(self.members)
        plans.add_edges_from((self.plan[a], self.plan[b]) for a, b in self.graph.edges if self.plan[a] != self.plan[b])
        return nx.single_source_shortest_path_length(plans, target)

    def gather(self, target) -> set | None:
        """Pass after pass, hand municipalities towards ``target``; one side of a split of it, or None."""
        for _ in range(PASSES):
            dist = self.distances(target)
            moved = 0
            for q in sorted(dist, key=lambda q: -dist[q]):
                if q != target:
                    moved += self._hand_on(q, dist)
            side = self.split(target)
            if side is not None:
                return side
            if not moved:
                return None
        return None

    def _hand_on(self, q, dist) -> int:
        """Give plan ``q``'s border municipalities to plans one step nearer, smallest first; how many."""
        nearer = sorted((self.population[u], self.rng.random(), u, self.plan[v]) for u in sorted(self.members[q])
                        for v in self.graph[u] if dist.get(self.plan[v], -1) == dist[q] - 1)
        moved = 0
        for pop, _, u, p in nearer:
            if (self.plan[u] == q and self.complies(self.members[q] - {u}) and self.complies(self.members[p] | {u})
                    and self._connected_without(q, u)):
                self.members[q].discard(u)
                self.members[p].add(u)
                self.plan[u] = p
                self.total[q] -= pop
                self.total[p] += pop
                moved += 1
        return moved

    def _connected_without(self, p, unit) -> bool:
        rest = self.members[p] - {unit}
        return bool(rest) and nx.is_connected(self.graph.subgraph(rest))

    def split(self, target) -> set | None:
        """One side of a cut of a random spanning tree of ``target`` leaving both sides compliant, or None."""
        sub = self.graph.subgraph(self.members[target])
        if sub.number_of_edges() == 0 or self.total[target] < 2 * self.lowest:
            return None
        edges = sorted(tuple(sorted(edge)) for edge in sub.edges)  # a subgraph view's order follows a set's
        for _ in range(SPLIT_TRIES):
            tree = nx.minimum_spanning_tree(nx.Graph((a, b, {"w": self.rng.random()}) for a, b in edges), weight="w")
            for a, b in list(tree.edges):
                tree.remove_edge(a, b)
                side = nx.node_connected_component(tree, a)
                tree.add_edge(a, b)
                if self.complies(side) and self.complies(self.members[target] - side):
                    return set(side)
        return None

    def with_new_plan(self, target, side: set) -> dict:
        """The plan with ``side`` taken out of ``target`` as a plan of its own."""
        name = f"{target}-gathered"
        return {u: (name if u in side else p) for u, p in self.plan.items()}


def all_comply(territory, plan: dict, rules: Rules) -> bool:
    """Every plan meets its class floor and is contiguous, by the scorecard."""
    return bool(evaluate(Plan(territory, plan), rules).plans["compliant"].all())


def class_floor(territory, rules: Rules) -> Floor:
    """The floor of the class that ``rules`` give a set of the territory's municipalities."""
    table = territory.municipalities
    population = table["population"].to_dict()
    area = dict(zip(table.index, area_units(table["area_km2"].to_numpy()).tolist()))
    mountain = {c: area[c] if is_mountain else 0 for c, is_mountain in rules.counts_as_mountain(table).items()}
    rule = ClassRule.of(rules)

    def floor(units: Collection) -> int:
        totals = (sum(population[u] for u in units), sum(area[u] for u in units), sum(mountain[u] for u in units))
        return rules.floors[rule.classify(*totals)]
    return floor


def main() -> None:
    """Try each target and print what gathering gives (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="a compliant plan CSV: municipality_code,plan_id")
    parser.add_argument("--floor", type=int, help="one floor for every class instead of the shipped rules")
    parser.add_argument("--targets", type=int, default=6, help="try the plans with the most spare (default 6)")
    parser.add_argument("--tries", type=int, default=5, help="tries per target, with other draws (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the first plan with one plan more here")
    args = parser.parse_args()
    territory = load()
    population = territory.municipalities["population"].to_dict()
    plan = pd.read_csv(args.plan, dtype=str).set_index("municipality_code")["plan_id"]
    plan = plan.reindex(territory.municipalities.index).to_dict()
    rules = Rules.default() if args.floor is None else Rules.default().with_floor(args.floor)
    floor = class_floor(territory, rules)
    described = "shipped class rules" if args.floor is None else f"floor {args.floor:,}"
    start = Gathering(territory.graph, population, plan, floor, random.Random(args.seed))
    if not all_comply(territory, plan, rules):
        raise SystemExit(f"{args.plan}: not every plan complies ({described}) and is connected")
    targets = sorted(start.members, key=start.spare, reverse=True)[:args.targets]
    print(f"{args.plan}: {len(start.members)} plans, {described}; targets {', '.join(targets)}")
    for k, target in enumerate(targets):
        for attempt in range(args.tries):
            began = time.perf_counter()
            run = Gathering(territory.graph, population, plan, floor,
                            random.Random(args.seed * 1_000_003 + k * 1_009 + attempt), rules.lowest_floor)
            side = run.gather(target)
            seconds = time.perf_counter() - began
            if side is None:
                print(f"{target} try {attempt}: gathered {run.total[target]:,} inhabitants, no split "
                      f"({seconds:.1f} s)", flush=True)
                continue
            new = run.with_new_plan(target, side)
            assert all_comply(territory, new, rules)
            print(f"{target} try {attempt}: gathered {run.total[target]:,} inhabitants and split it: "
                  f"{len(set(new.values()))} plans, all comply and are connected ({seconds:.1f} s)", flush=True)
            if args.out:
                pd.Series(new, name="plan_id").rename_axis("municipality_code").to_csv(args.out)
                print(f"written: {args.out}")
                return


if __name__ == "__main__":
    main()
