"""Scorecard: every number a person needs to judge one plan, per area plan and for the whole.

``evaluate(plan)`` is the single judge of a plan: solvers, maps and the ``evaluate`` command
all read the same ``Scorecard``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from lombardy_districts.errors import InputError
from lombardy_districts.io.files import write_atomic, write_json
from lombardy_districts.model import measures
from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.measures import collaboration_by_kind, collaboration_kept, ties_kept
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.together import split_groups, together_groups

log = logging.getLogger(__name__)

PLAN_COLUMNS = [
    "plan_id", "name", "municipalities", "population", "area_km2", "density", "class", "floor", "margin",
    "compliant", "contiguous", "collaboration_kept", "collaboration_cut", "polsby_popper", "bridges",
]
COLLABORATION_NOTE = (
    "ties by kind: union = members of the same union of municipalities (2020 registry or a newer partial list); "
    "current_plan = neighbours in the same current plan; labour_market = neighbours in the same ISTAT 2011 local "
    "labour market area, a commuting proxy, not joint work. Default weights union 3, current_plan 2, "
    "labour_market 1 (data/collaboration.toml; --collaboration-weight KIND=W). Add your own ties (mountain "
    "communities, consortia) with --collaboration FILE.csv (code_a,code_b,weight,kind)."
)
NO_LABOUR_MARKET_NOTE = (
    "this data has no labour_market_area column (the ISTAT proxy for collaboration exists only for the embedded "
    "Italian data), so the only ties are those you supply: --collaboration FILE.csv (code_a,code_b,weight,kind), "
    "and same-current-plan ties with --status-quo."
)
TIES_SHOWN = 10


def collaboration_note(plan: Plan) -> str:
    """What the collaboration figures rest on, for this plan's data."""
    if "labour_market_area" in plan.territory.municipalities.columns:
        return COLLABORATION_NOTE
    return NO_LABOUR_MARKET_NOTE


@dataclass(frozen=True, eq=False)
class Scorecard:
    """The scores of one plan.

    Attributes
    ----------
    plans
        One row per area plan, sorted by ``plan_id``, columns ``PLAN_COLUMNS``:
        ``margin`` is population minus floor; ``compliant`` means population at least the floor,
        contiguous, and at most the ceiling when the rules set one; ``collaboration_kept`` is the
        weight of collaboration edges with both ends in the plan, ``collaboration_cut`` the weight
        of edges with exactly one end in it (so each broken tie counts in both plans);
        ``polsby_popper`` is ``4 pi area / perimeter^2`` of the plan's dissolved polygons (1 for
        a disc, ``pi/4`` for a square); ``bridges`` counts the bridge edges inside the plan (joins
        of parts that share no boundary, see ``io.graph``): a plan with one is contiguous only by
        that rule.
    summary
        Whole-plan figures; see ``evaluate`` for each key.
    """

    plans: pd.DataFrame
    summary: dict

    def to_dict(self) -> dict:
        """``{"plans": [one record per plan], "summary": {...}}`` with only JSON types."""
        records = self.plans.to_dict(orient="records")
        return {"plans": _jsonable(records), "summary": _jsonable(self.summary)}

    def to_json(self, path) -> Path:
        """Write ``to_dict()`` as indented UTF-8 JSON, atomically (``files.write_json``)."""
        return write_json(path, self.to_dict())

    def to_csv(self, path) -> Path:
        """Write the plans table as CSV, atomically (``files.write_atomic``)."""
        return write_atomic(path, lambda p: self.plans.to_csv(p, index=False))


def evaluate(
    plan: Plan,
    rules: Rules | None = None,
    collaboration: Collaboration | None = None,
    status_quo: Plan | None = None,
) -> Scorecard:
    """Score a plan against the rules, the collaboration edges and (optionally) the status quo.

    Parameters
    ----------
    plan
        The plan to judge.
    rules
        Floors and class rule; ``Rules.default()`` when None.
    collaboration
        Collaboration edges; when None, ``default_collaboration(plan.territory, status_quo)``
        (labour-market proxy edges, plus same-current-plan edges when a status quo is given).
        Edges with an end outside the plan's territory are ignored.
    status_quo
        The current plan over the same municipalities, to measure change.

    Returns
    -------
    Scorecard
        ``summary`` keys: ``plans``, ``compliant_plans``, ``non_compliant_plans``, ``population``,
        ``population_non_compliant`` (inhabitants of non-compliant plans), ``effective_plans``
        (``1 / sum(s_k^2)`` with ``s_k`` each plan's population share), ``min_population``,
        ``median_population``, ``max_population``, ``cut_edges`` (contiguity edges between plans),
        ``collaboration_total``, ``collaboration_kept`` (weight inside plans),
        ``collaboration_retained`` (kept / total, None when there is no weight),
        ``collaboration_retained_by_kind`` (kept / total per kind of tie), ``collaboration_by_kind``
        (per kind: ``weight`` of one tie of that kind, ``total`` and ``kept`` weight, ``retained``),
        ``ties_broken`` (the 10 strongest pairs split between plans), ``unions_split`` (how many
        unions of municipalities the plan splits; unions sharing a member count as one) and
        ``unions_split_list`` (each with its ``union`` name(s), ``municipalities`` and ``plans``),
        ``bridges`` (``bridges_used``: each bridge edge and the plan it lies inside, or None),
        ``violations`` (``plan.violations(rules, status_quo, collaboration)``), ``compliant``
        (no violation at all), ``collaboration_note``.
        With a status quo, also ``municipalities_moved`` and ``population_moved``: each
        status quo plan's *successor* is the new plan holding most of its municipalities (ties:
        most inhabitants, then the lowest plan id); a municipality has moved when its new plan is
        not the successor of its old one (``measures.moved``). ``plans_split``: status quo plans
        whose municipalities are now in more than one plan. ``plans_merged``: new plans that are
        the successor of two or more status quo plans.

    Raises
    ------
    InputError
        When the status quo does not cover exactly the plan's municipalities.
    """
    rules = Rules.default() if rules is None else rules
    if status_quo is not None:
        status_quo = _on_territory(status_quo, plan)
    if collaboration is None:
        collaboration = default_collaboration(plan.territory, status_quo)
    codes = plan.assignment.index
    edges = collaboration.restrict(codes).weighted()
    dropped = len(collaboration.edges) - len(edges)
    if dropped:
        log.info("%d collaboration edges with an end outside the territory ignored", dropped)
    plans = _plans_table(plan, rules, edges)
    summary = _summary(plan, plans, edges)
    summary.update(_by_kind(plan, edges, collaboration))
    summary["violations"] = plan.violations(rules, status_quo, collaboration)
    summary["compliant"] = not summary["violations"]
    if status_quo is not None:
        summary.update(_change(plan, status_quo))
    log.info(
        "scorecard: %d plans, %d compliant, %d cut edges, %.1f%% of collaboration kept",
        summary["plans"], summary["compliant_plans"], summary["cut_edges"],
        100 * (summary["collaboration_retained"] or 0),
    )
    return Scorecard(plans, summary)


def _on_territory(status_quo: Plan, plan: Plan) -> Plan:
    """The status quo re-read over the plan's territory (same codes required)."""
    ours, theirs = set(plan.assignment.index), set(status_quo.assignment.index)
    if ours != theirs:
        extra, missing = sorted(theirs - ours), sorted(ours - theirs)
        problems = []
        if missing:
            problems.append(f"the status quo has no plan for {len(missing)} municipalities of the plan: "
                            f"{_few(missing)}")
        if extra:
            problems.append(f"the status quo lists {len(extra)} municipalities the plan does not cover: "
                            f"{_few(extra)}")
        problems.append("Fix: give a status quo over exactly the municipalities evaluated "
                        "(or select them with --within-status-quo).")
        raise InputError(problems)
    if status_quo.territory is plan.territory:
        return status_quo
    return Plan(plan.territory, status_quo.assignment, status_quo.names)


def _plans_table(plan: Plan, rules: Rules, edges: pd.DataFrame) -> pd.DataFrame:
    ids = plan.plan_ids
    pops, areas = plan.populations, plan.areas
    floors = plan.floors(rules)
    contiguous = plan.contiguous.astype(bool)
    within = pops >= floors
    if rules.ceiling is not None:
        within &= pops <= rules.ceiling
    kept, cut = _collaboration_by_plan(plan, edges)
    counts = plan.assignment.value_counts().reindex(ids)
    table = pd.DataFrame({
        "plan_id": ids,
        "name": [plan.name(p) for p in ids],
        "municipalities": counts.astype(int).values,
        "population": pops.astype(int).values,
        "area_km2": areas.astype(float).values,
        "density": np.divide(pops.values, areas.values, out=np.zeros(len(ids)), where=areas.values > 0),
        "class": plan.classes(rules).values.astype(str),
        "floor": floors.astype(int).values,
        "margin": (pops - floors).astype(int).values,
        "compliant": (within & contiguous).values.astype(bool),
        "contiguous": contiguous.values.astype(bool),
        "collaboration_kept": kept.reindex(ids, fill_value=0.0).values.astype(float),
        "collaboration_cut": cut.reindex(ids, fill_value=0.0).values.astype(float),
        "polsby_popper": polsby_popper(plan).reindex(ids).values.astype(float),
        "bridges": pd.Series([b["plan_id"] for b in bridges_used(plan)], dtype=object).value_counts()
        .reindex(ids, fill_value=0).values.astype(int),
    })
    return table[PLAN_COLUMNS]


def _collaboration_by_plan(plan: Plan, edges: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Weight inside each plan, and weight of edges with one end in it."""
    a = edges["code_a"].map(plan.assignment)
    b = edges["code_b"].map(plan.assignment)
    w = edges["weight"].astype(float)
    inside = pd.Series(ties_kept(plan.assignment, edges), index=edges.index)
    kept = w[inside].groupby(a[inside]).sum()
    cut = pd.concat([w[~inside].groupby(a[~inside]).sum(), w[~inside].groupby(b[~inside]).sum()])
    return kept, cut.groupby(level=0).sum()


def bridges_used(plan: Plan) -> list[dict]:
    """Every bridge edge of the territory's graph, with the plan it lies inside (None: between plans)."""
    graph, names = plan.territory.graph, plan.territory.municipalities["name"]
    out = []
    for a, b in graph.graph.get("bridges", []):
        pa, pb = plan.assignment[a], plan.assignment[b]
        out.append({"from": a, "from_name": str(names[a]), "to": b, "to_name": str(names[b]),
                    "distance_m": round(float(graph.edges[a, b].get("distance", 0.0)), 1),
                    "plan_id": pa if pa == pb else None})
    return out


def polsby_popper(plan: Plan) -> pd.Series:
    """``4 pi A / P^2`` of each plan's dissolved polygons (area and perimeter in CRS metres)."""
    geoms = plan.territory.municipalities.geometry
    out = {}
    for plan_id, members in plan.members.items():
        shape = shapely.union_all(geoms.loc[members].values)
        perimeter = shape.length
        out[plan_id] = 4 * math.pi * shape.area / perimeter**2 if perimeter > 0 else float("nan")
    return pd.Series(out, dtype=float).reindex(plan.plan_ids)


def _summary(plan: Plan, plans: pd.DataFrame, edges: pd.DataFrame) -> dict:
    """Whole-plan figures that need no more than the plans table and the weighted edges."""
    pops = plans["population"]
    total = int(pops.sum())
    shares = pops / total if total else None
    compliant = plans["compliant"]
    inside = ties_kept(plan.assignment, edges)
    weight = edges["weight"].astype(float)
    kept_total, all_total = collaboration_kept(plan.assignment, edges), float(weight.sum())
    return {
        "plans": len(plans),
        "compliant_plans": int(compliant.sum()),
        "non_compliant_plans": int((~compliant).sum()),
        "population": total,
        "population_non_compliant": int(pops[~compliant].sum()),
        "effective_plans": float(1 / (shares**2).sum()) if shares is not None else None,
        "min_population": int(pops.min()),
        "median_population": float(pops.median()),
        "max_population": int(pops.max()),
        "cut_edges": len(plan.cut_edges),
        "collaboration_total": all_total,
        "collaboration_kept": kept_total,
        "collaboration_retained": kept_total / all_total if all_total > 0 else None,
        "ties_broken": _ties_broken(plan, edges[~inside]),
        "bridges": bridges_used(plan),
        "collaboration_note": collaboration_note(plan),
    }


def _by_kind(plan: Plan, edges: pd.DataFrame, collaboration: Collaboration) -> dict:
    """Collaboration kept per kind of tie (``measures.collaboration_by_kind``), and the unions split."""
    table = collaboration_by_kind(plan.assignment, edges)
    retained = {k: (float(r.kept / r.total) if r.total > 0 else None) for k, r in table.iterrows()}
    detail = {k: {"weight": collaboration.weight_of(k), "total": float(r.total), "kept": float(r.kept),
                  "retained": retained[k]} for k, r in table.iterrows()}
    names = plan.territory.municipalities["name"]
    split = []
    if "union" in collaboration.kinds:
        groups = together_groups(collaboration, ["union"], plan.assignment.index)
        split = [{"union": " + ".join(group.names) or group.label, "municipalities": [str(names[c]) for c in
                                                                                   group.members],
                  "plans": plans} for group, plans in split_groups(plan.assignment, groups)]
    return {"collaboration_retained_by_kind": retained, "collaboration_by_kind": detail,
            "unions_split": len(split), "unions_split_list": split}


def _ties_broken(plan: Plan, broken: pd.DataFrame) -> list[dict]:
    """The strongest pairs split between plans, combined over kinds."""
    broken = broken[broken["weight"] > 0]
    if broken.empty:
        return []
    pairs = broken.groupby(["code_a", "code_b"]).agg(
        weight=("weight", "sum"), kinds=("kind", lambda k: sorted(set(map(str, k))))
    ).reset_index()
    pairs = pairs.sort_values(["weight", "code_a", "code_b"], ascending=[False, True, True]).head(TIES_SHOWN)
    names = plan.territory.municipalities["name"]
    return [
        {"code_a": r.code_a, "name_a": str(names[r.code_a]), "code_b": r.code_b, "name_b": str(names[r.code_b]),
         "weight": float(r.weight), "kinds": list(r.kinds)}
        for r in pairs.itertuples()
    ]


def successors(plan: Plan, status_quo: Plan) -> pd.Series:
    """For each status quo plan, the plan of ``plan`` that continues it (``measures.successors``)."""
    return measures.successors(status_quo.assignment, plan.assignment, plan.territory.municipalities["population"])


def _change(plan: Plan, status_quo: Plan) -> dict:
    old, population = status_quo.assignment, plan.territory.municipalities["population"]
    heir = measures.successors(old, plan.assignment, population)
    gone = measures.moved(old, plan.assignment, population)
    parts = plan.assignment.reindex(old.index).groupby(old).nunique()
    return {
        "municipalities_moved": int(gone.sum()),
        "population_moved": int(population.reindex(old.index)[gone].sum()),
        "plans_merged": int((heir.value_counts() > 1).sum()),
        "plans_split": int((parts > 1).sum()),
    }


def _jsonable(value):
    """Plain Python types only: numpy scalars unwrapped, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _few(codes: list[str]) -> str:
    return ", ".join(codes[:10]) + (f" and {len(codes) - 10} more" if len(codes) > 10 else "")
