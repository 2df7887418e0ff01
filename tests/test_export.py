"""GIS outputs: dissolved area plans with their scorecard columns, as GeoPackage and GeoJSON."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from lombardy_districts.errors import InputError
from lombardy_districts.io.output_folder import STATE
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.scorecard import PLAN_COLUMNS, evaluate
from lombardy_districts.workflows.export import parse_formats, plans_geodataframe, write_formats, write_plans


@pytest.fixture
def halves(make_grid):
    territory = make_grid(2, 3, [1000, 2000, 3000, 4000, 5000, 6000])
    plan = Plan(territory, {"000001": "west", "000004": "west", "000002": "east", "000003": "east",
                            "000005": "east", "000006": "east"})
    return plan, evaluate(plan)


def test_one_dissolved_polygon_per_plan_with_scores(halves):
    plan, card = halves
    gdf = plans_geodataframe(plan, card)
    assert list(gdf.columns) == [*PLAN_COLUMNS, "geometry"]
    assert list(gdf["plan_id"]) == ["east", "west"]
    assert list(gdf["population"]) == [2000 + 3000 + 5000 + 6000, 1000 + 4000]
    assert gdf.crs.to_epsg() == 32632
    # dissolved: one 2 km2 rectangle (west) and one 4 km2 square (east), no inner borders
    assert gdf.set_index("plan_id").geometry.area.round().to_dict() == {"east": 4e6, "west": 2e6}
    assert gdf.geometry.geom_type.tolist() == ["Polygon", "Polygon"]


def test_geopackage_and_geojson_read_back_in_their_crs(halves, tmp_path):
    plan, card = halves
    written = write_formats(plan, card, tmp_path, "gpkg,geojson")
    assert set(written) == {"gpkg", "geojson"}
    gpkg = gpd.read_file(tmp_path / "plans.gpkg", layer="plans")
    assert gpkg.crs.to_epsg() == 32632
    assert gpkg.set_index("plan_id")["population"].to_dict() == {"east": 16000, "west": 5000}
    assert gpkg["compliant"].dtype == bool
    geojson = gpd.read_file(tmp_path / "plans.geojson")
    assert geojson.crs.to_epsg() == 4326
    minx, miny, maxx, maxy = geojson.total_bounds
    assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90  # degrees, not metres
    assert json.loads((tmp_path / "plans.geojson").read_text())["name"] == "plans"  # the layer QGIS shows
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != STATE]  # no temporary files
    assert [p.name for p in (tmp_path / STATE).iterdir()] == ["files.json"]  # what the run wrote; nothing staged


def test_rewriting_replaces_the_file(halves, tmp_path):
    plan, card = halves
    write_plans(plan, card, tmp_path / "p.gpkg")
    merged = Plan(plan.territory, dict.fromkeys(plan.assignment.index, "all"))
    write_plans(merged, evaluate(merged), tmp_path / "p.gpkg")
    assert len(gpd.read_file(tmp_path / "p.gpkg")) == 1


def test_errors_name_the_value_and_what_is_allowed(halves, tmp_path):
    plan, card = halves
    with pytest.raises(InputError, match=r"format 'shp' is unknown; allowed: gpkg, geojson"):
        parse_formats("gpkg,shp")
    with pytest.raises(InputError, match=r"name it \.gpkg .* or \.geojson"):
        write_plans(plan, card, tmp_path / "plans.kml")
    other = Plan(plan.territory, dict.fromkeys(plan.assignment.index, "all"))
    with pytest.raises(InputError, match="does not score this plan"):
        plans_geodataframe(other, card)
    assert parse_formats(None) == () and parse_formats(["GeoJSON", "gpkg", "geojson"]) == ("geojson", "gpkg")
