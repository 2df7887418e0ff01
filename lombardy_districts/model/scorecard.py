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

from lombardy_districts.errors import expect
from lombardy_districts.io.files import write_atomic, write_json
from lombardy_districts.model import measures
from lombardy_districts.model.changes import change_table, describe_changes
from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.measures import collaboration_by_kind, collaboration_kept, ties_kept
from lombardy_districts.model.plan import Plan, across, boundaries_crossed, hard_sides
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.together import split_groups, together_groups

log = logging.getLogger(__name__)

PLAN_COLUMNS = [
    "plan_id", "name", "municipalities", "population", "area_km2", "density", "mountain_share", "class",
    "class_reason", "floor", "margin", "compliant", "contiguous", "crosses", "collaboration_kept", "collaboration_cut",
    "polsby_popper", "bridges",
]
COLUMN_NOTES = {
    "plan_id": "the area plan's id (a current plan's id when it continues it; a+b when two merged)",
    "name": "its name",
    "municipalities": "how many municipalities it has",
    "population": "its inhabitants (2023)",
    "area_km2": "its area in km2",
    "density": "inhabitants per km2 of the whole plan",
    "mountain_share": "share of its area in legally mountain municipalities of the statuses the rules count "
                      "(default: totally mountain, law 991/1952)",
    "class": "threshold class: standard, high_density, mountain or low_density (data/rules.toml decides)",
    "class_reason": "why the plan has its class, in words",
    "floor": "the population floor of its class",
    "margin": "population minus floor (negative: short of the floor)",
    "compliant": "at least its floor, contiguous, within the ceiling if the rules set one, and crossing no hard "
                 "boundary",
    "contiguous": "whether its municipalities form one connected piece",
    "crosses": "the hard boundaries of the rules it runs across (e.g. province), and \"selection pieces\" when it "
               "joins pieces of a selection that do not touch; empty when none",
    "collaboration_kept": "weight of the collaboration ties with both municipalities in the plan",
    "collaboration_cut": "weight of the ties from the plan to another plan (broken by the plan border)",
    "polsby_popper": "compactness 4 pi area / perimeter^2: 1 for a disc, 0.79 for a square, near 0 for a "
                     "long or ragged shape",
    "bridges": "bridge edges inside the plan (joins of parts that share no boundary): it is contiguous only "
               "through them",
}
"""What each column of the plans table means (``evaluate --help``, the console legend, the README)."""
KIND_LABELS = {"labour_market": "same labour market area", "status_quo": "same current plan",
               "current_plan": "same current plan", "union": "same union of municipalities"}
"""Readable names of the kinds of collaboration tie."""
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
        that rule. ``COLUMN_NOTES`` says what every column means.
    summary
        Whole-plan figures; see ``evaluate`` for each key.
    headline
        The same in plain words, first what an officer needs (see ``to_dict``).
    changes
        With a status quo, every change from it (``changes.change_table``); else None.
    """

    plans: pd.DataFrame
    summary: dict
    headline: tuple[str, ...] = ()
    changes: pd.DataFrame | None = None

    def to_dict(self) -> dict:
        """``{"headline", "changes", "summary", "plans"}`` with only JSON types, words first.

        ``headline`` says in plain words how many plans, whether all comply, who lives in plans
        that do not, what changed (with a status quo) and how much collaboration is kept;
        ``changes`` (with a status quo) has one record per row of ``changes.change_table``.
        """
        out: dict = {"headline": list(self.headline)}
        if self.changes is not None:
            out["changes"] = _jsonable(self.changes.to_dict(orient="records"))
        out["summary"] = _jsonable(self.summary)
        out["plans"] = _jsonable(self.plans.to_dict(orient="records"))
        return out

    def to_json(self, path) -> Path:
        """Write ``to_dict()`` as indented UTF-8 JSON, atomically (``files.write_json``)."""
        return write_json(path, self.to_dict())

    def to_csv(self, path) -> Path:
        """Write the plans table as CSV, atomically (``files.write_atomic``), floats to 10 significant digits."""
        return write_atomic(path, lambda p: self.plans.to_csv(p, index=False, float_format="%.10g"))


def evaluate(
    plan: Plan,
    rules: Rules | None = None,
    collaboration: Collaboration | None = None,
    status_quo: Plan | None = None,
    *,
    floor: int | None = None,
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
        (same-union and labour-market proxy edges, plus same-current-plan edges when a status quo is given).
        Edges with an end outside the plan's territory are ignored.
    status_quo
        The current plan over the same municipalities, to measure change.
    floor
        Replaces every class floor of ``rules`` (as ``propose(..., floor=N)`` and ``--floor N``).

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
        ``ties_broken`` (the 10 strongest pairs split between plans; among equal weights, those
        between the most populous municipalities first), ``ties_broken_count`` (pairs split),
        ``ties_broken_weight`` (their common weight when all weigh the same, else None),
        ``unions_split`` (how many unions of municipalities the plan splits; unions sharing a member
        count as one) and ``unions_split_list`` (each with its ``union`` name(s), ``municipalities``
        and ``plans``), ``bridges`` (``bridges_used``: each bridge edge and the plan it lies inside,
        or None), ``violations`` (``plan.violations(rules, status_quo, collaboration)``),
        ``compliant`` (no violation at all), ``collaboration_note``.
        With a status quo, also ``municipalities_moved`` and ``population_moved``: each
        status quo plan's *successor* is the new plan holding most of its municipalities (ties:
        most inhabitants, then the lowest plan id); a municipality has moved when its new plan is
        not the successor of its old one (``measures.moved``). ``plans_split``: status quo plans
        some of whose municipalities form a new plan, one that continues no status quo plan (a
        ``split`` row of ``changes``; municipalities that go to another current plan's successor have
        moved, and their plan is not split). ``plans_merged``: new plans that are
        the successor of two or more status quo plans. Every change, in words, is in the
        scorecard's ``headline`` (``changes.describe_changes``) and, in rows, in its ``changes``.

    Raises
    ------
    InputError
        When the status quo does not cover exactly the plan's municipalities.
    """
    expect(plan, Plan, "plan")
    expect(rules, Rules, "rules", optional=True)
    expect(collaboration, Collaboration, "collaboration", optional=True)
    expect(status_quo, Plan, "status_quo", optional=True)
    rules = Rules.default() if rules is None else rules
    if floor is not None:
        rules = rules.with_floor(floor)
    if status_quo is not None:
        status_quo = status_quo.over(plan.territory, "the plan")
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
    table, said = None, []
    if status_quo is not None:
        summary.update(_change(plan, status_quo))
        table = change_table(plan, status_quo)
        said = describe_changes(table, plans.set_index("plan_id"))
    lines = headline(summary, plans, said, rules.ceiling)
    log.info(
        "scorecard: %d plans, %d compliant, %d cut edges, %.1f%% of collaboration kept",
        summary["plans"], summary["compliant_plans"], summary["cut_edges"],
        100 * (summary["collaboration_retained"] or 0),
    )
    return Scorecard(plans, summary, tuple(lines), table)


def _plans_table(plan: Plan, rules: Rules, edges: pd.DataFrame) -> pd.DataFrame:
    ids = plan.plan_ids
    pops, areas = plan.populations, plan.areas
    floors = plan.floors(rules)
    contiguous = plan.contiguous.astype(bool)
    within = pops >= floors
    if rules.ceiling is not None:
        within &= pops <= rules.ceiling
    labels = plan.assignment.reindex(plan.territory.municipalities.index).to_numpy()
    crosses = boundaries_crossed(hard_sides(plan.territory, rules), labels).reindex(ids, fill_value="")
    kept, cut = _collaboration_by_plan(plan, edges)
    counts = plan.assignment.value_counts().reindex(ids)
    density = np.divide(pops.values, areas.values, out=np.zeros(len(ids)), where=areas.values > 0)
    units = plan.area_units.values.astype(float)
    share = np.divide(plan.mountain_units(rules).values.astype(float), units, out=np.zeros(len(ids)),
                      where=units > 0)
    classes = plan.classes(rules).values.astype(str)
    table = pd.DataFrame({
        "plan_id": ids,
        "name": [plan.name(p) for p in ids],
        "municipalities": counts.astype(int).values,
        "population": pops.astype(int).values,
        "area_km2": areas.astype(float).values,
        "density": density,
        "mountain_share": share,
        "class": classes,
        "class_reason": [class_reason(c, d, m, rules) for c, d, m in zip(classes, density, share)],
        "floor": floors.astype(int).values,
        "margin": (pops - floors).astype(int).values,
        "compliant": (within & contiguous).values.astype(bool) & (crosses.values == ""),
        "contiguous": contiguous.values.astype(bool),
        "crosses": crosses.values.astype(str),
        "collaboration_kept": kept.reindex(ids, fill_value=0.0).values.astype(float),
        "collaboration_cut": cut.reindex(ids, fill_value=0.0).values.astype(float),
        "polsby_popper": polsby_popper(plan).reindex(ids).values.astype(float),
        "bridges": pd.Series([b["plan_id"] for b in bridges_used(plan)], dtype=object).value_counts()
        .reindex(ids, fill_value=0).values.astype(int),
    })
    return table[PLAN_COLUMNS]


def class_reason(klass: str, density: float, mountain_share: float, rules: Rules) -> str:
    """Why a plan has its class, in words.

    For example ``"mountain: 71% of its area is in totally mountain municipalities, 120 inhabitants
    per km2"`` or ``"high density: 1,431 inhabitants per km2 (at least 1,000)"``.
    """
    kinds = " or ".join(rules.mountain_statuses)
    share = f"{mountain_share:.0%} of its area is in {kinds} mountain municipalities"
    people = f"{density:,.0f} inhabitants per km2"
    mostly = mountain_share > rules.mountain_area_share
    if klass == "mountain":
        return f"mountain: {share}, {people}"
    if klass == "high_density":
        text = f"high density: {people} (at least {rules.high_density_min:,.0f})"
        if mostly:
            text += f"; {share}, but a plan this dense is not a mountain plan"
        return text
    label = "low density" if klass == "low_density" else klass
    text = f"{label}: {people}"
    if klass == "low_density":
        text += f" (at most {rules.low_density_max:,.0f})"
    if mountain_share > 0:
        text += f", {share}" + (f", but {rules.mountain_density_below:,.0f} or more inhabitants per km2 "
                                "is not a mountain plan" if mostly else "")
    return text


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
                    "selection": bool(graph.edges[a, b].get("selection")),  # joins pieces of a selection
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


def population_figures(populations: np.ndarray, compliant: np.ndarray) -> dict:
    """The summary's figures of plan counts and populations, from one population and flag per plan."""
    pops = np.asarray(populations, dtype=np.int64)
    total = int(pops.sum())
    shares = pops / total if total else None
    return {
        "plans": len(pops),
        "compliant_plans": int(compliant.sum()),
        "non_compliant_plans": int((~compliant).sum()),
        "population": total,
        "population_non_compliant": int(pops[~compliant].sum()),
        "effective_plans": float(1 / (shares**2).sum()) if shares is not None else None,
        "min_population": int(pops.min()),
        "median_population": float(np.median(pops)),
        "max_population": int(pops.max()),
    }


def _summary(plan: Plan, plans: pd.DataFrame, edges: pd.DataFrame) -> dict:
    """Whole-plan figures that need no more than the plans table and the weighted edges."""
    inside = ties_kept(plan.assignment, edges)
    weight = edges["weight"].astype(float)
    kept_total, all_total = collaboration_kept(plan.assignment, edges), float(weight.sum())
    return {
        **population_figures(plans["population"].to_numpy(), plans["compliant"].to_numpy(dtype=bool)),
        "cut_edges": len(plan.cut_edges),
        "collaboration_total": all_total,
        "collaboration_kept": kept_total,
        "collaboration_retained": kept_total / all_total if all_total > 0 else None,
        **_ties_broken(plan, edges[~inside]),
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


def _ties_broken(plan: Plan, broken: pd.DataFrame) -> dict:
    """``ties_broken``, ``ties_broken_count`` and ``ties_broken_weight`` of the summary.

    The strongest pairs split between plans, combined over kinds; among equal weights, the pairs
    of most inhabitants first (so equal ties are never listed alphabetically as if they were
    stronger).
    """
    broken = broken[broken["weight"] > 0]
    if broken.empty:
        return {"ties_broken": [], "ties_broken_count": 0, "ties_broken_weight": None}
    pairs = broken.groupby(["code_a", "code_b"]).agg(
        weight=("weight", "sum"), kinds=("kind", lambda k: sorted(set(map(str, k))))
    ).reset_index()
    population = plan.territory.municipalities["population"]
    pairs["people"] = pairs["code_a"].map(population).values + pairs["code_b"].map(population).values
    weights = pairs["weight"].unique()
    top = pairs.sort_values(["weight", "people", "code_a", "code_b"],
                            ascending=[False, False, True, True]).head(TIES_SHOWN)
    names = plan.territory.municipalities["name"]
    shown = [
        {"code_a": r.code_a, "name_a": str(names[r.code_a]), "code_b": r.code_b, "name_b": str(names[r.code_b]),
         "weight": float(r.weight), "kinds": list(r.kinds), "population": int(r.people)}
        for r in top.itertuples()
    ]
    return {"ties_broken": shown, "ties_broken_count": len(pairs),
            "ties_broken_weight": float(weights[0]) if len(weights) == 1 else None}


def headline(summary: dict, plans: pd.DataFrame, changes: list[str], ceiling: int | None = None) -> list[str]:
    """What an officer needs first, in words: plans and compliance, changes, collaboration kept.

    The ``headline`` of ``evaluate``'s scorecard, which ``evaluate`` and ``propose`` print first and the
    studio's live scorecard opens with. ``summary`` and ``plans`` are a scorecard's; ``changes`` the
    sentences of ``changes.describe_changes`` (with a status quo; else empty); ``ceiling`` the rules'.
    """
    s = summary
    n, bad = s["plans"], s["non_compliant_plans"]
    first = f"{_count(n, 'area plan')} for {s['population']:,} inhabitants: "
    broken = s.get("violations") or []
    if bad == 0 and broken:  # every plan meets its floor, but a rule of the whole plan is broken
        more = f"; and {len(broken) - 1:,} more" if len(broken) > 1 else ""
        first += (f"{'each meets its floor' if n > 1 else 'it meets its floor'}, but "
                  f"{_count(len(broken), 'other rule is', 'other rules are')} broken ({broken[0]}{more}).")
    elif bad == 0:
        first += "all comply." if n > 1 else "it complies."
    else:
        worst = plans[~plans["compliant"]].sort_values("margin")
        named = "; ".join(f"plan {r['name']} is {_shortfall(r, ceiling)}" for r in worst.head(3).to_dict("records"))
        more = f"; and {bad - 3:,} more" if bad > 3 else ""
        good = s["compliant_plans"]
        if n == 1:
            first += f"it does not comply ({named})."
        else:
            first += (f"{'none' if good == 0 else good} {'complies' if good == 1 else 'comply'}, {bad} "
                      f"{'does' if bad == 1 else 'do'} not, with "
                      f"{s['population_non_compliant']:,} inhabitants ({named}{more}).")
    out = [first]
    if "municipalities_moved" in s and not (s["municipalities_moved"] or s["plans_merged"]):
        out.append("Changes from the status quo: none, every current plan stays as it is.")
    elif "municipalities_moved" in s:
        moved = s["municipalities_moved"]
        people = f"{_count(moved, 'municipality', 'municipalities')} ({s['population_moved']:,} inhabitants) " \
                 f"{'changes' if moved == 1 else 'change'} plan" if moved else "no municipality changes plan"
        merged = f"{_count(s['plans_merged'], 'plan')} formed by merging, " if s["plans_merged"] else ""
        out.append(f"Changes from the status quo: {merged}{people}.")
        out += [f"- {line}." if not line.endswith(".") else f"- {line}" for line in changes]
    retained = s["collaboration_retained"]
    if retained is None:
        out.append("Collaboration kept: there are no collaboration ties to keep.")
    else:
        kinds = ", ".join(f"{KIND_LABELS.get(k, k.replace('_', ' '))} {v:.1%}" for k, v in
                          s["collaboration_retained_by_kind"].items() if v is not None)
        out.append(f"Collaboration kept: {retained:.1%} of the collaboration ties (weight {s['collaboration_kept']:,g} "
                   f"of {s['collaboration_total']:,g}; {kinds or 'no kind has weight'}).")
    if s.get("unions_split"):
        names = "; ".join(u["union"] for u in s["unions_split_list"][:3])
        more = f" and {s['unions_split'] - 3:,} more" if s["unions_split"] > 3 else ""
        out.append(f"{_count(s['unions_split'], 'union')} of municipalities split between plans: {names}{more}.")
    return out


def _shortfall(row: dict, ceiling: int | None = None) -> str:
    """Why a plan does not comply, in a few words."""
    said = [] if row["contiguous"] else ["not contiguous"]
    if row["margin"] < 0:
        said.append(f"{-row['margin']:,} short of its {row['class'].replace('_', ' ')} floor of {row['floor']:,}")
    if row.get("crosses"):
        said.append(across(row["crosses"]))
    if ceiling is not None and row["population"] > ceiling:
        said.append(f"{row['population'] - ceiling:,} over the ceiling of {ceiling:,}")
    return ", ".join(said)


def _count(n: int, one: str, many: str | None = None) -> str:
    """``1 plan``, ``2 plans``."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def successors(plan: Plan, status_quo: Plan) -> pd.Series:
    """For each status quo plan, the plan of ``plan`` that continues it (``measures.successors``)."""
    return measures.successors(status_quo.assignment, plan.assignment, plan.territory.municipalities["population"])


def _change(plan: Plan, status_quo: Plan) -> dict:
    old, population = status_quo.assignment, plan.territory.municipalities["population"]
    heir = measures.successors(old, plan.assignment, population)
    gone = measures.moved(old, plan.assignment, population)
    new = plan.assignment.reindex(old.index)
    continuing = new.isin(set(heir.values))
    return {
        "municipalities_moved": int(gone.sum()),
        "population_moved": int(population.reindex(old.index)[gone].sum()),
        "plans_merged": int((heir.value_counts() > 1).sum()),
        "plans_split": int(old[~continuing].nunique()),
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
    return ", ".join(codes[:10]) + (f" and {len(codes) - 10:,} more" if len(codes) > 10 else "")
