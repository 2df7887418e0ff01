"""Prove infeasibility before solving, and say why with names and numbers.

``check_feasible(problem)`` runs cheap necessary conditions; when one fails no plan can meet the
rules, whatever the solver. It finds every failing condition and raises once:

- the total population is below the lowest floor;
- a municipality alone is above the ceiling;
- a hard-boundary group (e.g. ``province=Sondrio``) has fewer inhabitants than the lowest floor;
- a part of the contiguity graph cut off by hard boundaries and by locked plans (status-quo
  plans kept exactly) has fewer inhabitants than the lowest floor, or than one floor per lock
  label it must hold;
- municipalities locked to one plan cannot be joined into a contiguous plan (other locks,
  locked plans or hard boundaries are in the way);
- a locked plan is missing from the status quo, is not contiguous, is below its own class
  floor or above the ceiling;
- a hard-boundary column is missing, or has no value for some municipalities;
- a group that ``keep_together`` keeps in one plan (e.g. a union of municipalities) lies across a
  hard boundary, holds municipalities locked to different plans or is partly in a locked plan,
  is above the ceiling, or cannot be joined into one contiguous plan inside its hard-boundary area.

Passing the check does not prove that a plan exists.
"""

from __future__ import annotations

import logging

import networkx as nx
import pandas as pd

from lombardy_districts.errors import InfeasibleError, InputError
from lombardy_districts.model.measures import ClassRule
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.territory import Territory
from lombardy_districts.model.together import TogetherGroup, together_groups

log = logging.getLogger(__name__)


def check_feasible(problem: Problem) -> None:
    """Raise ``InfeasibleError`` listing every reason no compliant plan can exist; else return None."""
    problems = _reasons(problem)
    if problems:
        raise InfeasibleError("no plan can meet the rules:\n" + "\n".join(f"- {p}" for p in problems))
    log.info("feasibility check passed")


def _reasons(problem: Problem) -> list[str]:
    terr, rules = problem.territory, problem.rules
    gdf = terr.municipalities
    pop = gdf["population"].astype(int)
    low = rules.lowest_floor
    out = []
    total = int(pop.sum())
    if total < low:
        out.append(f"the territory has {total:,} inhabitants, below the lowest floor of {low:,}; "
                   "lower the floors or select more municipalities")
    if rules.ceiling is not None:
        for code in pop.index[pop > rules.ceiling]:
            out.append(f"{_name(gdf, code)} alone has {pop[code]:,} inhabitants, above the ceiling of "
                       f"{rules.ceiling:,}; raise limits.ceiling")
        sq = problem.status_quo
        if problem.mode == "merge" and sq is not None:  # merge mode keeps each current plan whole
            pops = sq.populations
            big = pops[pops > rules.ceiling].sort_values(ascending=False)
            if len(big):
                shown = ", ".join(f"{p} ({sq.name(p)}, {int(v):,})" for p, v in big.head(5).items())
                more = f" and {len(big) - 5:,} more" if len(big) > 5 else ""
                out.append(f"{len(big)} current plan(s) alone have more inhabitants than the ceiling of "
                           f"{rules.ceiling:,}: {shown}{more}; merge mode keeps current plans whole: raise "
                           "limits.ceiling, or use --mode repair or scratch")
    out += boundary_column_problems(gdf, rules.hard_boundaries)
    group = _groups(gdf, rules.hard_boundaries)
    if group is not None:
        sums = pop.groupby(group).sum()
        for label, value in sums.items():
            if value < low:
                out.append(f"hard boundary group {label} has {int(value):,} inhabitants, below the lowest "
                           f"floor of {low:,}; drop the hard boundary {', '.join(rules.hard_boundaries)} "
                           "or lower the floors")
    exclusive, lock_out = _locked_plans(problem, group)
    out += lock_out
    out += _locks(problem, group, exclusive)
    out += _locks_apart(problem, group)
    out += _components(problem, group, exclusive)
    out += _together(problem, group, exclusive)
    return out


def locked_code_problems(rules: Rules, region: Territory, unknown_too: bool = True) -> list[str]:
    """Codes of ``locked.municipalities`` that are not municipalities of the region loaded.

    For the embedded Italian data the keys must be 6-digit ISTAT codes written as strings. With
    ``unknown_too`` False only that form is checked (``region`` may then be part of the region).
    """
    codes = list(rules.locked_municipalities)
    if region.istat:
        bad = [c for c in codes if not (c.isdigit() and len(c) == 6)]
        if bad:
            return [f"locked.municipalities has keys {bad!r}; must be 6-digit ISTAT codes written as strings, "
                    "e.g. \"015146\" = \"milano\""]
    if not unknown_too:
        return []
    unknown = sorted(set(codes) - set(region.codes))
    if unknown:
        return [f"locked.municipalities: {', '.join(unknown[:10])} not among the {len(region.codes):,} "
                "municipalities loaded (codes are compared as text, exactly as written)"]
    return []


def boundary_column_problems(gdf: pd.DataFrame, columns) -> list[str]:
    """Hard-boundary columns must exist and have a value for every municipality."""
    out = []
    for column in columns:
        if column not in gdf.columns:
            allowed = ", ".join(c for c in gdf.columns if c != "geometry")
            out.append(f"hard boundary column {column!r} is not in the municipality table (columns: {allowed}); "
                       "fix boundaries.hard")
        elif gdf[column].isna().any():
            missing = gdf.index[gdf[column].isna()]
            out.append(f"hard boundary column {column!r} has no value for {len(missing):,} municipalities "
                       f"({_names(gdf, missing)}); plans there cannot be checked against it. Fix: drop "
                       f"{column!r} from boundaries.hard (\"ats\" is known for Lombardy only)")
    return out


def _together(problem: Problem, group, exclusive: dict[str, list[str]]) -> list[str]:
    """Each group ``keep_together`` keeps in one plan must fit in one: boundaries, locks, ceiling, contiguity."""
    rules = problem.rules
    if not rules.keep_together:
        return []
    gdf = problem.territory.municipalities
    try:
        groups = together_groups(problem.collaboration, rules.keep_together, gdf.index)
    except InputError as exc:
        return list(exc.problems)
    in_locked = {code: plan_id for plan_id, members in exclusive.items() for code in members}
    parts: dict[tuple, dict[str, int]] = {}  # (boundary label, lock) -> code -> connected part
    out = []
    for together in groups:
        reason = _together_reason(problem, together, group, in_locked, parts)
        if reason:
            out.append(f"{together.describe(gdf['name'])} {reason}")
    return out


def _together_reason(problem: Problem, together: TogetherGroup, group, in_locked: dict[str, str],
                     parts: dict[tuple, dict[str, int]]) -> str:
    """Why ``together`` cannot be one plan's, or ''. ``parts`` caches the connected parts of the allowed graphs."""
    rules, gdf = problem.rules, problem.territory.municipalities
    members = list(together.members)
    kinds = ", ".join(f'"{k}"' for k in together.kinds)
    if group is not None and group[members].nunique() > 1:
        sides = "; ".join(f"{_names(gdf, codes)} in {label}" for label, codes in
                          sorted(group[members].groupby(group[members]).groups.items()))
        columns = ", ".join(f'"{c}"' for c in rules.hard_boundaries)
        return (f"lies across the hard boundary {', '.join(rules.hard_boundaries)}: {sides}. No plan can keep it "
                f"whole without crossing that border; fix: drop {kinds} from boundaries.keep_together or "
                f"{columns} from boundaries.hard")
    locks = {rules.locked_municipalities[c] for c in members if c in rules.locked_municipalities}
    locks |= {in_locked[c] for c in members if c in in_locked}
    if len(locks) > 1:
        return f"holds municipalities locked to different plans ({', '.join(sorted(locks))}); fix the locks"
    inside = [c for c in members if c in in_locked]
    if inside and len(inside) < len(members):
        return (f"is partly in locked plan {in_locked[inside[0]]}, which is kept exactly, so the rest cannot "
                f"join it; unlock the plan or drop {kinds} from boundaries.keep_together")
    population = int(gdf.loc[members, "population"].sum())
    if rules.ceiling is not None and population > rules.ceiling:
        return f"has {population:,} inhabitants, above the ceiling of {rules.ceiling:,}; raise limits.ceiling"
    if inside:
        return ""
    lock = next(iter(locks), None)
    key = (None if group is None else group[members[0]], lock)
    if key not in parts:
        keep = [c for c in gdf.index if c not in in_locked
                and rules.locked_municipalities.get(c, lock) == lock
                and (group is None or group[c] == key[0])]
        found = nx.connected_components(problem.territory.graph.subgraph(keep))
        parts[key] = {c: k for k, part in enumerate(found) for c in part}
    if len({parts[key][c] for c in members}) > 1:
        return ("cannot be joined into one contiguous plan: locked plans, municipalities locked to other plans "
                "or hard boundaries separate its parts; fix the locks or relax the boundaries")
    return ""


def _groups(gdf: pd.DataFrame, columns) -> pd.Series | None:
    columns = [c for c in columns if c in gdf.columns]
    if not columns:
        return None
    return gdf[columns].astype(str).apply(
        lambda row: ",".join(f"{c}={row[c]}" for c in columns), axis=1)


def _name(gdf: pd.DataFrame, code: str) -> str:
    return f"{gdf.at[code, 'name']} ({code})" if "name" in gdf.columns else code


def _names(gdf: pd.DataFrame, codes, limit: int = 5) -> str:
    codes = sorted(codes)
    shown = ", ".join(_name(gdf, c) for c in codes[:limit])
    return shown + (f" and {len(codes) - limit:,} more" if len(codes) > limit else "")


def _locked_plans(problem: Problem, group) -> tuple[dict[str, list[str]], list[str]]:
    """Municipalities of each locked status-quo plan, and what is wrong with those plans."""
    rules, sq = problem.rules, problem.status_quo
    gdf = problem.territory.municipalities
    out: list[str] = []
    exclusive: dict[str, list[str]] = {}
    if not rules.locked_plans:
        return exclusive, out
    if sq is None:
        return exclusive, [f"locked plans {list(rules.locked_plans)} need a status quo; pass --status-quo SQ.csv"]
    for plan_id in rules.locked_plans:
        members = sq.members.get(plan_id)
        if members is None:
            shown = ", ".join(sq.plan_ids[:10])
            out.append(f"locked plan {plan_id!r} is not in the status quo (plans: {shown}...); "
                       "fix the id in locked.plans")
            continue
        exclusive[plan_id] = members
        label = f"locked plan {plan_id} ({sq.name(plan_id)})"
        if not nx.is_connected(problem.territory.graph.subgraph(members)):
            out.append(f"{label} is not contiguous, so it cannot be kept as it is; unlock it")
        p = int(gdf.loc[members, "population"].sum())
        area = problem.territory.area_units.loc[members]
        mountain = area.where(rules.counts_as_mountain(gdf.loc[members]), 0)
        cls = ClassRule.of(rules).classify(p, area.sum(), mountain.sum())
        floor = rules.floors[cls]
        if p < floor:
            out.append(f"{label} has {p:,} inhabitants, below its {cls} floor of {floor:,}; "
                       "unlock it (Unlock in the studio, or remove it from locked.plans in a rules file) so it "
                       "can grow")
        if rules.ceiling is not None and p > rules.ceiling:
            out.append(f"{label} has {p:,} inhabitants, above the ceiling of {rules.ceiling:,}")
        if group is not None and group[members].nunique() > 1:
            out.append(f"{label} crosses the hard boundary {', '.join(rules.hard_boundaries)}")
    for code, plan_id in rules.locked_municipalities.items():
        for other, members in exclusive.items():
            if code in members and other != plan_id:
                out.append(f"{_name(gdf, code)} is locked to plan {plan_id} but belongs to locked plan "
                           f"{other}; remove one of the two locks")
    return exclusive, out


def _locks(problem: Problem, group, exclusive: dict[str, list[str]]) -> list[str]:
    """Municipalities locked to one plan must be joinable without crossing other locks."""
    rules = problem.rules
    gdf = problem.territory.municipalities
    graph = problem.territory.graph
    by_label: dict[str, list[str]] = {}
    for code, plan_id in rules.locked_municipalities.items():
        if code in gdf.index and plan_id not in exclusive:
            by_label.setdefault(plan_id, []).append(code)
    blocked = {c for members in exclusive.values() for c in members}
    out = []
    for plan_id, codes in sorted(by_label.items()):
        if group is not None and group[codes].nunique() > 1:
            continue  # _locks_apart says so
        others = {c for lab, cs in by_label.items() if lab != plan_id for c in cs}
        keep = [c for c in graph.nodes if c not in blocked and c not in others
                and (group is None or group[c] == group[codes[0]])]
        sub = graph.subgraph(keep)
        parts = {frozenset(nx.node_connected_component(sub, c)) for c in codes}
        if len(parts) > 1:
            out.append(f"municipalities locked to plan {plan_id} ({_names(gdf, codes)}) cannot form a "
                       "contiguous plan: other locks, locked plans or hard boundaries separate them; "
                       "fix the locks")
    return out


def _locks_apart(problem: Problem, group) -> list[str]:
    """Locks must not reach across a hard boundary or between pieces of a selection that do not touch.

    The municipalities locked to one plan must lie on one side; in merge and repair modes a lock to
    a current plan's id also reaches that plan, whose successor keeps some of its municipalities, so
    the locked ones must share a side with at least one of them.
    """
    rules, sq = problem.rules, problem.status_quo
    gdf = problem.territory.municipalities
    current = sq.members if sq is not None and problem.mode in ("merge", "repair") else {}
    splits = [(group, "sides of a hard boundary", "fix the locks or drop the hard boundary"),
              (problem.territory.pieces_apart(rules.lowest_floor), "pieces of the selection that do not touch",
               "lock them to a plan of their own piece, or select municipalities that touch")]
    out = []
    for plan_id in sorted(set(rules.locked_municipalities.values())):
        codes = sorted(c for c, p in rules.locked_municipalities.items() if p == plan_id and c in gdf.index)
        held = [c for c in current.get(plan_id, []) if c in gdf.index]
        for side, what, fix in splits:
            if side is None or not codes:
                continue
            locked = set(side[codes])
            if len(locked) == 1 and (not held or locked & set(side[held])):
                continue
            shown = codes + [c for c in held if side[c] not in locked]
            where = "; ".join(f"{label}: {_names(gdf, [c for c in shown if side[c] == label], 3)}"
                              for label in sorted(set(side[shown])))
            named = f"plan {plan_id} ({sq.name(plan_id)})" if held and sq is not None else f"plan {plan_id}"
            out.append(f"municipalities locked to {named} would join {what} ({where}), and no plan runs across "
                       f"two; {fix}")
            break
    return out


def _components(problem: Problem, group, exclusive: dict[str, list[str]]) -> list[str]:
    """Parts of the graph cut off by hard boundaries and locked plans must hold their floors."""
    rules = problem.rules
    gdf = problem.territory.municipalities
    low = rules.lowest_floor
    blocked = {c for members in exclusive.values() for c in members}
    graph = nx.Graph()
    graph.add_nodes_from(c for c in gdf.index if c not in blocked)
    graph.add_edges_from((a, b) for a, b in problem.territory.graph.edges
                         if a not in blocked and b not in blocked and (group is None or group[a] == group[b]))
    parts = list(nx.connected_components(graph))
    if len(parts) <= 1 and not rules.locked_municipalities:
        return []
    out = []
    why = " and ".join(x for x in ("hard boundaries" if group is not None else "",
                                   "locked plans" if blocked else "") if x) or "the contiguity graph"
    fixes = ("unlock plans" if blocked else "", "relax the hard boundaries" if group is not None else "")
    fix = " or ".join(x for x in fixes if x) or "select more around it"
    for part in sorted(parts, key=lambda p: sorted(p)[0]):
        p = int(gdf.loc[list(part), "population"].sum())
        labels = {rules.locked_municipalities[c] for c in part if c in rules.locked_municipalities}
        labels -= set(exclusive)
        need = max(1, len(labels)) * low
        if len(labels) <= 1 and (len(parts) == 1 and not blocked or _group_short(gdf, group, part, low)):
            continue  # already reported as the total or a hard-boundary group
        if p < need:
            what = f"{len(labels)} locked plans need {need:,}" if len(labels) > 1 else f"the lowest floor of {low:,}"
            out.append(f"the part of the graph made of {_names(gdf, part)} is cut off by {why} and has "
                       f"{p:,} inhabitants, below {what}; {fix}")
    return out


def _group_short(gdf: pd.DataFrame, group, part, low: int) -> bool:
    if group is None:
        return False
    label = group[next(iter(part))]
    return int(gdf.loc[group.index[group == label], "population"].sum()) < low
