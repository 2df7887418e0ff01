"""Repair mode's zone: which status quo plans must change, how few units move, widening a zone without a repair."""

from __future__ import annotations

import time
from dataclasses import replace

import networkx as nx

from lombardy_districts.model.problem import Problem, SolveResult

from ._layout import Layout
from .units import Units


def bad_plans(problem: Problem, units: Units) -> set[int]:
    """The status quo plans (indices in ``units.status_quo``) that break a rule, and so must change.

    Below their floor or above the ceiling, not contiguous, across a hard boundary, holding a
    municipality locked to another current plan or missing one locked to them, or holding part of a
    ``keep_together`` group that spans several plans. (A lock to a label that names no current plan
    only asks that the plan holding the municipality carry that label.)
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
    index = {p: k for k, p in enumerate(sorted(sq.assignment.unique()))}
    bad = {index[p] for p in bad_ids if p in index}
    for u, q in moving_locks(units).items():  # the plan it leaves and the plan it joins
        bad |= {int(plan_of[u]), q}
    for members in units.together:  # status quo plans that split a group keep_together keeps whole
        plans = {int(plan_of[u]) for u in members}
        if len(plans) > 1:
            bad |= plans
    return bad


def moving_locks(units: Units) -> dict[int, int]:
    """Units locked to another current plan than their own -> that plan (``Units.lock_plan``): they must move."""
    plan_of = units.status_quo
    assert plan_of is not None  # repair mode has a status quo (Problem checks it)
    return {u: q for u, q in units.lock_plan.items() if q != plan_of[u]}


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


def changes_needed(problem: Problem, units: Units) -> dict[int, int]:
    """Bad plan (``bad_plans``) -> the fewest units it must gain or lose.

    A bad plan must change: its successor (the plan holding most of it) differs from it. Units
    locked to another current plan (``Units.lock_plan``) are ``f`` changes it cannot avoid: those
    it loses and those it gains. It needs ``f`` when the plan they leave meets the floor of its class
    and the ceiling, else ``f + 1``. With no such unit, one change is a neighbouring unit gained or
    one of its units lost; when no such plan meets the floor and the ceiling, it needs at least 2.
    Contiguity and the other rules are left aside, so no count is ever too high.
    """
    plan_of = units.status_quo
    assert plan_of is not None  # repair mode has a status quo (Problem checks it)
    meets = _complies(problem, units)
    moving = moving_locks(units)
    need = {}
    for q in bad_plans(problem, units):
        own = [u for u in range(len(units)) if plan_of[u] == q]
        forced = {u for u, target in moving.items() if q in (target, plan_of[u])}
        if forced:
            after = [u for u in own if u not in forced] + [u for u in forced if moving[u] == q]
            need[q] = len(forced) + (0 if meets(after) else 1)
            continue
        near = {v for u in own for v in units.neighbors[u] if plan_of[v] != q}
        one = (meets(own) or any(meets([*own, v]) for v in near)
               or any(meets([w for w in own if w != v]) for v in own if len(own) > 1))
        need[q] = 1 if one else 2
    return need


def least_moves(problem: Problem, units: Units) -> int:
    """A proved lower bound on the units any repair moves: ``sum(c) - nu``.

    Each bad plan q needs ``c_q`` changes (``changes_needed``): units its successor gains, or units
    of q it does not hold, all moved units. Keep ``c_q`` of them per plan, gains first, nearest to
    q's own units first (the k-th is at most k steps from them), then losses. A moved unit is a
    loss of its old plan and a gain of the plan whose successor it joins, so it is a kept change of
    at most two bad plans p and q, and then one of p's units lies within ``max(c_p, c_q)`` steps of
    one of q's. Such units form a b-matching (each plan q in at most ``c_q`` of them) of the bad
    plans within those steps of each other; ``nu`` is the largest. With ``x`` units kept twice and
    ``y`` once, ``sum(c) <= 2 x + y``, so at least ``x + y >= sum(c) - nu`` units move. With every
    ``c_q`` 1 this is the bad plans less a maximum matching of touching ones. A municipality
    locked to another plan is a change of both plans (``bad_plans``), as it moves from one to the other.
    """
    plan_of = units.status_quo
    assert plan_of is not None  # repair mode has a status quo (Problem checks it)
    need = changes_needed(problem, units)
    copies = nx.Graph()  # b-matching as a matching: c_q copies of each plan, copies of near plans all joined
    copies.add_nodes_from((q, k) for q, c in need.items() for k in range(c))
    reach = max(need.values(), default=0)
    for q, c in need.items():
        for v, steps in _within(units, [u for u in range(len(units)) if plan_of[u] == q], reach).items():
            p = int(plan_of[v])
            if p != q and p in need and steps <= max(c, need[p]):
                copies.add_edges_from(((q, a), (p, b)) for a in range(c) for b in range(need[p]))
    return sum(need.values()) - len(nx.max_weight_matching(copies, maxcardinality=True))


def _complies(problem: Problem, units: Units):
    """Whether a set of units meets the floor of its class and the ceiling (``Layout.complies``)."""
    layout = Layout(units, problem.rules)
    return lambda members: layout.complies(layout.totals(members))


def _within(units: Units, sources: list[int], steps: int) -> dict[int, int]:
    """Units at most ``steps`` steps from ``sources`` -> their steps."""
    dist = dict.fromkeys(sources, 0)
    frontier = list(sources)
    for step in range(1, steps + 1):
        reached = []
        for u in frontier:
            for v in units.neighbors[u]:
                if v not in dist:
                    dist[v] = step
                    reached.append(v)
        frontier = reached
    return dist


NEW_PLAN_SETS = 20_000
"""Most candidate new plans ``new_plans_bound`` lists in one piece before it bounds them by population."""


def new_plans_bound(problem: Problem, units: Units) -> int:
    """A proved upper bound on the plans a repair moving ``least_moves`` units adds to the current ones.

    A new plan is no status quo plan's successor, so its units all moved, each a change of its old
    plan only. With the least moves, ``least_moves``'s count is exact: every moved unit is a kept
    change of a bad plan. So a new plan holds units of bad plans only, at most ``c_q`` of plan q
    (``changes_needed``): a connected set of such units that complies. In each connected piece of
    those units, such sets are listed (up to ``NEW_PLAN_SETS``) and bound the piece's new plans by
    the fewer of them and of the units their plans can give; past that, by the population the
    plans can give over the lowest floor. Nor are there more new plans than units all bad plans
    holding any of these sets can give.
    """
    plan_of = units.status_quo
    assert plan_of is not None  # repair mode has a status quo (Problem checks it)
    need = changes_needed(problem, units)
    pieces = nx.Graph()
    pieces.add_nodes_from(u for u in range(len(units)) if int(plan_of[u]) in need)
    pieces.add_edges_from((i, j) for i, j in units.edges if i in pieces and j in pieces
                          and (plan_of[i] != plan_of[j] or need[int(plan_of[i])] > 1))
    complies, pop = _complies(problem, units), units.population
    count, holders = 0, set()  # holders: the bad plans that could give a unit to a new plan
    for piece in nx.connected_components(pieces):
        sets = _capped_sets(pieces, piece, plan_of, need)
        if sets is not None:
            held = {int(plan_of[u]) for members in sets if complies(members) for u in members}
            count += min(sum(1 for members in sets if complies(members)), sum(need[q] for q in held))
            holders |= held
            continue
        largest: dict[int, list[int]] = {}
        for u in piece:
            largest.setdefault(int(plan_of[u]), []).append(int(pop[u]))
        count += sum(sum(sorted(p)[-need[q]:]) for q, p in largest.items()) // problem.rules.lowest_floor
        holders |= set(largest)
    return min(count, sum(need[q] for q in holders))


def _capped_sets(graph: nx.Graph, piece, plan_of, need) -> list[frozenset] | None:
    """Connected sets of ``piece``'s units in ``graph``, at most ``need[q]`` of plan q; None past ``NEW_PLAN_SETS``."""
    seen = {frozenset([u]) for u in piece}
    todo = list(seen)
    while todo:
        members = todo.pop()
        held: dict = {}
        for u in members:
            held[plan_of[u]] = held.get(plan_of[u], 0) + 1
        for u in members:
            for v in graph[u]:
                if held.get(plan_of[v], 0) < need[int(plan_of[v])] and (bigger := members | {v}) not in seen:
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
    shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN:,} more" if len(names) > SHOWN else "")
    moving = [f"{units.ids[u]} into {ids[q]}" for u, q in sorted(moving_locks(units).items())]
    locks = (f"; the locks that move municipalities into other plans ({', '.join(moving[:SHOWN])}) may be "
             "what no repair can meet: check them" if moving else "")
    why = "the plans that break a rule or that a lock changes" if moving else "the plans that break a rule"
    return (f"no repair found within the time limit for {shown} ({why}); "
            "undo some edits, allow more time, give a complying plan to fall back on (--warm-start), "
            f"or merge plans (--mode merge){locks}")


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
