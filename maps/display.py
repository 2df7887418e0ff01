"""Geometry for display only: simplified, in longitude/latitude, rounded. Never used for scoring.

Municipal polygons are simplified as a *coverage* (``shapely.coverage_simplify``), so shared
borders stay shared and no gaps or overlaps open between neighbours; plan outlines are unions
of those simplified polygons. Coordinates are rounded to 5 decimals (about 1 m), which with a
150 m tolerance keeps a whole-Lombardy map near 1-2 MB.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lombardy_districts.errors import InputError
from lombardy_districts.model.options import number_problem

log = logging.getLogger(__name__)

DISPLAY_CRS = "EPSG:4326"
DEFAULT_TOLERANCE_M = 150.0
MAX_TOLERANCE_M = 100_000
"""Largest simplification tolerance, in metres."""
DECIMALS = 5


@dataclass(frozen=True, eq=False)
class DisplayGeometry:
    """Simplified municipality polygons of a territory, ready to draw.

    Parameters
    ----------
    municipalities
        The territory's municipalities (projected, metres), indexed by code.
    tolerance_m
        Simplification tolerance in metres (0 keeps every vertex).
    """

    municipalities: gpd.GeoDataFrame
    tolerance_m: float = DEFAULT_TOLERANCE_M

    def __post_init__(self):
        if problem := number_problem("tolerance_m", self.tolerance_m, 0, MAX_TOLERANCE_M, whole=False,
                                     unit=" of metres"):
            raise InputError(problem)

    @cached_property
    def _projected(self) -> gpd.GeoSeries:
        """Simplified polygons in the territory's projected CRS (for dissolving)."""
        geoms = self.municipalities.geometry
        values = geoms.values
        if self.tolerance_m > 0:
            if geoms.crs is not None and geoms.crs.is_geographic:
                raise ValueError("display simplification needs projected municipalities (metres)")
            values = shapely.coverage_simplify(np.asarray(values), self.tolerance_m)
        return gpd.GeoSeries(values, index=geoms.index, crs=geoms.crs)

    @cached_property
    def polygons(self) -> gpd.GeoSeries:
        """Simplified municipality polygons in EPSG:4326, coordinates rounded."""
        return _to_display(self._projected)

    @cached_property
    def points(self) -> gpd.GeoSeries:
        """A point inside each municipality (representative point: always within, even on lakes)."""
        return _to_display(gpd.GeoSeries(
            shapely.point_on_surface(self.municipalities.geometry.values),
            index=self.municipalities.index, crs=self.municipalities.crs,
        ))

    def dissolve(self, groups: pd.Series) -> gpd.GeoSeries:
        """Union of the simplified polygons per group value (e.g. plan id), in EPSG:4326."""
        groups = groups.reindex(self._projected.index)
        merged = self._projected.groupby(groups.values).agg(lambda s: shapely.union_all(s.values))
        return _to_display(gpd.GeoSeries(merged.values, index=merged.index, crs=self._projected.crs))

    @cached_property
    def bounds(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` for ``fit_bounds``."""
        west, south, east, north = self.polygons.total_bounds
        return [[float(south), float(west)], [float(north), float(east)]]


def _to_display(series: gpd.GeoSeries) -> gpd.GeoSeries:
    out = series.to_crs(DISPLAY_CRS) if series.crs is not None else series
    values = shapely.transform(out.values, lambda c: np.round(c, DECIMALS))
    return gpd.GeoSeries(values, index=out.index, crs=DISPLAY_CRS)


def feature_collection(geometries: gpd.GeoSeries, properties: pd.DataFrame | None = None) -> dict:
    """GeoJSON FeatureCollection: one feature per geometry with its row of ``properties``.

    Each feature gets ``id`` = its index value (as a string) so styles can be looked up. Text
    values are HTML-escaped: Leaflet's tooltips and popups insert them as HTML, and a plan name is
    the user's text (a name with ``<img onerror=...>`` ran as script in a saved map).
    """
    props = properties.reindex(geometries.index) if properties is not None else None
    features = []
    for key, geom in geometries.items():
        if geom is None or geom.is_empty:
            continue
        row = {} if props is None else {k: _plain(v) for k, v in props.loc[key].items()}
        features.append({"type": "Feature", "id": str(key), "properties": row,
                         "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": features}


def _plain(value):
    """JSON-safe scalar (numpy numbers to Python, missing to None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        return html.escape(value, quote=True)
    return value
