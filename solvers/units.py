"""The units a solver partitions: municipalities, or the status quo's plans in merge mode.

Every solver works on this flat, array-based view and turns its answer back into a
municipality-level ``Plan`` with ``Units.to_plan``.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import Problem


@dataclass(frozen=True, eq=False)
class Units:
    """Flat arrays over units ``0..n-1``.

    Attributes
    ----------
    ids
        Unit id: municipality code, or status quo plan id in merge mode.
    members
        Municipality codes of each unit.
    population, area, mountain_area
        Totals per unit; areas in whole units of 1/AREA_SCALE km2 (``measures.area_units``), the
        class rule's exact arithmetic; ``mountain_area`` counts under the problem's rules.
    neighbors
        Contiguity neighbours of each unit (indices).
    edges
        Contiguity edges ``(i, j)``, ``i < j``.
    edge_count
        Municipality-level contiguity edges behind each unit edge (cut edges count these).
    collaboration
        Collaboration weight between units ``{(i, j): w}``, ``i < j``.
    inner_collaboration
        Collaboration weight of ties inside units: always kept, so a constant of every plan.
    inner_edges
        Municipality-level contiguity edges inside units: never cut.
    status_quo
        Status quo plan index of each unit, or None.
    group
        Hard-boundary label per unit (units with different labels may not share a plan), or None.
    locked
        Unit index -> locked plan label: units with the same label must share a plan and units
        with different labels must not.
    exclusive
        Locked labels whose plan takes no other unit (``locked.plans`` in the rules).
    """

    ids: list[str]
    members: list[list[str]]
    population: np.ndarray
    area: np.ndarray
    mountain_area: np.ndarray
    neighbors: list[list[int]]
    edges: list[tuple[int, int]]
    edge_count: dict[tuple[int, int], int]
    collaboration: dict[tuple[int, int], float]
    inner_collaboration: float
    inner_edges: int
    status_quo: np.ndarray | None
    group: np.ndarray | None
    locked: dict[int, str]
    exclusive: frozenset[str]

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_problem(cls, problem: Problem) -> Units:
        """Build the unit view of ``problem`` (merge mode contracts the status quo's plans)."""
        terr, rules = problem.territory, problem.rules
        gdf = terr.municipalities
        sq = problem.status_quo
        if problem.mode == "merge":
            assert sq is not None, "merge mode needs a status quo (Problem checks it)"
            unit_of = _connected_parts(sq, terr.graph)
        else:
            unit_of = pd.Series(gdf.index, index=gdf.index)
        ids = list(dict.fromkeys(unit_of.values))
        index = {u: i for i, u in enumerate(ids)}
        code_to_unit = unit_of.map(index)
        members: list[list[str]] = [[] for _ in ids]
        for code, u in code_to_unit.items():
            members[u].append(code)
        area = terr.area_units
        sums = pd.DataFrame({
            "population": gdf["population"], "area": area,
            "mountain": area.where(rules.counts_as_mountain(gdf), 0),
        }).groupby(code_to_unit).sum().sort_index()

        edge_count, inner_edges = _unit_edges(terr.graph.edges, code_to_unit)
        edges = sorted(edge_count)
        neighbors: list[list[int]] = [[] for _ in ids]
        for i, j in edges:
            neighbors[i].append(j)
            neighbors[j].append(i)
        collab, inner = _unit_ties(problem.collaboration.weights(), code_to_unit)

        status_quo = None
        if sq is not None:
            sq_ids = {p: k for k, p in enumerate(sorted(sq.assignment.unique()))}
            first = [m[0] for m in members]
            status_quo = np.array([sq_ids[sq.assignment[c]] for c in first])

        group = None
        if rules.hard_boundaries:
            label = gdf[list(rules.hard_boundaries)].astype(str).agg("|".join, axis=1)
            per_unit = label.groupby(code_to_unit).agg(lambda s: "+".join(sorted(set(s)))).sort_index()
            group = per_unit.to_numpy()

        locked, exclusive = _unit_locks(rules, sq, code_to_unit)

        return cls(
            ids=ids, members=members,
            population=sums["population"].to_numpy(dtype=np.int64),
            area=sums["area"].to_numpy(dtype=np.int64),
            mountain_area=sums["mountain"].to_numpy(dtype=np.int64),
            neighbors=neighbors, edges=edges, edge_count=edge_count, collaboration=collab,
            inner_collaboration=inner, inner_edges=inner_edges,
            status_quo=status_quo, group=group, locked=locked, exclusive=frozenset(exclusive),
        )

    def subset(self, keep) -> Units:
        """The units ``keep`` (indices, in that order) with edges, ties and locks among them only.

        Used by repair mode to model only the neighbourhood of non-compliant plans.
        """
        keep = [int(u) for u in keep]
        new = {u: k for k, u in enumerate(keep)}
        edges = sorted((min(new[i], new[j]), max(new[i], new[j]))
                       for i, j in self.edges if i in new and j in new)
        neighbors: list[list[int]] = [[] for _ in keep]
        for i, j in edges:
            neighbors[i].append(j)
            neighbors[j].append(i)
        collab = {(min(new[i], new[j]), max(new[i], new[j])): w
                  for (i, j), w in self.collaboration.items() if i in new and j in new}
        counts = {(min(new[i], new[j]), max(new[i], new[j])): c
                  for (i, j), c in self.edge_count.items() if i in new and j in new}
        pick = np.array(keep, dtype=int)
        return Units(
            ids=[self.ids[u] for u in keep], members=[self.members[u] for u in keep],
            population=self.population[pick], area=self.area[pick],
            mountain_area=self.mountain_area[pick], neighbors=neighbors, edges=edges, edge_count=counts,
            collaboration=collab, inner_collaboration=0.0, inner_edges=0,
            status_quo=None if self.status_quo is None else self.status_quo[pick],
            group=None if self.group is None else self.group[pick],
            locked={new[u]: lab for u, lab in self.locked.items() if u in new},
            exclusive=self.exclusive,
        )

    def to_plan(self, problem: Problem, labels) -> Plan:
        """Municipality-level plan from one label per unit.

        Labels become plan ids ``P001``..., except that a plan holding locked units takes their
        lock label as its id (the rules check locks by plan id).
        """
        labels = list(labels)
        order = {lab: k for k, lab in enumerate(dict.fromkeys(labels))}
        lock_of = {labels[u]: plan_id for u, plan_id in sorted(self.locked.items())}
        taken = set(lock_of.values())
        ids, k = {}, 0
        for lab in order:
            if lab in lock_of:
                ids[lab] = lock_of[lab]
                continue
            k += 1
            while f"P{k:03d}" in taken:
                k += 1
            ids[lab] = f"P{k:03d}"
        assignment = {}
        for u, lab in enumerate(labels):
            for code in self.members[u]:
                assignment[code] = ids[lab]
        return Plan(problem.territory, assignment)



def _unit_edges(graph_edges, code_to_unit: pd.Series) -> tuple[dict[tuple[int, int], int], int]:
    """Municipality edges per unit pair ``(i, j)``, ``i < j``, and the number inside units."""
    edge_count: dict[tuple[int, int], int] = {}
    inner_edges = 0
    for a, b in graph_edges:
        i, j = code_to_unit[a], code_to_unit[b]
        if i == j:
            inner_edges += 1
        else:
            key = (min(i, j), max(i, j))
            edge_count[key] = edge_count.get(key, 0) + 1
    return edge_count, inner_edges


def _unit_ties(weights: dict, code_to_unit: pd.Series) -> tuple[dict[tuple[int, int], float], float]:
    """Collaboration weight per unit pair ``(i, j)``, ``i < j``, and the weight inside units."""
    collab: dict[tuple[int, int], float] = {}
    inner = 0.0
    for (a, b), w in weights.items():
        if a in code_to_unit.index and b in code_to_unit.index:
            i, j = code_to_unit[a], code_to_unit[b]
            if i == j:
                inner += w
            else:
                key = (min(i, j), max(i, j))
                collab[key] = collab.get(key, 0.0) + w
    return collab, inner


def _unit_locks(rules, sq, code_to_unit: pd.Series) -> tuple[dict[int, str], set[str]]:
    """Unit -> locked plan label, and the labels of exclusive (locked status quo) plans."""
    locked: dict[int, str] = {}
    for code, plan_id in rules.locked_municipalities.items():
        if code in code_to_unit.index:
            locked[int(code_to_unit[code])] = plan_id
    exclusive = set()
    if sq is not None:
        for plan_id in rules.locked_plans:
            exclusive.add(plan_id)
            for code in sq.members.get(plan_id, []):
                locked[int(code_to_unit[code])] = plan_id
    return locked, exclusive


def _connected_parts(status_quo: Plan, graph) -> pd.Series:
    """Merge-mode unit of each municipality: its status quo plan, split into connected parts.

    A status quo plan that is not contiguous (e.g. a labour-market area cut by a regional
    border) becomes one unit per connected part, ids ``<plan>#1``, ``<plan>#2``... (largest
    first), so that a union of units is contiguous exactly when the unit graph says so.
    """
    unit_of = status_quo.assignment.copy()
    for plan_id, codes in status_quo.members.items():
        parts = list(nx.connected_components(graph.subgraph(codes)))
        if len(parts) > 1:
            parts.sort(key=lambda p: (-len(p), min(p)))
            for k, part in enumerate(parts, start=1):
                unit_of.loc[sorted(part)] = f"{plan_id}#{k}"
    return unit_of


def reach(neighbors: list[list[int]], start: int, allowed) -> set[int]:
    """Units of ``allowed`` connected to ``start`` through units of ``allowed`` (``start`` included)."""
    seen, todo = {start}, [start]
    while todo:
        u = todo.pop()
        for v in neighbors[u]:
            if v in allowed and v not in seen:
                seen.add(v)
                todo.append(v)
    return seen
