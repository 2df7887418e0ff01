"""A proved upper bound on the number of plans: the least of these relaxations.

- with one floor for every class, capped population over the floor, summed over the parts of
  the map; with class floors, the class rule summed over the plans of each class together with
  each unit's largest share of a plan of that class (``class_bound``), summed over the parts;
- big units, cut units and small components (``_bound.plan_bound``);
- each unit's largest share of a compliant connected plan (``share_bound``), which accounts for
  contiguity and the class rule;
- on small maps with a gap left, the set-packing LP over every connected compliant group
  (``column_bound``, column generation with exact pricing): ``column_bound.tighter_by_columns``,
  which CP-SAT runs after a max-plans stage that proved nothing.

The bound holds for the full problem, whatever candidate restriction a solver uses. Repair mode
(disruption first, a model restricted to the plans near the problems) gets the capped population over
the lowest floor instead, unless it asks for a least number of plans (``problem_bound``): its searches
never use the bound, and the class relaxations cost seconds (about 2.5 s on Lombardy) on every repair
the studio asks for.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules

from ._bound import plan_bound
from ._layout import Layout
from .class_bound import class_rule_bound
from .share_bound import class_shares, share_bound
from .units import Units

SHARE_METHOD = "each unit's largest share of a compliant connected plan (contiguity and class rule)"
SIMPLE_METHOD = "big units, cut units and small components"
CLASS_SHARE_METHOD = ("class rule summed per class with each unit's largest share of a compliant connected "
                      "plan of its class (contiguity and class rule)")


@dataclass(frozen=True)
class PlanBound:
    """Upper bound on the number of plans, and how it was obtained."""

    value: int
    method: str
    infeasible_parts: list[str]


_BOUNDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHARES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def problem_bound(problem: Problem, units: Units) -> PlanBound:
    """``plan_count_bound`` of ``problem``, computed once per problem.

    ``units`` must be ``Units.from_problem(problem)``. CP-SAT and its heuristic warm start both
    need the bound of the same problem; the second asks for it here instead of spending the
    seconds again.
    """
    if problem not in _BOUNDS:
        if problem.mode == "repair" and problem.min_plans is None:  # the class bound's seconds buy nothing
            _BOUNDS[problem] = plan_count_bound(units, problem.rules, by_class=False)
        else:
            _BOUNDS[problem] = plan_count_bound(units, problem.rules, problem_shares(problem, units))
    return _BOUNDS[problem]


def problem_shares(problem: Problem, units: Units) -> np.ndarray:
    """``share_bound.class_shares`` of ``problem``'s units (``Units.from_problem(problem)``), once per problem.

    The bound and the heuristic's exact regrouping both use them.
    """
    if problem not in _SHARES:
        _SHARES[problem] = class_shares(units, problem.rules)
    return _SHARES[problem]


def plan_count_bound(units: Units, rules: Rules, shares: np.ndarray | None = None, by_class: bool = True) -> PlanBound:
    """Upper bound on the number of compliant plans, and the relaxation that proved it.

    Plans never span two parts (connected components of the unit graph after removing edges
    between hard-boundary groups), so the first bound is a sum over parts: with one floor for
    every class, ``floor(sum_i min(p_i, f) / f)`` per part (capping a unit's population at the
    floor is valid: a plan reaches ``f`` exactly when the sum of its members' capped populations
    does); with class floors, ``class_bound.class_rule_bound`` (the class rule summed over the
    plans of each class, with each unit's largest share of a plan of its class). A part with no
    feasible solution proves the whole problem infeasible. The result is the least of this,
    ``_bound.plan_bound`` (big units plus small components) and ``share_count`` (contiguity and
    the class rule), so no solver reports a looser bound; ``method`` names the one used.
    ``shares`` are ``share_bound.class_shares(units, rules)`` when the caller has them. With
    ``by_class=False`` the lowest floor stands for every class (a plan of any class reaches it) and
    neither the class MIP nor the shares are computed: a looser bound in milliseconds instead of
    seconds, for repair mode (``problem_bound``).
    """
    parts = _parts(units)
    total, bad = 0, []
    uniform = len(set(rules.floors.values())) == 1 or not by_class
    if by_class and shares is None:
        shares = class_shares(units, rules)
    for part in parts:
        pop = units.population[part].astype(float)
        if uniform:
            f = rules.lowest_floor
            value = int(np.minimum(pop, f).sum() // f) if f > 0 else len(part)
            if rules.ceiling is not None and math.ceil(pop.sum() / rules.ceiling) > value:
                value = 0
        else:
            value = class_rule_bound(units, rules, part, shares)
        if value < 1:
            bad.append(_describe(units, part, rules))
        total += value
    lowest = "" if len(set(rules.floors.values())) == 1 else "lowest "
    method = (f"relaxation without contiguity, capped population / {lowest}floor, summed over {len(parts)} part(s)"
              if uniform else f"{CLASS_SHARE_METHOD}, HiGHS dual bound summed over {len(parts)} part(s)")
    if not bad:  # the other two bounds are sometimes tighter
        simple = plan_bound(Layout(units, rules))
        if simple < total:
            total, method = simple, f"{SIMPLE_METHOD} (tighter than the {method})"
        share_total = whole(float(shares.max(axis=1).sum())) if shares is not None else total
        if share_total < total:
            total, method = share_total, f"{SHARE_METHOD} (tighter than the {method})"
    return PlanBound(total, method, bad)


def share_count(units: Units, rules: Rules) -> int:
    """``share_bound`` rounded down: at most this many plans can comply."""
    return whole(share_bound(units, rules))


def whole(bound: float) -> int:
    """A bound on a count, rounded down (past float sums' rounding)."""
    return int(math.floor(bound + 1e-9))


def _parts(units: Units) -> list[np.ndarray]:
    n = len(units)
    group = units.group
    rows, cols = [], []
    for i, j in units.edges:
        if group is None or group[i] == group[j]:
            rows.append(i)
            cols.append(j)
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    count, labels = sp.csgraph.connected_components(graph, directed=False)
    return [np.flatnonzero(labels == k) for k in range(count)]


def _describe(units: Units, part: np.ndarray, rules: Rules) -> str:
    shown = ", ".join(units.ids[i] for i in part[:5]) + (" ..." if len(part) > 5 else "")
    return (f"part of {len(part)} units ({shown}) with {int(units.population[part].sum()):,} inhabitants "
            f"cannot form compliant plans (lowest floor {rules.lowest_floor:,})")
