"""Start from the status quo and fix it with as few moved municipalities as the greedy rule finds.

A status-quo plan that is not connected is first cut into its connected pieces (and by hard
boundaries); its largest piece carries on the plan. Then, smallest first, each region below its
floor takes neighbouring units whose region can spare them (still connected and compliant
afterwards), largest population first so that few municipalities move; when no neighbour can
spare a unit it merges with the neighbour whose smaller side has the fewest municipalities. With
``keep`` (repair mode: every current plan is kept), two regions that carry on plans never merge.
"""

from __future__ import annotations

from ._grow import Region
from ._layout import Layout, regions_of
from ._local import Partition
from .units import reach


def status_quo_partition(layout: Layout) -> tuple[Partition, set[int]]:
    """Regions = connected pieces of each status-quo plan within one hard-boundary group.

    Also returns the ids of the regions that carry on a plan: each plan's largest piece.
    """
    sq = layout.units.status_quo
    assert sq is not None, "a status quo partition needs a status quo"
    by_plan = regions_of([int(sq[u]) for u in range(layout.n)])
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
        biggest = max(pieces, key=lambda p: (sum(layout.size[u] for u in p), -min(p)))
        for piece in pieces:
            if piece is biggest:
                main.append(len(regions))
            regions.append(Region(layout, piece))
    part = Partition(layout, regions)  # region ids follow the order given
    return part, set(main)


def repair(layout: Layout, part: Partition, keep: set[int] | None = None) -> Partition:
    """Fix every region below its floor by taking units from neighbours or by merging.

    Regions in ``keep`` never merge with each other. Returns when every region complies or no
    step helps any more (then some region is still below its floor).
    """
    keep = keep or set()
    while True:
        short = [k for k, r in part.regions.items() if not layout.complies(r.totals)]
        if not short:
            return part
        for k in sorted(short, key=lambda k: (part.regions[k].totals.pop, k)):
            if _take_one(layout, part, k) or _merge_one(layout, part, k, keep):
                break
        else:
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
