"""Data the exact solvers share: integer class-rule terms, candidate roots, objective scaling.

Both exact solvers (``cpsat`` and ``pulp``) use the same *rooted* partition model: every plan
has one root, its most populous unit (ties: lowest index), and ``x[i, r] = 1`` when unit ``i``
is in the plan rooted at ``r``. This module decides which pairs ``(i, r)`` exist
(``Candidates``) and turns the class rule of ``Rules`` into integer linear terms
(``ClassTerms``), so that both solvers model exactly the same problem.
"""

from __future__ import annotations

import heapq
import logging
import math
from dataclasses import dataclass

import numpy as np

from lombardy_districts.errors import InfeasibleError, InputError
from lombardy_districts.model.measures import AREA_SCALE, ClassRule
from lombardy_districts.model.rules import CLASSES, Rules

from .units import Units, reach

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassTerms:
    """The class rule (``measures.ClassRule``) as integer linear terms per unit.

    For a plan ``S`` with population ``P``, area ``A`` and mountain area ``M`` (sums over S):

    - mostly mountain <=>  ``sum_{i in S} mountain[i] >= 1``   (M > share * A)
    - sparse for a mountain plan <=> ``sum_{i in S} cap[i] >= 1`` (P < mountain_density_below * A)
    - dense enough    <=>  ``sum_{i in S} high[i] >= 0``       (P >= high_density_min * A)
    - sparse enough   <=>  ``sum_{i in S} low[i] >= 0``        (P <= low_density_max * A)

    class = mountain if mostly mountain and sparse for a mountain plan, else high_density if
    dense, else low_density if sparse, else standard. ``cap`` is None when the mountain density
    cut-off is the high-density one (the default): "sparse for a mountain plan" is then exactly
    "not dense enough", and the models reuse that condition. Areas are the units' whole
    1/AREA_SCALE km2 and the cut-offs the rule's fractions, so these terms class every plan
    exactly as the evaluator does.
    """

    mountain: np.ndarray
    high: np.ndarray
    low: np.ndarray
    floors: dict[str, int]
    cap: np.ndarray | None = None

    @classmethod
    def from_units(cls, units: Units, rules: Rules) -> ClassTerms:
        """Integer terms for ``units`` under ``rules``.

        A floor above the whole population can never be met; it enters the models as the
        population plus one (the same answer, without huge coefficients), with a log line.

        Raises
        ------
        InputError
            When the terms would not fit the solvers' 64-bit integers (areas of millions of km2
            with the highest density cut-offs).
        """
        area = units.area.astype(np.int64)
        mount = units.mountain_area.astype(np.int64)
        pop = units.population.astype(np.int64)
        rule = ClassRule.of(rules)
        share, high, low, cap = rule.share, rule.high, rule.low, rule.cap
        _check_magnitude(int(area.sum()), int(pop.sum()), rule)
        mountain = share.denominator * mount - share.numerator * area
        dense = pop * AREA_SCALE * high.denominator - high.numerator * area
        sparse = low.numerator * area - pop * AREA_SCALE * low.denominator
        below = None if cap == high else cap.numerator * area - pop * AREA_SCALE * cap.denominator
        return cls(_reduce(mountain), _reduce(dense), _reduce(sparse), _reachable(rules.floors, int(pop.sum())),
                   None if below is None else _reduce(below))

    @property
    def uniform(self) -> bool:
        """True when every class has the same floor (the class then does not matter)."""
        return len(set(self.floors.values())) == 1

    def classify(self, members) -> str:
        """Class of the plan made of ``members`` (unit indices) under these terms."""
        members = list(members)
        dense = self.high[members].sum() >= 0
        below = not dense if self.cap is None else self.cap[members].sum() >= 1
        if self.mountain[members].sum() >= 1 and below:
            return "mountain"
        if dense:
            return "high_density"
        if self.low[members].sum() >= 0:
            return "low_density"
        return "standard"


SAFE_INTEGER = 2**62
"""Largest magnitude of any sum the exact models form (CP-SAT and numpy use 64-bit integers)."""
SAFE_WEIGHT_TOTAL = 10**9
"""Largest total of the integer collaboration weights of an exact model (``integer_weights``)."""


def _check_magnitude(area: int, population: int, rule: ClassRule) -> None:
    terms = (rule.share.denominator * area + rule.share.numerator * area,
             population * AREA_SCALE * max(rule.high.denominator, rule.low.denominator, rule.cap.denominator)
             + max(rule.high.numerator, rule.low.numerator, rule.cap.numerator) * area)
    if max(terms) > SAFE_INTEGER:
        raise InputError(f"the class rule's exact terms for {area / AREA_SCALE:,.0f} km2 and {population:,} "
                         "inhabitants exceed the exact solvers' 64-bit integers. Fix: use the heuristic solver, "
                         "or round the density cut-offs to whole numbers")


def _reachable(floors: dict[str, int], population: int) -> dict[str, int]:
    """Floors above ``population`` lowered to ``population + 1``: the same answers, small coefficients."""
    out = {}
    for name, floor in floors.items():
        out[name] = min(int(floor), population + 1)
        if out[name] < floor:
            log.info("floor of class %s (%s) is above the whole population (%s): no plan of that class can "
                     "comply; the exact models use %s", name, f"{floor:,}", f"{population:,}", f"{population + 1:,}")
    return out


def _reduce(values: np.ndarray) -> np.ndarray:
    g = int(np.gcd.reduce(np.abs(values))) if len(values) else 1
    return values // g if g > 1 else values


@dataclass(frozen=True)
class Candidates:
    """Which unit may join which root.

    Attributes
    ----------
    rank
        Position of each unit in the root order (most populous first); a plan's root is its
        member of lowest rank, so ``x[i, r]`` exists only when ``rank[i] >= rank[r]``.
    roots_of
        Unit -> candidate roots (sorted by rank); ``i in roots_of[i]`` when ``i`` may be a root.
    members_of
        Root -> units that may join it (root first); each such set is connected and contains
        the root.
    restricted
        True when pairs were dropped beyond what the rules themselves exclude, i.e. the model
        is exact only for the restricted candidate set.
    note
        One line saying how the candidates were chosen.
    """

    rank: np.ndarray
    roots_of: list[list[int]]
    members_of: dict[int, list[int]]
    restricted: bool
    note: str

    @property
    def pairs(self) -> int:
        """Number of ``(unit, root)`` pairs, i.e. assignment variables."""
        return sum(len(r) for r in self.roots_of)

    @classmethod
    def unbuilt(cls, n: int, note: str) -> Candidates:
        """No pairs (``restricted``): for a solver that never builds the whole model."""
        return cls(np.arange(n), [[] for _ in range(n)], {}, True, note)


def build_candidates(
    units: Units,
    lowest_floor: int,
    max_plan_population: int | None = None,
    max_roots_per_unit: int | None = None,
    hint: list | None = None,
    population_limit_is_rule: bool = False,
) -> Candidates:
    """Candidate pairs ``(unit i, root r)`` of the rooted model.

    Always excluded (exact): ``rank[i] < rank[r]`` (the root is the most populous member);
    ``i`` and ``r`` in different hard-boundary groups or locked to different plans; ``i`` not
    reachable from ``r`` through units of rank >= rank[r] in its group; roots whose reachable
    units hold fewer than ``lowest_floor`` inhabitants.

    Restrictions (the model is then exact only for the restricted set):

    - ``max_plan_population``: ``i`` may join ``r`` only if ``pop[r] + d(r, i) <= max_plan_population``,
      with ``d`` the population-weighted shortest path from ``r`` to ``i`` (each unit entered
      costs its population) through units of rank >= rank[r]. A plan of at most that many
      inhabitants contains such a path from its root to every member, so this restriction
      loses exactly the plans above ``max_plan_population`` (none, when it is the ceiling);
    - ``max_roots_per_unit``: each unit keeps only that many nearest candidate roots
      (by ``d``); a heuristic cut to keep the model small.

    ``population_limit_is_rule`` says ``max_plan_population`` is the rules' ceiling, so the
    pairs it drops are infeasible anyway and the model stays exact.

    ``hint`` (a label per unit, e.g. the warm start) adds back every pair its plans use, so the
    warm start always fits the model.
    """
    n = len(units)
    pop = units.population.astype(np.int64)
    order = sorted(range(n), key=lambda i: (-int(pop[i]), i))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    budget_cap = None if max_plan_population is None else int(max_plan_population)
    dist, dropped = _root_distances(units, rank, pop, budget_cap, population_limit_is_rule)

    roots_of: list[dict[int, int]] = [{} for _ in range(n)]
    for r in range(n):
        for i, d in dist[r].items():
            roots_of[i][r] = d
    if max_roots_per_unit is not None:
        dropped = _keep_nearest_roots(roots_of, rank, max_roots_per_unit) or dropped
    if hint is not None:
        for members in _groups(hint).values():
            root = min(members, key=lambda u: rank[u])
            for i in members:
                roots_of[i].setdefault(root, 0)

    members_of = _connected_members(units, roots_of, rank, pop, lowest_floor)
    final_roots: list[list[int]] = [[] for _ in range(n)]
    for r, members in members_of.items():
        for i in members:
            final_roots[i].append(r)
    for i in range(n):
        final_roots[i].sort(key=lambda r: rank[r])
    empty = [units.ids[i] for i in range(n) if not final_roots[i]]
    if empty and ((max_plan_population is not None and not population_limit_is_rule)
                  or max_roots_per_unit is not None):
        return build_candidates(
            units, lowest_floor,
            None if max_plan_population is None else
            max_plan_population if population_limit_is_rule else int(max_plan_population * 1.5),
            None if max_roots_per_unit is None else int(max_roots_per_unit * 1.5) + 1,
            hint, population_limit_is_rule,
        )
    if empty:
        raise InfeasibleError(
            f"{len(empty)} units ({', '.join(empty[:5])}{' ...' if len(empty) > 5 else ''}) cannot be in "
            f"any plan: no connected set of units allowed together around them reaches the lowest "
            f"floor of {lowest_floor:,} inhabitants. Fix: lower the floors or drop hard boundaries/locks."
        )
    note = _note(dropped, max_plan_population, max_roots_per_unit, population_limit_is_rule, hint)
    return Candidates(rank, final_roots, members_of, dropped, note)


def _compatibility(units: Units):
    """``compatible(i, r)``: whether unit ``i`` may share a plan rooted at ``r`` (groups and locks)."""
    group = units.group if units.group is not None else [None] * len(units)
    locked = units.locked

    def compatible(i: int, r: int) -> bool:
        if group[i] != group[r]:
            return False
        li, lr = locked.get(i), locked.get(r)
        if li is not None and lr is not None and li != lr:
            return False
        if lr is not None and lr in units.exclusive and li != lr:
            return False
        if li is not None and li in units.exclusive and li != lr:
            return False
        return True

    return compatible


def _root_distances(units: Units, rank, pop, budget_cap: int | None,
                    limit_is_rule: bool) -> tuple[list[dict[int, int]], bool]:
    """Per root, ``{unit: d}`` for the units it may take (``build_candidates``), and whether any was dropped."""
    compatible = _compatibility(units)
    dist: list[dict[int, int]] = [{} for _ in range(len(units))]  # root -> {unit: d}
    dropped = False
    for r in range(len(units)):
        budget = None if budget_cap is None else budget_cap - int(pop[r])
        seen = {r: 0}
        heap = [(0, r)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > seen.get(u, math.inf):
                continue
            for v in units.neighbors[u]:
                if rank[v] < rank[r] or not compatible(v, r):
                    continue
                nd = d + int(pop[v])
                if budget is not None and nd > budget:
                    dropped = dropped or not limit_is_rule
                    continue
                if nd < seen.get(v, math.inf):
                    seen[v] = nd
                    heapq.heappush(heap, (nd, v))
        if budget is not None and budget < 0:
            seen = {r: 0}
        dist[r] = seen if compatible(r, r) else {}
    return dist, dropped


def _keep_nearest_roots(roots_of: list[dict[int, int]], rank, max_roots: int) -> bool:
    """Keep each unit's ``max_roots`` nearest roots (itself among them); whether any was dropped."""
    dropped = False
    for i in range(len(roots_of)):
        if len(roots_of[i]) > max_roots:
            keep = sorted(roots_of[i], key=lambda r: (roots_of[i][r], rank[r]))[:max_roots]
            if i in roots_of[i] and i not in keep:
                keep[-1] = i
            roots_of[i] = {r: roots_of[i][r] for r in keep}
            dropped = True
    return dropped


def _note(dropped: bool, max_plan_population, max_roots_per_unit, limit_is_rule: bool, hint) -> str:
    """One line saying how the candidates were chosen."""
    if not dropped:
        return "all pairs allowed by the rules"
    parts = []
    if max_plan_population is not None and not limit_is_rule:
        parts.append(f"plans of at most {int(max_plan_population):,} inhabitants")
    if max_roots_per_unit is not None:
        parts.append(f"the {max_roots_per_unit} nearest roots per unit")
    return "restricted to " + " and ".join(parts) + (" (plus the warm start's pairs)" if hint else "")


def _groups(labels) -> dict:
    out: dict = {}
    for u, lab in enumerate(labels):
        out.setdefault(lab, []).append(u)
    return out


def _connected_members(units: Units, roots_of, rank, pop, lowest_floor: int) -> dict[int, list[int]]:
    """Root -> candidate members connected to it; drop roots that cannot reach the floor."""
    members: dict[int, set[int]] = {}
    for i, roots in enumerate(roots_of):
        for r in roots:
            members.setdefault(r, set()).add(i)
    out = {}
    for r, cand in members.items():
        if r not in cand:
            continue
        seen = reach(units.neighbors, r, cand)
        if sum(int(pop[u]) for u in seen) >= lowest_floor:
            out[r] = sorted(seen, key=lambda u: (u != r, rank[u]))
    return out


def integer_weights(values, name: str = "weights") -> tuple[dict, float]:
    """Scale float weights to integers: ``(scaled, scale)`` with ``scaled = round(w * scale)``.

    ``scale`` is the smallest power of ten up to 10**6 that makes every weight whole (to 1e-9),
    else 10**6 (weights then rounded to 1e-6). When the scaled weights would add up to more than
    ``SAFE_WEIGHT_TOTAL``, a smaller power of ten (below 1 if needed) keeps them within it, with a
    warning: the exact models then count the weights in coarser steps.
    """
    values = dict(values)
    for k in range(7):
        scale = 10 ** k
        if all(abs(w * scale - round(w * scale)) < 1e-9 for w in values.values()):
            break
    if any(w < 0 for w in values.values()):
        raise InputError(f"{name} must be >= 0; got {min(values.values())}")
    total = sum(values.values())
    if total * scale > SAFE_WEIGHT_TOTAL:  # said once per solve by ``coarse_weights_note``
        power = math.floor(math.log10(SAFE_WEIGHT_TOTAL / total))
        scale = 10 ** power if power >= 0 else 10.0 ** power
    return {key: int(round(w * scale)) for key, w in values.items()}, scale


def coarse_weights_note(values, name: str = "collaboration weights") -> str | None:
    """What ``integer_weights`` gives up to keep the sum within ``SAFE_WEIGHT_TOTAL``, or None."""
    values = dict(values)
    _, scale = integer_weights(values, name)
    total = sum(values.values())
    if not values or total * scale <= SAFE_WEIGHT_TOTAL or total * 10**6 <= SAFE_WEIGHT_TOTAL:
        return None
    if all(abs(w * scale - round(w * scale)) < 1e-9 for w in values.values()):
        return None
    return (f"{name} add up to {total:.3g}: the exact solvers count them in steps of {1 / scale:g} so that "
            f"their integer arithmetic cannot overflow (weights below {0.5 / scale:g} count as 0)")


def classes_needed(terms: ClassTerms) -> list[str]:
    """Classes the model must tell apart (all four unless every floor is equal)."""
    return ["standard"] if terms.uniform else list(CLASSES)
