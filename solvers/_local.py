"""Local search for more plans: split big regions along spanning-tree cuts, rebuild neighbourhoods.

Two moves, both keeping every region connected and compliant:

- **split**: a region with at least twice the lowest floor is cut in two along an edge of a
  random spanning tree, when both sides comply (GerryChain's recursive tree partitioning idea);
- **rebuild** (destroy and repair): a region and some of its neighbours are dissolved and grown
  again from new seeds; kept when there are more regions, or as many with their spare population
  gathered in fewer regions (``potential``), which is what later allows a split.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from typing import TYPE_CHECKING

import numpy as np

from ._budget import Budget
from ._grow import Region, grow, totals_ok
from ._layout import Layout, Totals, regions_of

if TYPE_CHECKING:
    from ._compiled import Arrays

PERIPHERY = (0.5, 0.9, 1.0)
"""``grow``'s seeding choices, drawn at random by each regrowth ..."""
NOISE = (0.3, 1.0, 3.0)
"""... and its noise choices."""
SPLIT_TRIES = 8
"""Random spanning trees a split tries ..."""
REBUILD_TRIES = 3
"""... and regrowths a rebuild tries."""
CHUNK = 500
"""Moves the compiled ``improve_count`` makes between looks at the clock."""


class Partition:
    """Regions by id with a unit -> region id index; regions are replaced, never edited in place."""

    def __init__(self, layout: Layout, regions: list[Region]):
        self.layout = layout
        self.regions: dict[int, Region] = {}
        self.label = [-1] * layout.n
        self._next = 0
        for r in regions:
            self._put(r)

    def _put(self, region: Region) -> int:
        k = self._next
        self._next += 1
        self.regions[k] = region
        for u in region.members:
            self.label[u] = k
        return k

    def replace(self, old: list[int], new: list[Region]) -> None:
        """Swap regions ``old`` for ``new`` (covering the same units)."""
        for k in old:
            del self.regions[k]
        for r in new:
            self._put(r)

    def move(self, u: int, k: int) -> None:
        """Move unit ``u`` into region ``k`` (the caller checks that both regions stay valid)."""
        old = self.regions[self.label[u]]
        t = self.layout.unit_totals(u)
        old.members.discard(u)
        old.totals = old.totals.minus(t)
        self.regions[k].add(self.layout, u)
        self.label[u] = k

    def merge(self, keep: int, gone: int) -> None:
        """Region ``keep`` absorbs region ``gone``."""
        other = self.regions.pop(gone)
        self.regions[keep].absorb(other)
        for u in other.members:
            self.label[u] = keep

    def neighbours(self, k: int) -> list[int]:
        """Ids of regions adjacent to region ``k``."""
        lab, nb = self.label, self.layout.neighbors
        return sorted({lab[v] for u in self.regions[k].members for v in nb[u]} - {k})

    @property
    def next_id(self) -> int:
        """The id the next region put in will get (ids only grow)."""
        return self._next

    def copy(self) -> Partition:
        """An independent copy: the same regions, cloned, under new ids."""
        return Partition(self.layout, [r.clone() for r in self.regions.values()])

    @classmethod
    def from_labels(cls, layout: Layout, labels: list[int]) -> Partition:
        """The partition whose regions are the units of each label."""
        return cls(layout, [Region(layout, members) for _, members in sorted(regions_of(labels).items())])

    def labels(self) -> list[int]:
        """Region id of every unit."""
        return list(self.label)

    def __len__(self) -> int:
        return len(self.regions)


def spare(layout: Layout, t: Totals) -> int:
    """Population of a region with totals ``t`` above its floor, capped at the floor."""
    floor = layout.floor(t)
    return min(t.pop - floor, floor)


def potential(layout: Layout, regions) -> float:
    """Sum of squared ``spare`` population: higher when spare is gathered."""
    return sum(float(s) * s for s in (spare(layout, r.totals) for r in regions))


def movable(layout: Layout, region: Region) -> bool:
    """Regions holding locked units stay as built."""
    return region.lock is None


def split(layout: Layout, region: Region, rng: np.random.Generator, tries: int = SPLIT_TRIES) -> list[Region] | None:
    """Cut ``region`` in two compliant connected parts along a random spanning tree, or None."""
    if region.totals.pop < 2 * layout.lowest or len(region.members) < 2:
        return None
    members = sorted(region.members)
    inside = set(members)
    edges = [(u, v) for u in members for v in layout.neighbors[u] if v > u and v in inside]
    for _ in range(tries):
        adj = _random_tree(members, edges, rng)
        root = members[int(rng.integers(len(members)))]
        parent, order_bfs = _rooted(adj, root)
        cut = _best_cut(layout, region, members, parent, order_bfs)
        if cut is not None:
            part = _subtree(cut, adj, parent)
            return [Region(layout, part), Region(layout, region.members - part)]
    return None


def _random_tree(members: list[int], edges: list[tuple[int, int]], rng: np.random.Generator) -> dict[int, list[int]]:
    """A random spanning tree (forest) of ``members``: Kruskal over the edges in random order."""
    order = shuffled(rng, len(edges))
    parent_of = {u: u for u in members}
    adj: dict[int, list[int]] = {u: [] for u in members}
    for e in order:
        u, v = edges[e]
        ru, rv = _find(parent_of, u), _find(parent_of, v)
        if ru != rv:
            parent_of[ru] = rv
            adj[u].append(v)
            adj[v].append(u)
    return adj


def _rooted(adj: dict[int, list[int]], root: int) -> tuple[dict[int, int], list[int]]:
    """Parent of each unit reached from ``root`` (root: -1) and the breadth-first order."""
    parent = {root: -1}
    order_bfs = [root]
    for u in order_bfs:
        for v in adj[u]:
            if v not in parent:
                parent[v] = u
                order_bfs.append(v)
    return parent, order_bfs


def _best_cut(layout: Layout, region: Region, members: list[int], parent: dict[int, int],
              order_bfs: list[int]) -> int | None:
    """The tree edge (named by its lower unit) whose two sides comply with the most potential."""
    sub = {u: layout.unit_totals(u) for u in members}
    for u in reversed(order_bfs[1:]):
        sub[parent[u]] = sub[parent[u]].plus(sub[u])
    best, best_key = None, None
    for u in order_bfs[1:]:
        below = sub[u]
        above = region.totals.minus(below)
        if layout.complies(below) and layout.complies(above):
            key = -potential_pair(layout, below, above)
            if best_key is None or key < best_key:
                best, best_key = u, key
    return best


def _subtree(u: int, adj: dict[int, list[int]], parent: dict[int, int]) -> set[int]:
    """``u`` and everything below it in the rooted tree."""
    part = {u}
    todo = [u]
    while todo:
        x = todo.pop()
        for y in adj[x]:
            if y != parent[x] and y not in part:
                part.add(y)
                todo.append(y)
    return part


def _find(parent_of: dict[int, int], x: int) -> int:
    while parent_of[x] != x:
        parent_of[x] = parent_of[parent_of[x]]
        x = parent_of[x]
    return x


def potential_pair(layout: Layout, a: Totals, b: Totals) -> float:
    """``potential`` of two regions given by their totals."""
    return sum(float(s) * s for s in (spare(layout, a), spare(layout, b)))


def improve_count(layout: Layout, part: Partition, rng: np.random.Generator, budget: Budget,
                  bound: int | None = None, patience: int = 400, on_better=None) -> Partition:
    """``improve_count_python``, compiled (``_compiled_shake.improved``).

    The compiled moves are the same, with the same draws and work; they run ``CHUNK`` at a time,
    between looks at the clock, and ``on_better`` hears of the gains after each chunk.
    """
    from ._compiled_shake import ENOUGH, improved

    labels, plans, idle, ran = np.array(part.labels(), dtype=np.int64), len(part), 0, False
    while not budget.expired():
        left = budget.allowance - budget.work if budget.deterministic else ENOUGH
        labels, count, spent, idle, ended = improved(compiled(layout), labels, rng, left,
                                                     ENOUGH if bound is None else bound, patience, idle, CHUNK,
                                                     SPLIT_TRIES, REBUILD_TRIES, PERIPHERY, NOISE)
        budget.spend(spent)
        ran = True
        if count > plans:
            plans = count
            if on_better:
                on_better(Partition.from_labels(layout, labels.tolist()))
        if ended:
            break
    return Partition.from_labels(layout, labels.tolist()) if ran else part


def improve_count_python(layout: Layout, part: Partition, rng: np.random.Generator, budget: Budget,
                         bound: int | None = None, patience: int = 400, on_better=None,
                         since: int | None = None) -> Partition:
    """Raise the number of regions by splits and rebuilds until ``budget`` or ``patience`` runs out.

    Stops early when the count reaches ``bound``. ``on_better(part)`` is called after each gain.
    Each move spends its work on ``budget`` (see ``_budget``). With ``since``, moves start only
    from regions with an id from ``since`` on (the ones built since then) and their neighbours.
    """
    idle = 0
    ids, seen = [], -1
    while not budget.expired() and idle < patience:
        if bound is not None and len(part) >= bound:
            break
        if part.next_id != seen:  # the moves below only ever replace regions, under new ids
            ids, seen = sorted(k for k, r in near_regions(part, since) if movable(layout, r)), part.next_id
        if not ids:
            break
        k = ids[int(rng.integers(len(ids)))]
        region = part.regions[k]
        pieces = split(layout, region, rng)
        if region.totals.pop >= 2 * layout.lowest:  # split only tries trees of regions this big
            budget.spend(len(region.members) * (1 if pieces is not None else SPLIT_TRIES))
        if pieces is not None:
            part.replace([k], pieces)
            idle = 0
            if on_better:
                on_better(part)
            continue
        if _rebuild(layout, part, k, rng, budget):
            idle = 0
            if on_better:
                on_better(part)
        else:
            idle += 1
    return part


def near_regions(part: Partition, since: int | None):
    """Regions (id, region) built from id ``since`` on, and their neighbours; every region when None."""
    if since is None:
        return part.regions.items()
    new = [k for k in part.regions if k >= since]
    ids = set(new).union(*(part.neighbours(k) for k in new))
    return [(k, part.regions[k]) for k in ids]


def regrow(layout: Layout, pool: set[int], rng: np.random.Generator, tries: int, beat=None):
    """The best of ``tries`` compliant connected regrowths of ``pool``, and its key.

    Regrowths rank by (regions, ``potential``); (None, ``beat``) when none ranks above ``beat``
    (None: any will do). A pool of unlocked units goes to the compiled copy (``_compiled``),
    which gives what ``regrow_python`` gives, faster.
    """
    if pool.isdisjoint(layout.locked):
        return compiled(layout).regrow(pool, rng, tries, PERIPHERY, NOISE, beat)
    return regrow_python(layout, pool, rng, tries, beat)


def compiled(layout: Layout) -> Arrays:
    """The layout's arrays for ``_compiled``, built once with every compiled function ready.

    Building them compiles the functions (or loads them from Numba's cache); importing Numba waits
    until a search needs it. When Numba's cache is empty (the first search after installing), a forked child
    compiles the chain moves into the cache while this process compiles the rounds of shaking, and
    this process then loads them from there: on two cores about 20 s less than one after the other.
    """
    if layout.arrays is None:
        from . import _compiled_gather, _compiled_shake
        from ._compiled import Arrays, _regrow
        from ._workers import aside

        arrays = Arrays(layout)
        afresh = bool(_regrow.stats.cache_misses) and not _compiled_gather._chain.signatures
        helper = aside(_compiled_gather.compile_now, arrays) if afresh else None
        _compiled_shake.compile_now(arrays)
        if helper is not None:
            helper.join()
        _compiled_gather.compile_now(arrays)
        layout.arrays = arrays
    return layout.arrays


def regrow_python(layout: Layout, pool: set[int], rng: np.random.Generator, tries: int, beat=None):
    """``regrow``, in Python: the definition, and the way for pools holding locked units."""
    best, best_key = None, beat
    for _ in range(tries):
        periphery = PERIPHERY[int(rng.integers(len(PERIPHERY)))]  # the draws of rng.choice, without its cost
        new = grow(layout, pool, rng, periphery=periphery, noise=NOISE[int(rng.integers(len(NOISE)))])
        if not totals_ok(layout, new) or not all(layout.connected(r.members) for r in new):
            continue
        key = (len(new), potential(layout, new))
        if best_key is None or key > best_key:
            best, best_key = new, key
    return best, best_key


def drawn(ids: list[int], weights, rng: np.random.Generator) -> int:
    """One of ``ids``, drawn at random with the given (non-negative, not all zero) weights."""
    total = list(accumulate(weights))
    return ids[min(bisect_right(total, rng.random() * total[-1]), len(ids) - 1)]


def shuffled(rng: np.random.Generator, n: int, take: int | None = None) -> list[int]:
    """The first ``take`` (None: all) of 0 .. n-1 in random order.

    A Fisher-Yates shuffle drawn with ``rng.integers``, which the compiled copy draws alike
    (``rng.permutation`` would take Numba seconds more to compile).
    """
    order = list(range(n))
    for i in range(min(n - 1, n if take is None else take)):
        j = int(rng.integers(i, n))
        order[i], order[j] = order[j], order[i]
    return order if take is None else order[:take]


def _rebuild(layout: Layout, part: Partition, k: int, rng: np.random.Generator, budget: Budget,
             tries: int = REBUILD_TRIES) -> bool:
    """Dissolve region ``k`` and some neighbours, regrow them; True when the count went up."""
    region = part.regions[k]
    near = [j for j in part.neighbours(k)
            if movable(layout, part.regions[j]) and part.regions[j].group == region.group]
    if not near:
        return False
    take = int(rng.integers(1, min(len(near), 4) + 1))
    chosen = [k] + [near[i] for i in sorted(shuffled(rng, len(near), take))]
    old = [part.regions[j] for j in chosen]
    pool = set().union(*(r.members for r in old))
    budget.spend(len(pool) * tries)
    before = (len(old), potential(layout, old))
    best, best_key = regrow(layout, pool, rng, tries, before)
    if best is None:
        return False
    part.replace(chosen, best)
    return best_key[0] > before[0]
