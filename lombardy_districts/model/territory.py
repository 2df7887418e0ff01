"""A territory: municipalities with their attributes plus their contiguity graph."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import networkx as nx
import pandas as pd

from lombardy_districts.errors import InputError
from lombardy_districts.io.embedded import load_municipalities
from lombardy_districts.io.graph import contiguity_graph
from lombardy_districts.model.measures import area_units

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Territory:
    """Municipalities (GeoDataFrame indexed by code, EPSG:32632) and their contiguity graph."""

    municipalities: gpd.GeoDataFrame
    graph: nx.Graph

    @classmethod
    def load(cls, region: str = "lombardia", kind: str = "rook", cache=True) -> Territory:
        """Load an Italian region from the embedded data and build its graph."""
        gdf = load_municipalities(region, cache=cache)
        return cls(gdf, contiguity_graph(gdf, kind=kind, cache=cache))

    @classmethod
    def from_geodataframe(cls, gdf: gpd.GeoDataFrame, kind: str = "rook", cache=True) -> Territory:
        """Wrap user municipalities (validated, projected, indexed by code)."""
        return cls(gdf, contiguity_graph(gdf, kind=kind, cache=cache))

    @property
    def codes(self) -> list[str]:
        """Municipality codes in table order."""
        return list(self.municipalities.index)

    @cached_property
    def area_units(self) -> pd.Series:
        """Area of each municipality in whole units of 1/AREA_SCALE km2 (the class rule's arithmetic)."""
        return pd.Series(area_units(self.municipalities["area_km2"]), index=self.municipalities.index)

    @cached_property
    def population(self) -> int:
        """Total population."""
        return int(self.municipalities["population"].sum())

    def subset(self, codes: Iterable[str]) -> Territory:
        """The territory restricted to ``codes``, with its graph rebuilt (bridging any gaps)."""
        codes = list(dict.fromkeys(str(c) for c in codes))
        unknown = sorted(set(codes) - set(self.municipalities.index))
        if unknown:
            raise InputError(f"unknown municipality codes {unknown[:10]}{' ...' if len(unknown) > 10 else ''}")
        if not codes:
            raise InputError("the selection is empty: no municipality matched")
        gdf = self.municipalities.loc[codes]
        return Territory.from_geodataframe(gdf, kind=self.graph.graph.get("kind", "rook"))

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
