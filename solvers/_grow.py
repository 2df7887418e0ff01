"""Constructive phase: grow regions from seeds until they meet their floor, then absorb leftovers.

The same routine partitions the whole territory (construction) and a handful of neighbouring
regions (the local search's destroy-and-rebuild move), always inside a given ``pool`` of units.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ._layout import Layout, Totals

CLASS_PULL = 5.0
"""Under class floors, a neighbour that leaves the region further from its floor (in lowest floors) scores
this much worse: a mountain or sparse region keeps its 25,000 floor instead of taking a town that makes
it standard (80,000). Six seeds of the shipped rules, 60 s: 147-150 plans without it, 149-152 with it."""


class Region:
    """A growing region: its units, totals, hard-boundary group and lock label."""

    __slots__ = ("members", "totals", "group", "lock")

    def __init__(self, layout: Layout, members: set[int], lock=None):
        self.members = set(members)
        self.totals = layout.totals(self.members)
        u = next(iter(self.members))
        self.group = layout.group[u]
        self.lock = lock if lock is not None else next(
            (layout.lock[v] for v in self.members if layout.lock[v] is not None), None)

    def add(self, layout: Layout, u: int) -> None:
        """Add one unit."""
        self.members.add(u)
        self.totals = self.totals.plus(layout.unit_totals(u))

    def clone(self) -> Region:
        """An independent copy (its own set of members)."""
        out = object.__new__(Region)
        out.members, out.totals, out.group, out.lock = set(self.members), self.totals, self.group, self.lock
        return out

    def absorb(self, other: Region) -> None:
        """Take every unit of ``other``."""
        self.members |= other.members
        self.totals = self.totals.plus(other.totals)
        if self.lock is None:
            self.lock = other.lock


def grow(layout: Layout, pool: set[int], rng: np.random.Generator, start: list[Region] | None = None,
         periphery: float = 0.7, noise: float = 1.0, singletons: bool = True) -> list[Region]:
    """Partition ``pool`` into regions grown from seeds, then merge under-floor leftovers.

    Parameters
    ----------
    layout
        The units and rules.
    pool
        Units to partition; growth never leaves the pool.
    rng
        Source of every random choice.
    start
        Regions already seeded (e.g. locked plans); they are grown first.
    periphery
        Probability of seeding at a unit with the fewest free neighbours rather than at random.
    noise
        Weight of the random term when choosing a neighbour that does not yet complete the floor.
    singletons
        Make every unit that meets its floor alone a region of its own first.

    Returns
    -------
    list of Region
        Regions covering ``pool``; some may still be below their floor when no merge could fix
        them (the caller checks).
    """
    free = set(pool)
    regions: list[Region] = []
    for region in start or []:
        free -= region.members
        regions.append(region)
    free_degree = {u: len([v for v in layout.neighbors[u] if v in free]) for u in free}

    def take(u: int) -> None:
        free.discard(u)
        for v in layout.neighbors[u]:
            if v in free:
                free_degree[v] -= 1

    for region in regions:
        if region.lock not in layout.exclusive:
            _grow_region(layout, region, free, take, rng, noise)
    if singletons:
        for u in sorted(free):
            if layout.lock[u] is None and layout.alone[u]:
                take(u)
                regions.append(Region(layout, {u}))
    while free:
        if rng.random() < periphery:
            low = min(map(free_degree.__getitem__, free))
            choices = sorted([u for u in free if free_degree[u] == low])
        else:
            choices = sorted(free)
        seed = choices[int(rng.integers(len(choices)))]
        take(seed)
        region = Region(layout, {seed})
        regions.append(region)
        _grow_region(layout, region, free, take, rng, noise)
    return merge_fragments(layout, regions, rng)


def _grow_region(layout: Layout, region: Region, free: set[int], take, rng, noise: float) -> None:
    """Add free neighbours until the region meets its floor or has none left."""
    frontier: dict[int, int] = {}
    neighbors, group, lock = layout.neighbors, region.group, region.lock
    pops, areas, mountains = layout.pop, layout.area, layout.mountain
    ceiling, meets_floor, uniform, lowest = layout.ceiling, layout.meets_floor, layout.uniform, layout.lowest

    def extend(u: int) -> None:
        for v in neighbors[u]:
            if v in free and layout.compatible(v, group, lock):
                frontier[v] = frontier.get(v, 0) + 1

    for u in region.members:
        extend(u)
    if layout.complies(region.totals):
        return
    while frontier:
        for v in [v for v in frontier if v not in free]:
            del frontier[v]
        if not frontier:
            break
        t = region.totals
        best, best_key = None, None
        for v, links in frontier.items():  # the totals with v, in plain ints: the hottest loop
            pop = t.pop + pops[v]
            if ceiling is not None and pop > ceiling:
                continue
            key: tuple[int, float, int, int]
            if pop >= lowest if uniform else meets_floor(pop, t.area + areas[v], t.mountain + mountains[v]):
                key = (0, pop, -links, v)
            else:
                key = (1, _score(layout, links + noise * rng.random(), pop, t.area + areas[v],
                                 t.mountain + mountains[v]), 0, v)
            if best_key is None or key < best_key:
                best, best_key = v, key
        if best is None or best_key is None:
            break
        del frontier[best]
        take(best)
        region.add(layout, best)
        if best_key[0] == 0:  # the region now meets its floor, within the ceiling
            return
        extend(best)


def _score(layout: Layout, links: float, pop: int, area: int, mountain: int) -> float:
    """Rank of a neighbour that leaves the region below its floor, lowest first.

    More links to the region rank first; under class floors, so does less population still missing
    (``CLASS_PULL``).
    """
    if layout.uniform:
        return -links
    return -links + CLASS_PULL * (layout.floor_of(pop, area, mountain) - pop) / max(layout.lowest, 1)


def merge_fragments(layout: Layout, regions: list[Region], rng: np.random.Generator) -> list[Region]:
    """Merge regions below their floor into neighbouring regions until none is left, if possible.

    A fragment joins a neighbouring fragment when together they comply, else the neighbour that
    leaves the merged region compliant with the least population, else the smallest neighbour.
    """
    label = {}
    for k, region in enumerate(regions):
        for u in region.members:
            label[u] = k
    alive = dict(enumerate(regions))
    stuck: set[int] = set()
    while True:
        fragments = [k for k, r in alive.items() if k not in stuck and not layout.complies(r.totals)]
        if not fragments:
            break
        k = min(fragments, key=lambda k: (alive[k].totals.pop, k))
        frag = alive[k]
        near = sorted({label[v] for u in frag.members for v in layout.neighbors[u] if v in label} - {k})
        options = []
        for j in near:
            other = alive[j]
            t = layout.joined(other, frag)
            if t is None:
                continue
            ok = t.pop >= layout.floor(t)
            was_ok = layout.complies(other.totals)
            options.append(((0 if ok and not was_ok else 1 if ok else 2), t.pop, j))
        if not options:
            stuck.add(k)
            continue
        j = min(options)[2]
        alive[j].absorb(frag)
        for u in frag.members:
            label[u] = j
        del alive[k]
        stuck.clear()
    return list(alive.values())


def totals_ok(layout: Layout, regions: list[Region]) -> bool:
    """Whether every region meets its floor and the ceiling."""
    return all(layout.complies(r.totals) for r in regions)


def lock_regions(layout: Layout) -> list[Region] | None:
    """One seed region per lock label: its locked units joined by shortest paths of free units.

    Exclusive labels (status-quo plans kept as they are) take their units only. Returns None
    when some label's units cannot be joined (the feasibility check explains why).
    """
    by_label: dict[str, list[int]] = {}
    for u in range(layout.n):
        label = layout.lock[u]
        if label is not None:
            by_label.setdefault(label, []).append(u)
    taken = {u for units in by_label.values() for u in units}
    regions = []
    for lab in sorted(by_label):
        units = by_label[lab]
        members = {units[0]}
        group = layout.group[units[0]]
        for target in units[1:]:
            if target in members:
                continue
            if lab in layout.exclusive:
                members.add(target)
                continue
            path = _path(layout, members, target, group, lab, taken)
            if path is None:
                return None
            members |= path
            taken |= path
        if not layout.connected(members):
            return None
        regions.append(Region(layout, members, lock=lab))
    return regions


def _path(layout: Layout, start: set[int], target: int, group, lab: str, taken: set[int]) -> set[int] | None:
    """Units of a shortest path from ``start`` to ``target`` through units free to join ``lab``."""
    parent = {u: -1 for u in start}
    todo = deque(sorted(start))
    while todo:
        u = todo.popleft()
        if u == target:
            out = set()
            while u != -1 and u not in start:
                out.add(u)
                u = parent[u]
            return out
        for v in layout.neighbors[u]:
            if v in parent or layout.group[v] != group:
                continue
            if v != target and (v in taken or layout.lock[v] is not None):
                continue
            parent[v] = u
            todo.append(v)
    return None


__all__ = ["Region", "Totals", "grow", "lock_regions", "merge_fragments", "totals_ok"]
