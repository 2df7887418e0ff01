"""Repair mode's zone and bound: which status quo plans must change, and how few units a repair moves."""

from __future__ import annotations

import networkx as nx

from lombardy_districts.model.problem import Problem

from .units import Units


def bad_plans(problem: Problem, units: Units) -> set[int]:
    """The status quo plans (indices in ``units.status_quo``) that break a rule, and so must change.

    Below their floor or above the ceiling, not contiguous, across a hard boundary, missing a
    municipality locked to them, or holding part of a ``keep_together`` group that spans several plans.
    """
    sq, rules, plan_of = problem.status_quo, problem.rules, units.status_quo
    assert sq is not None and plan_of is not None  # repair mode has a status quo (Problem checks it)
    pops, floors = sq.populations, sq.floors(rules)
    bad_ids = set(pops.index[pops < floors]) | set(sq.contiguous.index[~sq.contiguous])
    if rules.ceiling is not None:
        bad_ids |= set(pops.index[pops > rules.ceiling])
    gdf = sq.territory.municipalities
    for column in rules.hard_boundaries:
        spans = gdf[column].groupby(sq.assignment).nunique()
        bad_ids |= set(spans.index[spans > 1])
    for code, plan_id in rules.locked_municipalities.items():
        if code in sq.assignment.index and sq.assignment[code] != plan_id:
            bad_ids.add(sq.assignment[code])
    index = {p: k for k, p in enumerate(sorted(sq.assignment.unique()))}
    bad = {index[p] for p in bad_ids if p in index}
    for members in units.together:  # status quo plans that split a group keep_together keeps whole
        plans = {int(plan_of[u]) for u in members}
        if len(plans) > 1:
            bad |= plans
    return bad


def repair_zone(problem: Problem, units: Units, depth: int) -> list[int]:
    """Units of the status quo plans that break a rule (``bad_plans``), plus those ``depth`` plan-steps away.

    A status quo plan holding part of a ``keep_together`` group that spans several plans breaks
    the rule too, so every such group lies wholly inside the zone or wholly outside it.
    """
    plan_of = units.status_quo
    assert plan_of is not None  # repair mode has a status quo (Problem checks it)
    bad = bad_plans(problem, units)
    for _ in range(depth):
        near = set(bad)
        for i, j in units.edges:
            if plan_of[i] in bad or plan_of[j] in bad:
                near.update((plan_of[i], plan_of[j]))
        if near == bad:
            break
        bad = near
    return [u for u in range(len(units)) if plan_of[u] in bad]


def least_moves(problem: Problem, units: Units) -> int:
    """A proved lower bound on the units any repair moves: ``|bad| - nu``, ``nu`` a maximum matching of bad plans.

    Every bad plan (``bad_plans``) must gain or lose a unit. Charge each moved unit to its old plan
    when that plan is bad, else to its new plan. A bad plan charged nothing lost no unit and kept
    all of its own; it gained a unit ``w`` next to one of its own (its region is connected), so the
    old plan of ``w`` touches it and is bad (else ``w`` is charged to it). Each such plan is thus
    paired with a bad neighbouring plan charged with a unit of its own, distinct units for distinct
    plans; choosing one per charged plan is a matching of touching bad plans, so at least
    ``|bad| - nu`` units move.
    """
    plan_of = units.status_quo
    assert plan_of is not None  # repair mode has a status quo (Problem checks it)
    bad = bad_plans(problem, units)
    touching = nx.Graph()
    touching.add_nodes_from(bad)
    touching.add_edges_from((int(plan_of[i]), int(plan_of[j])) for i, j in units.edges
                            if plan_of[i] != plan_of[j] and plan_of[i] in bad and plan_of[j] in bad)
    return len(bad) - len(nx.max_weight_matching(touching, maxcardinality=True))


def changed_plans(units: Units, labels) -> list[int]:
    """Units of the status quo plans that ``labels`` (a plan of every unit) changes: split, joined or moved."""
    plan_of = units.status_quo
    assert plan_of is not None  # repair mode has a status quo (Problem checks it)
    labels_of: dict = {}
    plans_of: dict = {}
    for u, label in enumerate(labels):
        labels_of.setdefault(int(plan_of[u]), set()).add(label)
        plans_of.setdefault(label, set()).add(int(plan_of[u]))
    changed = {int(plan_of[u]) for u, label in enumerate(labels)
               if len(labels_of[int(plan_of[u])]) > 1 or len(plans_of[label]) > 1}
    return [u for u in range(len(units)) if int(plan_of[u]) in changed]
