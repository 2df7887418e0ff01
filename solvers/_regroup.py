"""Exact regrouping: re-partition a few neighbouring regions into one more, with CP-SAT.

When the split and rebuild moves of ``_local`` stop finding more regions, the last plans are
often hidden in a small neighbourhood that only an exact search can re-partition. This step
looks for them where they can be:

1. **Which groups.** A connected group of ``k`` movable regions can hold ``k + 1`` plans only if
   the shares of its units add up to ``k + 1`` or more: each unit's share is its population over
   the least population of any compliant connected plan that can hold it (``share_bound.unit_shares``,
   contiguity and the class rule), and the shares of a plan's units add up to at least 1. At a
   uniform floor ``f`` a unit's share is ``min(1, p / f)``. The connected groups of 1 to
   ``max_regions`` regions that pass this test (listed from each region outwards; a group that
   passes is not grown further) are tried, the largest spare share per region first.
2. **Solve.** Each group's units are solved exactly with the CP-SAT model of ``cpsat_model``
   (contiguity, the class floors, ceiling, hard boundaries and locks) asking for at least
   ``k + 1`` plans, one worker, CP-SAT's deterministic time limit ``sub_time``.
3. **Keep.** An answer replaces the group's regions (each checked connected and compliant
   again). A group proved infeasible, or not settled in ``sub_time``, is remembered by its units
   and not tried again.

Work is counted on the heuristic's ``Budget``: one unit per group looked at while listing, and
per solve ``BUILD_WORK_PER_UNIT`` units per unit of the group (building the model) plus its
deterministic time at ``WORK_PER_CPSAT_SECOND``. The same seed gives the same regions: the groups
are listed in a fixed order and CP-SAT runs one worker with its own seed and deterministic time.
"""

from __future__ import annotations

import logging

from ortools.sat.python import cp_model

from lombardy_districts.model.problem import Problem

from ._budget import HEURISTIC_WORK_PER_SECOND, Budget, refuse_invalid
from ._grow import Region
from ._layout import Layout
from ._local import Partition, movable
from .bounds import PlanBound, problem_shares
from .cpsat_model import CpsatModel
from .model_data import ClassTerms, build_candidates
from .model_setup import Setup
from .units import Units

log = logging.getLogger(__name__)

GROUP_DETERMINISTIC_PER_SECOND = 0.5
"""CP-SAT deterministic seconds per wall second on a group's small model (measured once, November 2026,
on the 2-core machine with a load of about 3: 0.30 deterministic s took 0.52 to 0.70 s on groups of 50
to 59 municipalities at an 80,000 floor; the whole-region rate of ``_budget`` is 0.25)."""

WORK_PER_CPSAT_SECOND = HEURISTIC_WORK_PER_SECOND / GROUP_DETERMINISTIC_PER_SECOND
"""Heuristic work units per second of CP-SAT deterministic time on a group."""

BUILD_WORK_PER_UNIT = 15
"""Work units per unit of a group for building and presolving its model (measured with the rate above:
1,294 groups of 13 to 40 units proved infeasible at presolve in about 9 ms each, 300 units of work)."""

SLACK = 1e-9
"""Shares are floats: a group passes when they add up to ``k + 1`` less this."""

MAX_LISTED = 100_000
"""At most this many groups are looked at in one listing (a cap on the listing's own cost)."""


def group_shares(problem: Problem, layout: Layout) -> list[float]:
    """Each unit's share (``share_bound.unit_shares``) of the layout's units, which may join several.

    Shares are computed on the problem's own units and added up over the units a layout unit joins
    (``keep_together``): a plan holding the joined unit holds all of them.
    """
    own = Units.from_problem(problem)
    share = problem_shares(problem, own).max(axis=1)  # share_bound.unit_shares, computed once per problem
    of_code = {code: i for i, codes in enumerate(own.members) for code in codes}
    out = []
    for codes in layout.units.members:
        parts = {of_code[c] for c in codes}
        out.append(float(sum(share[i] for i in sorted(parts))))
    return out


def candidate_groups(layout: Layout, part: Partition, shares: list[float], max_regions: int, tried: set,
                     budget: Budget) -> list[list[int]]:
    """Connected groups of movable regions whose shares allow one more plan (``shares``: per unit).

    A group that passes is not grown further. Returns region ids per group, the largest spare
    share per region first (ties: fewer regions, then the ids); groups already in ``tried``
    (as the number of plans asked for and the group's units) are left out.
    """
    ids = sorted(k for k, r in part.regions.items() if movable(layout, r))
    room = {k: sum(shares[u] for u in sorted(part.regions[k].members)) for k in ids}
    near = {k: [j for j in part.neighbours(k) if j in room] for k in ids}
    seen: set[frozenset] = set()
    passing: list[tuple[float, int, list[int]]] = []  # (minus spare share per region, size, ids)
    todo = [(frozenset([k]), room[k]) for k in reversed(ids)]
    while todo and len(seen) < MAX_LISTED:
        group, total = todo.pop()
        if group in seen:
            continue
        seen.add(group)
        surplus = total - (len(group) + 1)
        if surplus >= -SLACK:
            passing.append((-surplus / len(group), len(group), sorted(group)))
        elif len(group) < max_regions:
            touching = sorted({j for k in group for j in near[k]} - group)
            todo.extend((group | {j}, total + room[j]) for j in reversed(touching))
    budget.spend(len(seen))
    passing.sort()
    return [group for _, _, group in passing if (len(group) + 1, _key(part, group)) not in tried]


def _key(part: Partition, group: list[int]) -> tuple[int, ...]:
    """A group named by its units (region ids change as regions are replaced)."""
    return tuple(sorted(u for k in group for u in part.regions[k].members))


def solve_group(layout: Layout, problem: Problem, units: list[int], plans: int, seed: int, sub_time: float,
                budget: Budget) -> list[set[int]] | None:
    """At least ``plans`` compliant connected plans covering ``units`` (exact, CP-SAT), or None.

    None when CP-SAT proves there are none or finds none within ``sub_time`` deterministic
    seconds; the deterministic time used is spent on ``budget``.
    """
    sub = layout.units.subset(units)
    rules = problem.rules
    try:
        candidates = build_candidates(sub, rules.lowest_floor, rules.ceiling, None, None,
                                      population_limit_is_rule=rules.ceiling is not None)
    except ValueError:  # no root can reach the floor: nothing to gain here
        return None
    setup = Setup(problem, sub, sub, list(range(len(sub))), {}, ClassTerms.from_units(sub, rules), candidates,
                  None, PlanBound(len(sub), "regroup", []), {}, plan_range=(plans, None), deterministic=True)
    model = CpsatModel(setup)
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_deterministic_time = float(sub_time)
    # the deterministic limit decides; the wall clock is a safety net, and the budget's own deadline
    params.max_time_in_seconds = max(0.1, min(10.0 * sub_time / GROUP_DETERMINISTIC_PER_SECOND,
                                              budget.wall_left()))
    params.num_workers = 1
    params.random_seed = int(seed)
    params.catch_sigint_signal = False
    code = solver.solve(model.m)
    refuse_invalid(solver, code, model.m)
    budget.spend(int(round(solver.deterministic_time * WORK_PER_CPSAT_SECOND)) + BUILD_WORK_PER_UNIT * len(units))
    log.debug("regroup: %d units into %d plans: %s in %.3f deterministic s", len(units), plans,
              solver.status_name(code), solver.deterministic_time)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    by_root: dict[int, set[int]] = {}
    for i, v in enumerate(model.lab):
        by_root.setdefault(solver.value(v), set()).add(units[i])
    return [by_root[r] for r in sorted(by_root)]


def regroup(layout: Layout, problem: Problem, part: Partition, shares: list[float], budget: Budget, seed: int,
            tried: set, max_regions: int = 5, sub_time: float = 0.3, max_tries: int | None = None) -> int:
    """Re-partition groups of neighbouring regions into one more region each, while any can be.

    ``shares`` are the units' shares (``group_shares``); ``part`` has its groups' regions
    replaced; ``tried`` (``(plans asked for, units)`` of the groups already tried in vain) grows.
    Returns the number of regions gained. Stops when ``budget`` runs out, or after ``max_tries``
    groups tried in vain in this call.
    """
    gained, vain = 0, 0
    while not budget.expired():
        found = False
        for group in candidate_groups(layout, part, shares, max_regions, tried, budget):
            if budget.expired() or (max_tries is not None and vain >= max_tries):
                break
            key = (len(group) + 1, _key(part, group))
            units = list(key[1])
            pieces = solve_group(layout, problem, units, len(group) + 1, seed, sub_time, budget)
            regions = [Region(layout, m) for m in pieces] if pieces else []
            if not regions or not all(layout.complies(r.totals) and layout.connected(r.members) for r in regions):
                tried.add(key)
                vain += 1
                continue
            part.replace(group, regions)
            gained += len(regions) - len(group)
            found = True
            break  # region ids changed: list the groups again
        if not found:
            break
    log.info("regroup: %d more regions (%d groups tried in vain)", gained, len(tried))
    return gained
