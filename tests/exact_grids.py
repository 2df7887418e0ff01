"""Tiny square-grid territories for the exact solver tests (1 km squares, EPSG:32632)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import box

from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.measures import ClassRule
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.territory import Territory
from lombardy_districts.solvers.units import Units
from lombardy_districts.workflows.propose import build_problem

STATUSES = ("not", "totally", "partly")


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


def set_partitions(items: list[int]):
    """Every partition of ``items`` into non-empty blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in set_partitions(rest):
        for k in range(len(part)):
            yield part[:k] + [[first, *part[k]]] + part[k + 1:]
        yield [[first], *part]


def connected(block: list[int], neighbors: list[list[int]]) -> bool:
    inside, seen, todo = set(block), {block[0]}, [block[0]]
    while todo:
        u = todo.pop()
        for v in neighbors[u]:
            if v in inside and v not in seen:
                seen.add(v)
                todo.append(v)
    return len(seen) == len(inside)


def most_plans(units: Units, rules: Rules) -> int:
    """The exact optimum: the most blocks of a partition into connected compliant plans (0: none).

    With hard boundaries (``units.group``), a block lies inside one group.
    """
    rule = ClassRule.of(rules)
    best = 0
    for part in set_partitions(list(range(len(units)))):
        if len(part) <= best:
            continue
        ok = True
        for block in part:
            pop = int(units.population[block].sum())
            name = rule.classify(pop, int(units.area[block].sum()), int(units.mountain_area[block].sum()))
            crosses = units.group is not None and len({units.group[i] for i in block}) > 1
            if pop < rules.floors[name] or crosses or not connected(block, units.neighbors):
                ok = False
                break
        if ok:
            best = len(part)
    return best


def compliant_blocks(units: Units, rules: Rules):
    """Every connected compliant block (all 2^n subsets enumerated), with its population and class."""
    rule = ClassRule.of(rules)
    n = len(units)
    for mask in range(1, 1 << n):
        block = [i for i in range(n) if mask >> i & 1]
        pop = int(units.population[block].sum())
        name = rule.classify(pop, int(units.area[block].sum()), int(units.mountain_area[block].sum()))
        if pop >= rules.floors[name] and connected(block, units.neighbors):
            yield block, pop, name


def random_class_case(rng: np.random.Generator, rows: int, cols: int) -> tuple[Units, Rules]:
    problem = random_class_problem(rng, rows, cols)
    return Units.from_problem(problem), problem.rules


def random_class_problem(rng: np.random.Generator, rows: int, cols: int):
    """A grid with random populations, terrain, floors and class cut-offs, as a problem (max-plans)."""
    n = rows * cols
    pop = rng.choice([50, 100, 200, 400, 800, 1500, 3000], size=n).tolist()
    mountain = [STATUSES[k] for k in rng.choice(3, size=n, p=[0.5, 0.3, 0.2])]
    floors = sorted(rng.choice([300, 600, 1000, 1500, 2500], size=4, replace=True).tolist())
    rules = Rules(floors={"mountain": floors[0], "low_density": floors[1], "standard": floors[2],
                          "high_density": floors[3]},
                  high_density_min=float(rng.choice([500, 1000, 2000])),
                  low_density_max=float(rng.choice([100, 150, 300])),
                  mountain_area_share=float(rng.choice([0.3, 0.5, 0.7])),
                  mountain_density_below=float(rng.choice([300, 1000, 5000])))
    return build_problem(grid(rows, cols, pop, mountain), rules=rules)
