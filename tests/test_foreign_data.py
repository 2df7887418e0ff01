"""User data from outside Italy, built in code: ids as written, true areas, honest contiguity, every command.

The territories are small grids of cells placed where the data of a real user would be: North Carolina
(longitude/latitude, an Albers equal-area CRS, UTM 17N) and Tokyo (a Japanese plane rectangular CRS).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import box

from lombardy_districts.cli import main
from lombardy_districts.io.graph import contiguity_graph
from lombardy_districts.io.userdata import read_municipalities
from lombardy_districts.workflows.inputs import load

ROWS, COLS, STEP = 3, 4, 0.25  # degrees: cells of about 630 km2 in North Carolina
IDS = {
    "leading zeros": [f"0370{i:02d}" for i in range(1, 13)],
    "11 digits": [f"370010{i:05d}" for i in range(1, 13)],
    "names": ["Ashe", "Alleghany", "Surry", "Stokes", "Watauga", "Wilkes", "Yadkin", "Forsyth", "St. Mary's",
              "Caldwell", "Iredell", "Davie"],
}


def cells(codes, west=-81.0, south=35.5, crs="EPSG:4326", population=None) -> gpd.GeoDataFrame:
    """A ROWS x COLS grid of STEP-degree cells with these codes, in ``crs``."""
    shapes = [box(west + c * STEP, south + r * STEP, west + (c + 1) * STEP, south + (r + 1) * STEP)
              for r in range(ROWS) for c in range(COLS)]
    gdf = gpd.GeoDataFrame({"code": codes, "name": [f"unit {c}" for c in codes],
                            "state": ["North"] * COLS + ["South"] * (ROWS - 1) * COLS,
                            "population": population or [40_000 + 1_000 * i for i in range(len(codes))]},
                           geometry=shapes, crs="EPSG:4326")
    return gdf.to_crs(crs)


def write(tmp_path, gdf, population_csv: bool = True):
    """The polygons as a GeoPackage (ids as text) and the population as a CSV keyed by the same ids."""
    poly = tmp_path / "units.gpkg"
    gdf.drop(columns="population" if population_csv else []).to_file(poly)
    args = ["--municipalities", str(poly)]
    if population_csv:
        csv = tmp_path / "population.csv"
        gdf[["code", "population"]].to_csv(csv, index=False)
        args += ["--population", str(csv)]
    return args


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("kind", list(IDS))
def test_ids_are_kept_verbatim_by_every_command(tmp_path, capsys, kind):
    codes = IDS[kind]
    data = write(tmp_path, cells(codes))
    out = tmp_path / "out"
    code, _, err = run(capsys, "propose", *data, "--floor", "80000", "--solver", "heuristic", "--deterministic",
                       "--time-limit", "2", "--format", "gpkg,geojson", "--out", out, "--no-cache")
    assert code == 0, err
    plan = pd.read_csv(out / "plan.csv", dtype=str)
    assert sorted(plan["municipality_code"]) == sorted(codes)  # not padded, not unpadded, not renamed
    card = json.loads((out / "scorecard.json").read_text())
    assert card["summary"]["compliant_plans"] == card["summary"]["plans"] >= 2
    # every command reads back what propose wrote
    code, printed, err = run(capsys, "evaluate", out / "plan.csv", *data, "--floor", "80000", "--no-cache")
    assert code == 0 and "violation" not in printed, err
    code, _, err = run(capsys, "map", out / "plan.csv", *data, "--floor", "80000", "-o", tmp_path / "m.html",
                       "--no-cache")
    assert code == 0, err
    code, _, err = run(capsys, "compare", out / "plan.csv", out / "plan.csv", *data, "-o", tmp_path / "c.html",
                       "--no-cache")
    assert code == 0, err
    assert codes[8] in (tmp_path / "m.html").read_text() or kind == "names"  # the ids are what the map shows
    # the GeoPackage keeps the input CRS; GeoJSON is EPSG:4326 as RFC 7946 asks
    assert gpd.read_file(out / "plans.gpkg").crs.to_epsg() == 4326
    assert gpd.read_file(out / "plans.geojson").crs.to_epsg() == 4326


def test_the_output_crs_is_the_input_crs(tmp_path, capsys):
    data = write(tmp_path, cells(IDS["11 digits"], crs="EPSG:32617"))  # UTM 17N
    code, _, err = run(capsys, "propose", *data, "--floor", "80000", "--solver", "heuristic", "--deterministic",
                       "--time-limit", "2", "--format", "gpkg", "--no-map", "--out", tmp_path / "o", "--no-cache")
    assert code == 0, err
    assert gpd.read_file(tmp_path / "o" / "plans.gpkg").crs.to_epsg() == 32617


def test_leading_zeros_that_differ_between_files_are_named(tmp_path, capsys):
    gdf = cells(IDS["leading zeros"])
    data = write(tmp_path, gdf)
    csv = tmp_path / "population.csv"
    gdf.assign(code=gdf["code"].str.lstrip("0"))[["code", "population"]].to_csv(csv, index=False)
    code, _, err = run(capsys, "data", *data, "--no-cache")
    assert code == 2
    assert "codes not in units.gpkg: 37001" in err
    assert "write 12 code(s) with different leading zeros (e.g. '37001' in population.csv, '037001' in units.gpkg)" \
        in err


@pytest.mark.parametrize("crs, area_crs", [
    ("EPSG:4326", "Lambert Azimuthal Equal Area centred on 35.88, -80.5"),
    ("EPSG:32617", "Lambert Azimuthal Equal Area centred on 35.88, -80.5"),  # UTM is conformal, not equal-area
    ("EPSG:5070", "EPSG:5070 (NAD83 / Conus Albers)"),  # equal-area: its own areas are used
    ("EPSG:2264", "Lambert Azimuthal Equal Area centred on 35.88, -80.5"),  # NC State Plane, in US feet
])
def test_areas_are_those_of_the_ellipsoid(tmp_path, crs, area_crs):
    gdf = cells(IDS["names"], crs=crs)
    out = read_municipalities(write(tmp_path, gdf, population_csv=False)[1])
    assert out.attrs["area_crs"].startswith(area_crs)
    geod = Geod(ellps="WGS84")  # what a GIS computes on the ellipsoid
    truth = [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in gdf.to_crs(4326).geometry]
    assert out["area_km2"].tolist() == pytest.approx(truth, rel=0.005)
    assert out.crs.is_projected


def test_density_class_uses_true_areas_far_from_italy(tmp_path, capsys):
    # Tokyo, in a Japanese plane rectangular CRS (transverse Mercator, not equal-area); cells of about 640 km2
    # at 200 inhabitants per km2: standard, floor 80,000 (UTM 32N would make them 3x larger and low density)
    gdf = cells(IDS["names"], west=139.0, south=35.0, crs="EPSG:6677", population=[128_000] * 12)
    data = write(tmp_path, gdf)
    plan = tmp_path / "plan.csv"
    pd.DataFrame({"municipality_code": IDS["names"], "plan_id": ["A"] * 12}).to_csv(plan, index=False)
    code, _, err = run(capsys, "evaluate", plan, *data, "--json", tmp_path / "card.json", "--no-cache")
    assert code == 0, err
    row = json.loads((tmp_path / "card.json").read_text())["plans"][0]
    geod = Geod(ellps="WGS84")
    truth = sum(abs(geod.geometry_area_perimeter(g)[0]) for g in gdf.to_crs(4326).geometry) / 1e6
    assert row["area_km2"] == pytest.approx(truth, rel=0.005)
    assert 150 < row["density"] < 1000 and row["class"] == "standard" and row["floor"] == 80_000


def _slivered() -> gpd.GeoDataFrame:
    """A 3 x 4 grid of 1 km squares (UTM 17N) digitised badly: every other column overlaps its left
    neighbour by a 0.4 m sliver, and the rows are 0.3 m apart."""
    gdf = cells(IDS["names"]).to_crs("EPSG:32617")
    shapes = []
    for i in range(ROWS * COLS):
        r, c = divmod(i, COLS)
        x0, y0 = 500_000 + c * 1000 - (0.4 if c % 2 else 0), 4_000_000 + r * 1000.3
        shapes.append(box(x0, y0, 500_000 + (c + 1) * 1000, y0 + 1000))
    return gdf.set_geometry(shapes, crs="EPSG:32617")


def test_slivers_and_gaps_are_closed_by_the_tolerance_and_never_silent(tmp_path, capsys, caplog):
    gdf = _slivered()
    graph = contiguity_graph(gdf.set_index("code"), snap=1.0, cache=False)
    assert graph.number_of_edges() == ROWS * (COLS - 1) + (ROWS - 1) * COLS  # the grid's 17 rook edges
    assert graph.graph["bridges"] == [] and graph.graph["overlaps"] == []
    exact = contiguity_graph(gdf.set_index("code"), snap=0, cache=False)
    assert len(exact.graph["overlaps"]) == 6  # the slivers are overlaps at tolerance 0: no neighbours
    assert "not counted as neighbours" in caplog.text and "--snap METRES" in caplog.text
    assert len(exact.graph["bridges"]) > 0  # so the exact graph needs bridges, and says so:
    data = write(tmp_path, gdf)
    code, out, err = run(capsys, "propose", *data, "--snap", "0", "--floor", "80000", "--solver", "heuristic",
                         "--deterministic", "--time-limit", "2", "--out", tmp_path / "o", "--no-cache")
    assert code == 0, err
    n = len(exact.graph["bridges"])
    assert f"needs {n} bridge(s) between parts that share no boundary" in err
    assert "try --snap METRES or --contiguity queen" in out and out.count("\nbridge: ") == n
    card = json.loads((tmp_path / "o" / "scorecard.json").read_text())
    assert len(card["summary"]["bridges"]) == n
    assert sum(p["bridges"] for p in card["plans"]) == sum(b["plan_id"] is not None for b in card["summary"]["bridges"])
    page = (tmp_path / "o" / "map.html").read_text()
    assert f"Bridges: joins without a shared boundary ({n})" in page
    assert "<title>Proposal (scratch mode)</title>" in page  # the page says what it is, not "Area plans"


def test_queen_is_a_shared_point_not_an_overlap():
    squares = [box(0, 0, 10, 10), box(10, 10, 20, 20), box(20, 0, 30, 10), box(25, 5, 35, 15)]
    gdf = gpd.GeoDataFrame({"population": [1] * 4}, geometry=squares, crs="EPSG:32617",
                           index=pd.Index(["a", "b", "c", "d"], name="code"))
    queen = contiguity_graph(gdf, kind="queen", snap=0, cache=False)
    assert {frozenset(e) for e in queen.edges if not queen.edges[e]["bridge"]} == {frozenset("ab"), frozenset("bc")}
    assert queen.graph["overlaps"] == [("c", "d", 25.0)]  # c and d overlap by 5 x 5 m: not neighbours by that


def test_contiguity_agrees_with_libpysal():
    weights = pytest.importorskip("libpysal.weights")
    import numpy as np
    import shapely

    rng = np.random.default_rng(7)
    points = shapely.multipoints(rng.uniform(0, 10_000, size=(60, 2)))
    tiles = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=box(-1, -1, 10_001, 10_001)))
    tiles = shapely.intersection(tiles, box(0, 0, 10_000, 10_000))
    tiles = np.append(tiles, [box(10_000, 10_000, 11_000, 11_000)])  # touches the corner only
    gdf = gpd.GeoDataFrame({"population": 1}, geometry=tiles, crs="EPSG:32617",
                           index=pd.Index([f"t{i:02d}" for i in range(len(tiles))], name="code"))
    for kind, builder in (("rook", weights.Rook), ("queen", weights.Queen)):
        reference = builder.from_dataframe(gdf.reset_index(), ids="code", use_index=False, silence_warnings=True)
        theirs = {frozenset((a, b)) for a, ns in reference.neighbors.items() for b in ns}
        for snap in (0.0, 1.0):
            graph = contiguity_graph(gdf, kind=kind, snap=snap, cache=False, bridges=False) if kind == "queen" \
                else contiguity_graph(gdf, kind=kind, snap=snap, cache=False)
            ours = {frozenset(e) for e in graph.edges if not graph.edges[e]["bridge"]}
            assert ours == theirs, (kind, snap)


def test_only_what_the_data_has(tmp_path, capsys):
    data = write(tmp_path, cells(IDS["names"]))
    code, out, err = run(capsys, "data", *data, "--no-cache")
    assert code == 0, err
    assert "province" not in out and "altimetric" not in out and "labour market" not in out
    assert "legal mountain status: none in the data" in out and "codes: text, exactly as in the file" in out
    part = load(municipalities=data[1], population=data[3], select={"state": "North"}, cache=False)
    assert part.codes == IDS["names"][:COLS]  # any column of the user's file selects
    plan = tmp_path / "plan.csv"
    pd.DataFrame({"municipality_code": IDS["names"], "plan_id": ["A"] * 6 + ["B"] * 6}).to_csv(plan, index=False)
    code, _, err = run(capsys, "evaluate", plan, *data, "--province", "Wake", "--no-cache")
    assert code == 2 and "Traceback" not in err
    assert "--province Wake: this data has no province column" in err and "--select COLUMN=VALUE" in err
    code, out, err = run(capsys, "evaluate", plan, *data, "--floor", "300000", "--no-cache")
    assert code == 0, err
    assert "violation: plan A (unit Wilkes) has 255,000 inhabitants, below the low density floor of 300,000" in out
    assert "no labour_market_area column" in out and "labour market areas are a proxy" not in out


def test_a_solver_that_reaches_the_bound_stops_and_says_optimal(tmp_path):
    import lombardy_districts as ld

    gdf = cells(IDS["names"], population=[50_000] * 12)
    territory = load(municipalities=write(tmp_path, gdf, population_csv=False)[1], cache=False)
    for solver in ("heuristic", "cpsat"):
        proposal = ld.propose(territory, floor=100_000, objectives="max-plans",
                              options={"solver": solver, "time_limit": 60})
        result = proposal.result
        assert result.status == "optimal" and result.objective == result.bound == 6, solver
        assert result.wall_time < 30, solver  # stopped at the bound, not at the time limit
        # by default collaboration comes second: the count is proved, and the run still stops early
        result = ld.propose(territory, floor=100_000, options={"solver": solver, "time_limit": 60}).result
        assert result.objective == result.bound == 6 and result.wall_time < 30, solver
    assert nx.is_connected(territory.graph)


def test_the_readmes_africa_example_loads(tmp_path, capsys):
    # the README's "Your own data" example: 51 countries, 1.2 billion people (refused before 3 December,
    # when the population limit was a billion)
    africa = Path(__file__).parents[1] / "examples" / "africa"
    args = ["--municipalities", africa / "countries.geojson", "--population", africa / "population.csv",
            "--code-column", "iso_a3", "--snap", "5000", "--cache-dir", tmp_path]
    assert main(["data", *map(str, args)]) == 0
    out = capsys.readouterr().out
    assert "51 municipalities" in out and "1,219,176,238" in out
