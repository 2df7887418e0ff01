"""How ``Units`` handles the groups ``keep_together`` keeps in one plan (see ``units``' docstring).

- ``contract_groups``: neighbouring members of a group become one unit;
- ``together_sets``: the units a group still spans, which every solver keeps in one plan;
- ``connecting``: the units that join such a set into one connected block, for the heuristic.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import networkx as nx
import pandas as pd

if TYPE_CHECKING:
    from .units import Units


def contract_groups(unit_of: pd.Series, groups, graph, status_quo: pd.Series | None,
                    boundary: pd.Series | None) -> pd.Series:
    """``unit_of`` with neighbouring members of each group in one unit (same status quo plan and boundary label).

    A contracted unit's id joins the ids of the units it is made of with ``+``.
    """
    joined = nx.Graph()
    for group in groups:
        inside = set(group.members)
        for a in group.members:
            for b in graph.neighbors(a):
                if b in inside and unit_of[a] != unit_of[b] \
                        and (status_quo is None or status_quo[a] == status_quo[b]) \
                        and (boundary is None or boundary[a] == boundary[b]):
                    joined.add_edge(unit_of[a], unit_of[b])
    rename = {}
    for part in nx.connected_components(joined):
        name = "+".join(sorted(part))
        rename.update(dict.fromkeys(part, name))
    return unit_of.map(lambda u: rename.get(u, u))


def together_sets(groups, code_to_unit: pd.Series) -> tuple[tuple[int, ...], ...]:
    """Disjoint sets of the units each group spans (two or more); sets sharing a unit are merged."""
    links = nx.Graph()
    for group in groups:
        units = sorted({int(code_to_unit[c]) for c in group.members})
        links.add_nodes_from(units)
        links.add_edges_from(zip(units, units[1:]))
    sets = [tuple(sorted(part)) for part in nx.connected_components(links) if len(part) > 1]
    return tuple(sorted(sets))


def connecting(units: Units, targets: tuple[int, ...], in_set: set[int]) -> set[int] | None:
    """``targets`` plus units joining them, grown one cheapest path (fewest inhabitants) at a time.

    Paths keep to units that may share the targets' plan; a unit of another ``together`` set costs
    as much as every inhabitant, so it is used only when there is no other way. None when no path.
    """
    first = targets[0]
    group = None if units.group is None else units.group[first]
    label = next((units.locked[u] for u in targets if u in units.locked), None)
    detour = int(units.population.sum()) + 1
    others = in_set - set(targets)

    def free(v: int) -> bool:
        if group is not None and units.group is not None and units.group[v] != group:
            return False
        lock = units.locked.get(v)
        return lock is None or lock == label

    tree, left = {first}, set(targets) - {first}
    while left:
        cost = dict.fromkeys(tree, 0)
        came: dict[int, int] = {}
        heap = [(0, u) for u in sorted(tree)]
        found = None
        while heap:
            d, u = heapq.heappop(heap)
            if d > cost[u]:
                continue
            if u in left:
                found = u
                break
            for v in units.neighbors[u]:
                step = d + int(units.population[v]) + (detour if v in others else 0)
                if free(v) and step < cost.get(v, step + 1):
                    cost[v] = step
                    came[v] = u
                    heapq.heappush(heap, (step, v))
        if found is None:
            return None
        while found not in tree:
            tree.add(found)
            found = came[found]
        left -= tree
    return tree
