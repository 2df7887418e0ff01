"""User municipality files: every bad input gets its own clear message; good input works."""

import re

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, Polygon

from lombardy_districts.cli import main
from lombardy_districts.errors import InputError
from lombardy_districts.io.userdata import read_municipalities
from tests.conftest import grid_frame


def _files(tmp_path, gdf=None, pop=None, suffix=".geojson", crs="EPSG:32632"):
    gdf = grid_frame(2, 2, 40_000) if gdf is None else gdf
    gdf = gdf.reset_index()[["code", "name", "geometry"]]
    if crs is None:
        gdf = gdf.set_crs(None, allow_override=True)
    elif crs != "EPSG:32632":
        gdf = gdf.to_crs(crs)
    poly = tmp_path / f"munis{suffix}"
    gdf.to_file(poly)
    csv = tmp_path / "pop.csv"
    pop = pd.DataFrame({"code": gdf["code"], "population": [40_000] * len(gdf)}) if pop is None else pop
    pop.to_csv(csv, index=False)
    return poly, csv


def _run(capsys, *args):
    code = main(["data", "--no-cache", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_good_files_work_from_the_cli(tmp_path, capsys):
    poly, csv = _files(tmp_path)
    code, out, err = _run(capsys, "--municipalities", poly, "--population", csv, "--json")
    assert code == 0, err
    assert '"municipalities": 4' in out and '"population": 160000' in out and '"components": 1' in out


def test_geographic_crs_is_projected_to_an_equal_area_crs_on_the_data(tmp_path):
    poly, csv = _files(tmp_path, crs="EPSG:4326")
    gdf = read_municipalities(poly, csv)
    assert gdf.crs.coordinate_operation.method_name == "Lambert Azimuthal Equal Area"
    assert gdf.attrs["area_crs"].startswith("Lambert Azimuthal Equal Area centred on ")
    # the squares are 1 km2 in UTM 32N, whose scale is 1.0027 so far from its meridian: 0.995 km2 on Earth
    geod = Geod(ellps="WGS84")
    truth = [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in gpd.read_file(poly).geometry]
    assert gdf["area_km2"].tolist() == pytest.approx(truth, rel=1e-4)
    assert "WGS 84" in gdf.attrs["source_crs"]  # outputs go back to the file's CRS


def test_population_in_the_polygon_file_and_custom_columns(tmp_path):
    gdf = grid_frame(1, 2, 5).reset_index().rename(columns={"code": "istat", "name": "comune", "population": "pop"})
    path = tmp_path / "m.gpkg"
    gdf[["istat", "comune", "pop", "geometry"]].to_file(path)
    out = read_municipalities(path, code_column="istat", name_column="comune", population_column="pop")
    assert out["name"].tolist() == ["M1", "M2"] and out["population"].tolist() == [5, 5]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda p: p.iloc[:3], r"no population for codes 000004"),
        (lambda p: pd.concat([p, pd.DataFrame({"code": ["999999"], "population": [1]})]),
         r"codes not in munis.geojson: 999999"),
        (lambda p: p.assign(population=["40000", "many", "1", "2"]), r"population is not a number for 000002='many'"),
        (lambda p: p.assign(population=[40_000, -5, 1, 2]), r"negative population for 000002=-5"),
        (lambda p: pd.concat([p, p.iloc[[0]]]), r"duplicate municipality codes 000001"),
        (lambda p: p.rename(columns={"population": "inhabitants"}), r"missing column\(s\) \['population'\]"),
    ],
)
def test_bad_population(tmp_path, capsys, mutate, message):
    poly, _ = _files(tmp_path)
    csv = tmp_path / "bad.csv"
    base = pd.DataFrame({"code": [f"{i:06d}" for i in range(1, 5)], "population": [40_000] * 4})
    mutate(base).to_csv(csv, index=False)
    code, out, err = _run(capsys, "--municipalities", poly, "--population", csv)
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("error: ")
    assert re.search(message, err), err


def test_bad_polygons_are_all_reported_at_once(tmp_path):
    gdf = grid_frame(2, 2, 1).reset_index()
    gdf.loc[1, "code"] = "000001"  # duplicate
    gdf.loc[2, "geometry"] = Polygon()  # empty
    gdf.loc[3, "geometry"] = Point(0, 0)  # not a polygon
    path = tmp_path / "m.gpkg"
    gdf[["code", "name", "population", "geometry"]].to_file(path)
    with pytest.raises(InputError) as info:
        read_municipalities(path)
    text = str(info.value)
    assert "duplicate municipality codes 000001" in text
    assert "empty geometry for codes 000003" in text
    assert "geometries must be polygons; codes 000004 are Point" in text
    assert len(info.value.problems) == 3


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # writing the test file without one, on purpose
def test_no_crs_is_an_error(tmp_path):
    poly, csv = _files(tmp_path, suffix=".gpkg", crs=None)
    with pytest.raises(InputError, match="no coordinate reference system; set one"):
        read_municipalities(poly, csv)


def test_invalid_geometry_is_repaired_and_said(tmp_path, caplog):
    gdf = grid_frame(1, 2, 1).reset_index()
    # a bow-tie over the second square: invalid, repaired into two triangles
    gdf.loc[1, "geometry"] = Polygon([(1000, 0), (2000, 1000), (2000, 0), (1000, 1000)])
    path = tmp_path / "m.geojson"
    gdf[["code", "name", "population", "geometry"]].to_file(path)
    with caplog.at_level("WARNING"):
        out = read_municipalities(path)
    assert out.geometry.is_valid.all()
    assert "repaired 1 invalid geometries with make_valid: 000002" in caplog.text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--municipalities", "nowhere.gpkg"], "municipality file nowhere.gpkg does not exist"),
        (["--population", "p.csv"], "population (--population) needs municipalities (--municipalities)"),
        (["--region", "Atlantis"], "unknown region 'Atlantis'"),
    ],
)
def test_cli_argument_errors(capsys, args, message):
    code, _, err = _run(capsys, *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_wrong_suffix_and_missing_code_column(tmp_path, capsys):
    text = tmp_path / "munis.txt"
    text.write_text("hello")
    code, _, err = _run(capsys, "--municipalities", text)
    assert code == 2 and "has suffix '.txt'; allowed: .gpkg" in err
    poly, csv = _files(tmp_path)
    code, _, err = _run(capsys, "--municipalities", poly, "--population", csv, "--code-column", "istat")
    assert code == 2 and "no code column 'istat'; columns found: code, name" in err and "--code-column" in err


def test_unreadable_files(tmp_path, capsys):
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    code, _, err = _run(capsys, "--municipalities", broken)
    assert code == 2 and "cannot read municipality file" in err
    poly, _ = _files(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = _run(capsys, "--municipalities", poly, "--population", empty)
    assert code == 2 and "is empty; write a header line" in err



def test_fractional_population_is_rounded_and_said(tmp_path, caplog):
    poly, _ = _files(tmp_path)
    csv = tmp_path / "pop.csv"
    pd.DataFrame({"code": [f"{i:06d}" for i in range(1, 5)], "population": [40_000.4, 2.5, 1, 3.5]}).to_csv(
        csv, index=False)
    with caplog.at_level("WARNING"):
        gdf = read_municipalities(poly, csv)
    assert gdf["population"].tolist() == [40_000, 2, 1, 4]  # halves to even
    assert ("3 fractional population value(s) rounded to whole inhabitants (000001=40000.4, 000002=2.5, "
            "000004=3.5); the total changes by -0.40 to 40,007") in caplog.text
