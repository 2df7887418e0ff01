"""What the heuristic needs to know about units and rules, in plain Python for speed.

``Layout`` wraps ``Units`` with lists (faster than numpy for the one-at-a-time work of
growing regions) and answers three questions: a region's floor from its totals (the exact
class rule, ``measures.ClassRule``), whether a unit may join a region (hard boundaries, locks,
ceiling), and whether a set of units is connected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lombardy_districts.model.measures import ClassRule
from lombardy_districts.model.rules import Rules

from .units import Units, reach

if TYPE_CHECKING:  # Numba is imported only once a search needs it
    from ._compiled import Arrays


@dataclass(slots=True)
class Totals:
    """Population, area and mountain area of a region (areas in units of 1/AREA_SCALE km2)."""

    pop: int = 0
    area: int = 0
    mountain: int = 0

    def plus(self, other: Totals) -> Totals:
        """Totals of the union of two disjoint regions."""
        return Totals(self.pop + other.pop, self.area + other.area, self.mountain + other.mountain)

    def minus(self, other: Totals) -> Totals:
        """Totals after removing a part."""
        return Totals(self.pop - other.pop, self.area - other.area, self.mountain - other.mountain)


class Layout:
    """Units, rules and constraints prepared for the heuristic."""

    def __init__(self, units: Units, rules: Rules):
        self.units = units
        self.rules = rules
        self.n = len(units)
        self.pop = [int(p) for p in units.population]
        self.area = [int(a) for a in units.area]
        self.mountain = [int(m) for m in units.mountain_area]
        self.neighbors = [list(nb) for nb in units.neighbors]
        self.links: list[dict[int, int]] = [{} for _ in range(self.n)]
        for (i, j), c in units.edge_count.items():
            self.links[i][j] = self.links[j][i] = c
        self.inner_collab = units.inner_collaboration
        self.rule = ClassRule.of(rules)
        self.group = list(units.group) if units.group is not None else [None] * self.n
        self.lock = [units.locked.get(i) for i in range(self.n)]
        self.locked = {u for u in range(self.n) if self.lock[u] is not None}
        self.exclusive = set(units.exclusive)
        self.ceiling = rules.ceiling
        self.floors = dict(rules.floors)
        self.uniform = len(set(self.floors.values())) == 1
        self.lowest = min(self.floors.values())
        self.highest = max(self.floors.values())
        self.size = [len(m) for m in units.members]
        weights: list[dict[int, float]] = [{} for _ in range(self.n)]
        for (i, j), w in units.collaboration.items():
            weights[i][j] = weights[i].get(j, 0.0) + w
            weights[j][i] = weights[j].get(i, 0.0) + w
        self.collab = weights
        self.tie_pairs = _pairs(weights)
        """Each pair of units with collaboration ties once: arrays of units ``u < v`` and their weight."""
        self.link_pairs = _pairs(self.links)
        """Each pair of neighbouring units once: arrays of units ``u < v`` and their municipality-level edges."""
        self.alone = [self.complies(self.unit_totals(u)) for u in range(self.n)]
        """Whether each unit meets its floor (and the ceiling) on its own."""
        self.arrays: Arrays | None = None
        """``_compiled.Arrays`` of this layout, once a search asks for them (``_local.compiled``)."""

    def unit_totals(self, u: int) -> Totals:
        """Totals of one unit."""
        return Totals(self.pop[u], self.area[u], self.mountain[u])

    def totals(self, members) -> Totals:
        """Totals of a set of units."""
        return Totals(sum(self.pop[u] for u in members), sum(self.area[u] for u in members),
                      sum(self.mountain[u] for u in members))

    def floor(self, t: Totals) -> int:
        """Population floor of a region with totals ``t`` (``measures.ClassRule``)."""
        return self.floor_of(t.pop, t.area, t.mountain)

    def floor_of(self, pop: int, area: int, mountain: int) -> int:
        """``floor`` from the three totals."""
        if self.uniform:
            return self.lowest
        return self.floors[self.rule.classify(pop, area, mountain)]

    def complies(self, t: Totals) -> bool:
        """Whether a (connected) region with totals ``t`` meets its floor and the ceiling."""
        if self.ceiling is not None and t.pop > self.ceiling:
            return False
        return self.meets_floor(t.pop, t.area, t.mountain)

    def meets_floor(self, pop: int, area: int, mountain: int) -> bool:
        """Whether a region with these totals has at least its class floor (ceiling aside).

        The class is asked for only between the lowest and the highest floor: below, no class
        complies; at or above, every class does (so never under a uniform floor).
        """
        if pop < self.lowest or pop >= self.highest:
            return pop >= self.lowest
        return pop >= self.floor_of(pop, area, mountain)

    def within_ceiling(self, pop: int) -> bool:
        """Whether a population respects the ceiling (always, without one)."""
        return self.ceiling is None or pop <= self.ceiling

    def compatible(self, u: int, group, lock) -> bool:
        """Whether unit ``u`` may join a region of hard-boundary ``group`` and lock label ``lock``."""
        if self.group[u] != group:
            return False
        if lock is not None and lock in self.exclusive:
            return False
        return self.lock[u] is None or lock is None or self.lock[u] == lock

    def joined(self, a, b) -> Totals | None:
        """Totals of regions ``a`` and ``b`` together, or None when they may not share a plan.

        Regions carry ``group``, ``lock`` and ``totals``; they may not share a plan across a hard
        boundary, with different lock labels, with an exclusive lock, or above the ceiling.
        """
        if a.group != b.group or self.exclusive & {a.lock, b.lock}:
            return None
        if a.lock is not None and b.lock is not None and a.lock != b.lock:
            return None
        t = a.totals.plus(b.totals)
        return t if self.within_ceiling(t.pop) else None

    def connected(self, members: set[int]) -> bool:
        """Whether ``members`` induce a connected subgraph (empty sets are not)."""
        if not members:
            return False
        seen = reach(self.neighbors, next(iter(members)), members)
        return len(seen) == len(members)


def regions_of(labels: list[int]) -> dict[int, set[int]]:
    """Label -> set of units."""
    out: dict[int, set[int]] = {}
    for u, lab in enumerate(labels):
        out.setdefault(lab, set()).add(u)
    return out


def _pairs(table: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair ``u < v`` of ``table`` (per unit, neighbour -> value) once, as arrays ``u``, ``v``, value."""
    rows = [(u, v, x) for u, row in enumerate(table) for v, x in row.items() if v > u]
    return (np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64),
            np.array([r[2] for r in rows]))
