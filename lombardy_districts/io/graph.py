"""Contiguity graph of municipalities: rook or queen adjacency, bridges for exclaves, disk cache.

Rule for units with no land neighbour (documented in README): each connected component other
than the largest is joined to the nearest municipality outside it (shortest distance between
polygons) by one edge marked ``bridge=True``, repeated until the graph is connected. In Lombardy
this joins Campione d'Italia (013040), an exclave in Switzerland, to the Como shore.

The cache can only save time, never cost a run. A cache file is named by a fingerprint of the
inputs (codes, geometry, contiguity kind, bridges, CRS) and holds that whole fingerprint, the
number of municipalities and a SHA-256 of its edges; a file that cannot be read, is not what this
version writes, or fails any check is discarded with one warning and the graph is built again.
Any failure to read or write the cache (a folder that is a file, read-only or full) is a warning,
and the run goes on without it. Files are written under unique temporary names and renamed into
place (``files.write_atomic``), so parallel runs never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from lombardy_districts.errors import GraphError, InputError
from lombardy_districts.io.files import write_json

log = logging.getLogger(__name__)

KINDS = ("rook", "queen")
DEFAULT_SNAP_M = 1.0
"""Default snapping tolerance in metres: gaps and overlapping slivers narrower than this are closed."""
SHORT_SHARE = 3
"""Two polygons that do not touch cleanly (a gap narrower than the tolerance, or a sliver overlap)
are rook neighbours when the boundary each has within the tolerance of the other is longer than
``SHORT_SHARE * snap`` (two corners near each other share about ``2 * snap``)."""
_VERSION = 3  # bump when the construction or the file changes, so old cache files are ignored
_FORMAT = "lombardy-districts contiguity graph"


def cache_dir() -> Path:
    """Where graphs are cached: ``$LOMBARDY_DISTRICTS_CACHE`` or ``~/.cache/lombardy-districts``."""
    if os.environ.get("LOMBARDY_DISTRICTS_CACHE"):
        return Path(os.environ["LOMBARDY_DISTRICTS_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lombardy-districts"


def _cache_folder(cache: bool | str | Path) -> Path | None:
    """The folder of the ``cache`` option, or None (no cache, or no home folder to put it in: a warning)."""
    if cache is False:
        return None
    if cache is not True:
        return Path(cache)
    try:
        return cache_dir()
    except RuntimeError as exc:  # no home folder: the cache is optional
        log.warning("graph cache off: %s. Set LOMBARDY_DISTRICTS_CACHE or use --cache-dir DIR", exc)
        return None


def _key(gdf: gpd.GeoDataFrame, kind: str, bridges: bool, snap: float) -> str:
    """The inputs' fingerprint: version, options, CRS, codes and every geometry."""
    digest = hashlib.sha256(f"{_VERSION}|{kind}|{bridges}|{snap!r}|{gdf.crs}".encode())
    digest.update("|".join(gdf.index.astype(str)).encode())
    for wkb in shapely.to_wkb(gdf.geometry.values, hex=False):
        digest.update(wkb)
    return digest.hexdigest()


def _content_hash(found: dict) -> str:
    """SHA-256 of a cache record's content (its edges and overlaps)."""
    content = {"edges": found.get("edges"), "overlaps": found.get("overlaps")}
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()


def _adjacent_pairs(geoms: np.ndarray, kind: str, snap: float = 0.0) -> tuple[list, list]:
    """Neighbouring polygons, and the pairs that overlap too much to count as neighbours.

    Returns ``(pairs, overlaps)``: ``pairs`` are ``(i, j, shared boundary length in CRS units)``
    under the rule of ``contiguity_graph``; ``overlaps`` are ``(i, j, overlap area)`` of pairs
    whose interiors overlap by more than a sliver narrower than ``snap``.
    """
    tree = shapely.STRtree(geoms)
    if snap > 0:
        left, right = tree.query(geoms, predicate="dwithin", distance=snap)
    else:
        left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    bounds = shapely.boundary(geoms)
    shared = shapely.intersection(bounds[left], bounds[right])
    exact = shapely.length(shared)
    sliver, overlap = _overlaps(geoms[left], geoms[right], snap)
    apart = overlap == 0
    # the tolerance decides only where the polygons do not touch cleanly: a gap, or a sliver overlap
    fuzzy = apart & (exact == 0) & (sliver | shapely.is_empty(shared))
    near = np.zeros(len(left))
    if snap > 0:
        todo = np.flatnonzero(fuzzy)
        near[todo] = _near_length(bounds, left[todo], right[todo], snap)
    rook = apart & ((exact > 0) | (near > SHORT_SHARE * snap))
    chosen = rook if kind == "rook" else apart
    length = np.maximum(exact, near)
    pairs = [(int(i), int(j), float(w)) for i, j, w in zip(left[chosen], right[chosen], length[chosen])]
    overlaps = [(int(i), int(j), float(a)) for i, j, a in zip(left[~apart], right[~apart], overlap[~apart])]
    return pairs, overlaps


def _overlaps(a: np.ndarray, b: np.ndarray, snap: float) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: whether the interiors overlap by a sliver only, and the area of any larger overlap.

    A sliver is an overlap that an inward buffer of half the tolerance removes (nowhere wider
    than ``snap``); with ``snap`` 0 every overlap counts. Pairs whose interiors are disjoint get
    ``(False, 0)``.
    """
    sliver, area = np.zeros(len(a), dtype=bool), np.zeros(len(a))
    inside = np.flatnonzero(shapely.relate_pattern(a, b, "T********"))
    if len(inside) == 0:
        return sliver, area
    common = shapely.intersection(a[inside], b[inside])
    thin = shapely.is_empty(shapely.buffer(common, -snap / 2)) if snap > 0 else np.zeros(len(inside), dtype=bool)
    sliver[inside] = thin
    # a positive floor: an overlap of zero area (touching along a line, say) is no overlap
    area[inside] = np.where(thin, 0.0, np.maximum(shapely.area(common), 1e-12))
    return sliver, area


def _near_length(bounds: np.ndarray, left: np.ndarray, right: np.ndarray, snap: float) -> np.ndarray:
    """Per pair, the length of boundary each polygon has within ``snap`` of the other's (the shorter)."""
    if len(left) == 0:
        return np.zeros(0)
    used = np.unique(np.concatenate([left, right]))
    zone = np.empty(len(bounds), dtype=object)
    zone[used] = shapely.buffer(bounds[used], snap)
    one = shapely.length(shapely.intersection(bounds[left], zone[right]))
    other = shapely.length(shapely.intersection(bounds[right], zone[left]))
    return np.minimum(one, other)


def _bridge(graph: nx.Graph, gdf: gpd.GeoDataFrame) -> list[tuple[str, str, float]]:
    """Join every component but the largest to its nearest outside municipality."""
    added = []
    geoms = gdf.geometry
    while nx.number_connected_components(graph) > 1:
        parts = sorted(nx.connected_components(graph), key=len)
        small = parts[0]
        inside = geoms.loc[sorted(small)]
        outside = geoms.drop(index=list(small))
        tree = shapely.STRtree(outside.values)
        (src, dst), dist = tree.query_nearest(inside.values, return_distance=True, all_matches=False)
        best = int(np.argmin(dist))
        a, b = inside.index[src[best]], outside.index[dst[best]]
        graph.add_edge(a, b, length=0.0, bridge=True, distance=float(dist[best]))
        added.append((a, b, float(dist[best])))
        log.info("bridge %s - %s (%.0f m apart)", a, b, dist[best])
    return added


def _describe(components: list[set], gdf: gpd.GeoDataFrame) -> str:
    names = gdf["name"] if "name" in gdf else gdf.index.to_series()
    lines = []
    for comp in sorted(components, key=len):
        shown = ", ".join(f"{names[c]} ({c})" for c in sorted(comp)[:5])
        more = f" and {len(comp) - 5:,} more" if len(comp) > 5 else ""
        lines.append(f"{len(comp)} municipalities: {shown}{more}")
    return "; ".join(lines)


def contiguity_graph(
    gdf: gpd.GeoDataFrame,
    kind: str = "rook",
    bridges: bool = True,
    cache: bool | str | Path = True,
    snap: float = DEFAULT_SNAP_M,
) -> nx.Graph:
    """Build the contiguity graph of ``gdf`` (index = municipality code, projected CRS in metres).

    Parameters
    ----------
    gdf
        Municipalities with a ``population`` column and polygon geometry.
    kind
        ``"rook"``: neighbours share a boundary of positive length (edge attribute ``length`` in
        metres); ``"queen"``: a shared point is enough. Polygons whose interiors overlap are not
        neighbours by that overlap (they are listed in ``graph.graph["overlaps"]`` with a warning).
    bridges
        Join disconnected parts by their nearest municipalities with edges marked
        ``bridge=True``. When False, a disconnected graph is an error naming the components.
    cache
        True for the default cache folder (see ``cache_dir``), a folder path, or False.
        Files are keyed by codes, geometry and options; deleting them is safe.
    snap
        Snapping tolerance in metres (default ``DEFAULT_SNAP_M``). Polygons that touch cleanly
        (boundaries meet, interiors disjoint) are judged exactly. Polygons at most ``snap``
        apart, or overlapping by a sliver nowhere wider than ``snap``, are queen neighbours, and
        rook neighbours when the boundary each has within ``snap`` of the other is longer than
        ``SHORT_SHARE * snap``. A larger overlap makes no neighbours. 0 is the exact definition.

    Returns
    -------
    networkx.Graph
        Nodes are codes with ``population`` (and ``name``) attributes; edges carry
        ``length``, ``bridge`` and ``distance`` (metres between bridged polygons);
        ``graph.graph`` has ``bridges`` (the bridge edges), ``overlaps`` (pairs overlapping by
        more than a sliver, with the area in m2), ``kind`` and ``snap``.
    """
    if kind not in KINDS:
        raise InputError(f"unknown contiguity kind {kind!r}; allowed: {', '.join(KINDS)}")
    if isinstance(snap, bool) or not isinstance(snap, int | float) or not 0 <= snap < float("inf"):
        raise InputError(f"snapping tolerance {snap!r}: must be a finite number of metres >= 0 "
                         f"(default {DEFAULT_SNAP_M:g})")
    if gdf.crs is None or gdf.crs.is_geographic:
        raise InputError(f"contiguity needs a projected CRS in metres, got {gdf.crs}; reproject with to_crs()")
    folder = _cache_folder(cache)
    key = _key(gdf, kind, bridges, float(snap))
    path = folder / f"graph-{key[:24]}.json" if folder else None
    found, usable = _read_cache(path, key, gdf, bridges) if path is not None else (None, False)
    if found is None:
        codes = gdf.index.astype(str)
        pairs, overlaps = _adjacent_pairs(gdf.geometry.values, kind, float(snap))
        edges = [[codes[i], codes[j], w, False, 0.0] for i, j, w in pairs]
        found = {"edges": _finish(edges, gdf, bridges, kind),
                 "overlaps": [[codes[i], codes[j], a] for i, j, a in overlaps]}
        if path is not None and usable:
            _write_cache(path, key, found, len(gdf))
    graph = _assemble(gdf, found["edges"], kind)
    graph.graph.update(snap=float(snap), overlaps=[tuple(o) for o in found["overlaps"]])
    _warn_overlaps(graph.graph["overlaps"], float(snap))
    log.info(
        "contiguity graph (%s, snapping tolerance %g m): %d municipalities, %d edges, %d bridges",
        kind, snap, graph.number_of_nodes(), graph.number_of_edges(), len(graph.graph["bridges"]),
    )
    return graph


def _warn_overlaps(overlaps: list, snap: float) -> None:
    if not overlaps:
        return
    shown = ", ".join(f"{a} and {b} ({area:,.4g} m2)" for a, b, area in overlaps[:5])
    more = f" and {len(overlaps) - 5:,} more" if len(overlaps) > 5 else ""
    log.warning("%d pair(s) of polygons overlap where they should only touch (wider than the snapping tolerance "
                "of %g m), so they are not counted as neighbours: %s%s. Fix: repair the polygons, or raise the "
                "snapping tolerance (--snap METRES)", len(overlaps), snap, shown, more)


def _assemble(gdf: gpd.GeoDataFrame, edges: list, kind: str) -> nx.Graph:
    graph = nx.Graph()
    codes = [str(c) for c in gdf.index]
    names = [str(n) for n in gdf["name"]] if "name" in gdf.columns else codes
    graph.add_nodes_from((code, {"population": int(pop), "name": name})
                         for code, pop, name in zip(codes, gdf["population"].to_numpy(), names))
    graph.add_edges_from((a, b, {"length": length, "bridge": bridge, "distance": dist})
                         for a, b, length, bridge, dist in edges)
    graph.graph["bridges"] = [(a, b) for a, b, _, bridge, _ in edges if bridge]
    graph.graph["kind"] = kind
    return graph


def _finish(edges: list, gdf: gpd.GeoDataFrame, bridges: bool, kind: str) -> list:
    graph = _assemble(gdf, edges, kind)
    if nx.is_connected(graph) or len(graph) == 0:
        return edges
    if not bridges:
        comps = list(nx.connected_components(graph))
        raise GraphError(
            f"the contiguity graph has {len(comps)} components: {_describe(comps, gdf)}. "
            "Fix: allow bridges, or select municipalities that form one connected territory."
        )
    return edges + [[a, b, 0.0, True, d] for a, b, d in _bridge(graph, gdf)]


def _read_cache(path: Path, key: str, gdf: gpd.GeoDataFrame, bridges: bool) -> tuple[dict | None, bool]:
    """``(found, usable)``: the cached ``{"edges", "overlaps"}`` or None, and whether to write the cache.

    Absent: (None, True). Inconsistent: one warning, (None, True), so it is rebuilt. Unreadable
    (a file where the folder should be, no permission): one warning, (None, False).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, True
    except OSError as exc:
        log.warning("graph cache %s cannot be read (%s); building the graph without the cache. Use "
                    "--cache-dir DIR for another folder, or --no-cache", path, exc.strerror or exc)
        return None, False
    try:
        record = json.loads(raw.decode("utf-8"))
        problem = _cache_problem(record, key, gdf, bridges)
    except (UnicodeDecodeError, ValueError, RecursionError):
        problem = "not valid JSON"
    if problem is not None:
        log.warning("graph cache %s discarded (%s); building the graph again", path, problem)
        return None, True
    log.info("contiguity graph read from cache %s", path)
    return {"edges": record["edges"], "overlaps": record["overlaps"]}, True


def _cache_problem(record, key: str, gdf: gpd.GeoDataFrame, bridges: bool) -> str | None:
    """What is wrong with a cache record, or None when it is the graph of these inputs."""
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        return "not a graph cache file"
    if record.get("version") != _VERSION:
        return f"written by another version (cache version {record.get('version')!r}, this one {_VERSION})"
    if record.get("key") != key:
        return "its fingerprint is not these municipalities' and options'"
    edges, overlaps = record.get("edges"), record.get("overlaps")
    if record.get("municipalities") != len(gdf) or not isinstance(edges, list) or not isinstance(overlaps, list):
        return "incomplete record"
    if record.get("sha256") != _content_hash(record):
        return "its content does not match its checksum"
    codes = set(gdf.index.astype(str))
    shape_ok = all(isinstance(e, list) and len(e) == 5 and e[0] in codes and e[1] in codes and e[0] != e[1]
                   and isinstance(e[3], bool) for e in edges)
    shape_ok = shape_ok and all(isinstance(o, list) and len(o) == 3 and o[0] in codes and o[1] in codes
                                for o in overlaps)
    if not shape_ok:
        return "entries of the wrong shape or naming unknown municipalities"
    if bridges and len(gdf) > 1:
        graph = nx.Graph((e[0], e[1]) for e in edges)
        if len(graph) != len(gdf) or not nx.is_connected(graph):
            return "its graph is not connected although bridges join every part"
    return None


def _write_cache(path: Path, key: str, found: dict, municipalities: int) -> None:
    """Save the graph; any failure is a warning (the cache is optional)."""
    record = {"format": _FORMAT, "version": _VERSION, "key": key, "municipalities": municipalities,
              "sha256": _content_hash(found), **found}
    try:
        write_json(path, record)
    except OSError as exc:
        log.warning("graph cache not saved (%s); the next run builds the graph again. "
                    "Use --cache-dir DIR for another folder, or --no-cache", exc)
