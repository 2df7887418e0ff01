"""Tiny square-grid territories for the exact solver tests (1 km squares, EPSG:32632)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import box

from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.territory import Territory


def grid(rows: int, cols: int, population, mountain=None, labour=None) -> Territory:
    """A rows x cols grid; ``population`` (and optional ``mountain`` statuses, labour areas) row-major."""
    cells, codes = [], []
    for r in range(rows):
        for c in range(cols):
            x0, y0 = 500_000 + c * 1000, 5_000_000 + r * 1000
            cells.append(box(x0, y0, x0 + 1000, y0 + 1000))
            codes.append(f"{900001 + r * cols + c:06d}")
    n = rows * cols
    gdf = gpd.GeoDataFrame({
        "name": [f"cell{r}_{c}" for r in range(rows) for c in range(cols)],
        "province": ["X"] * n,
        "population": np.asarray(population, dtype=int),
        "mountain_status": mountain if mountain is not None else ["not"] * n,
        "labour_market_area": labour if labour is not None else ["L"] * n,
    }, geometry=cells, index=codes, crs="EPSG:32632")
    gdf.index.name = "code"
    gdf["area_km2"] = gdf.geometry.area / 1e6
    gdf["density"] = gdf["population"] / gdf["area_km2"]
    return Territory.from_geodataframe(gdf, cache=False)


def collaboration_edges(territory: Territory, pairs) -> Collaboration:
    """Collaboration edges between grid cells given as (index_a, index_b, weight)."""
    import pandas as pd

    codes = territory.codes
    rows = [(min(codes[a], codes[b]), max(codes[a], codes[b]), float(w), "test") for a, b, w in pairs]
    return Collaboration(pd.DataFrame(rows, columns=["code_a", "code_b", "weight", "kind"]))


def class_grid() -> tuple[Territory, Rules]:
    """4 x 4 grid where the class rule matters.

    Left two columns are mountain villages (sparse), the right two a dense town belt.
    Floors: mountain 300, low density 300, standard 800, high density 1,500; high density from
    1,000/km2, low density up to 150/km2.
    """
    pop = [100, 120, 900, 400,
           150, 110, 300, 1200,
           90, 130, 700, 500,
           100, 140, 400, 1100]
    mountain = ["totally", "totally", "not", "not"] * 4
    rules = Rules(floors={"standard": 800, "high_density": 1500, "mountain": 300, "low_density": 300},
                  high_density_min=1000.0, low_density_max=150.0)
    return grid(4, 4, pop, mountain), rules


def problem(territory, rules, objectives=("max-plans",), collaboration=None, **kw) -> Problem:
    collab = collaboration if collaboration is not None else default_collaboration(territory)
    return Problem(territory, rules, collab, objectives=tuple(objectives), **kw)
