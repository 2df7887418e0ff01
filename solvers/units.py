"""The units a solver partitions: municipalities, or the status quo's plans in merge mode.

Every solver works on this flat, array-based view and turns its answer back into a
municipality-level ``Plan`` with ``Units.to_plan``.

With ``keep_together`` in the rules (e.g. ``["union"]``), each group of municipalities the rule
keeps in one plan (``model.together``) is handled here, once for every solver:

- the neighbouring members of a group become one unit (they can never be apart), unless they
  lie in different status quo plans or hard-boundary areas, so that every unit still has one
  status quo plan and one hard-boundary label;
- the units a group still spans (a union whose members do not touch, or a union across two
  status quo plans in merge mode) are listed in ``Units.together``: each solver keeps the units
  of one entry in one plan (CP-SAT and PuLP by equal labels, merge mode's set partitioning by
  listing only groups that hold all or none of them, the heuristic by joining them with the
  municipalities between them, ``joined``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from lombardy_districts.model.plan import Plan, hard_sides
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.together import together_groups

from ._together import connecting, contract_groups, together_sets


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
    together
        Sets of two or more units (disjoint, sorted) that must share a plan (``keep_together``).
    lock_plan
        Repair mode: unit -> the status quo plan (index, as in ``status_quo``) its lock names. The
        unit must end in that plan's successor: a lock to another current plan moves it there.
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
    together: tuple[tuple[int, ...], ...] = ()
    lock_plan: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def heir_weights(self) -> np.ndarray:
        """Per unit, ``W * municipalities + population``, ``W`` one more than its current plan's population.

        Summed over the units of a current plan that a new plan holds, they compare as (municipalities,
        inhabitants): the new plan with the largest sum is the current plan's successor, as
        ``measures.successors`` decides (its last tie-break, the lowest plan id, is left out).
        """
        sq = self.status_quo
        assert sq is not None, "successors need a status quo"
        plan = np.asarray(sq, dtype=np.int64)
        people = np.asarray(self.population, dtype=np.int64)
        totals = np.zeros(int(plan.max()) + 1 if len(plan) else 0, dtype=np.int64)
        np.add.at(totals, plan, people)
        size = np.array([len(m) for m in self.members], dtype=np.int64)
        return (totals[plan] + 1) * size + people

    @classmethod
    def from_problem(cls, problem: Problem) -> Units:
        """Build the unit view of ``problem`` (merge mode contracts the status quo's plans).

        Groups of ``keep_together`` are contracted and listed as the module docstring says.
        """
        terr, rules = problem.territory, problem.rules
        gdf = terr.municipalities
        sq = problem.status_quo
        if problem.mode == "merge":
            assert sq is not None, "merge mode needs a status quo (Problem checks it)"
            unit_of = _connected_parts(sq, terr.graph)
        else:
            unit_of = pd.Series(gdf.index, index=gdf.index)
        sides = hard_sides(terr, rules)  # hard boundaries, and the pieces of a selection kept apart
        boundary = pd.DataFrame(sides, index=gdf.index).astype(str).agg("|".join, axis=1) if sides else None
        groups = together_groups(problem.collaboration, rules.keep_together, gdf.index) if rules.keep_together else []
        if groups:
            unit_of = contract_groups(unit_of, groups, terr.graph, None if sq is None else sq.assignment, boundary)
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
        edge_count, inner_edges = _unit_edges(terr.graph, code_to_unit)
        edges = sorted(edge_count)
        neighbors: list[list[int]] = [[] for _ in ids]
        for i, j in edges:
            neighbors[i].append(j)
            neighbors[j].append(i)

        collab, inner = _unit_ties(problem.collaboration, code_to_unit)
        status_quo, lock_plan = None, dict[int, int]()
        if sq is not None:
            sq_ids = {p: k for k, p in enumerate(sorted(sq.assignment.unique()))}
            status_quo = np.array([sq_ids[sq.assignment[m[0]]] for m in members])
        group = None
        if boundary is not None:
            group = boundary.groupby(code_to_unit).agg(lambda s: "+".join(sorted(set(s)))).sort_index().to_numpy()
        locked, exclusive = _locks(rules, sq, code_to_unit)
        if problem.mode == "merge":
            _join_locked_plans(locked, sq, code_to_unit)
        if problem.mode == "repair":
            lock_plan = {u: sq_ids[label] for u, label in locked.items() if label in sq_ids}
        return cls(
            ids=ids, members=members,
            population=sums["population"].to_numpy(dtype=np.int64),
            area=sums["area"].to_numpy(dtype=np.int64),
            mountain_area=sums["mountain"].to_numpy(dtype=np.int64),
            neighbors=neighbors, edges=edges, edge_count=edge_count, collaboration=collab,
            inner_collaboration=inner, inner_edges=inner_edges,
            status_quo=status_quo, group=group, locked=locked, exclusive=frozenset(exclusive),
            together=together_sets(groups, code_to_unit), lock_plan=lock_plan,
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
            together=tuple(t for t in (tuple(sorted(new[u] for u in s if u in new)) for s in self.together)
                           if len(t) > 1),
            lock_plan={new[u]: q for u, q in self.lock_plan.items() if u in new},
        )

    def joined(self) -> Units | None:
        """These units with each ``together`` set and the units between its parts made one unit.

        For the heuristic, which moves whole units. The parts of a set are joined by the cheapest
        paths (fewest inhabitants) through units free to share their plan (same hard-boundary
        label, no other lock, no exclusive locked plan), avoiding other sets where it can; sets a
        path goes through are joined too. This is a restriction: the exact solvers may join the parts
        through other municipalities. Returns None when some set cannot be joined that way (the
        feasibility check says why).
        """
        if not self.together:
            return self
        joined = nx.Graph()
        in_set = {u for t in self.together for u in t}
        for units in self.together:
            path = connecting(self, units, in_set)
            if path is None:
                return None
            joined.add_nodes_from(path)
            first = min(path)
            joined.add_edges_from((first, u) for u in path if u != first)
        blocks = [sorted(part) for part in nx.connected_components(joined)]
        for block in blocks:
            labels = {self.locked[u] for u in block if u in self.locked}
            if len(labels) > 1 or (self.group is not None and len(set(self.group[block])) > 1):
                return None
        return self.contract(blocks)

    def contract(self, blocks: list[list[int]]) -> Units:
        """These units with each block (a connected list of units) made one unit; ``together`` is dropped.

        A block's hard-boundary label and lock are those of its first unit (that has one); its status
        quo plan is the one holding most of its municipalities (the heuristic then counts a block
        that spans two status quo plans as moved or not as a whole, an approximation of its own
        ``moved``; the evaluator counts each municipality).
        """
        of = list(range(len(self)))
        for block in blocks:
            for u in block:
                of[u] = min(block)
        keep = sorted(set(of))
        new = {u: k for k, u in enumerate(keep)}
        parts: list[list[int]] = [[] for _ in keep]
        for u in range(len(self)):
            parts[new[of[u]]].append(u)
        block_of = [new[of[u]] for u in range(len(self))]
        edge_count, inner_edges = _contract_pairs(self.edge_count, block_of, self.inner_edges)
        edges = sorted(edge_count)
        neighbors: list[list[int]] = [[] for _ in keep]
        for i, j in edges:
            neighbors[i].append(j)
            neighbors[j].append(i)
        collab, inner = _contract_pairs(self.collaboration, block_of, self.inner_collaboration)
        locked: dict[int, str] = {}
        for u, label in self.locked.items():
            locked.setdefault(new[of[u]], label)
        lock_plan: dict[int, int] = {}
        for u, q in self.lock_plan.items():
            lock_plan.setdefault(new[of[u]], q)
        first = [part[0] for part in parts]
        status_quo = None
        sq = self.status_quo
        if sq is not None:  # the status quo plan holding most of the block's municipalities
            holder = np.array([max(part, key=lambda u: (sum(len(self.members[v]) for v in part if sq[v] == sq[u]), -u))
                               for part in parts])
            status_quo = sq[holder]
        return Units(
            ids=["+".join(self.ids[u] for u in part) for part in parts],
            members=[[c for u in part for c in self.members[u]] for part in parts],
            population=np.array([self.population[part].sum() for part in parts], dtype=np.int64),
            area=np.array([self.area[part].sum() for part in parts], dtype=np.int64),
            mountain_area=np.array([self.mountain_area[part].sum() for part in parts], dtype=np.int64),
            neighbors=neighbors, edges=edges, edge_count=edge_count, collaboration=collab,
            inner_collaboration=inner, inner_edges=inner_edges,
            status_quo=status_quo, group=None if self.group is None else self.group[first],
            locked=locked, exclusive=self.exclusive, lock_plan=lock_plan,
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



def _contract_pairs(pairs: dict, block_of, inner):
    """Values of pairs summed per pair of blocks (``block_of[i]``), and ``inner`` plus the pairs inside one block."""
    out: dict = {}
    for (i, j), value in pairs.items():
        a, b = block_of[i], block_of[j]
        if a == b:
            inner += value
        else:
            key = (min(a, b), max(a, b))
            out[key] = out.get(key, 0) + value
    return out, inner


def _unit_edges(graph, code_to_unit: pd.Series) -> tuple[dict[tuple[int, int], int], int]:
    """Municipality edges behind each unit edge, and the number of edges inside units."""
    return _contract_pairs({(a, b): 1 for a, b in graph.edges}, code_to_unit.to_dict(), 0)


def _unit_ties(collaboration, code_to_unit: pd.Series) -> tuple[dict[tuple[int, int], float], float]:
    """Collaboration weight between units, and the weight of ties inside units (always kept)."""
    unit_of = code_to_unit.to_dict()
    ties = {(a, b): w for (a, b), w in collaboration.weights().items() if a in unit_of and b in unit_of}
    return _contract_pairs(ties, unit_of, 0.0)


def _locks(rules, sq, code_to_unit: pd.Series) -> tuple[dict[int, str], set[str]]:
    """Unit -> lock label, and the labels of locked status quo plans (exclusive)."""
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


def _join_locked_plans(locked: dict[int, str], sq, code_to_unit: pd.Series) -> None:
    """Merge mode: a unit locked to another current plan shares the plan of that plan's largest part.

    Its municipalities cannot move, so its plan merges with that plan, which carries the lock's id
    (``Units.to_plan``) as the plan holding most of it. In place; a part locked already keeps its label.
    """
    plans_of = sq.assignment.groupby(code_to_unit).agg(set)  # unit -> the current plans of its municipalities
    members = sq.members
    for u, label in list(locked.items()):
        if label in members and label not in plans_of[u]:
            parts = code_to_unit[members[label]].value_counts()
            locked.setdefault(int(min(parts.index[parts == parts.max()])), label)


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
