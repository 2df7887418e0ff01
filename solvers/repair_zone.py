"""Repair mode's zone: which status quo plans must change, how few units move, widening a zone without a repair."""

from __future__ import annotations

import time
from dataclasses import replace

import networkx as nx

from lombardy_districts.model.problem import Problem, SolveResult

from .model_data import ClassTerms
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


NEW_PLAN_SETS = 20_000
"""Most candidate new plans ``new_plans_bound`` lists in one piece before it bounds them by population."""


def new_plans_bound(problem: Problem, units: Units) -> int:
    """A proved upper bound on the plans a repair moving ``least_moves`` units adds to the current ones.

    A new plan is no status quo plan's successor, so its units all moved. With the least moves,
    ``least_moves``'s count is exact: every moved unit is charged to a bad plan, and a charged plan
    whose units do not go to the uncharged ones is charged one unit. So a new plan takes at most one
    unit from each bad plan and none from others: it is a connected set of bad plans' units, no two of
    one plan, that complies. In each connected piece of those units, such sets are listed (up to
    ``NEW_PLAN_SETS``) and bound the piece's new plans by the fewer of them and of the bad plans
    they hold; past that, by the plans with a unit that complies alone plus the largest units
    touching another bad plan over the lowest floor. Nor are there more new plans than bad plans
    holding any of these units.
    """
    plan_of = units.status_quo
    assert plan_of is not None  # repair mode has a status quo (Problem checks it)
    bad = bad_plans(problem, units)
    pieces = nx.Graph()
    pieces.add_nodes_from(u for u in range(len(units)) if int(plan_of[u]) in bad)
    pieces.add_edges_from((i, j) for i, j in units.edges if i in pieces and j in pieces and plan_of[i] != plan_of[j])
    terms, pop = ClassTerms.from_units(units, problem.rules), units.population

    def complies(members) -> bool:
        return int(pop[list(members)].sum()) >= terms.floors[terms.classify(members)]

    count, holders = 0, set()  # holders: the bad plans that could give a unit to a new plan
    for piece in nx.connected_components(pieces):
        sets = _distinct_plan_sets(pieces, piece, plan_of)
        if sets is not None:
            plans = [{int(plan_of[u]) for u in members} for members in sets if complies(members)]
            held = set().union(*plans)
            count += min(len(plans), len(held))
            holders |= held
            continue
        alone = {int(plan_of[u]) for u in piece if complies([u])}
        shared: dict[int, int] = {}
        for u in piece:
            if pieces.degree(u):
                shared[int(plan_of[u])] = max(shared.get(int(plan_of[u]), 0), int(pop[u]))
        count += len(alone) + sum(shared.values()) // problem.rules.lowest_floor
        holders |= alone | set(shared)
    return min(count, len(holders))


def _distinct_plan_sets(graph: nx.Graph, piece, plan_of) -> list[frozenset] | None:
    """Connected sets of ``piece``'s units in ``graph``, no two of one plan; None past ``NEW_PLAN_SETS``."""
    seen = {frozenset([u]) for u in piece}
    todo = list(seen)
    while todo:
        members = todo.pop()
        plans = {plan_of[u] for u in members}
        for u in members:
            for v in graph[u]:
                if plan_of[v] not in plans and (bigger := members | {v}) not in seen:
                    seen.add(bigger)
                    todo.append(bigger)
                    if len(seen) > NEW_PLAN_SETS:
                        return None
    return list(seen)


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


def unrepaired_words(problem: Problem, units: Units) -> str:
    """The message of a repair that found nothing in time: the plans that break a rule, and what to try."""
    sq = problem.status_quo
    assert sq is not None  # repair mode has a status quo (Problem checks it)
    ids = sorted(sq.assignment.unique())
    names = [sq.name(ids[k]) for k in sorted(bad_plans(problem, units))]
    shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
    return (f"no repair found within the time limit for {shown} (the plans that break a rule); "
            "undo some edits, allow more time, give a complying plan to fall back on (--warm-start), "
            "or merge plans (--mode merge)")


SHOWN = 8
"""Plans a message names before "and N more"."""


class ZoneWithoutRepair(Exception):
    """Repair mode: the zone's units alone hold no repair (raised by ``prepare``); the whole map may."""


def zone_words(options: dict, model: Units, units: Units) -> str:
    """How a message names a repair zone: "no repair within ... (n of m units)"."""
    return (f"no repair within repair_depth={options['repair_depth']} plan-steps of the non-compliant plans "
            f"({len(model)} of {len(units)} units, the other plans fixed)")


ZONE_WITHOUT_REPAIR = "zone_without_repair"
"""Key of ``SolveResult.details``: true when the model proved that its repair zone holds no repair."""


def widened(solver, warm_start, progress) -> SolveResult:
    """``solver._solve_once(warm_start, progress)``, widening a repair zone shown to hold no repair.

    The zone (``repair_depth`` plan-steps around the plans that break a rule) keeps a repair's
    model small. When the model shows that it holds no repair, the depth goes from d to 2 d + 1 and
    the search runs again in the time left (the whole limit again in a deterministic run), until a
    repair is found or the zone is the whole map, whose answer (a plan or a proof) is the problem's.
    A zone is only shown empty when there was no warm start (with one, the zone takes in its
    changes), so the wider searches skip the heuristic's repair, which does not depend on the zone.
    """
    start = time.perf_counter()
    options, depth = solver.options, solver.tuning["repair_depth"]
    result, said, depths = solver._solve_once(warm_start, progress), [], []
    while result.details.get(ZONE_WITHOUT_REPAIR):
        said.append(result.message)
        limit = options.time_limit
        left = limit if limit is None or options.deterministic else limit - (time.perf_counter() - start)
        if solver.stop.is_set() or (left is not None and left < 1.0):
            return replace(result, message="; ".join(said) + "; no time was left to widen the zone: raise time_limit",
                           wall_time=time.perf_counter() - start)
        depth = 2 * depth + 1
        depths.append(str(depth))
        wider = replace(options, time_limit=left,
                        tuning={**options.tuning, "repair_depth": depth, "heuristic_warm_start": False})
        result = type(solver)(solver.problem, wider, solver.stop)._solve_once(warm_start, progress)
    if not said:
        return result
    result.details.setdefault("notes", [])[:0] = [f"{m}; the zone was widened" for m in said]
    message = result.message if result.plan is not None else (
        f"{said[0]}; with the zone widened (repair_depth {', '.join(depths)}): {result.message}")
    return replace(result, wall_time=time.perf_counter() - start, message=message)
