"""Outputs for GIS users: one polygon per area plan with its scorecard columns.

``plans_geodataframe(plan, scorecard)`` dissolves the municipalities of each area plan into one
(multi)polygon and joins the scorecard's per-plan table; ``write_plans(plan, scorecard, path)``
writes it as a GeoPackage (``.gpkg``, layer ``plans``, in the CRS of the municipalities' source file:
EPSG:32632 for the embedded data) or as GeoJSON (``.geojson``, EPSG:4326 as RFC 7946 asks). Files are
written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd

from lombardy_districts.errors import InputError
from lombardy_districts.io.files import write_atomic
from lombardy_districts.io.output_folder import OutputFolder, writing_into
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.scorecard import Scorecard

log = logging.getLogger(__name__)

FORMATS = {"gpkg": ("GPKG", None), "geojson": ("GeoJSON", "EPSG:4326")}
"""Format name -> (OGR driver, CRS written; None: the territory's ``output_crs``)."""
LAYER = "plans"


def parse_formats(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"gpkg,geojson"`` (or a list) -> ``("gpkg", "geojson")``; unknown names are an error."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [str(v).strip().lower().lstrip(".") for v in items if str(v).strip()]
    bad = [n for n in names if n not in FORMATS]
    if bad:
        raise InputError(f"format {', '.join(map(repr, bad))} is unknown; allowed: {', '.join(FORMATS)} "
                         "(comma-separated, e.g. --format gpkg,geojson)")
    return tuple(dict.fromkeys(names))


def plans_geodataframe(plan: Plan, scorecard: Scorecard) -> gpd.GeoDataFrame:
    """One row per area plan: its dissolved geometry and every column of ``scorecard.plans``.

    Parameters
    ----------
    plan
        The plan whose municipalities are dissolved.
    scorecard
        The plan's scorecard (``evaluate(plan, ...)``); its ``plans`` table gives the columns.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``PLAN_COLUMNS`` of the scorecard plus ``geometry``, sorted by ``plan_id``, in the
        territory's CRS (EPSG:32632 for the embedded data).

    Raises
    ------
    InputError
        When the scorecard does not list the same area plans as the plan.
    """
    table = scorecard.plans
    if sorted(map(str, table["plan_id"])) != plan.plan_ids:
        extra = sorted(set(map(str, table["plan_id"])) ^ set(plan.plan_ids))
        raise InputError(f"the scorecard does not score this plan: plan ids differ ({', '.join(extra[:10])}). "
                         "Fix: pass the scorecard evaluate() returned for this plan.")
    gdf = plan.territory.municipalities
    shapes = gpd.GeoDataFrame({"plan_id": plan.assignment.values}, geometry=gdf.geometry.values, crs=gdf.crs)
    dissolved = shapes.dissolve(by="plan_id").reset_index()
    out = table.merge(dissolved, on="plan_id", how="left", validate="one_to_one")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=gdf.crs)


def write_plans(plan: Plan, scorecard: Scorecard, path, *, frame: gpd.GeoDataFrame | None = None) -> Path:
    """Write the dissolved area plans to ``path``: ``.gpkg`` (source CRS) or ``.geojson`` (EPSG:4326).

    ``frame`` reuses a ``plans_geodataframe`` already built (when writing several formats).
    """
    path = Path(path)
    fmt = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson"}.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot tell the format of {path}: name it .gpkg (GeoPackage) or .geojson (GeoJSON)")
    driver, crs = FORMATS[fmt]
    crs = crs or plan.territory.output_crs
    frame = (plans_geodataframe(plan, scorecard) if frame is None else frame).to_crs(crs)
    options = {"layer": LAYER}  # GeoJSON too: its "name", which QGIS shows, was the temporary file's

    def write(tmp: Path) -> None:
        staged = tmp.with_suffix(f".{fmt}")  # OGR wants the right extension and creates the file itself
        try:
            frame.to_file(staged, driver=driver, engine="pyogrio", **options)
            staged.replace(tmp)
        finally:
            staged.unlink(missing_ok=True)

    write_atomic(path, write)
    log.debug("wrote %d area plans to %s (%s)", len(frame), path, frame.crs.name)
    return path


def write_formats(plan: Plan, scorecard: Scorecard, out: OutputFolder | str | Path, formats: Iterable[str],
                  stem: str = "plans") -> dict:
    """Write ``<stem>.<fmt>`` for each format of ``parse_formats``; returns format -> path.

    ``out`` is an open ``OutputFolder`` (its owner commits the files with the others) or a folder,
    which then gets these files, all or none, beside what it holds.
    """
    formats = parse_formats(formats)
    if not formats:
        return {}
    frame = plans_geodataframe(plan, scorecard)
    with writing_into(out, replace=False) as folder:
        return {fmt: folder.write(f"{stem}.{fmt}", lambda p: write_plans(plan, scorecard, p, frame=frame))
                for fmt in formats}
