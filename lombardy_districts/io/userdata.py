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
from lombardy_districts.io.embedded import MOUNTAIN_STATUSES
from lombardy_districts.io.files import read_csv_text
from lombardy_districts.io.projection import area_crs, areas_km2, describe, working_crs

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
    """Codes as text exactly as written, surrounding spaces dropped; never padded or unpadded.

    Only a floating-point column (a spreadsheet's or a database's numbers) loses the ``.0`` of its
    whole numbers: ``37009.0`` is read ``37009``.
    """
    if pd.api.types.is_float_dtype(values):
        text = values.map(lambda v: None if pd.isna(v) else str(int(v)) if float(v).is_integer() else repr(v))
        return text.astype("string").str.strip()
    return values.astype("string").str.strip()


def _polygonal(geom):
    """The polygon parts of a repaired geometry (make_valid may add stray lines or points)."""
    parts = shapely.get_parts(geom)
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), [3, 6])])


def _few(items) -> str:
    items = [str(i) for i in items]
    return ", ".join(items[:8]) + (f" and {len(items) - 8:,} more" if len(items) > 8 else "")


def _check_codes(codes: pd.Series, where: str, problems: list[str]) -> None:
    empty = codes.isna() | (codes.fillna("") == "")
    if empty.any():
        rows = _few(codes.index[empty] + 2)
        problems.append(f"{where}: {int(empty.sum())} row(s) without a municipality code (rows {rows})")
    doubled = codes[codes.duplicated() & ~empty].unique()
    if len(doubled):
        problems.append(f"{where}: duplicate municipality codes {_few(sorted(doubled))}; each must appear once")


COMPUTED = ("name", "population", "area_km2", "density")
"""Columns the tool sets itself; a column of the user's file with one of these names is replaced."""


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
        Indexed by code (text exactly as in the files: leading zeros are neither added nor
        removed), in the working CRS of ``projection.working_crs``, with ``name``,
        ``population``, ``area_km2`` and ``density`` (areas in ``projection.area_crs``), every
        other column of the polygon file, and ``mountain_status`` (``"not"`` when absent).
        ``attrs`` holds ``source_crs`` (the file's CRS, as WKT) and ``area_crs`` (its description).

    Raises
    ------
    InputError
        Listing every problem found: missing, duplicate or unknown codes; missing, negative or
        non-numeric population; empty or non-polygon geometries; no CRS.
    """
    path = Path(polygons)
    gdf = _read_polygons(path)
    if code_column not in gdf.columns:
        raise InputError(
            f"{path}: no code column {code_column!r}; "
            f"columns found: {_few(c for c in gdf.columns if c != 'geometry')}. "
            "Fix: pass --code-column NAME."
        )
    problems: list[str] = []
    codes = _codes(gdf[code_column])
    _check_codes(codes, str(path), problems)
    _check_geometry(gdf, codes, path, problems)
    raw, source = _population_column(gdf, codes, path, population, code_column, population_column, problems)
    value = _population_numbers(raw, codes, source, problems)
    _check_mountain_status(gdf, codes, path, problems)
    if problems:
        raise InputError(problems)
    return _municipalities(gdf, codes, _whole(value, codes, source), path, code_column, name_column)


def _check_geometry(gdf: gpd.GeoDataFrame, codes: pd.Series, path: Path, problems: list[str]) -> None:
    if gdf.crs is None:
        problems.append(f"{path}: no coordinate reference system; set one (e.g. EPSG:4326 or EPSG:32632) in the file")
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        problems.append(f"{path}: empty geometry for codes {_few(codes[empty])}")
    kinds = geom[~empty].geom_type
    not_poly = kinds[~kinds.isin(["Polygon", "MultiPolygon"])]
    if len(not_poly):
        problems.append(
            f"{path}: geometries must be polygons; codes {_few(codes[not_poly.index])} are "
            f"{_few(sorted(set(not_poly)))}"
        )


def _population_column(gdf, codes, path: Path, population, code_column: str, population_column: str,
                       problems: list[str]) -> tuple[pd.Series, str]:
    """The population of each polygon as text (from the CSV when given), and where it came from."""
    if population is None:
        if population_column not in gdf.columns:
            raise InputError(problems + [
                f"no population: {path} has no {population_column!r} column and no population CSV was given. "
                "Fix: pass --population FILE.csv (or --population-column NAME)."
            ])
        return gdf[population_column].astype("string"), str(path)
    pop = read_csv_text(Path(population), "population file")
    missing_cols = [c for c in (code_column, population_column) if c not in pop.columns]
    if missing_cols:
        raise InputError(problems + [
            f"{population}: missing column(s) {missing_cols}; columns found: {_few(pop.columns)}. "
            "Fix: pass --code-column / --population-column."
        ])
    pop_codes = pop[code_column].astype("string").str.strip()
    _check_codes(pop_codes, str(population), problems)
    table = pop.assign(**{code_column: pop_codes}).drop_duplicates(code_column).set_index(code_column)
    unknown = sorted(set(table.index.dropna()) - set(codes.dropna()))
    if unknown:
        problems.append(f"{population}: codes not in {path.name}: {_few(unknown)}"
                        + _zeros_hint(unknown, codes, population, path))
    return codes.map(table[population_column]), str(population)


def _zeros_hint(unknown: list[str], codes: pd.Series, population, path: Path) -> str:
    """A hint when the two files write the same codes with and without leading zeros."""
    plain = {c.lstrip("0"): c for c in codes.dropna()}
    pairs = [(u, plain[u.lstrip("0")]) for u in unknown if u.lstrip("0") in plain]
    if not pairs:
        return ""
    u, c = pairs[0]
    return (f". The two files write {len(pairs)} code(s) with different leading zeros (e.g. {u!r} in "
            f"{Path(population).name}, {c!r} in {path.name}); codes are compared as text, exactly as "
            "written. Fix: write them the same way in both files (a numeric column drops leading zeros)")


def _population_numbers(raw: pd.Series, codes: pd.Series, source: str, problems: list[str]) -> pd.Series:
    """Population as numbers; missing, non-numeric, infinite and negative values are problems."""
    value = pd.to_numeric(raw, errors="coerce")
    absent = raw.isna()
    if absent.any():
        problems.append(f"{source}: no population for codes {_few(codes[absent])}")
    non_numeric = value.isna() & ~absent
    if non_numeric.any():
        shown = _few(f"{c}={raw[i]!r}" for i, c in codes[non_numeric].items())
        problems.append(f"{source}: population is not a number for {shown}")
    infinite = np.isinf(value.fillna(0))
    if infinite.any():
        problems.append(f"{source}: population is infinite for {_few(codes[infinite])}")
    negative = value < 0
    if negative.any():
        shown = _few(f"{c}={value[i]:g}" for i, c in codes[negative].items())
        problems.append(f"{source}: negative population for {shown}")
    return value


def _whole(value: pd.Series, codes: pd.Series, source: str) -> pd.Series:
    """Whole inhabitants: fractional counts (estimates, areal interpolation) rounded, with a warning.

    Floors compare whole numbers of inhabitants and the exact solvers count them in integers, so
    each value is rounded to the nearest whole number (halves to even); the warning says how many
    values changed and by how much the total did.
    """
    rounded = value.round()
    fractional = rounded != value
    if fractional.any():
        shown = _few(f"{c}={value[i]:g}" for i, c in codes[fractional].items())
        log.warning("%s: %d fractional population value(s) rounded to whole inhabitants (%s); the total changes "
                    "by %+.2f to %s", source, int(fractional.sum()), shown, float(rounded.sum() - value.sum()),
                    f"{int(rounded.sum()):,}")
    return rounded.astype(np.int64)


def _check_mountain_status(gdf: gpd.GeoDataFrame, codes: pd.Series, path: Path, problems: list[str]) -> None:
    if "mountain_status" not in gdf.columns:
        return
    bad = ~gdf["mountain_status"].isin(MOUNTAIN_STATUSES)
    if bad.any():
        problems.append(
            f"{path}: mountain_status must be one of {', '.join(MOUNTAIN_STATUSES)}; codes "
            f"{_few(f'{c}={s!r}' for c, s in zip(codes[bad], gdf.loc[bad, 'mountain_status']))}"
        )


def _repaired(shapes: gpd.GeoSeries, codes: pd.Series) -> gpd.GeoSeries:
    """Invalid polygons repaired with ``make_valid`` (said in a warning naming them).

    Runs in the working CRS: a valid polygon can become invalid when projected.
    """
    invalid = ~shapes.is_valid.to_numpy()
    if not invalid.any():
        return shapes
    log.warning("repaired %d invalid geometries with make_valid: %s", int(invalid.sum()), _few(codes[invalid]))
    values = shapes.values.copy()
    values[invalid] = [_polygonal(g) for g in shapely.make_valid(np.asarray(values[invalid]))]
    return gpd.GeoSeries(values, index=shapes.index, crs=shapes.crs)


def _municipalities(gdf: gpd.GeoDataFrame, codes: pd.Series, population: pd.Series, path: Path,
                    code_column: str, name_column: str) -> gpd.GeoDataFrame:
    """The validated table: computed columns, the file's other columns, working CRS, attrs."""
    source, measure, work = gdf.crs, area_crs(gdf), working_crs(gdf)
    shapes = _repaired(gdf.geometry if work == gdf.crs else gdf.geometry.to_crs(work), codes)
    areas = areas_km2(gpd.GeoDataFrame(geometry=shapes), measure).to_numpy()
    index = pd.Index(codes.to_numpy(dtype=object), name="code")
    out = gpd.GeoDataFrame(index=index, geometry=shapes.values, crs=work)
    out["name"] = gdf[name_column].astype(str).values if name_column in gdf.columns else codes.values
    out["population"] = population.to_numpy()
    out["area_km2"] = areas
    out["density"] = np.divide(out["population"].to_numpy(dtype=float), areas, out=np.zeros(len(out)),
                               where=areas > 0)
    replaced = [c for c in COMPUTED if c in gdf.columns and c not in (name_column, "population")]
    if replaced:
        log.info("%s: column(s) %s replaced by the values computed here", path.name, ", ".join(replaced))
    for column in gdf.columns:
        if column not in out.columns and column not in (code_column, "code", gdf.geometry.name):
            out[column] = gdf[column].values
    if "mountain_status" not in out.columns:
        log.info("no mountain_status column: no municipality counts as mountain (the mountain class is unused)")
        out["mountain_status"] = "not"
    out.attrs.update(source_crs=source.to_wkt(), area_crs=describe(measure))
    log.info("read %d municipalities, %d inhabitants from %s; areas in %s", len(out), out["population"].sum(),
             path, describe(measure))
    return out
