"""The live scorecard: the numbers of ``evaluate`` for a plan that changes with every edit, in milliseconds.

``LiveScore(territory, rules, collaboration, status_quo)`` prepares flat arrays once; ``score(assignment,
names)`` then returns a ``Scorecard`` with exactly the columns, summary keys and headline of ``evaluate``,
computed from the same definitions (``model.measures``: the exact class rule ``ClassRule``, the successor
rule for moves, cut edges and collaboration kept; the scorecard's ties, violation lines and ``headline``;
with a status quo, ``model.changes``' rows and sentences, by the model's own functions). Sums are numpy sums
over the same values, so floats may differ from ``evaluate``'s in the last bits; a test compares the two
on many random edits.

What makes it fast: totals per plan are ``bincount`` sums, and the costly per-plan values (contiguity,
Polsby-Popper, default name) are cached by the plan's set of municipalities, so an edit recomputes only
the plans it touched. Besides ``PLAN_COLUMNS`` (``class_reason`` from the scorecard's own ``class_reason``)
the table has, with a status quo, ``moved_in`` (municipalities that moved into the plan).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from lombardy_districts.model.changes import change_table, describe_changes
from lombardy_districts.model.collaboration import Collaboration
from lombardy_districts.model.measures import ClassRule
from lombardy_districts.model.plan import Plan, boundaries_crossed, crossing, hard_sides, missing_boundaries
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.scorecard import (
    COLLABORATION_NOTE,
    NO_LABOUR_MARKET_NOTE,
    PLAN_COLUMNS,
    TIES_SHOWN,
    Scorecard,
    class_reason,
    headline,
    population_figures,
)
from lombardy_districts.model.territory import Territory
from lombardy_districts.model.together import together_groups

CACHE_SIZE = 50_000
"""Plans (sets of municipalities) whose contiguity and shape are remembered."""


class LiveScore:
    """Score plans over one territory, rules and collaboration edges, fast enough for every edit.

    Parameters
    ----------
    territory
        The municipalities and their contiguity graph.
    rules
        Floors and class rule.
    collaboration
        The collaboration edges, as ``evaluate`` takes them.
    status_quo
        The current plan, to measure change (None: no change figures).
    """

    def __init__(self, territory: Territory, rules: Rules, collaboration: Collaboration,
                 status_quo: Plan | None = None):
        gdf = territory.municipalities
        self.territory, self.rules, self.status_quo = territory, rules, status_quo
        self.codes = list(gdf.index)
        self.index = {c: i for i, c in enumerate(self.codes)}
        self.population = gdf["population"].to_numpy(dtype=np.int64)
        self.area = gdf["area_km2"].to_numpy(dtype=float)
        self.area_units = territory.area_units.to_numpy(dtype=np.int64)
        self.mountain_units = np.where(rules.counts_as_mountain(gdf).to_numpy(dtype=bool), self.area_units, 0)
        self.class_rule = ClassRule.of(rules)
        self.names = gdf["name"].astype(str).tolist()
        self.geometry = gdf.geometry.to_numpy()
        self.neighbours: list[list[int]] = [[] for _ in self.codes]
        for u, v in territory.graph.edges:
            self.neighbours[self.index[u]].append(self.index[v])
            self.neighbours[self.index[v]].append(self.index[u])
        self.graph_edges = np.array([(self.index[u], self.index[v]) for u, v in territory.graph.edges],
                                    dtype=np.int64).reshape(-1, 2)
        self.look_edges = np.array([(self.index[u], self.index[v]) for u, v in territory.near_pairs],
                                   dtype=np.int64).reshape(-1, 2)  # plans that look side by side: coloured apart
        edges = collaboration.restrict(self.codes).weighted()
        self.edge_a = edges["code_a"].map(self.index).to_numpy(dtype=np.int64)
        self.edge_b = edges["code_b"].map(self.index).to_numpy(dtype=np.int64)
        self.edge_weight = edges["weight"].to_numpy(dtype=float)
        kinds = edges["kind"].astype(str)
        self.kinds = sorted(kinds.unique())
        self.edge_kind = kinds.map({k: i for i, k in enumerate(self.kinds)}).to_numpy(dtype=np.int64)
        self._ties = _tie_table(edges, self.index, gdf["population"])
        graph = territory.graph
        self.bridges = [(self.index[a], self.index[b], {
            "from": a, "from_name": str(gdf.at[a, "name"]), "to": b, "to_name": str(gdf.at[b, "name"]),
            "distance_m": round(float(graph.edges[a, b].get("distance", 0.0)), 1),
            "selection": bool(graph.edges[a, b].get("selection"))}) for a, b in graph.graph.get(
                "bridges", [])]
        self.note = COLLABORATION_NOTE if "labour_market_area" in gdf.columns else NO_LABOUR_MARKET_NOTE
        self.kind_weight = {k: collaboration.weight_of(k) for k in self.kinds}
        self.unions = together_groups(collaboration, ["union"], self.codes) if "union" in collaboration.kinds else []
        self.together = together_groups(collaboration, rules.keep_together, self.codes)
        self.name_of = gdf["name"].astype(str)
        self.sides = hard_sides(territory, rules)
        self.sq_labels: np.ndarray | None = None
        self.sq_ids: list[str] = []
        if status_quo is not None:
            sq = status_quo.assignment.reindex(self.codes)
            self.sq_ids = sorted(sq.unique())
            position = {p: k for k, p in enumerate(self.sq_ids)}
            self.sq_labels = sq.map(position).to_numpy(dtype=np.int64)
        self._shapes: dict[bytes, tuple[bool, float, int]] = {}

    def labels(self, assignment: Mapping[str, str]) -> tuple[list[str], np.ndarray]:
        """Sorted plan ids and each municipality's position among them."""
        values = [assignment[c] for c in self.codes]
        ids = sorted(set(values))
        position = {p: k for k, p in enumerate(ids)}
        return ids, np.fromiter((position[v] for v in values), dtype=np.int64, count=len(values))

    def score(self, assignment: Mapping[str, str], names: Mapping[str, str] | None = None) -> Scorecard:
        """The scorecard of the plan ``assignment`` (code -> plan id) with explicit ``names``, as ``evaluate``."""
        names = names or {}
        ids, lab = self.labels(assignment)
        k = len(ids)
        pops = np.bincount(lab, weights=self.population, minlength=k).round().astype(np.int64)
        areas = np.bincount(lab, weights=self.area, minlength=k)
        units = np.bincount(lab, weights=self.area_units, minlength=k).round().astype(np.int64)
        mountain = np.bincount(lab, weights=self.mountain_units, minlength=k).round().astype(np.int64)
        classes = self.class_rule.classify_all(pops, units, mountain).astype(str)
        density = np.divide(pops, areas, out=np.zeros(k), where=areas > 0)
        share = np.divide(mountain.astype(float), units.astype(float), out=np.zeros(k), where=units > 0)
        floors = self.rules.floor_of(classes).astype(np.int64)
        order = np.argsort(lab, kind="stable")
        starts = np.searchsorted(lab[order], np.arange(k + 1))
        shapes = [self._shape(order[starts[p]:starts[p + 1]]) for p in range(k)]
        contiguous = np.array([s[0] for s in shapes], dtype=bool)
        plan_names = [names.get(p) or self.names[shapes[i][2]] for i, p in enumerate(ids)]
        within = pops >= floors
        if self.rules.ceiling is not None:
            within &= pops <= self.rules.ceiling
        crosses = boundaries_crossed(self.sides, lab).reindex(range(k), fill_value="").to_numpy(dtype=str)
        la, lb = lab[self.edge_a], lab[self.edge_b]
        inside = la == lb
        w = self.edge_weight
        kept = np.bincount(la[inside], weights=w[inside], minlength=k)
        cut = np.bincount(la[~inside], weights=w[~inside], minlength=k) + \
            np.bincount(lb[~inside], weights=w[~inside], minlength=k)
        columns = {
            "plan_id": ids,
            "name": plan_names,
            "municipalities": np.bincount(lab, minlength=k),
            "population": pops,
            "area_km2": areas,
            "density": density,
            "mountain_share": share,
            "class": classes,
            "floor": floors,
            "margin": pops - floors,
            "compliant": within & contiguous & (crosses == ""),
            "contiguous": contiguous,
            "crosses": crosses,
            "collaboration_kept": kept,
            "collaboration_cut": cut,
            "polsby_popper": np.array([s[1] for s in shapes], dtype=float),
            "bridges": np.bincount([lab[a] for a, b, _ in self.bridges if lab[a] == lab[b]], minlength=k)
            .astype(np.int64),
            "class_reason": [class_reason(c, d, m, self.rules) for c, d, m in zip(classes, density, share)],
        }
        moved = None
        if self.sq_labels is not None:
            change, moved, heir = self._change(lab, k)
            columns["moved_in"] = np.bincount(lab[moved], minlength=k)
        table = pd.DataFrame(columns, columns=[*PLAN_COLUMNS, *(c for c in columns if c not in PLAN_COLUMNS)])
        summary = self._summary(table, ids, lab, inside, assignment)
        changes: pd.DataFrame | None = None
        said: list[str] = []
        if moved is not None:
            summary.update(change)
            successors = pd.Series([ids[h] for h in heir], index=self.sq_ids, dtype=object)
            changes, said = self._changes(assignment, table, successors)
        return Scorecard(table, summary, tuple(headline(summary, table, said, self.rules.ceiling)), changes)

    def _changes(self, assignment: Mapping[str, str], table: pd.DataFrame,
                 successors: pd.Series) -> tuple[pd.DataFrame, list[str]]:
        """Every change from the status quo, in rows and words: ``model.changes`` itself, as ``evaluate`` does."""
        assert self.status_quo is not None
        plans = table.set_index("plan_id")
        plan = Plan(self.territory, assignment, plans["name"].to_dict())
        changes = change_table(plan, self.status_quo, successors)
        return changes, describe_changes(changes, plans)

    def adjacency(self, assignment: Mapping[str, str]) -> nx.Graph:
        """Graph of plans that touch or look as if they do (the ``plan_adjacency`` of ``maps.colouring``)."""
        ids, lab = self.labels(assignment)
        edges = np.concatenate([self.graph_edges, self.look_edges])
        a, b = lab[edges[:, 0]], lab[edges[:, 1]]
        cut = a != b
        k = len(ids)
        pairs = np.unique(np.minimum(a[cut], b[cut]) * k + np.maximum(a[cut], b[cut]))
        graph = nx.Graph()
        graph.add_nodes_from(ids)
        graph.add_edges_from((ids[p // k], ids[p % k]) for p in pairs.tolist())
        return graph

    def _shape(self, members: np.ndarray) -> tuple[bool, float, int]:
        """Contiguous?, Polsby-Popper and most populous member of a plan (cached by its members)."""
        key = members.tobytes()
        found = self._shapes.get(key)
        if found is None:
            if len(self._shapes) >= CACHE_SIZE:
                self._shapes.clear()
            shape = shapely.union_all(self.geometry[members])
            perimeter = shape.length
            pp = 4 * math.pi * shape.area / perimeter**2 if perimeter > 0 else float("nan")
            top = int(members[np.argmax(self.population[members])])
            found = self._shapes[key] = (self._connected(members), pp, top)
        return found

    def _connected(self, members: np.ndarray) -> bool:
        inside = set(members.tolist())
        start = next(iter(inside))
        seen, todo = {start}, [start]
        while todo:
            for v in self.neighbours[todo.pop()]:
                if v in inside and v not in seen:
                    seen.add(v)
                    todo.append(v)
        return len(seen) == len(inside)

    def _summary(self, table: pd.DataFrame, ids: list[str], lab: np.ndarray, inside: np.ndarray,
                 assignment: Mapping[str, str]) -> dict:
        pops = table["population"].to_numpy()
        compliant = table["compliant"].to_numpy(dtype=bool)
        w = self.edge_weight
        kept_total, all_total = float(w[inside].sum()), float(w.sum())
        by_kind, detail = {}, {}
        for i, kind in enumerate(self.kinds):
            mine = self.edge_kind == i
            kind_total, kind_kept = float(w[mine].sum()), float(w[mine & inside].sum())
            by_kind[kind] = kind_kept / kind_total if kind_total > 0 else None
            detail[kind] = {"weight": self.kind_weight[kind], "total": kind_total, "kept": kind_kept,
                            "retained": by_kind[kind]}
        unions = [{"union": " + ".join(group.names) or group.label,
                   "municipalities": [self.name_of[c] for c in group.members], "plans": plans}
                  for group, plans in _split(assignment, self.unions)]
        violations = self._violations(table, lab, assignment)
        return {
            **population_figures(pops, compliant),
            "cut_edges": int((lab[self.graph_edges[:, 0]] != lab[self.graph_edges[:, 1]]).sum()),
            "collaboration_total": all_total,
            "collaboration_kept": kept_total,
            "collaboration_retained": kept_total / all_total if all_total > 0 else None,
            "collaboration_retained_by_kind": by_kind,
            "collaboration_by_kind": detail,
            **self._ties_broken(lab),
            "unions_split": len(unions),
            "unions_split_list": unions,
            "violations": violations,
            "compliant": not violations,
            "bridges": [{**entry, "plan_id": ids[lab[a]] if lab[a] == lab[b] else None}
                        for a, b, entry in self.bridges],
            "collaboration_note": self.note,
        }

    def _ties_broken(self, lab: np.ndarray) -> dict:
        """``ties_broken``, ``ties_broken_count`` and ``ties_broken_weight``, as the scorecard gives them."""
        a, b, weight, kinds = self._ties
        broken = np.flatnonzero(lab[a] != lab[b])
        people = self.population[a] + self.population[b]
        shown = [{"code_a": self.codes[a[i]], "name_a": self.names[a[i]], "code_b": self.codes[b[i]],
                  "name_b": self.names[b[i]], "weight": float(weight[i]), "kinds": list(kinds[i]),
                  "population": int(people[i])} for i in broken[:TIES_SHOWN]]
        weights = np.unique(weight[broken])
        return {"ties_broken": shown, "ties_broken_count": len(broken),
                "ties_broken_weight": float(weights[0]) if len(weights) == 1 else None}

    def _violations(self, table: pd.DataFrame, lab: np.ndarray, assignment: Mapping[str, str]) -> list[str]:
        """``Plan.violations(rules, status_quo)``, line for line."""
        rules, out = self.rules, []
        rows = zip(table["plan_id"], table["name"], table["contiguous"], table["population"], table["class"],
                   table["floor"])
        for plan_id, name, contiguous, population, klass, floor in rows:
            label = f"plan {plan_id} ({name})"
            if not contiguous:
                out.append(f"{label} is not contiguous")
            if population < floor:
                out.append(f"{label} has {population:,} inhabitants, below the {klass.replace('_', ' ')} floor of "
                           f"{floor:,}")
            if rules.ceiling is not None and population > rules.ceiling:
                out.append(f"{label} has {population:,} inhabitants, above the ceiling of {rules.ceiling:,}")
        out += missing_boundaries(rules, self.territory.municipalities.columns)
        for side, values in self.sides.items():
            out += [f"plan {table.at[p, 'plan_id']} ({table.at[p, 'name']}) {crossing(side)}"
                    for p in boundaries_crossed({side: values}, lab).index]
        for code, plan_id in rules.locked_municipalities.items():
            if code in self.index and assignment[code] != plan_id:
                out.append(f"municipality {code} is locked to plan {plan_id} but is in {assignment[code]}")
        if self.together:
            name = dict(zip(table["plan_id"], table["name"]))
            kinds = ", ".join(f'"{k}"' for k in rules.keep_together)
            out += [f"{group.describe(self.name_of)} is split between plans "
                    + ", ".join(f"{p} ({name[p]})" for p in plans)
                    + f"; keep_together = [{kinds}] keeps it in one plan"
                    for group, plans in _split(assignment, self.together)]
        if self.status_quo is not None and rules.locked_plans:
            plan = Plan(self.territory, dict(assignment), dict(zip(table["plan_id"], table["name"])))
            out += plan._locked_plan_violations(rules, self.status_quo)
        return out

    def _change(self, lab: np.ndarray, k: int) -> tuple[dict, np.ndarray, np.ndarray]:
        """The scorecard's change figures (successor rule), which municipalities moved, each current plan's successor.

        The successor of the status quo plan ``sq_ids[i]`` is the plan at position ``heir[i]``.
        """
        old = self.sq_labels
        assert old is not None
        cell = old * k + lab
        keys, inverse = np.unique(cell, return_inverse=True)
        pop = np.bincount(inverse, weights=self.population)
        count = np.bincount(inverse)
        cell_old, cell_new = keys // k, keys % k
        # per old plan (measures.successors): most municipalities, then most inhabitants, then the lowest id
        best = np.lexsort((cell_new, -pop, -count, cell_old))
        first = np.ones(len(best), dtype=bool)
        first[1:] = cell_old[best][1:] != cell_old[best][:-1]
        heir = np.empty(len(self.sq_ids), dtype=np.int64)
        heir[cell_old[best][first]] = cell_new[best][first]
        moved = lab != heir[old]
        continuing = np.zeros(k, dtype=bool)
        continuing[heir] = True
        split = np.unique(old[~continuing[lab]])  # plans some of whose municipalities form a new plan
        return {
            "municipalities_moved": int(moved.sum()),
            "population_moved": int(self.population[moved].sum()),
            "plans_merged": int((np.bincount(heir, minlength=k) > 1).sum()),
            "plans_split": len(split),
        }, moved, heir


def _split(assignment: Mapping[str, str], groups) -> list[tuple]:
    """``together.split_groups`` over a dict: the groups in more than one plan, with those plans."""
    out = []
    for group in groups:
        plans = sorted({assignment[c] for c in group.members})
        if len(plans) > 1:
            out.append((group, plans))
    return out


def _tie_table(edges: pd.DataFrame, index: Mapping[str, int], population: pd.Series):
    """Collaboration pairs with positive weight, combined over kinds, in the order ``evaluate`` lists them.

    The strongest first; among equal weights, the pairs of most inhabitants first.
    """
    positive = edges[edges["weight"] > 0]
    if positive.empty:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), []
    pairs = positive.groupby(["code_a", "code_b"]).agg(
        weight=("weight", "sum"), kinds=("kind", lambda k: sorted(set(map(str, k))))
    ).reset_index()
    pairs["people"] = pairs["code_a"].map(population).values + pairs["code_b"].map(population).values
    pairs = pairs.sort_values(["weight", "people", "code_a", "code_b"], ascending=[False, False, True, True])
    return (pairs["code_a"].map(index).to_numpy(dtype=np.int64), pairs["code_b"].map(index).to_numpy(dtype=np.int64),
            pairs["weight"].to_numpy(dtype=float), list(pairs["kinds"]))


