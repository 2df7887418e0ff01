"""Tiny territories built in code: grids of 1 km squares in EPSG:32632."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import box

from lombardy_districts.model.territory import Territory

SIDE = 1000.0  # metres; each cell is 1 km2


def grid_territory(rows: int, cols: int, population=None, **columns) -> Territory:
    """A ``rows`` x ``cols`` grid of unit squares, codes ``000001``.. row by row.

    ``population`` (one value or a list) and any column (one value or a list, row by row)
    override the defaults: 1,000 inhabitants, province ``A``, not mountain, labour market ``L1``.
    """
    n = rows * cols
    codes = [f"{i + 1:06d}" for i in range(n)]
    geoms = [box(c * SIDE, r * SIDE, (c + 1) * SIDE, (r + 1) * SIDE) for r in range(rows) for c in range(cols)]
    data = {
        "name": [f"M{i + 1}" for i in range(n)],
        "province": "A",
        "province_code": "001",
        "region": "Test",
        "population": 1000 if population is None else population,
        "area_km2": 1.0,
        "altimetric_zone": "plain",
        "mountain_status": "not",
        "degurba": 2,
        "labour_market_area": "L1",
    }
    data.update(columns)
    gdf = gpd.GeoDataFrame({k: _column(v, n) for k, v in data.items()}, geometry=geoms,
                           index=codes, crs="EPSG:32632")
    gdf.index.name = "code"
    gdf["population"] = gdf["population"].astype(int)
    gdf["density"] = gdf["population"] / gdf["area_km2"]
    return Territory.from_geodataframe(gdf, cache=False)


def _column(value, n):
    if isinstance(value, list | tuple | np.ndarray):
        assert len(value) == n, f"{len(value)} values for {n} cells"
        return list(value)
    return [value] * n
