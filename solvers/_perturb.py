"""Iterated local search: shake a ball of neighbouring regions, search around it, keep the best.

When the split and rebuild moves of ``_local`` and the exact regrouping stop finding more regions,
the plan is a local optimum of those moves. A fresh construction rarely beats it; moving away from
it a little does. Each round:

1. **Shake.** Pick a region at random, more likely where population is spare (``_centre``), take
   the regions within one or ``HOPS`` steps of it, dissolve them and grow their units again
   (``_local.regrow``: ``TRIES`` constructions, the one with the most regions and, among those,
   the best ``_local.potential``).
2. **Search around it** with the split and rebuild moves of ``_local.improve_count``, starting only
   from the new regions and their neighbours, until ``PATIENCE_PER_REGION`` idle moves per such
   region.
   With ``chain_share``, a round is instead a **chain move** (``_gather``: spare population handed
   region to region into one region, which is then split if it can be) whenever chain moves have
   spent less than that share of the shaking's work; a chain move that splits nothing still
   gathers, a plan of as many regions for the next rounds to shake.
3. **Accept.** More regions than the best so far: a new best. As many regions as the current
   plan: it becomes the current plan; one fewer is accepted too, once in ``1 / WORSE_ODDS``
   rounds, so that the search can leave a plateau; otherwise, every other time, the search goes
   back to the best plan. As many regions as the best: it becomes the best, so going back
   resumes the walk across the plateau from its latest plan rather than from the first one found
   with that count (the way to one more region is a long walk through plans of equal count).
   A ``favourite`` (``_moves.Favourite``) is offered every plan of the best count, so the later
   objectives can choose among the plans the walk crossed without changing the walk.

Stops at the budget, at ``bound`` regions, or after ``idle_rounds`` rounds without a new best.
Every choice comes from ``rng``, and work is spent on the ``Budget``, so a seed gives the same
rounds. ``_shaken`` is the definition of a round and ``_gather.gather`` of a chain move; both run
compiled (``_compiled_shake``, ``_compiled_gather``, on labels: the same regions, draws and work).
A round is 3.5 to 7 times as fast on Lombardy (December 2026: 4 times at a uniform 25,000 floor, 7
under the shipped class rules; 10 times with three locked municipalities), a chain move 10 to 14 times.

Measured at a uniform 25,000 floor, shaking the 276-plan benchmark plan for 90 s (November 2026,
the 2-core machine, Python rounds): 277 after 0.7 s (seed 1) and 17.7 s (seed 0); with 3 idle
moves per region, 277 after 8.9 s (seed 0) and nothing (seed 1). Fresh restarts had found nothing
after the first in 240 s. The whole ``cpsat`` pipeline at 25,000 with a 180 s limit finds 280, the
last 133 s in (276 in 300 s before). Centring balls where population is spare (``_centre``) rather
than anywhere: 40 s of shaking that plan reached 278 on 5 seeds of 8 (277 on the others), against
1 of 8. With compiled rounds, 12 idle moves per region or 3 hops gave no more plans in 60 s.
Under the shipped class rules, shaking the 152-plan benchmark plan of 1 December for 60 s in one
process (``benchmarks/bench_gather.py``), seeds 0-3: 152, 153, 152, 153 plans without chain moves,
153 on all four with a share of 0.2. Before chain moves counted every unit they look at (a share of
0.2 then took about 45% of the time, 40% now), seeds 0-7: 153 on 2 seeds of 8 without, 153 on 5 and
154 on 3 with 0.2, 153 on all 8 with 0.4.
Keeping the latest plan of the best count as the best (step 3; before, going back meant going back to
the first one found), the whole heuristic, 2 workers, 60 s (2 December): at 25,000, 281 plans on
seeds 0-3 (279, 279, 280, 279 before); with the walk kept within each process only (not yet across
the side-by-side rounds), 155, 155, 153, 156, 155 under the shipped rules on seeds 0-4 (151, 153,
152, 153, 153 before) and 103 at 80,000 on seeds 0-2, as before.
"""

from __future__ import annotations

import numpy as np

from ._budget import Budget
from ._gather import PASSES
from ._gather import SPLIT_TRIES as GATHER_SPLIT_TRIES
from ._grow import Region
from ._layout import Layout
from ._local import (
    NOISE,
    PERIPHERY,
    REBUILD_TRIES,
    SPLIT_TRIES,
    Partition,
    compiled,
    drawn,
    improve_count_python,
    movable,
    near_regions,
    regrow,
    spare,
)
from ._moves import Favourite

HOPS = 2
"""A shaken ball holds the regions within one or ``HOPS`` steps of its centre (chosen at random)."""
TRIES = 5
PATIENCE_PER_REGION = 6
WORSE_ODDS = 10
BASE_WEIGHT = 0.02
"""Every region's weight as a ball's centre, besides its spare population, in floors (see ``_centre``)."""


def perturb(layout: Layout, part: Partition, rng: np.random.Generator, budget: Budget, bound: int,
            idle_rounds: int, on_better=None, chain_share: float = 0.0,
            favourite: Favourite | None = None) -> tuple[Partition, int]:
    """The best partition found by shaking ``part`` round after round (see the module docstring), and the rounds.

    Each round runs compiled (``_shaken_compiled``), on labels; with ``chain_share``, a round is a
    chain move (``_chained``, compiled too) instead whenever chain moves have spent less than that share
    of the work. ``favourite`` is offered every plan with as many regions as the best or more.
    """
    start = Labels.of(part)
    best, current = start, start.copy()
    if favourite is not None:
        favourite.offer(start.labels, len(start))
    idle = rounds = 0
    began, chained = budget.work, 0
    while not budget.expired() and len(best) < bound and idle < idle_rounds:
        idle += 1
        rounds += 1
        if chained < chain_share * (budget.work - began):
            before = budget.work
            trial = _chained(layout, current, rng, budget)
            chained += budget.work - before
        else:
            trial = _shaken_compiled(layout, current.copy(), rng, budget)
        if trial is None:
            continue
        if favourite is not None and len(trial) >= len(best):
            favourite.offer(trial.labels, len(trial))
        if len(trial) > len(best):
            best, idle = trial.copy(), 0
            if on_better:
                on_better(best)
        elif len(trial) == len(best):
            best = trial.copy()
        if len(trial) >= len(current) - (1 if rng.random() < 1 / WORSE_ODDS else 0):
            current = trial
        elif rng.random() < 0.5:
            current = best.copy()
    if best is start:
        return part, rounds
    return best.partition(layout), rounds


class Labels:
    """A partition as a label array, the form the compiled rounds take and give (never changed in place)."""

    __slots__ = ("labels", "count")

    def __init__(self, labels: np.ndarray, count: int):
        self.labels = labels
        self.count = count

    @classmethod
    def of(cls, part: Partition) -> Labels:
        return cls(np.array(part.labels(), dtype=np.int64), len(part))

    def partition(self, layout: Layout) -> Partition:
        return Partition.from_labels(layout, self.labels.tolist())

    def copy(self) -> Labels:
        return self

    def __len__(self) -> int:
        return self.count


def _shaken_compiled(layout: Layout, part: Labels, rng: np.random.Generator, budget: Budget,
                     **room) -> Labels | None:
    """``_shaken``, compiled (``_compiled_shake.shaken``, which takes ``room``): the same round, draws and work."""
    from ._compiled_shake import ENOUGH, shaken

    left = budget.allowance - budget.work if budget.deterministic else ENOUGH
    labels, count, spent = shaken(compiled(layout), part.labels, rng, left, HOPS, TRIES, PATIENCE_PER_REGION,
                                  BASE_WEIGHT, SPLIT_TRIES, REBUILD_TRIES, PERIPHERY, NOISE, **room)
    budget.spend(spent)
    return None if labels is None else Labels(labels, count)


def _chained(layout: Layout, part: Labels, rng: np.random.Generator, budget: Budget) -> Labels | None:
    """``part`` after one chain move (``_gather.gather``), compiled (``_compiled_gather``), or None."""
    from ._compiled_gather import gathered
    from ._compiled_shake import ENOUGH

    left = budget.allowance - budget.work if budget.deterministic else ENOUGH
    labels, count, spent = gathered(compiled(layout), part.labels, rng, left, PASSES, GATHER_SPLIT_TRIES)
    budget.spend(spent)
    return None if labels is None else Labels(labels, count)


def _shaken(layout: Layout, part: Partition, rng: np.random.Generator, budget: Budget) -> Partition | None:
    """``part`` with one ball of regions dissolved, grown again and searched around; None if no regrowth fits."""
    centre = _centre(layout, part, rng)
    ball, edge = {centre}, {centre}
    for _ in range(int(rng.integers(1, HOPS + 1))):
        edge = {j for k in edge for j in part.neighbours(k)} - ball
        ball |= edge
    group = part.regions[centre].group
    chosen = sorted(k for k in ball if movable(layout, part.regions[k]) and part.regions[k].group == group)
    if not chosen:
        return None
    pool = set().union(*(part.regions[k].members for k in chosen))
    budget.spend(len(pool) * TRIES)
    best, _ = regrow(layout, pool, rng, TRIES)
    if best is None:
        return None
    since = part.next_id
    part.replace(chosen, best)
    patience = PATIENCE_PER_REGION * len(near_regions(part, since))
    return improve_count_python(layout, part, rng, budget, patience=patience, since=since)


def _centre(layout: Layout, part: Partition, rng: np.random.Generator) -> int:
    """The region a shaken ball is centred on, drawn at random with weight ``_spare`` plus ``BASE_WEIGHT`` floors."""
    ids = sorted(part.regions)
    return drawn(ids, [_spare(layout, part.regions[k]) + BASE_WEIGHT * layout.lowest for k in ids], rng)


def _spare(layout: Layout, region: Region) -> int:
    """``_local.spare`` of the region; none when a split cannot free it.

    A region holding a unit that meets its floor alone keeps that unit's spare whatever is done
    around it, and a locked region stays as built.
    """
    if not movable(layout, region) or any(layout.alone[u] for u in region.members):
        return 0
    return spare(layout, region.totals)
