"""Collaboration edges: weighted relations between municipalities that already work together.

Sources, each edge keeping its ``kind``:
- ``labour_market``: the two municipalities share an ISTAT 2011 local labour market area
  (a commuting-based functional region, used as a *proxy* for working together);
- ``status_quo``: they are in the same current area plan;
- any kind a user CSV ``code_a,code_b,weight,kind`` gives (unions, mountain communities, ...).

Edges join contiguity neighbours only for the proxies (labour market, status quo), so the
weight measures ties a plan boundary can actually cut; user edges are kept as given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lombardy_districts.errors import InputError
from lombardy_districts.io.files import read_csv_text

DEFAULT_WEIGHTS = {"labour_market": 1.0, "status_quo": 1.0}
EDGE_COLUMNS = ["code_a", "code_b", "weight", "kind"]


@dataclass(frozen=True, eq=False)
class Collaboration:
    """Undirected weighted edges, one row per (pair, kind), ``code_a < code_b``.

    ``edges`` has columns ``code_a, code_b, weight, kind``; ``kind_weights`` multiplies each
    kind's weights (default 1). Use ``weights()`` for the combined weight per pair.
    """

    edges: pd.DataFrame
    kind_weights: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        missing = [c for c in EDGE_COLUMNS if c not in self.edges.columns]
        if missing:
            raise InputError(f"collaboration edges need columns {EDGE_COLUMNS}; missing {missing}")
        # one dtype whatever the source (an empty frame may hold strings)
        object.__setattr__(self, "edges", self.edges.astype({"weight": float}))
        bad = {k: w for k, w in self.kind_weights.items()
               if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0}
        if bad:
            raise InputError([f"collaboration weight of kind {k!r} = {w!r}: must be a finite number >= 0"
                              for k, w in bad.items()])

    @property
    def kinds(self) -> list[str]:
        """Kinds of edges present."""
        return sorted(self.edges["kind"].unique())

    def weighted(self) -> pd.DataFrame:
        """Edges with ``weight`` multiplied by the weight of their kind."""
        factor = self.edges["kind"].map(lambda k: self.kind_weights.get(k, 1.0)).astype(float)
        return self.edges.assign(weight=self.edges["weight"] * factor)

    def weights(self) -> dict[tuple[str, str], float]:
        """Combined weight per unordered pair ``(code_a, code_b)`` with ``code_a < code_b``."""
        w = self.weighted().groupby(["code_a", "code_b"])["weight"].sum()
        return {k: float(v) for k, v in w.items() if v != 0}

    def restrict(self, codes) -> Collaboration:
        """Only edges with both ends in ``codes``."""
        keep = set(codes)
        e = self.edges
        return Collaboration(e[e["code_a"].isin(keep) & e["code_b"].isin(keep)], dict(self.kind_weights))

    def with_kind_weights(self, kind_weights: Mapping[str, float]) -> Collaboration:
        """The same edges with other weights per kind."""
        return Collaboration(self.edges, {**self.kind_weights, **kind_weights})

    @staticmethod
    def combine(*parts: Collaboration) -> Collaboration:
        """All edges of several sources together."""
        found = [p for p in parts if p is not None]
        if not found:
            return Collaboration(pd.DataFrame(columns=EDGE_COLUMNS))
        weights: dict[str, float] = {}
        for p in found:
            weights.update(p.kind_weights)
        return Collaboration(pd.concat([p.edges for p in found], ignore_index=True), weights)


def _pairs(graph, group: pd.Series, kind: str) -> pd.DataFrame:
    rows = [(min(a, b), max(a, b)) for a, b in graph.edges
            if a in group.index and b in group.index and pd.notna(group[a]) and group[a] == group[b]]
    frame = pd.DataFrame(rows, columns=["code_a", "code_b"])
    return frame.assign(weight=1.0, kind=kind)


def labour_market_edges(territory) -> Collaboration:
    """Contiguity neighbours in the same ISTAT 2011 local labour market area (a proxy)."""
    gdf = territory.municipalities
    if "labour_market_area" not in gdf.columns:
        return Collaboration(pd.DataFrame(columns=EDGE_COLUMNS))
    return Collaboration(_pairs(territory.graph, gdf["labour_market_area"], "labour_market"))


def status_quo_edges(status_quo) -> Collaboration:
    """Contiguity neighbours in the same current area plan."""
    return Collaboration(_pairs(status_quo.territory.graph, status_quo.assignment, "status_quo"))


def read_collaboration_csv(path, codes) -> Collaboration:
    """Read ``code_a,code_b,weight,kind``; every problem is reported at once."""
    path = Path(path)
    frame = read_csv_text(path, "collaboration file")
    missing = [c for c in EDGE_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing columns {missing}; expected code_a,code_b,weight,kind")
    problems = []
    known = set(codes)
    for col in ("code_a", "code_b"):
        raw = frame[col].fillna("").str.strip()
        bad = raw[~raw.str.fullmatch(r"\d{1,6}")]
        for i, v in bad.head(5).items():
            problems.append(f"{path} row {i + 2}: {col} {v!r} is not an ISTAT code")
        frame[col] = raw.str.zfill(6)
        unknown = frame.loc[raw.str.fullmatch(r"\d{1,6}") & ~frame[col].isin(known), col]
        for i, v in unknown.head(5).items():
            problems.append(f"{path} row {i + 2}: {col} {v} is not a municipality of this territory")
    weight = pd.to_numeric(frame["weight"], errors="coerce")
    for i in frame.index[weight.isna()][:5]:
        problems.append(f"{path} row {i + 2}: weight {frame.at[i, 'weight']!r} is not a number")
    for i in frame.index[weight.abs() == math.inf][:5]:
        problems.append(f"{path} row {i + 2}: weight {frame.at[i, 'weight']!r} is not finite")
    for i in frame.index[weight < 0][:5]:
        problems.append(f"{path} row {i + 2}: weight {weight[i]} is negative; weights must be >= 0")
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
    """Labour-market proxy edges, plus same-current-plan edges when a status quo is given."""
    parts = [labour_market_edges(territory)]
    if status_quo is not None:
        parts.append(status_quo_edges(status_quo))
    return Collaboration.combine(*parts)
