"""Objective values of a partition and the boundary-move local search for the other objectives.

Values, all "larger is better" once signed by ``signed``:

- ``plans``: number of regions (objective ``max-plans``);
- ``collaboration``: collaboration weight on edges inside regions;
- ``cut``: contiguity edges between regions (objective ``compact``, minimised);
- ``moved``: municipalities not in the plan that continues their status-quo plan (objective
  ``disruption``, minimised). Each new plan continues at most one status-quo plan: pairs are
  matched greedily by the number of municipalities they share.
"""

from __future__ import annotations

import numpy as np

from ._budget import Budget
from ._layout import Layout
from ._local import Partition

SIGN = {"max-plans": ("plans", 1), "collaboration": ("collaboration", 1), "compact": ("cut", -1),
        "disruption": ("moved", -1)}


def home_of(layout: Layout, part: Partition) -> dict[int, int | None]:
    """Region id -> the status-quo plan index it continues (None when it continues none)."""
    sq = layout.units.status_quo
    if sq is None:
        return dict.fromkeys(part.regions)
    overlap: dict[tuple[int, int], int] = {}
    for u, k in enumerate(part.label):
        key = (k, int(sq[u]))
        overlap[key] = overlap.get(key, 0) + layout.size[u]
    home: dict[int, int | None] = dict.fromkeys(part.regions)
    used = set()
    for (k, s), _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
        if home[k] is None and s not in used:
            home[k] = s
            used.add(s)
    return home


def values(layout: Layout, part: Partition) -> dict[str, float]:
    """Every objective value of ``part``."""
    lab = part.label
    collab = sum(w for u in range(layout.n) for v, w in layout.collab[u].items() if v > u and lab[u] == lab[v])
    cut = sum(1 for i, j in layout.units.edges if lab[i] != lab[j])
    moved = 0
    sq = layout.units.status_quo
    if sq is not None:
        home = home_of(layout, part)
        moved = sum(layout.size[u] for u in range(layout.n) if home[lab[u]] != int(sq[u]))
    return {"plans": len(part), "collaboration": float(collab), "cut": cut, "moved": moved}


def rank(vals: dict[str, float], objectives, weights) -> tuple:
    """Comparable key, larger is better: lexicographic, or the weighted sum when ``weights`` is set."""
    signed = [SIGN[o][1] * vals[SIGN[o][0]] for o in objectives]
    if weights:
        return (sum(weights.get(o, 0.0) * s for o, s in zip(objectives, signed)),)
    return tuple(signed)


def polish(layout: Layout, part: Partition, objectives, weights, rng: np.random.Generator,
           budget: Budget, max_passes: int = 50) -> Partition:
    """Move single boundary units between regions while the objective improves.

    Every move keeps both regions connected and compliant (floors recomputed from the new totals),
    and respects hard boundaries and locks; the number of regions never changes. Stops when
    ``budget`` runs out; each unit looked at spends its neighbours (plus its region when its
    removal is tested) on it.
    """
    wanted = {SIGN[o][0] for o in objectives} - {"plans"}
    if not wanted:
        return part
    vals = values(layout, part)
    home = home_of(layout, part)
    sq = layout.units.status_quo
    for _ in range(max_passes):
        improved = False
        for u in rng.permutation(layout.n).tolist():
            if budget.expired():
                return part
            budget.spend(1 + len(layout.neighbors[u]))
            if layout.lock[u] is not None:
                continue
            a = part.label[u]
            ra = part.regions[a]
            if len(ra.members) == 1:
                continue
            links: dict[int, float] = {}
            weight: dict[int, float] = {}
            for v in layout.neighbors[u]:
                links[part.label[v]] = links.get(part.label[v], 0) + 1
            for v, w in layout.collab[u].items():
                weight[part.label[v]] = weight.get(part.label[v], 0.0) + w
            ta = ra.totals.minus(layout.unit_totals(u))
            if not layout.complies(ta):
                continue
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
                    s = int(sq[u])
                    new["moved"] += layout.size[u] * ((home[b] != s) - (home[a] != s))
                if rank(new, objectives, weights) <= rank(vals, objectives, weights):
                    continue
                budget.spend(len(ra.members))
                if not layout.connected(ra.members - {u}):
                    break
                part.move(u, b)
                vals = new
                improved = True
                break
        if not improved:
            break
    return part
