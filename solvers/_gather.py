"""The chain move: gather spare population into one region, region to region, then split it.

When shaking (``_perturb``) finds no more regions, the spare population (above each region's
floor) may be spread over more regions than a shaken ball or an exact regrouping takes in. One
chain move gathers it:

1. **Target.** A movable region, drawn at random with weight its capped spare population (each
   unit's population counted up to the region's floor, as a unit that meets the floor alone frees
   no more than that).
2. **Pass.** Every other movable region of the target's hard-boundary group, farthest from the
   target first (steps in the graph of regions), hands the units on its border to a neighbour one
   step nearer, smallest population first (ties at random), while both still comply (class and
   floor from their totals, ``Layout.complies``) and the giver stays connected. Locked regions
   neither give nor take. Spare population flows inwards.
3. **Split.** After each pass the target is cut along random spanning trees (``_local.split``);
   a cut whose two sides comply is one region more. At most ``PASSES`` passes; a pass that moves
   nothing ends the move.

This is the definition; the shaking runs its compiled copy (``_compiled_gather``: the same
regions, draws and work, 10 to 14 times as fast on Lombardy). Work is spent on the ``Budget``,
one unit per unit looked at (each region's units, once to find the distances and once to find
its border, in every pass; a region's units per connectivity check and per spanning tree), so a
seed gives the same moves. Measured as a prototype (``benchmarks/bench_gather.py``, December
2026): under the shipped class rules it found a 153rd plan from the benchmark's 152-plan plan in 1
try of 120 (4 of 120 from another 152-plan plan), at 80,000 a 103rd from two 102-plan plans; at
25,000 nothing.
"""

from __future__ import annotations

import numpy as np

from ._budget import Budget
from ._layout import Layout
from ._local import Partition, drawn, movable, shuffled, split

PASSES = 60
"""Passes of one chain move at most ..."""
SPLIT_TRIES = 30
"""... and random spanning trees of the target tried after each."""


def gather(layout: Layout, part: Partition, rng: np.random.Generator, budget: Budget) -> Partition | None:
    """A copy of ``part`` after one chain move (see the module docstring), or None when no region has spare.

    The copy has one region more when the target split; else as many, with spare population gathered.
    """
    trial = part.copy()
    target = _target(layout, trial, rng)
    if target is None:
        return None
    for _ in range(PASSES):
        dist = _distances(layout, trial, target, budget)
        moved = 0
        for q in sorted(dist, key=lambda k: (-dist[k], k)):
            if q != target:
                moved += _hand_on(layout, trial, q, dist, rng, budget)
        region = trial.regions[target]
        pieces = split(layout, region, rng, SPLIT_TRIES)
        budget.spend(len(region.members) * SPLIT_TRIES)
        if pieces is not None:
            trial.replace([target], pieces)
            return trial
        if not moved or budget.expired():
            break
    return trial


def capped_spare(layout: Layout, members, floor: int) -> int:
    """Population above ``floor``, each unit's counted up to ``floor``."""
    return sum(min(layout.pop[u], floor) for u in members) - floor


def _target(layout: Layout, part: Partition, rng: np.random.Generator) -> int | None:
    """A movable region drawn with weight its capped spare population; None when none has any."""
    ids = sorted(k for k, r in part.regions.items() if movable(layout, r))
    weights = [max(0, capped_spare(layout, part.regions[k].members, layout.floor(part.regions[k].totals)))
               for k in ids]
    return drawn(ids, weights, rng) if sum(weights) > 0 else None


def _distances(layout: Layout, part: Partition, target: int, budget: Budget) -> dict[int, int]:
    """Steps from ``target`` to each movable region of its group, through such regions."""
    group = part.regions[target].group
    dist, frontier = {target: 0}, [target]
    while frontier:
        ahead = []
        for k in frontier:
            budget.spend(len(part.regions[k].members))
            for j in part.neighbours(k):
                r = part.regions[j]
                if j not in dist and movable(layout, r) and r.group == group:
                    dist[j] = dist[k] + 1
                    ahead.append(j)
        frontier = ahead
    return dist


def _hand_on(layout: Layout, part: Partition, q: int, dist: dict[int, int], rng: np.random.Generator,
             budget: Budget) -> int:
    """Move region ``q``'s border units to regions one step nearer the target, smallest first; how many."""
    region, step = part.regions[q], dist[q] - 1
    border = sorted({u for u in region.members for v in layout.neighbors[u] if dist.get(part.label[v]) == step})
    budget.spend(len(region.members))
    noise = rng.random(len(border))
    moved = 0
    for _, _, u in sorted(zip([layout.pop[u] for u in border], noise.tolist(), border)):
        t = layout.unit_totals(u)
        if not layout.complies(region.totals.minus(t)):
            continue
        nearer = sorted({part.label[v] for v in layout.neighbors[u] if dist.get(part.label[v]) == step})
        for i in shuffled(rng, len(nearer)):
            p = nearer[i]
            if not layout.complies(part.regions[p].totals.plus(t)):
                continue
            budget.spend(len(region.members))
            if layout.connected(region.members - {u}):
                part.move(u, p)
                moved += 1
            break
    return moved
