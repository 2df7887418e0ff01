"""What the page draws, computed once: municipality shapes, plan borders as shared edges, ties, status quo.

The page colours municipalities by plan and draws a plan border wherever two neighbours are in
different plans, so the borders come as the shared boundary of each contiguity edge: after an edit
the page only switches edges on and off, and no outline is dissolved again. Geometry is simplified
for display only (``maps.display``, 150 m by default), in longitude/latitude.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely

from lombardy_districts.maps.colouring import TIE_LINES
from lombardy_districts.maps.display import DEFAULT_TOLERANCE_M, DisplayGeometry
from lombardy_districts.model.collaboration import Collaboration
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.scorecard import KIND_LABELS
from lombardy_districts.model.territory import Territory

log = logging.getLogger(__name__)


GROUP_COLUMNS = ("province", "labour_market_area", "ats")
"""Columns whose groups the page can select whole (with the unions, from the collaboration ties)."""


def territory_payload(territory: Territory, collaboration: Collaboration, status_quo: Plan | None,
                      tolerance_m: float = DEFAULT_TOLERANCE_M) -> dict:
    """Everything the page needs to draw the territory, as plain JSON.

    Returns
    -------
    dict
        ``codes``, ``names``, ``population`` (lists in the territory's order), ``shapes`` (each a list of
        polygons, each a list of rings of ``[lat, lon]``), ``points`` (a ``[lat, lon]`` inside each),
        ``edges`` (``[i, j, lines]``: the shared boundary of neighbours ``i`` and ``j``), ``ties``
        (``[i, j, kind]``) with ``kinds``, ``status_quo`` (plan id per municipality, or None),
        ``bounds`` ``[[south, west], [north, east]]``.
    """
    gdf = territory.municipalities
    geometry = DisplayGeometry(gdf, tolerance_m)
    polygons = geometry.polygons.values
    codes = territory.codes
    index = {c: i for i, c in enumerate(codes)}
    pairs = [(index[u], index[v]) for u, v, d in territory.graph.edges(data=True) if not d.get("bridge")]
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    shared = shapely.intersection(shapely.boundary(polygons[a]), shapely.boundary(polygons[b]))
    edges = [[int(i), int(j), _lines(line)] for i, j, line in zip(a, b, shared)]
    edges = [e for e in edges if e[2]]
    ties = collaboration.restrict(codes).weighted()
    ties = ties[ties["weight"] > 0]
    kinds = sorted(ties["kind"].astype(str).unique())
    points = geometry.points
    out = {
        "codes": codes,
        "names": gdf["name"].astype(str).tolist(),
        "population": gdf["population"].astype(int).tolist(),
        "shapes": [_polygons(p) for p in polygons],
        "points": [[round(pt.y, 5), round(pt.x, 5)] for pt in points.values],
        "edges": edges,
        "kinds": kinds,
        "kind_labels": [KIND_LABELS.get(k, k.replace("_", " ")) for k in kinds],
        "tie_lines": [TIE_LINES[k % len(TIE_LINES)] for k in range(len(kinds))],  # as the maps draw them
        "ties": [[index[x], index[y], kinds.index(str(k))] for x, y, k in
                 zip(ties["code_a"], ties["code_b"], ties["kind"])],
        "status_quo": None if status_quo is None else [str(status_quo.assignment[c]) for c in codes],
        "status_quo_names": None if status_quo is None else {p: status_quo.name(p) for p in status_quo.plan_ids},
        "groups": {column: gdf[column].astype(str).tolist() for column in GROUP_COLUMNS if column in gdf.columns},
        "bridges": [[index[u], index[v], round(float(d.get("distance", 0.0)))]
                    for u, v, d in territory.graph.edges(data=True) if d.get("bridge")],
        "bounds": geometry.bounds,
    }
    log.info("studio: %d municipalities, %d shared borders, %d ties to draw", len(codes), len(edges),
             len(out["ties"]))
    return out


def _ring(coords) -> list[list[float]]:
    return [[round(y, 5), round(x, 5)] for x, y in coords]


def _polygons(shape) -> list:
    parts = shape.geoms if hasattr(shape, "geoms") else [shape]
    return [[_ring(p.exterior.coords), *(_ring(r.coords) for r in p.interiors)] for p in parts
            if p.geom_type == "Polygon" and not p.is_empty]


def _lines(shape) -> list:
    """The line parts of a shared boundary (points where neighbours only touch are dropped)."""
    if shape is None or shape.is_empty:
        return []
    parts = shapely.get_parts(shape)
    lines = [p for p in parts if p.geom_type in ("LineString", "LinearRing")]
    if not lines:
        return []
    merged = shapely.line_merge(shapely.multilinestrings(lines)) if len(lines) > 1 else lines[0]
    return [_ring(line.coords) for line in (merged.geoms if hasattr(merged, "geoms") else [merged])]
