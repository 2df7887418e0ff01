"""A territory: municipalities with their attributes plus their contiguity graph."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely

from lombardy_districts.errors import InputError
from lombardy_districts.io.embedded import load_municipalities
from lombardy_districts.io.files import write_atomic
from lombardy_districts.io.graph import DEFAULT_SNAP_M, contiguity_graph
from lombardy_districts.model.measures import area_units
from lombardy_districts.model.options import MAX_POPULATION

log = logging.getLogger(__name__)


NEAR_M = 500.0
"""Metres under which two municipalities that share no boundary still look side by side on a map."""


@dataclass(frozen=True, eq=False, repr=False)
class Territory:
    """Municipalities (GeoDataFrame indexed by code, in a projected CRS in metres) and their contiguity graph.

    ``istat`` says the codes are ISTAT municipality codes (the embedded Italian data): only then
    are codes in files checked as ISTAT numbers and zero-padded to 6 digits; any other territory's
    codes are text, compared exactly as written. ``source_crs`` is the CRS of the file the
    municipalities came from (outputs are written in it); None means the municipalities' own.
    ``cache`` is the graph cache setting it was loaded with (True: the default folder, False:
    none, or a folder); parts of it (``subset``, ``select``) build their graphs with the same one.
    """

    municipalities: gpd.GeoDataFrame
    graph: nx.Graph
    istat: bool = False
    source_crs: str | None = None
    cache: bool | str | Path = field(default=True, compare=False)

    def __repr__(self) -> str:
        people = int(self.municipalities["population"].sum())
        return f"<Territory of {len(self.municipalities):,} municipalities, {people:,} inhabitants>"

    @classmethod
    def load(cls, region: str = "lombardia", kind: str = "rook", cache: bool | str | Path = True,
             snap: float = DEFAULT_SNAP_M) -> Territory:
        """Load an Italian region from the embedded data and build its graph."""
        gdf = load_municipalities(region, cache=cache)
        return cls(gdf, contiguity_graph(gdf, kind=kind, cache=cache, snap=snap), istat=True, cache=cache)

    @classmethod
    def from_geodataframe(cls, gdf: gpd.GeoDataFrame, kind: str = "rook", cache: bool | str | Path = True,
                          snap: float = DEFAULT_SNAP_M, istat: bool = False) -> Territory:
        """Wrap user municipalities (validated, projected, indexed by code).

        ``gdf.attrs["source_crs"]`` (set by ``read_municipalities``) becomes ``source_crs``.

        Raises
        ------
        InputError
            When the population is beyond what the solvers' exact arithmetic allows
            (``MAX_POPULATION`` in all).
        """
        _check_population(gdf)
        return cls(gdf, contiguity_graph(gdf, kind=kind, cache=cache, snap=snap), istat=istat,
                   source_crs=gdf.attrs.get("source_crs"), cache=cache)

    @property
    def output_crs(self):
        """The CRS outputs are written in: the source file's, else the municipalities' own."""
        return self.source_crs or self.municipalities.crs

    @property
    def area_rule(self) -> str:
        """Where the areas come from, for messages."""
        return self.municipalities.attrs.get("area_crs") or (
            "the embedded table's official areas" if self.istat else f"the CRS {self.municipalities.crs}")

    @property
    def codes(self) -> list[str]:
        """Municipality codes in table order."""
        return list(self.municipalities.index)

    @cached_property
    def area_units(self) -> pd.Series:
        """Area of each municipality in whole units of 1/AREA_SCALE km2 (the class rule's arithmetic)."""
        return pd.Series(area_units(self.municipalities["area_km2"]), index=self.municipalities.index)

    @cached_property
    def near_pairs(self) -> list[tuple[str, str]]:
        """Municipalities less than ``NEAR_M`` apart that are not neighbours in the graph, as code pairs.

        Across a river or lake, or at a corner: the maps colour their plans apart, so that two plans
        that look side by side never look like one.
        """
        geoms = self.municipalities.geometry
        left, right = shapely.STRtree(geoms.values).query(geoms.values, predicate="dwithin", distance=NEAR_M)
        codes = geoms.index
        return sorted((codes[i], codes[j]) for i, j in zip(left.tolist(), right.tolist())
                      if i < j and not self.graph.has_edge(codes[i], codes[j]))

    @cached_property
    def population(self) -> int:
        """Total population."""
        return int(self.municipalities["population"].sum())

    def to_csv(self, path) -> Path:
        """Write the municipalities as a table (no polygons), with an empty ``plan_id`` column to fill.

        The start of a plan file: fill ``plan_id`` in a spreadsheet, save it as CSV and evaluate it.
        Written atomically (``files.write_atomic``).
        """
        frame = self.municipalities.drop(columns="geometry").rename_axis("municipality_code").reset_index()
        frame.insert(1, "plan_id", "")
        return write_atomic(path, lambda p: frame.to_csv(p, index=False))

    def subset(self, codes: Iterable[str]) -> Territory:
        """The territory restricted to ``codes``, with its graph rebuilt (bridging any gaps)."""
        codes = list(dict.fromkeys(str(c) for c in codes))
        unknown = sorted(set(codes) - set(self.municipalities.index))
        if unknown:
            raise InputError(f"unknown municipality codes {unknown[:10]}{' ...' if len(unknown) > 10 else ''}")
        if not codes:
            raise InputError("the selection is empty: no municipality matched")
        gdf = self.municipalities.loc[codes]
        graph = contiguity_graph(gdf, kind=self.graph.graph.get("kind", "rook"), cache=self.cache,
                                 snap=self.graph.graph.get("snap", DEFAULT_SNAP_M))
        for a, b in graph.graph.get("bridges", []):  # a join the selection made, not an exclave of the whole
            whole = self.graph.get_edge_data(a, b)
            if whole is None or not whole.get("bridge") or whole.get("selection"):
                graph.edges[a, b]["selection"] = True
        return Territory(gdf, graph, istat=self.istat, source_crs=self.source_crs, cache=self.cache)

    @cached_property
    def pieces(self) -> pd.Series | None:
        """Municipality code -> piece label when a selection left the territory in pieces, else None.

        A selection of municipalities that do not all touch (two provinces apart, the plans of a
        partial status quo) is joined by bridges kilometres long so the graph stays connected; no
        plan should run across one, so the solvers keep each piece apart, as across a hard
        boundary. Bridges of the whole region (an exclave such as Campione d'Italia) join no pieces.
        """
        cut = [(a, b) for a, b, d in self.graph.edges(data=True) if d.get("selection")]
        if not cut:
            return None
        joined = nx.restricted_view(self.graph, [], cut)
        label = {code: f"piece {k + 1}" for k, part in enumerate(
            sorted(nx.connected_components(joined), key=lambda c: min(c))) for code in part}
        return pd.Series(label).reindex(self.municipalities.index)

    def pieces_apart(self, floor: int) -> pd.Series | None:
        """``pieces``, with every piece of fewer than ``floor`` inhabitants joined across its bridge.

        A piece too small for a plan of its own, such as San Colombano al Lambro, an exclave of the
        province of Milano, can only be planned with the piece its bridge reaches, as an exclave of
        the whole region is; the smallest such piece is joined first, by its shortest bridge, until
        every piece apart has ``floor`` inhabitants. None when no pieces remain apart. Each join is
        logged once (a warning).
        """
        if floor in self._pieces_joined:
            return self._pieces_joined[floor]
        pieces = self.pieces
        if pieces is not None:
            pieces = pieces.copy()
            pop = self.municipalities["population"]
            bridges = sorted(((d["distance"], a, b) for a, b, d in self.graph.edges(data=True)
                              if d.get("selection")))
            while pieces.nunique() > 1:
                sums = pop.groupby(pieces).sum().sort_values(kind="stable")
                if sums.iloc[0] >= floor:
                    break
                small = sums.index[0]
                metres, a, b = next((m, a, b) for m, a, b in bridges if (pieces[a] == small) != (pieces[b] == small))
                inside, other = (a, b) if pieces[a] == small else (b, a)
                names = self.municipalities["name"]
                log.warning("%s of the selection (%s, %s inhabitants) is too small for a plan of its own "
                            "(%s): it is planned with %s, across the bridge %s (%s) - %s (%s), %s m long",
                            small, ", ".join(names[pieces.index[pieces == small]][:3]), f"{int(sums.iloc[0]):,}",
                            f"lowest floor {floor:,}", pieces[other], names[inside], inside, names[other], other,
                            f"{metres:,.0f}")
                pieces[pieces == small] = pieces[other]
            if pieces.nunique() == 1:
                pieces = None
        self._pieces_joined[floor] = pieces
        return pieces

    @cached_property
    def _pieces_joined(self) -> dict[int, pd.Series | None]:
        return {}

    def select(self, column: str, values: Iterable[str]) -> Territory:
        """The municipalities whose ``column`` (e.g. province) is one of ``values``."""
        if column not in self.municipalities.columns:
            allowed = ", ".join(c for c in self.municipalities.columns if c != "geometry")
            raise InputError(f"unknown column {column!r}; allowed: {allowed}")
        values = [str(v) for v in values]
        col = self.municipalities[column].astype(str)
        missing = sorted(set(values) - set(col))
        if missing:
            shown = ", ".join(sorted(set(col))[:20])
            raise InputError(f"no municipality has {column} = {missing}; values present: {shown}")
        return self.subset(self.municipalities.index[col.isin(values)])


def _check_population(gdf: gpd.GeoDataFrame) -> None:
    total = int(gdf["population"].sum()) if len(gdf) else 0
    if total > MAX_POPULATION:
        top = gdf["population"].sort_values(ascending=False).head(3)
        shown = ", ".join(f"{code} {int(value):,}" for code, value in top.items())
        raise InputError(f"population: {total:,} inhabitants in all; at most {MAX_POPULATION:,} are allowed "
                         f"(largest: {shown}). Fix: check the population column")
