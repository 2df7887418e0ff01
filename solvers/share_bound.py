r"""An upper bound on the number of plans that accounts for contiguity and the class rule.

Every plan ``S`` with population ``P(S)`` is shared out among its units: unit ``i`` holds
``p_i / P(S)`` of it, and the shares of a plan add up to 1. If ``L_i`` is a lower bound on the
population of *any* compliant, connected plan containing ``i``, then ``p_i / P(S) <= p_i / L_i``,
and a unit never holds more than one plan, so

.. math::

    \#\text{plans} = \sum_i \frac{p_i}{P(S(i))} \le \sum_i \min\Bigl(1, \frac{p_i}{L_i}\Bigr).

``L_i`` is the smallest, over the classes ``c``, of a lower bound ``L_i^c`` on the population of a
connected plan of class ``c`` containing ``i`` (the class rule is ``measures.ClassRule``, written as
integer linear terms by ``model_data.ClassTerms``: a plan is of class ``c`` only if, for each of
that class's conditions, ``sum_{j in S} g_j >= r``):

- ``L_i^c >= f_c``, the class floor;
- when the unit alone does not meet a condition (``g_i < r``), the plan must take units with
  ``g_j > 0`` worth at least ``r - g_i + D_i``, where ``D_i`` is the least deficit (sum of
  ``-g_v`` over units with ``g_v < 0``) of a path from ``i`` to such a unit: the plan holds one,
  and its deficit must be made up too. Every such unit ``j`` comes with a path from ``i``
  whose population (without ``i``, with ``j``) is at least ``d(i, j)`` (shortest paths weighted by
  population). With the candidates sorted by ``d``, a plan whose farthest candidate is the
  ``k``-th has population at least ``p_i + max(d_k, K_k)``, where ``K_k`` is the fractional
  knapsack ``min sum p_j x_j`` over the first ``k`` candidates with ``sum g_j x_j >= r - g_i + D_i``;
  the bound takes the least of these over ``k`` (exactly, at the crossing of the increasing
  ``d_k`` and the decreasing ``K_k``). A plan that needs more than the candidates within
  population distance ``R`` (four times the largest floor) has population at least ``R``.

So a dense town far from any mountain municipality cannot count as a share of a 25,000 mountain
plan, and a town next to sparse villages can count only as much as their spare area allows it.
Contiguity enters through the path populations; hard boundaries cut the paths. Locks and the
ceiling are left out, which only loosens the bound. The arithmetic is in floating point on
integers below 2**53, and every ``L_i`` is lowered by a relative 1e-9 before use, so rounding
can only raise the bound.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from lombardy_districts.model.rules import CLASSES, Rules

from .model_data import ClassTerms
from .units import Units

REACH_FACTOR = 4
"""Candidates lie within population distance REACH_FACTOR x the largest floor of a unit."""
SAFETY = 1e-9
CHUNK = 256


def share_bound(units: Units, rules: Rules) -> float:
    """``sum_i min(1, p_i / L_i)`` (see the module docstring): an upper bound on the plan count."""
    return float(unit_shares(units, rules).sum())


def unit_shares(units: Units, rules: Rules) -> np.ndarray:
    """Each unit's largest possible share ``min(1, p_i / L_i)`` of a compliant plan (the largest over classes)."""
    return class_shares(units, rules).max(axis=1)


def least_plan_population(units: Units, rules: Rules) -> np.ndarray:
    """A lower bound ``L_i`` on the population of any compliant connected plan containing unit ``i``."""
    return least_class_populations(units, rules).min(axis=1)


def class_shares(units: Units, rules: Rules) -> np.ndarray:
    """Per unit and class (columns in ``CLASSES`` order), its largest share ``min(1, p_i / L_i^c)``.

    A unit in a compliant connected plan of class ``c`` holds at most this share of it.
    """
    least = least_class_populations(units, rules)
    pop = units.population.astype(float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(least > 0, pop / least, 1.0)
    return np.minimum(1.0, np.where(pop > 0, share, 0.0))


def least_class_populations(units: Units, rules: Rules) -> np.ndarray:
    """``L_i^c`` per unit ``i`` and class ``c`` (columns in ``CLASSES`` order): see the module docstring.

    A lower bound on the population of any compliant connected plan of class ``c`` containing ``i``.
    """
    n = len(units)
    pop = units.population.astype(float)
    reach = REACH_FACTOR * float(max(rules.floors.values()))
    graph = _path_graph(units)
    conditions = _class_conditions(ClassTerms.from_units(units, rules))
    deficits = {id(g): _deficit_distance(units, g) for terms in conditions.values() for g, _ in terms}
    least = np.full((n, len(CLASSES)), np.inf)
    for first in range(0, n, CHUNK):  # rows of distances a chunk at a time: memory stays CHUNK x n
        anchors = np.arange(first, min(n, first + CHUNK))
        rows = dijkstra(graph, directed=True, indices=anchors, limit=reach)
        for i, distance in zip(anchors.tolist(), rows):
            ball = np.flatnonzero(pop[i] + distance < reach)
            ball = ball[ball != i]
            for c, name in enumerate(CLASSES):
                extra = max((_extra_population(i, g, r, deficits[id(g)][i], ball, pop, distance)
                             for g, r in conditions[name]), default=0.0)
                least[i, c] = max(float(rules.floors[name]), min(reach, pop[i] + extra))
    return least * (1.0 - SAFETY)


def _path_graph(units: Units) -> sp.csr_matrix:
    """Directed graph whose shortest paths are path populations: ``i -> j`` weighs ``p_j``.

    So ``d(i, j)`` is the least population of a path from ``i`` to ``j`` (``j`` counted, ``i``
    not). Edges between hard-boundary groups are left out.
    """
    n = len(units)
    pop = units.population.astype(float)
    rows_a, cols_a = _directed_edges(units)
    # a zero-population unit would make a zero-weight edge, which sparse graphs drop: use a tiny weight
    weights = np.maximum(pop[cols_a], 1e-6)
    return sp.csr_matrix((weights, (rows_a, cols_a)), shape=(n, n))


def _directed_edges(units: Units) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of every edge, leaving out edges between hard-boundary groups."""
    rows, cols = [], []
    for i, j in units.edges:
        if units.group is None or units.group[i] == units.group[j]:
            rows += [i, j]
            cols += [j, i]
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


def _deficit_distance(units: Units, g: np.ndarray) -> np.ndarray:
    """Per unit, the least deficit of a path to a unit with ``g > 0`` (``D_i`` of the module docstring).

    The deficit of a path from ``i`` is the sum of ``-g_v`` over its units ``v != i`` with
    ``g_v < 0``; a plan meeting ``sum g >= r`` with ``r > g_i`` holds such a path. 0 where
    ``g_i > 0``, inf where no such unit is reachable. Every step also costs 1 (sparse graphs drop
    zero weights), and the result is lowered by ``n``, at least the number of steps, so it never
    exceeds the true least deficit.
    """
    n = len(units)
    deficit = np.maximum(0, -g).astype(float)
    rows_a, cols_a = _directed_edges(units)
    graph = sp.csr_matrix((deficit[cols_a] + 1.0, (rows_a, cols_a)), shape=(n, n))
    sources = np.flatnonzero(g > 0)
    if len(sources) == 0:
        return np.full(n, np.inf)
    reach = dijkstra(graph, directed=True, indices=sources, min_only=True)
    return np.maximum(0.0, reach - deficit - n)


def _class_conditions(terms: ClassTerms) -> dict[str, list[tuple[np.ndarray, int]]]:
    """Per class, conditions ``sum_{j in S} g_j >= r`` that every plan ``S`` of that class meets.

    Mountain: mostly mountain and sparse enough for a mountain plan (``cap``, or not dense).
    High density: dense. Low density: sparse and not dense. Standard: neither dense nor sparse.
    "Not mountain" is left out: it is an either-or (not mostly mountain, or too dense), which no
    single condition states, and leaving a condition out only loosens the bound.
    """
    high = terms.high.astype(np.int64)
    low = terms.low.astype(np.int64)
    not_dense = (-high, 1)
    below = not_dense if terms.cap is None else (terms.cap.astype(np.int64), 1)
    return {
        "mountain": [(terms.mountain.astype(np.int64), 1), below],
        "high_density": [(high, 0)],
        "low_density": [not_dense, (low, 0)],
        "standard": [not_dense, (-low, 1)],
    }


def _extra_population(i: int, g: np.ndarray, r: int, deficit: float, ball: np.ndarray, pop: np.ndarray,
                      distance: np.ndarray) -> float:
    """Least population besides unit ``i`` that a plan needs to reach ``sum g >= r`` (module docstring).

    ``deficit``: ``_deficit_distance`` of ``i``, which the units with ``g > 0`` must make up too.
    """
    need = float(r - g[i])
    if need <= 0:
        return 0.0
    need += deficit
    cand = ball[g[ball] > 0]
    gain = g[cand].astype(float)
    if gain.sum() < need:
        return math.inf
    order = np.argsort(distance[cand], kind="stable")
    gain, cost, dist = gain[order], pop[cand][order], distance[cand][order]
    # smallest k whose knapsack fits under d_k; knap(k) decreases and d_k increases with k
    lo, hi = 1, len(gain)
    first = len(gain)
    while lo <= hi:
        mid = (lo + hi) // 2
        if _knapsack(gain[:mid], cost[:mid], need) <= dist[mid - 1]:
            first, hi = mid, mid - 1
        else:
            lo = mid + 1
    best = max(float(dist[first - 1]), _knapsack(gain[:first], cost[:first], need))
    if first > 1:
        best = min(best, max(float(dist[first - 2]), _knapsack(gain[:first - 1], cost[:first - 1], need)))
    return best


def _knapsack(gain: np.ndarray, cost: np.ndarray, need: float) -> float:
    """``min cost . x`` with ``gain . x >= need``, ``0 <= x <= 1`` (gain > 0): greedy by cost per gain."""
    if gain.sum() < need:
        return math.inf
    order = np.argsort(cost / gain, kind="stable")
    gain, cost = gain[order], cost[order]
    cumulative = np.cumsum(gain)
    k = int(np.searchsorted(cumulative, need))
    before = float(cumulative[k - 1]) if k > 0 else 0.0
    return float(cost[:k].sum()) + (need - before) / float(gain[k]) * float(cost[k])
