"""Objective values of a partition and the boundary-move local search for the other objectives.

Values, all "larger is better" once signed by ``signed``, with the meanings of ``model.measures``
(tests hold these fast copies to the definitions there):

- ``plans``: number of regions (objective ``max-plans``);
- ``collaboration``: collaboration weight on ties inside regions (ties inside units included);
- ``cut``: municipality-level contiguity edges between regions (objective ``compact``, minimised);
- ``moved``: municipalities not in their status-quo plan's successor, the region holding most of
  that plan's municipalities (objective ``disruption``, minimised).
"""

from __future__ import annotations

import numpy as np

from ._budget import Budget
from ._layout import Layout
from ._local import Partition

SIGN = {"max-plans": ("plans", 1), "collaboration": ("collaboration", 1), "compact": ("cut", -1),
        "disruption": ("moved", -1)}


def overlaps(layout: Layout, part: Partition) -> dict[int, dict[int, int]]:
    """Status-quo plan index -> {region id: its municipalities in that region}."""
    out: dict[int, dict[int, int]] = {}
    sq = layout.units.status_quo
    if sq is None:
        return out
    for u, k in enumerate(part.label):
        share = out.setdefault(int(sq[u]), {})
        share[k] = share.get(k, 0) + layout.size[u]
    return out


def _moved(share: dict[int, int]) -> int:
    """Municipalities of one status-quo plan outside its successor."""
    return sum(share.values()) - max(share.values(), default=0)


def values(layout: Layout, part: Partition) -> dict[str, float]:
    """Every objective value of ``part``."""
    return label_values(layout, np.asarray(part.label), len(part))


def label_values(layout: Layout, labels: np.ndarray, count: int) -> dict[str, float]:
    """Every objective value of the partition with these region ``labels`` (one per unit) and ``count`` regions."""
    u, v, weight = layout.tie_pairs
    collab = layout.inner_collab + float(weight[labels[u] == labels[v]].sum())
    u, v, edges = layout.link_pairs
    cut = int(edges[labels[u] != labels[v]].sum())
    moved = 0
    if layout.units.status_quo is not None:  # per status-quo plan, its municipalities outside its successor
        plan = np.asarray(layout.units.status_quo, dtype=np.int64)
        _, region = np.unique(labels, return_inverse=True)
        table = np.zeros((int(plan.max()) + 1, int(region.max()) + 1), dtype=np.int64)
        np.add.at(table, (plan, region), layout.size)
        moved = int((table.sum(axis=1) - table.max(axis=1)).sum())
    return {"plans": count, "collaboration": collab, "cut": cut, "moved": moved}


def _moved_shift(share: dict[int, int], size: int, a: int, b: int) -> dict[int, int]:
    """``share`` after ``size`` municipalities go from region ``a`` to region ``b``."""
    after = dict(share)
    after[a] -= size
    if not after[a]:
        del after[a]
    after[b] = after.get(b, 0) + size
    return after


def _moved_delta(share: dict[int, int], size: int, a: int, b: int) -> int:
    """Change in ``_moved(share)`` when ``size`` municipalities go from region ``a`` to region ``b``."""
    return _moved(_moved_shift(share, size, a, b)) - _moved(share)


def rank(vals: dict[str, float], objectives, weights) -> tuple:
    """Comparable key, larger is better: lexicographic, or the weighted sum when ``weights`` is set."""
    signed = [SIGN[o][1] * vals[SIGN[o][0]] for o in objectives]
    if weights:
        return (sum(weights.get(o, 0.0) * s for o, s in zip(objectives, signed)),)
    return tuple(signed)


def _move_if_better(layout: Layout, part: Partition, u: int, vals: dict, shares, objectives, weights,
                    budget: Budget) -> dict | None:
    """Move unit ``u`` to the first neighbouring region that improves the objective (``polish``).

    Returns the new objective values, or None when no move is allowed or better.
    """
    sq = layout.units.status_quo
    if layout.lock[u] is not None:
        return None
    a = part.label[u]
    ra = part.regions[a]
    if len(ra.members) == 1:
        return None
    links: dict[int, float] = {}
    weight: dict[int, float] = {}
    for v, c in layout.links[u].items():
        links[part.label[v]] = links.get(part.label[v], 0) + c
    for v, w in layout.collab[u].items():
        weight[part.label[v]] = weight.get(part.label[v], 0.0) + w
    ta = ra.totals.minus(layout.unit_totals(u))
    if not layout.complies(ta):
        return None
    for b in sorted(k for k in links if k != a):
        rb = part.regions[b]
        if not layout.compatible(u, rb.group, rb.lock):
            continue
        tb = rb.totals.plus(layout.unit_totals(u))
        if not layout.complies(tb):
            continue
        new = dict(vals)
        new["collaboration"] += weight.get(b, 0.0) - weight.get(a, 0.0)
        new["cut"] += links.get(a, 0) - links.get(b, 0)
        if sq is not None:
            new["moved"] += _moved_delta(shares[int(sq[u])], layout.size[u], a, b)
        if rank(new, objectives, weights) <= rank(vals, objectives, weights):
            continue
        budget.spend(len(ra.members))
        if not layout.connected(ra.members - {u}):
            return None
        part.move(u, b)
        if sq is not None:
            shares[int(sq[u])] = _moved_shift(shares[int(sq[u])], layout.size[u], a, b)
        return new
    return None


def polishes(objectives) -> bool:
    """Whether ``polish`` has anything to improve: an objective other than the number of plans."""
    return bool({SIGN[o][0] for o in objectives} - {"plans"})


def polish(layout: Layout, part: Partition, objectives, weights, rng: np.random.Generator,
           budget: Budget, max_passes: int = 50) -> Partition:
    """Move single boundary units between regions while the objective improves.

    Every move keeps both regions connected and compliant (floors recomputed from the new totals),
    and respects hard boundaries and locks; the number of regions never changes. Stops when
    ``budget`` runs out; each unit looked at spends its neighbours (plus its region when its
    removal is tested) on it.
    """
    if not polishes(objectives):
        return part
    vals = values(layout, part)
    shares = overlaps(layout, part)
    for _ in range(max_passes):
        improved = False
        for u in rng.permutation(layout.n).tolist():
            if budget.expired():
                return part
            budget.spend(1 + len(layout.neighbors[u]))
            new = _move_if_better(layout, part, u, vals, shares, objectives, weights, budget)
            if new is not None:
                vals = new
                improved = True
        if not improved:
            break
    return part


class Favourite:
    """Of the partitions with the most regions offered, the one ``rank`` puts first (the later objectives).

    The walk of ``_perturb`` crosses many plans with as many regions as its best and goes on from
    the latest; offered each of them, this keeps the one that keeps, say, the most collaboration,
    for ``polish`` to start from. Only when the plans come first and another objective follows
    (``active``); otherwise offers are ignored. Offers never change the walk.
    """

    def __init__(self, layout: Layout, objectives, weights):
        self.layout, self.objectives, self.weights = layout, list(objectives), weights
        self.active = self.objectives[:1] == ["max-plans"] and polishes(self.objectives)
        self.labels: np.ndarray | None = None
        self.count = -1
        self.key: tuple = ()

    def offer(self, labels, count: int) -> None:
        """Keep the partition with these region ``labels`` and ``count`` regions if it is the new favourite."""
        if not self.active or count < max(self.count, 0):
            return
        labels = np.asarray(labels)
        key = rank(label_values(self.layout, labels, count), self.objectives, self.weights)
        if count > self.count or key > self.key:
            self.labels, self.count, self.key = labels, count, key

    def pick(self, part: Partition | None) -> Partition | None:
        """The favourite, or ``part`` when ``rank`` puts it no lower (so with nothing else offered, ``part``)."""
        if not self.active or self.labels is None:
            return part
        if part is not None:
            key = rank(values(self.layout, part), self.objectives, self.weights)
            if (len(part), key) >= (self.count, self.key):
                return part
        return Partition.from_labels(self.layout, self.labels.tolist())
