"""A solver's answer as a candidate beside the current plan: the same ids and colours, and the changes in words.

Solvers number their plans afresh (``P001``...). A candidate plan that continues a current plan (it holds
most of that plan's municipalities: the successor rule of ``model.measures``) takes that plan's id and name, so an
unchanged plan looks unchanged and keeps its colour; a plan formed by merging takes the id of its
largest predecessor and the name "A + B"; a plan that continues none gets a new id.
"""

from __future__ import annotations

from collections.abc import Mapping

from lombardy_districts.maps.compare import changes
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.scorecard import successors

SHOWN = 5
"""Municipalities named in one line of the changes; the rest are counted."""


def match_ids(current: Plan, assignment: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The candidate ``assignment`` with the current plans' ids and names where it continues them.

    Returns
    -------
    tuple
        Municipality code -> plan id, and plan id -> name (names of continued and merged plans only).
    """
    candidate = Plan(current.territory, assignment)
    heir = successors(candidate, current)
    populations = current.populations
    before: dict[str, list[str]] = {}
    for old in sorted(heir.index, key=lambda p: (-populations[p], p)):
        before.setdefault(heir[old], []).append(old)
    ids, names = {}, {}
    for new, olds in before.items():
        ids[new] = olds[0]
        if len(olds) > 1:
            names[olds[0]] = " + ".join(current.name(p) for p in olds)
        elif olds[0] in current.names:
            names[olds[0]] = current.names[olds[0]]
    taken = set(current.plan_ids) | set(ids.values())
    k = 1
    for new in candidate.plan_ids:
        if new not in ids:
            while f"new-{k}" in taken:
                k += 1
            ids[new] = f"new-{k}"
            taken.add(ids[new])
    return {c: ids[p] for c, p in candidate.assignment.items()}, names


def describe_changes(current: Plan, candidate: Plan) -> list[dict]:
    """The changes from ``current`` to ``candidate`` in words: merges first, then moves between two plans.

    Each item has ``kind`` (``merge`` or ``move``), ``text`` and the municipality ``codes`` involved.
    """
    gdf = current.territory.municipalities
    population, municipality = gdf["population"], gdf["name"].astype(str)
    out = []
    heir = successors(candidate, current)
    for new, olds in heir.groupby(heir).groups.items():
        if len(olds) > 1:
            olds = sorted(olds, key=lambda p: -current.populations[p])
            codes = candidate.members[new]
            out.append({"kind": "merge", "codes": codes, "text": (
                f"{' + '.join(current.name(p) for p in olds)} merge into one plan: "
                f"{int(population[codes].sum()):,} inhabitants")})
    change = changes(current, candidate)
    moved = change.index[change == "moved"]
    pairs: dict[tuple[str, str], list[str]] = {}
    for code in moved:
        pairs.setdefault((current.assignment[code], candidate.assignment[code]), []).append(code)
    for (old, new), codes in sorted(pairs.items(), key=lambda kv: -int(population[kv[1]].sum())):
        listed = ", ".join(municipality[c] for c in codes[:SHOWN])
        more = f" and {len(codes) - SHOWN} more" if len(codes) > SHOWN else ""
        verb = "moves" if len(codes) == 1 else "move"
        source, target = current.name(old), candidate.name(new)
        if source == target:  # two plans named after the same municipality: say which is which
            source, target = f"{source} ({old})", f"{target} ({new})"
        out.append({"kind": "move", "codes": codes, "text": (
            f"{listed}{more} {verb} from {source} to {target} ({int(population[codes].sum()):,} inhabitants)")})
    return out
