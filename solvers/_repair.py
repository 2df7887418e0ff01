"""Start from the status quo and fix it with as few moved municipalities as the greedy rule finds.

A status-quo plan that is not connected is first cut into its connected pieces (and by hard
boundaries). Then, smallest first, each region below its floor takes neighbouring units whose
region can spare them (still connected and compliant afterwards), largest population first so
that few municipalities move; when no neighbour can spare a unit it merges with the neighbour
whose smaller side has the fewest municipalities.
"""

from __future__ import annotations

from ._grow import Region
from ._layout import Layout
from ._local import Partition
from .units import reach


def status_quo_partition(layout: Layout) -> Partition:
    """Regions = connected pieces of each status-quo plan within one hard-boundary group."""
    sq = layout.units.status_quo
    by_key: dict[tuple, set[int]] = {}
    for u in range(layout.n):
        by_key.setdefault((int(sq[u]), layout.group[u]), set()).add(u)
    regions = []
    for key in sorted(by_key, key=str):
        rest = set(by_key[key])
        while rest:
            piece = reach(layout.neighbors, min(rest), rest)
            rest -= piece
            regions.append(Region(layout, piece))
    return Partition(layout, regions)


def repair(layout: Layout, part: Partition) -> Partition:
    """Fix every region below its floor by taking units from neighbours or by merging."""
    while True:
        short = [k for k, r in part.regions.items() if not layout.complies(r.totals)]
        if not short:
            return part
        k = min(short, key=lambda k: (part.regions[k].totals.pop, k))
        if _take_one(layout, part, k):
            continue
        if not _merge_one(layout, part, k):
            return part


def _take_one(layout: Layout, part: Partition, k: int) -> bool:
    """Move into region ``k`` the most populous neighbouring unit its region can spare."""
    region = part.regions[k]
    options = []
    for u in region.members:
        for v in layout.neighbors[u]:
            j = part.label[v]
            if j == k or layout.lock[v] is not None or not layout.compatible(v, region.group, region.lock):
                continue
            donor = part.regions[j]
            if len(donor.members) == 1 or not layout.complies(donor.totals.minus(layout.unit_totals(v))):
                continue
            if not layout.within_ceiling(region.totals.pop + layout.pop[v]):
                continue
            options.append((-layout.pop[v] / layout.size[v], v))
    for _, v in sorted(set(options)):
        donor = part.regions[part.label[v]]
        if layout.connected(donor.members - {v}):
            part.move(v, k)
            return True
    return False


def _merge_one(layout: Layout, part: Partition, k: int) -> bool:
    """Merge region ``k`` with the neighbour that moves the fewest municipalities."""
    region = part.regions[k]
    options = []
    for j in part.neighbours(k):
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
    if keep_other:
        part.merge(j, k)
    else:
        part.merge(k, j)
    return True
