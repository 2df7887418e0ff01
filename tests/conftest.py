"""Shared fixtures: the real Lombardy territory, tiny grids built in code, the heuristic compiled once."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from lombardy_districts.model.territory import Territory


@pytest.fixture(scope="session", autouse=True)
def compiled_search():
    """Compile the heuristic's Numba code (or load it from Numba's cache) before any test runs.

    A fresh clone compiles it once (under a minute); every later process loads it from the cache. Tests
    that stop a search after a few seconds, some in a process of their own, then measure the search,
    not the compile.
    """
    from lombardy_districts.model.rules import Rules
    from lombardy_districts.solvers._layout import Layout
    from lombardy_districts.solvers._local import compiled
    from lombardy_districts.solvers.units import Units
    from lombardy_districts.workflows.propose import build_problem

    problem = build_problem(Territory.from_geodataframe(grid_frame(2, 2, 1000), cache=False),
                            rules=Rules().with_floor(2000))
    compiled(Layout(Units.from_problem(problem), problem.rules))


@pytest.fixture(scope="session")
def lombardy_cache(tmp_path_factory) -> Path:
    """The temporary cache folder of ``lombardy`` (its region and rook graph, once it has run)."""
    return tmp_path_factory.mktemp("graph-cache")


@pytest.fixture(scope="session")
def lombardy(lombardy_cache) -> Territory:
    """The embedded Lombardy 2023 data with its rook graph (cached in a temporary folder)."""
    return Territory.load(cache=lombardy_cache)


def grid_frame(rows: int, cols: int, population, mountain=None, size: float = 1000.0) -> gpd.GeoDataFrame:
    """A rows x cols grid of square municipalities (size metres) in EPSG:32632.

    Codes are ``000001``... row by row; ``population`` and ``mountain`` (statuses) are lists
    in the same order, or one value for all.
    """
    n = rows * cols
    pops = population if isinstance(population, list | tuple) else [population] * n
    mount = mountain if isinstance(mountain, list | tuple) else [mountain or "not"] * n
    cells = [box(c * size, r * size, (c + 1) * size, (r + 1) * size) for r in range(rows) for c in range(cols)]
    gdf = gpd.GeoDataFrame(
        {
            "name": [f"M{i + 1}" for i in range(n)],
            "province": ["A"] * n,
            "population": pops,
            "mountain_status": mount,
        },
        geometry=cells,
        crs="EPSG:32632",
        index=[f"{i + 1:06d}" for i in range(n)],
    )
    gdf.index.name = "code"
    gdf["area_km2"] = gdf.geometry.area / 1e6
    gdf["density"] = gdf["population"] / gdf["area_km2"]
    return gdf


@pytest.fixture
def make_grid():
    """Factory: ``make_grid(rows, cols, population, mountain=None)`` -> Territory (no disk cache)."""

    def make(rows, cols, population, mountain=None, size=1000.0):
        return Territory.from_geodataframe(grid_frame(rows, cols, population, mountain, size), cache=False)

    return make
