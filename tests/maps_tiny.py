"""Tiny map-test instances built in code: a 4 x 6 grid of municipalities and two plans over it."""

from __future__ import annotations

ROWS, COLS = 4, 6


def code(row: int, col: int) -> str:
    """Code of the grid cell at (row, col), row-major from ``000001``."""
    return f"{row * COLS + col + 1:06d}"


def tiny_territory():
    """A 4 x 6 grid of 1 km square municipalities; column 0 is mountain; names with accents and quotes."""
    import geopandas as gpd
    from shapely.geometry import box

    from lombardy_districts.model.territory import Territory

    cells = [(r, c) for r in range(ROWS) for c in range(COLS)]
    names = [f"Sant'Angelo {r}-{c}" if c == 3 else f"Citt\u00e0 {r}-{c}" for r, c in cells]
    # y grows northwards: row 0 is the northern edge, near Milan's latitude in EPSG:32632
    x0, y0 = 500_000, 5_040_000
    gdf = gpd.GeoDataFrame(
        {
            "name": names,
            "province": "Tiny",
            "population": [15_000 if (r >= 2 and c >= 4) else 10_000 for r, c in cells],
            "mountain_status": ["totally" if c == 0 else "not" for r, c in cells],
        },
        geometry=[box(x0 + c * 1000, y0 - (r + 1) * 1000, x0 + (c + 1) * 1000, y0 - r * 1000) for r, c in cells],
        crs="EPSG:32632",
        index=[code(r, c) for r, c in cells],
    )
    gdf.index.name = "code"
    gdf["area_km2"] = gdf.geometry.area / 1e6
    gdf["density"] = gdf["population"] / gdf["area_km2"]
    return Territory.from_geodataframe(gdf, cache=False)


def tiny_plan_a(territory):
    """West and Centre (80,000 each), North-east (40,000: below a 50,000 floor), South-east (60,000)."""
    from lombardy_districts.model.plan import Plan

    def which(r, c):
        return "W" if c < 2 else "C" if c < 4 else "NE" if r < 2 else "SE"

    assignment = {code(r, c): which(r, c) for r in range(ROWS) for c in range(COLS)}
    return Plan(territory, assignment, {"W": "West", "C": "Centre", "NE": "North-east", "SE": "South-east"})


def tiny_plan_b(territory):
    """Plan A with the two northern cells of column 3 moved from Centre to North-east (now 60,000)."""
    return tiny_plan_a(territory).reassign({code(0, 3): "NE", code(1, 3): "NE"})


def tiny_rules():
    """Every class floor at 50,000."""
    from lombardy_districts.model.rules import Rules

    return Rules().with_floor(50_000)


def tiny_collaboration():
    """Two kinds: a 'union' tying Centre to North-east across the border, a 'consortium' inside West."""
    import pandas as pd

    from lombardy_districts.model.collaboration import Collaboration

    rows = [(code(0, 3), code(0, 4), 2.0, "union"), (code(1, 3), code(1, 4), 2.0, "union"),
            (code(0, 0), code(0, 1), 1.0, "consortium"), (code(1, 0), code(1, 1), 1.0, "consortium")]
    return Collaboration(pd.DataFrame(rows, columns=["code_a", "code_b", "weight", "kind"]))


LOCAL = ("/work", "/tmp", "file://", "/root", "/home")
"""Local paths a shared map page must not contain (it would break on another machine)."""
