"""Municipalities from user files: polygons (GeoPackage, GeoJSON, Shapefile) plus a population CSV.

Everything is validated before use and every problem is reported at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lombardy_districts.errors import InputError
from lombardy_districts.io.embedded import COLUMNS, CRS, MOUNTAIN_STATUSES
from lombardy_districts.io.files import read_csv_text

log = logging.getLogger(__name__)

POLYGON_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip")


def _read_polygons(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise InputError(f"municipality file {path} does not exist")
    if path.suffix.lower() not in POLYGON_SUFFIXES:
        raise InputError(
            f"municipality file {path} has suffix {path.suffix!r}; allowed: {', '.join(POLYGON_SUFFIXES)} "
            "(GeoPackage, GeoJSON or Shapefile)"
        )
    try:
        return gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own error types for unreadable files
        raise InputError(f"cannot read municipality file {path}: {exc}") from None


def _codes(values: pd.Series) -> pd.Series:
    """Codes as stripped strings; all-digit codes (also read as floats) zero-padded to ISTAT's 6 characters."""
    text = values.astype("string").str.strip().str.replace(r"^(\d+)\.0+$", r"\1", regex=True)  # 15146.0
    return text.where(~text.fillna("").str.fullmatch(r"\d{1,6}"), text.str.zfill(6))


def _polygonal(geom):
    """The polygon parts of a repaired geometry (make_valid may add stray lines or points)."""
    parts = shapely.get_parts(geom)
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), [3, 6])])


def _few(items) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")


def _check_codes(codes: pd.Series, where: str, problems: list[str]) -> None:
    empty = codes.isna() | (codes.fillna("") == "")
    if empty.any():
        rows = _few(codes.index[empty] + 2)
        problems.append(f"{where}: {int(empty.sum())} row(s) without a municipality code (rows {rows})")
    doubled = codes[codes.duplicated() & ~empty].unique()
    if len(doubled):
        problems.append(f"{where}: duplicate municipality codes {_few(sorted(doubled))}; each must appear once")


def read_municipalities(
    polygons,
    population=None,
    code_column: str = "code",
    name_column: str = "name",
    population_column: str = "population",
) -> gpd.GeoDataFrame:
    """Read and validate user municipalities; return them like ``load_municipalities`` does.

    Parameters
    ----------
    polygons
        GeoPackage, GeoJSON or Shapefile with one polygon per municipality and a code column.
    population
        CSV with the code column and ``population_column``; optional when the polygon file
        already has the population column.
    code_column, name_column, population_column
        Column names in the files. A missing name column falls back to the code.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by code, in EPSG:32632, with ``population``, ``area_km2``, ``density`` and the
        class columns the rules need (``mountain_status`` defaults to ``"not"`` when absent).

    Raises
    ------
    InputError
        Listing every problem found: missing, duplicate or unknown codes; missing, negative or
        non-numeric population; empty or non-polygon geometries; no CRS.
    """
    path = Path(polygons)
    gdf = _read_polygons(path)
    problems: list[str] = []
    if code_column not in gdf.columns:
        raise InputError(
            f"{path}: no code column {code_column!r}; "
            f"columns found: {_few(c for c in gdf.columns if c != 'geometry')}. "
            "Fix: pass --code-column NAME."
        )
    gdf = gdf.copy()
    gdf[code_column] = _codes(gdf[code_column])
    _check_codes(gdf[code_column], str(path), problems)

    if gdf.crs is None:
        problems.append(f"{path}: no coordinate reference system; set one (e.g. EPSG:4326 or EPSG:32632) in the file")

    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        problems.append(f"{path}: empty geometry for codes {_few(gdf.loc[empty, code_column])}")
    kinds = geom[~empty].geom_type
    not_poly = kinds[~kinds.isin(["Polygon", "MultiPolygon"])]
    if len(not_poly):
        problems.append(
            f"{path}: geometries must be polygons; codes {_few(gdf.loc[not_poly.index, code_column])} are "
            f"{_few(sorted(set(not_poly)))}"
        )

    if population is not None:
        pop = read_csv_text(Path(population), "population file")
        missing_cols = [c for c in (code_column, population_column) if c not in pop.columns]
        if missing_cols:
            raise InputError(problems + [
                f"{population}: missing column(s) {missing_cols}; columns found: {_few(pop.columns)}. "
                "Fix: pass --code-column / --population-column."
            ])
        pop[code_column] = _codes(pop[code_column])
        _check_codes(pop[code_column], str(population), problems)
        pop = pop.drop_duplicates(code_column).set_index(code_column)[population_column]
        unknown = sorted(set(pop.index.dropna()) - set(gdf[code_column].dropna()))
        if unknown:
            problems.append(f"{population}: codes not in {path.name}: {_few(unknown)}")
        raw = gdf[code_column].map(pop)
        source = str(population)
    elif population_column in gdf.columns:
        raw = gdf[population_column].astype("string")
        source = str(path)
    else:
        raise InputError(problems + [
            f"no population: {path} has no {population_column!r} column and no population CSV was given. "
            "Fix: pass --population FILE.csv (or --population-column NAME)."
        ])
    value = pd.to_numeric(raw, errors="coerce")
    codes = gdf[code_column]
    absent = raw.isna()
    if absent.any():
        problems.append(f"{source}: no population for codes {_few(codes[absent])}")
    non_numeric = value.isna() & ~absent
    if non_numeric.any():
        shown = _few(f"{c}={raw[i]!r}" for i, c in codes[non_numeric].items())
        problems.append(f"{source}: population is not a number for {shown}")
    negative = value < 0
    if negative.any():
        shown = _few(f"{c}={value[i]:g}" for i, c in codes[negative].items())
        problems.append(f"{source}: negative population for {shown}")
    fractional = (value % 1 != 0) & value.notna()
    if fractional.any():
        problems.append(f"{source}: population must be whole numbers; codes {_few(codes[fractional])}")

    if "mountain_status" in gdf.columns:
        bad = ~gdf["mountain_status"].isin(MOUNTAIN_STATUSES)
        if bad.any():
            problems.append(
                f"{path}: mountain_status must be one of {', '.join(MOUNTAIN_STATUSES)}; codes "
                f"{_few(f'{c}={s!r}' for c, s in zip(codes[bad], gdf.loc[bad, 'mountain_status']))}"
            )
    if problems:
        raise InputError(problems)

    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        log.warning("repaired %d invalid geometries with make_valid: %s", int(invalid.sum()), _few(codes[invalid]))
        repaired = shapely.make_valid(gdf.geometry[invalid].values)
        gdf.loc[invalid, "geometry"] = [_polygonal(g) for g in repaired]
    if gdf.crs.is_geographic or gdf.crs != CRS:
        log.info("reprojecting %s from %s to %s", path.name, gdf.crs.name, CRS)
        gdf = gdf.to_crs(CRS)

    out = gpd.GeoDataFrame(index=pd.Index(codes.values, name="code"), geometry=gdf.geometry.values, crs=gdf.crs)
    out["name"] = gdf[name_column].astype(str).values if name_column in gdf.columns else codes.values
    out["population"] = value.astype(int).values
    out["area_km2"] = out.geometry.area / 1e6
    out["density"] = out["population"] / out["area_km2"]
    for column in COLUMNS:
        if column in gdf.columns and column not in out.columns:
            out[column] = gdf[column].values
    if "mountain_status" not in out.columns:
        log.warning("no mountain_status column: every municipality counts as not mountain")
        out["mountain_status"] = "not"
    log.info("read %d municipalities, %d inhabitants from %s", len(out), out["population"].sum(), path)
    return out
