"""Start from the status quo and fix it with as few moved municipalities as the greedy rule finds.

A status-quo plan that is not connected is first cut into its connected pieces (and by hard
boundaries); its largest piece carries on the plan. A piece that one unit of a neighbouring region
joins back to it (the region can spare the unit) is joined back first. Then, smallest first (with
``keep``, the regions carrying on plans before the pieces cut off), each region below its floor is
fixed. In repair mode a piece cut off a plan first joins a neighbouring region that still complies
with it (only the piece moves: an exclave cut off its province moves alone). Otherwise the region takes
neighbouring units whose region can spare them (still connected and compliant afterwards), the one
leaving it least short of the floor of its class first (then the most populous, so that few
municipalities move); or, when losing a unit gives it a class of lower floor that it meets, gives
that unit to a neighbour. When no neighbour can spare one, a **chain**: a neighbour gives it a unit
and takes one from a region further on, up to a few regions (``CHAINS``), each ending connected and
compliant (the plans next to a short one are often at their own floor). When no chain is found
either, it merges with the neighbour whose smaller side has the fewest municipalities. With ``keep``
(repair mode: every current plan is kept), two regions that carry on plans never merge. Repair mode
makes up to three attempts (``ATTEMPTS``), each only when the one before leaves a plan short, then up
to ``RESTARTS`` more with the short plans fixed in a random order (``heuristic``), for a repair that
moves fewer municipalities or for one at all.
"""

from __future__ import annotations

import numpy as np

from ._grow import Region
from ._layout import Layout, Totals, regions_of
from ._local import Partition
from .repair_zone import moving_locks
from .units import reach

CHAINS = ((3, 6), (6, 12))
"""(depth, branch) of the chain moves: a chain passes through at most ``depth`` regions (the short
region not counted), trying ``branch`` units at each step (least shortfall left, then most populous)."""
ATTEMPTS = ((CHAINS[0], False), (CHAINS[1], False), (CHAINS[1], True))
"""(chain, ``by_population``) of each attempt at a repair, the next only when one leaves a plan short.
With 20 municipalities moved out of a 154-plan plan of Lombardy (seeds 8-23,
``benchmarks/bench_repair.py``), 7 of 16 are repaired by the first, 9 with the second, 11 with the
third; with 30 (seeds 0-7), 2, 5 and 5 of 8 (3 December)."""
RESTARTS = 16
"""Further attempts after ``ATTEMPTS``, the short plans fixed in a random order, for a repair that moves fewer.
Same draws as ``ATTEMPTS`` (3 December): 20 edits 11 -> 12 of 16 repaired, and of the 11 repaired
before, fewer moves for four (46 -> 45, 34 -> 28, 19 -> 17, 24 -> 17); 30 edits 5 -> 6 of 8, and
57 -> 34, 30 -> 28 moves for two; 10 edits (seeds 0-7) unchanged. A failed repair takes about 3 s
instead of 1."""
CHAIN_STEPS = 20_000
"""Units one chain search may try: branch ** depth bounds it too, but 12 ** 6 would take minutes."""


def status_quo_partition(layout: Layout, by_population: bool = False) -> tuple[Partition, set[int]]:
    """Regions = connected pieces of each status-quo plan within one hard-boundary group.

    A unit locked to another current plan starts in that plan (``_homes``). Also returns
    the ids of the regions that carry on a plan: each plan's largest piece, in municipalities
    (fewest moved) or ``by_population`` (the piece nearest its floor).
    """
    by_plan = regions_of(_homes(layout))
    regions: list[Region] = []
    main: list[int] = []
    for q in sorted(by_plan):
        pieces = []
        for group in sorted({layout.group[u] for u in by_plan[q]}, key=str):
            rest = {u for u in by_plan[q] if layout.group[u] == group}
            while rest:
                piece = reach(layout.neighbors, min(rest), rest)
                rest -= piece
                pieces.append(piece)
        weight = layout.pop if by_population else layout.size
        biggest = max(pieces, key=lambda p: (sum(weight[u] for u in p), -min(p)))
        for piece in pieces:
            if piece is biggest:
                main.append(len(regions))
            regions.append(Region(layout, piece))
    part = Partition(layout, regions)  # region ids follow the order given
    return part, set(main)


def _homes(layout: Layout) -> list[int]:
    """The current plan each unit starts in: its own, or the one its lock names (``Units.lock_plan``).

    A unit locked to a plan it does not touch starts there with the fewest units of a path to that
    plan (free units of its hard-boundary group), so that the plan can reach it; none if no path.
    """
    sq = layout.units.status_quo
    assert sq is not None, "a repair needs a status quo"
    home = [layout.units.lock_plan.get(u, int(sq[u])) for u in range(layout.n)]
    for u, q in sorted(moving_locks(layout.units).items()):
        joined = reach(layout.neighbors, u, {v for v in range(layout.n) if home[v] == q})
        if any(sq[v] == q for v in joined):
            continue
        came = {u: u}
        frontier = [u]
        while frontier and not any(sq[v] == q for v in frontier):
            step = []
            for v in frontier:
                for w in sorted(layout.neighbors[v]):
                    free = layout.lock[w] is None or sq[w] == q
                    if w not in came and free and layout.group[w] == layout.group[u]:
                        came[w] = v
                        step.append(w)
            frontier = step
        ends = [v for v in frontier if sq[v] == q]
        if ends:
            v = came[min(ends)]
            while v != u:
                home[v], v = q, came[v]
    return home


def keeps_every_plan(layout: Layout, part: Partition) -> bool:
    """Whether ``part`` reads as a repair: no region continues two current plans, locks kept.

    No region is the successor of two current plans, and each unit locked to a current plan
    (``Units.lock_plan``) is in that plan's successor. A successor holds most of the plan: most
    municipalities, then most inhabitants (``measures.successors``, as ``Units.heir_weights`` in the
    models); regions tied on both may each be it.
    """
    sq = layout.units.status_quo
    assert sq is not None, "a repair needs a status quo"
    held: dict[int, dict[int, tuple[int, int]]] = {}  # current plan -> region -> (municipalities, inhabitants)
    for v in range(layout.n):
        regions = held.setdefault(int(sq[v]), {})
        size, pop = regions.get(part.label[v], (0, 0))
        regions[part.label[v]] = (size + layout.size[v], pop + layout.pop[v])
    heirs = {q: {r for r, key in regions.items() if key == max(regions.values())} for q, regions in held.items()}
    sole = [next(iter(h)) for h in heirs.values() if len(h) == 1]
    if len(sole) != len(set(sole)):
        return False
    return all(part.label[u] in heirs[q] for u, q in layout.units.lock_plan.items())


def repair(layout: Layout, part: Partition, keep: set[int] | None = None, chain: tuple[int, int] = CHAINS[0],
           rng: np.random.Generator | None = None) -> Partition:
    """Fix every region below its floor by taking units from neighbours or by merging.

    Regions in ``keep`` never merge with each other; ``chain`` is the (depth, branch) of the chain
    moves (``CHAINS``); with ``rng`` the short regions are fixed in a random order instead of
    smallest first. Returns when every region complies or no step helps any more (then some
    region is still below its floor).
    """
    keep = keep or set()
    _reunite(layout, part, keep)
    for _ in range(4 * layout.n + 1):  # every step adds to a short region or merges two: a cap, not a limit met
        short = [k for k, r in part.regions.items() if not layout.complies(r.totals)]
        if not short:
            return part
        order = sorted(short, key=lambda k: (k not in keep, part.regions[k].totals.pop, k))
        if rng is not None:
            order = [order[i] for i in rng.permutation(len(order))]
        for k in order:
            if ((keep and k not in keep and _absorb(layout, part, k)) or _take_one(layout, part, k)
                    or _give_one(layout, part, k) or _take_chain(layout, part, k, chain)
                    or _merge_one(layout, part, k, keep)):
                break
        else:
            return part
    return part


def _reunite(layout: Layout, part: Partition, keep: set[int]) -> None:
    """Join each piece cut off a plan back to it through a unit next to both, when that unit's region can spare it.

    A planner who moves the one municipality that held a plan together cuts the plan in two; taking
    that municipality back (or another joining the pieces) is one move, where the greedy steps below
    grow the pieces apart and may turn the plan into a class of higher floor.
    """
    home = _homes(layout)
    main_of = {home[next(iter(part.regions[k].members))]: k for k in keep}
    for p in sorted(set(part.regions) - keep):
        piece = part.regions[p]
        k = main_of.get(home[next(iter(piece.members))])
        if k is None or layout.joined(part.regions[k], piece) is None:  # apart by a hard boundary or a lock
            continue
        region = part.regions[k]
        near_piece = {v for u in piece.members for v in layout.neighbors[u]}
        options = []
        for v, j, after in _offers(layout, part, k, region.members, region.totals, {k, p}):
            joined = after.plus(piece.totals)
            if v in near_piece and layout.within_ceiling(joined.pop) and layout.complies(
                    part.regions[j].totals.minus(layout.unit_totals(v))):
                options.append((shortfall(layout, joined), layout.size[v], v))
        for *_, v in sorted(set(options)):
            j = part.label[v]
            if layout.connected(part.regions[j].members - {v}):
                part.move(v, k)
                part.merge(k, p)
                break


def _absorb(layout: Layout, part: Partition, k: int) -> bool:
    """Join region ``k``, a short piece cut off a plan, to a neighbour that still complies with it.

    Its municipalities move either way; growing it into a plan of its own would move more (an exclave
    cut off its province moves alone). The neighbour sharing the most contiguity edges with it takes it.
    """
    piece = part.regions[k]
    shared: dict[int, int] = {}
    for u in piece.members:
        for v in layout.neighbors[u]:
            if part.label[v] != k:
                shared[part.label[v]] = shared.get(part.label[v], 0) + 1
    options = []
    for j, edges in shared.items():
        t = layout.joined(part.regions[j], piece)
        if t is not None and layout.complies(t):
            options.append((-edges, j))
    if not options:
        return False
    part.merge(min(options)[1], k)
    return True


def shortfall(layout: Layout, t: Totals) -> int:
    """Inhabitants a region with totals ``t`` lacks to reach the floor of its class (0 when it does)."""
    return max(0, layout.floor(t) - t.pop)


def _take_one(layout: Layout, part: Partition, k: int) -> bool:
    """Move into region ``k`` the neighbouring unit its region can spare that leaves ``k`` least short of its floor.

    Ties go to the most inhabitants per municipality: a unit that changes the region's class to a
    higher floor (a dense town joining a sparse plan) is taken last.
    """
    region = part.regions[k]
    options = []
    for v, j, after in _offers(layout, part, k, region.members, region.totals, {k}):
        if layout.complies(part.regions[j].totals.minus(layout.unit_totals(v))):
            options.append((shortfall(layout, after), -layout.pop[v] / layout.size[v], v))
    for *_, v in sorted(set(options)):
        donor = part.regions[part.label[v]]
        if layout.connected(donor.members - {v}):
            part.move(v, k)
            return True
    return False


def _give_one(layout: Layout, part: Partition, k: int) -> bool:
    """Move out of region ``k`` a unit whose leaving makes it comply (lower floor) to a neighbour that still complies.

    A dense town moved into a sparse plan can make it a standard one of higher floor: giving the
    town away is then the repair. The least populous such unit goes.
    """
    region = part.regions[k]
    if len(region.members) == 1:
        return False
    options = []
    for v in region.members:
        if layout.lock[v] is not None:
            continue
        left = region.totals.minus(layout.unit_totals(v))
        if not layout.complies(left):
            continue
        for j in sorted({part.label[w] for w in layout.neighbors[v]} - {k}):
            other = part.regions[j]
            if layout.compatible(v, other.group, other.lock) and layout.complies(
                    other.totals.plus(layout.unit_totals(v))):
                options.append((layout.pop[v], v, j))
    for _, v, j in sorted(options):
        if layout.connected(region.members - {v}):
            part.move(v, j)
            return True
    return False


def _take_chain(layout: Layout, part: Partition, k: int, chain: tuple[int, int]) -> bool:
    """Give region ``k`` a unit through a chain of regions (module docstring); whether one was found."""
    region = part.regions[k]
    moves = _chain(layout, part, k, region.members, region.totals, chain, {k}, [CHAIN_STEPS])
    for u, target in moves or []:
        part.move(u, target)
    return moves is not None


def _chain(layout: Layout, part: Partition, k: int, members: set[int], totals: Totals, chain: tuple[int, int],
           banned: set[int], steps: list[int]) -> list[tuple[int, int]] | None:
    """Moves ``(unit, region)`` that give region ``k`` (as ``members`` with ``totals``) one unit, or None.

    The short region (``banned == {k}``) takes any unit with inhabitants; a region further on has
    given a unit already, and must comply with the one it takes. The region giving the last unit
    stays connected and compliant; no region is passed twice (``banned``). Deepest move first.
    ``steps`` (one number, shared by the whole search) is the units it may still try.
    """
    first = banned == {k}
    options = set()
    for v, j, after in _offers(layout, part, k, members, totals, banned):
        if layout.pop[v] > 0 if first else layout.complies(after):
            options.add((shortfall(layout, after), -layout.pop[v], v, j))
    depth, branch = chain
    for *_, v, j in sorted(options)[:branch]:
        if steps[0] <= 0:
            return None
        steps[0] -= 1
        donor = part.regions[j]
        rest, left = donor.members - {v}, donor.totals.minus(layout.unit_totals(v))
        if not layout.connected(rest):
            continue
        if layout.complies(left):
            return [(v, k)]
        if depth > 1:
            further = _chain(layout, part, j, rest, left, (depth - 1, branch), banned | {j}, steps)
            if further is not None:
                return further + [(v, k)]
    return None


def _offers(layout: Layout, part: Partition, k: int, members: set[int], totals: Totals, banned: set[int]):
    """``(unit, its region, k's totals with it)`` for the units next to ``members`` that region ``k`` may take.

    Not in a ``banned`` region, not locked, allowed in ``k`` (hard boundary, lock), not the last unit
    of its region, and within the ceiling once taken.
    """
    region = part.regions[k]
    for u in members:
        for v in layout.neighbors[u]:
            j = part.label[v]
            if j in banned or v in members or layout.lock[v] is not None or len(part.regions[j].members) == 1:
                continue
            if not layout.compatible(v, region.group, region.lock):
                continue
            after = totals.plus(layout.unit_totals(v))
            if layout.within_ceiling(after.pop):
                yield v, j, after


def _merge_one(layout: Layout, part: Partition, k: int, keep: set[int]) -> bool:
    """Merge region ``k`` with the neighbour that moves the fewest municipalities (never two of ``keep``)."""
    region = part.regions[k]
    options = []
    for j in part.neighbours(k):
        if j in keep and k in keep:
            continue
        other = part.regions[j]
        t = layout.joined(other, region)
        if t is None:
            continue
        size_k = sum(layout.size[u] for u in region.members)
        size_j = sum(layout.size[u] for u in other.members)
        options.append((not layout.complies(t), min(size_k, size_j), j, size_j >= size_k))
    if not options:
        return False
    _, _, j, keep_other = min(options)
    if j in keep or k in keep:
        keep_other = j in keep
    if keep_other:
        part.merge(j, k)
    else:
        part.merge(k, j)
    return True
