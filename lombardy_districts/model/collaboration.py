"""Collaboration edges: weighted relations between municipalities that already work together.

Kinds of edge, each edge keeping its ``kind``:

- ``union``: the two municipalities are members of the same union of municipalities (a body
  that runs services for its members), in the 2020 registry or the newer partial list
  (``data/unions.csv``): every pair of members, neighbours or not, one edge per pair however
  many lists or unions say so;
- ``current_plan``: they are neighbours in the same current area plan (given a status quo);
- ``labour_market``: they are neighbours in the same ISTAT 2011 local labour market area
  (a commuting-based functional region, a *proxy* for working together);
- any kind a user CSV ``code_a,code_b,weight,kind`` gives (mountain communities, consortia, ...).

Each kind has a weight (``kind_weights``) that multiplies its edges' weights. The shipped
defaults, in ``data/collaboration.toml``, put real ties above the proxy; ``default_collaboration``
uses them, ``with_kind_weights`` changes them (``--collaboration-weight KIND=W``). Edges of the
proxies join contiguity neighbours only, so their weight measures ties a plan boundary can cut.

Named groups behind some kinds (each union, each current plan) are kept in ``groups``, so a plan
that splits one can be told by name.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from lombardy_districts.errors import InputError
from lombardy_districts.io.embedded import data_file, union_memberships
from lombardy_districts.io.files import read_csv_text
from lombardy_districts.model.options import MAX_WEIGHT, number_problem

KINDS = ("union", "current_plan", "labour_market")
"""The kinds of tie the package builds itself; a user file may add others."""
RENAMED = {"status_quo": "current_plan"}
"""Kind names of earlier versions -> their name now."""
EDGE_COLUMNS = ["code_a", "code_b", "weight", "kind"]
GROUP_COLUMNS = ["code", "kind", "group_id", "group_name"]


@lru_cache(maxsize=1)
def default_kind_weights() -> dict[str, float]:
    """The shipped weight of each kind, ``[weights]`` of ``data/collaboration.toml``."""
    raw = tomllib.loads(Path(data_file("collaboration.toml")).read_text(encoding="utf-8"))
    weights = raw.get("weights", {})
    bad = {k: w for k, w in weights.items() if isinstance(w, bool) or not isinstance(w, int | float) or w < 0}
    if set(raw) != {"weights"} or bad:
        raise InputError(f"data/collaboration.toml must hold one table [weights] of kind = number >= 0; got {raw}")
    return {str(k): float(w) for k, w in weights.items()}


@dataclass(frozen=True, eq=False)
class Collaboration:
    """Undirected weighted edges, one row per (pair, kind), ``code_a < code_b``.

    ``edges`` has columns ``code_a, code_b, weight, kind``; ``kind_weights`` multiplies each
    kind's weights (1 for a kind it does not name; ``default_collaboration`` starts from the
    shipped defaults). Use ``weights()`` for the combined weight per pair. ``groups`` (columns
    ``code, kind, group_id, group_name``) names the groups behind a kind's edges, e.g. each union.
    """

    edges: pd.DataFrame
    kind_weights: Mapping[str, float] = field(default_factory=dict)
    groups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=GROUP_COLUMNS))

    def __post_init__(self):
        missing = [c for c in EDGE_COLUMNS if c not in self.edges.columns]
        missing += [f"groups.{c}" for c in GROUP_COLUMNS if c not in self.groups.columns]
        if missing:
            raise InputError(f"collaboration edges need columns {EDGE_COLUMNS} (and groups {GROUP_COLUMNS}); "
                             f"missing {missing}")
        # one dtype whatever the source (an empty frame may hold strings)
        object.__setattr__(self, "edges", self.edges.astype({"weight": float}))
        object.__setattr__(self, "groups", self.groups[GROUP_COLUMNS].astype(str))
        problems = [p for k, w in self.kind_weights.items()
                    if (p := number_problem(f"collaboration weight of kind {k!r}", w, 0, MAX_WEIGHT, whole=False))]
        weight = self.edges["weight"]
        bad = self.edges[~weight.between(0, MAX_WEIGHT)]  # NaN is never between
        if len(bad):
            first = bad.iloc[0]
            problems.append(f"collaboration edges: {len(bad)} weights are not numbers from 0 to {MAX_WEIGHT:,}, "
                            f"e.g. {first['code_a']}-{first['code_b']} ({first['kind']}) = {first['weight']!r}")
        if problems:
            raise InputError(problems)

    @property
    def kinds(self) -> list[str]:
        """Kinds of edges present."""
        return sorted(self.edges["kind"].unique())

    def weight_of(self, kind: str) -> float:
        """The weight of ``kind``: ``kind_weights[kind]``, or 1."""
        return float(self.kind_weights.get(kind, 1.0))

    def weighted(self) -> pd.DataFrame:
        """Edges with ``weight`` multiplied by the weight of their kind."""
        factor = self.edges["kind"].map(self.weight_of).astype(float)
        return self.edges.assign(weight=self.edges["weight"] * factor)

    def weights(self) -> dict[tuple[str, str], float]:
        """Combined weight per unordered pair ``(code_a, code_b)`` with ``code_a < code_b``."""
        w = self.weighted().groupby(["code_a", "code_b"])["weight"].sum()
        return {k: float(v) for k, v in w.items() if v != 0}

    def restrict(self, codes) -> Collaboration:
        """Only edges with both ends in ``codes`` (and group members in ``codes``)."""
        keep = set(codes)
        e = self.edges
        return Collaboration(e[e["code_a"].isin(keep) & e["code_b"].isin(keep)], dict(self.kind_weights),
                             self.groups[self.groups["code"].isin(keep)])

    def with_kind_weights(self, kind_weights: Mapping[str, float]) -> Collaboration:
        """The same edges with other weights per kind."""
        return Collaboration(self.edges, {**self.kind_weights, **kind_weights}, self.groups)

    def of_kinds(self, kinds) -> pd.DataFrame:
        """The edges of ``kinds`` with a weight above 0 (before kind weights)."""
        e = self.edges
        return e[e["kind"].isin(list(kinds)) & (e["weight"] > 0)]

    @staticmethod
    def combine(*parts: Collaboration) -> Collaboration:
        """All edges of several sources together."""
        found = [p for p in parts if p is not None]
        if not found:
            return Collaboration(pd.DataFrame(columns=EDGE_COLUMNS))
        weights: dict[str, float] = {}
        for p in found:
            weights.update(p.kind_weights)
        groups = pd.concat([p.groups for p in found], ignore_index=True)
        return Collaboration(pd.concat([p.edges for p in found], ignore_index=True), weights, groups)


def _pairs(graph, group: pd.Series, kind: str) -> pd.DataFrame:
    """Contiguity edges of ``graph`` whose ends have the same (not missing) value of ``group``, ends sorted."""
    edges = pd.DataFrame(list(graph.edges), columns=["a", "b"], dtype=object)
    ga, gb = edges["a"].map(group), edges["b"].map(group)
    same = edges[(ga.notna() & (ga == gb)).to_numpy(dtype=bool)]
    low = same["a"].where(same["a"] < same["b"], same["b"])
    high = same["b"].where(same["a"] < same["b"], same["a"])
    frame = pd.DataFrame({"code_a": low.to_numpy(), "code_b": high.to_numpy()})
    return frame.assign(weight=1.0, kind=kind)


def labour_market_edges(territory) -> Collaboration:
    """Contiguity neighbours in the same ISTAT 2011 local labour market area (a proxy)."""
    gdf = territory.municipalities
    if "labour_market_area" not in gdf.columns:
        return Collaboration(pd.DataFrame(columns=EDGE_COLUMNS))
    return Collaboration(_pairs(territory.graph, gdf["labour_market_area"], "labour_market"))


def current_plan_edges(status_quo) -> Collaboration:
    """Contiguity neighbours in the same current area plan (kind ``current_plan``); each plan is a group."""
    sq = status_quo.assignment
    groups = pd.DataFrame({"code": sq.index, "kind": "current_plan", "group_id": sq.values,
                           "group_name": [status_quo.name(p) for p in sq.values]})
    return Collaboration(_pairs(status_quo.territory.graph, sq, "current_plan"), groups=groups)


def union_edges(territory) -> Collaboration:
    """Every pair of municipalities of ``territory`` in the same union of municipalities (kind ``union``).

    From ``data/unions.csv`` (2020 registry and the newer partial list). A pair in the same union in
    both lists, or in two unions, is one edge of weight 1. Each union (per list) is a group. Only for
    the embedded Italian data (``territory.istat``): your own ids are not ISTAT codes.
    """
    if not getattr(territory, "istat", False):
        return Collaboration(pd.DataFrame(columns=EDGE_COLUMNS))
    members = union_memberships()
    members = members[members["municipality_code"].isin(set(territory.codes))]
    pairs: set[tuple[str, str]] = set()
    for _, codes in members.groupby("union_id", sort=False)["municipality_code"]:
        pairs.update(itertools.combinations(sorted(set(codes)), 2))
    edges = pd.DataFrame(sorted(pairs), columns=["code_a", "code_b"]).assign(weight=1.0, kind="union")
    groups = pd.DataFrame({"code": members["municipality_code"], "kind": "union", "group_id": members["union_id"],
                           "group_name": members["union_name"]})
    return Collaboration(edges, groups=groups)


def read_collaboration_csv(path, codes, istat: bool = False) -> Collaboration:
    """Read ``code_a,code_b,weight,kind``; every problem is reported at once.

    Codes are text exactly as written; with ``istat`` (the embedded Italian data) they must be
    ISTAT numbers of up to 6 digits and are zero-padded to 6.
    """
    path = Path(path)
    frame = read_csv_text(path, "collaboration file")
    missing = [c for c in EDGE_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing columns {missing}; expected code_a,code_b,weight,kind")
    problems = []
    known = set(codes)
    for col in ("code_a", "code_b"):
        raw = frame[col].fillna("").str.strip()
        valid = raw.str.fullmatch(r"\d{1,6}") if istat else raw != ""
        what = "is not an ISTAT code" if istat else "is empty"
        for i, v in raw[~valid].head(5).items():
            problems.append(f"{path} row {i + 2}: {col} {v!r} {what}")
        frame[col] = raw.str.zfill(6) if istat else raw
        unknown = frame.loc[valid & ~frame[col].isin(known), col]
        for i, v in unknown.head(5).items():
            problems.append(f"{path} row {i + 2}: {col} {v} is not a municipality of this territory")
    weight = pd.to_numeric(frame["weight"], errors="coerce")
    for i in frame.index[weight.isna()][:5]:
        problems.append(f"{path} row {i + 2}: weight {frame.at[i, 'weight']!r} is not a number")
    for i in frame.index[weight.abs() == math.inf][:5]:
        problems.append(f"{path} row {i + 2}: weight {frame.at[i, 'weight']!r} is not finite")
    for i in frame.index[(weight < 0) | (weight > MAX_WEIGHT)][:5]:
        problems.append(f"{path} row {i + 2}: weight {weight[i]:g} is out of range; weights must be numbers "
                        f"from 0 to {MAX_WEIGHT:,}")
    for i in frame.index[frame["kind"].isna()][:5]:
        problems.append(f"{path} row {i + 2}: empty kind")
    same = frame.index[frame["code_a"] == frame["code_b"]]
    for i in same[:5]:
        problems.append(f"{path} row {i + 2}: an edge from {frame.at[i, 'code_a']} to itself")
    if problems:
        raise InputError(problems)
    a, b = frame["code_a"], frame["code_b"]
    out = pd.DataFrame({"code_a": a.where(a < b, b), "code_b": b.where(a < b, a),
                        "weight": weight.astype(float), "kind": frame["kind"].str.strip()})
    return Collaboration(out)


def default_collaboration(territory, status_quo=None) -> Collaboration:
    """Union ties, labour-market proxy edges and, with a status quo, same-current-plan edges.

    Weighted by the shipped ``default_kind_weights()``.
    """
    parts = [union_edges(territory), labour_market_edges(territory)]
    if status_quo is not None:
        parts.append(current_plan_edges(status_quo))
    return Collaboration.combine(*parts).with_kind_weights(default_kind_weights())
