"""What a plan changes from the status quo, in the officers' terms.

- ``identify`` names a new plan after the status quo: each new plan that continues one current plan
  (its *successor*, ``measures.successors``) keeps that plan's id and name; a plan that continues
  several is a merger, ``bg_seriate+bg_dalmine`` / "Seriate + Dalmine" (smallest first, so the
  largest plan, the one the others join, comes last); a plan that continues none is new
  (``new_1``, "Treviglio (new)"). A plan holding a locked municipality keeps its lock label.
- ``change_table`` lists every change, one row per group of municipalities that went from one
  current plan to one new plan (``CHANGE_COLUMNS``): ``merge`` (a whole current plan, or its part
  that stays with its successor, joins a plan that continues others too: nobody moves), ``move``
  (municipalities go to a plan that continues another current plan) and ``split`` (they go to a
  new plan). The ``population_moved`` of the rows adds up to the scorecard's ``population_moved``:
  both follow ``measures.moved``.
- ``describe_changes`` says the same in words, one sentence per merger, move or split.
- ``predecessors`` gives each new plan the current plans it continues (smallest first), the
  identity ``identify`` names and the maps colour by.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import pandas as pd

from lombardy_districts.model import measures
from lombardy_districts.model.plan import Plan

CHANGE_COLUMNS = ["change", "from_plan", "from_name", "to_plan", "to_name", "municipalities", "population",
                  "population_moved", "codes", "names"]
"""Columns of ``change_table`` (and of ``changes.csv``)."""

CHANGE_NOTES = {
    "change": "merge (a current plan joins others; nobody moves), move (municipalities go to a plan that "
              "continues another current plan) or split (they form a new plan)",
    "from_plan": "the current plan (status quo) the municipalities come from; from_name its name",
    "to_plan": "the proposed plan they are in; to_name its name",
    "municipalities": "how many municipalities the row is about",
    "population": "their inhabitants",
    "population_moved": "inhabitants who changed plan (0 for a merge: merging whole plans moves nobody)",
    "codes": "their ISTAT codes, separated by '; '",
    "names": "their names, separated by '; '",
}
"""What each column of ``changes.csv`` means (``--help`` and the README say the same)."""

NAMES_SHOWN = 5


def identify(plan: Plan, status_quo: Plan, locked: Iterable[str] = ()) -> Plan:
    """``plan`` with the status quo's ids and names (see the module docstring); ``plan`` is its parent.

    ``locked`` holds plan ids that must stay as they are (the lock labels of the rules' locked
    municipalities). Municipalities outside the status quo are not allowed: both plans must cover
    the same municipalities.
    """
    before_of = predecessors(plan, status_quo)
    locked = set(locked)
    ids, names = {}, {}
    new_plans = sorted((p for p in plan.plan_ids if p not in before_of and p not in locked),
                       key=lambda p: min(plan.members[p]))
    for p in plan.plan_ids:
        if p in before_of:
            before = before_of[p]
            ids[p] = p if p in locked else "+".join(before)
            names[p] = " + ".join(status_quo.name(q) for q in before)
        elif p in locked:
            ids[p], names[p] = p, plan.name(p)
        else:
            ids[p] = f"new_{new_plans.index(p) + 1}"
            names[p] = f"{plan.name(p)} (new)"
    used = {ids[p] for p in plan.plan_ids if p in locked}  # lock labels stay as they are
    for p in plan.plan_ids:  # any other id taken twice (by a lock label, say) gets a suffix
        if p in locked:
            continue
        base, k = ids[p], 1
        while ids[p] in used:
            k += 1
            ids[p] = f"{base}#{k}"
        if k > 1:  # and its name too: two plans called "Seriate" left a planner asking which
            names[p] = f"{names[p]} ({k})"
        used.add(ids[p])
    assignment = plan.assignment.map(ids)
    return Plan(plan.territory, assignment, {ids[p]: names[p] for p in plan.plan_ids}, parent=plan)


def predecessors(plan: Plan, status_quo: Plan) -> dict[str, list[str]]:
    """Plan id of ``plan`` -> the current plans it continues (it is their successor), smallest first.

    The last one is the largest, the plan the others join: a merged plan shown beside the current
    plan takes its colour (``maps.colouring.colour_pair``, the studio). Plans that continue no
    current plan are left out. Both plans must cover the same municipalities.
    """
    old = status_quo.assignment
    population = plan.territory.municipalities["population"]
    heirs = measures.successors(old, plan.assignment, population)
    size = population.groupby(old).sum()
    out: dict[str, list[str]] = {}
    for q, p in heirs.items():
        out.setdefault(p, []).append(q)
    return {p: sorted(qs, key=lambda q: (size[q], q)) for p, qs in out.items()}


def change_table(plan: Plan, status_quo: Plan, successors: pd.Series | None = None) -> pd.DataFrame:
    """Every change from ``status_quo`` to ``plan``, one row per (current plan, new plan) flow.

    Columns ``CHANGE_COLUMNS``; rows sorted merges first, then moves and splits, each by current
    plan id. Empty when nothing changed. ``successors`` (current plan id -> its successor's id) is
    ``measures.successors``' answer when the caller has it already (the studio's live scorecard
    computes it in arrays, tested against ``evaluate``); None computes it.
    """
    old = status_quo.assignment
    new = plan.assignment.reindex(old.index)
    gdf = plan.territory.municipalities
    if successors is None:
        successors = measures.successors(old, plan.assignment, gdf["population"])
    heirs = successors.to_dict()
    count = Counter(heirs.values())
    codes = [str(c) for c in old.index]
    population = gdf["population"].reindex(old.index).tolist()
    names = gdf["name"].reindex(old.index).astype(str).tolist()
    flows: dict[tuple[str, str], list[int]] = {}  # plain Python: the studio lists the changes after every edit
    for i, (q, p) in enumerate(zip(old.tolist(), new.tolist())):
        if heirs[q] == p and count[p] < 2:
            continue  # the part of a current plan that its successor keeps: no change
        flows.setdefault((q, p), []).append(i)
    rows: list[dict[str, Any]] = []
    for (q, p), members in flows.items():
        kind = "merge" if heirs[q] == p else "move" if p in count else "split"
        people = int(sum(population[i] for i in members))
        rows.append({
            "change": kind, "from_plan": q, "from_name": status_quo.name(q), "to_plan": p,
            "to_name": plan.name(p), "municipalities": len(members), "population": people,
            "population_moved": 0 if kind == "merge" else people,
            "codes": "; ".join(codes[i] for i in members), "names": "; ".join(names[i] for i in members),
        })
    order = {"merge": 0, "move": 1, "split": 2}
    rows.sort(key=lambda r: (order[r["change"]], r["from_plan"], r["to_plan"]))
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def describe_changes(table: pd.DataFrame, plans: pd.DataFrame | None = None) -> list[str]:
    """The rows of ``change_table`` in words, one sentence per merger, move or split.

    ``plans`` (the scorecard's plans table, indexed by plan id) adds each merged plan's
    population, class and floor.
    """
    if table.empty:
        return ["No change from the status quo: every current plan stays as it is."]
    rows = table.to_dict("records")
    mergers: dict[str, list[dict]] = {}
    for r in rows:
        if r["change"] == "merge":
            mergers.setdefault(r["to_plan"], []).append(r)
    return [_merger(group, to_plan, plans) for to_plan, group in mergers.items()] + \
        [_move(r) for r in rows if r["change"] != "merge"]


def _merger(rows: list[dict], to_plan: str, plans: pd.DataFrame | None) -> str:
    names = [r["from_name"] for r in sorted(rows, key=lambda r: (r["population"], r["from_plan"]))]
    smaller, largest = names[:-1], names[-1]
    verb = "merges" if len(smaller) == 1 else "merge"
    text = f"{_and(smaller)} {verb} with {largest}"
    if plans is not None and to_plan in plans.index:
        p = plans.loc[to_plan]
        text += (f": {int(p['population']):,} inhabitants, {str(p['class']).replace('_', ' ')}, "
                 f"floor {int(p['floor']):,}")
    return text


def _move(r: dict) -> str:
    names = r["names"].split("; ")
    shown = _and(names[:NAMES_SHOWN] + ([f"{len(names) - NAMES_SHOWN:,} more"] if len(names) > NAMES_SHOWN else []))
    people = f"{int(r['population']):,} inhabitants"
    one = len(names) == 1
    if r["change"] == "split":
        return f"{shown} ({people}) {'leaves' if one else 'leave'} {r['from_name']} to form the new plan {r['to_name']}"
    return f"{shown} ({people}) {'moves' if one else 'move'} from {r['from_name']} to {r['to_name']}"


def _and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
