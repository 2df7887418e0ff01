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
_VERSION = 2  # bump when the construction or the file changes, so old cache files are ignored
_FORMAT = "lombardy-districts contiguity graph"


def cache_dir() -> Path:
    """Where graphs are cached: ``$LOMBARDY_DISTRICTS_CACHE`` or ``~/.cache/lombardy-districts``."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lombardy-districts"
    return Path(os.environ.get("LOMBARDY_DISTRICTS_CACHE") or default)


def _key(gdf: gpd.GeoDataFrame, kind: str, bridges: bool) -> str:
    """The inputs' fingerprint: version, options, CRS, codes and every geometry."""
    digest = hashlib.sha256(f"{_VERSION}|{kind}|{bridges}|{gdf.crs}".encode())
    digest.update("|".join(gdf.index.astype(str)).encode())
    for wkb in shapely.to_wkb(gdf.geometry.values, hex=False):
        digest.update(wkb)
    return digest.hexdigest()


def _edges_hash(edges: list) -> str:
    return hashlib.sha256(json.dumps(edges, separators=(",", ":")).encode()).hexdigest()


def _adjacent_pairs(geoms: np.ndarray, kind: str) -> list[tuple[int, int, float]]:
    """Pairs (i, j, shared boundary length in CRS units) of touching polygons."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    bounds = shapely.boundary(geoms)
    shared = shapely.intersection(bounds[left], bounds[right])
    length = shapely.length(shared)
    touches = ~shapely.is_empty(shared)
    rook = length > 0
    chosen = rook if kind == "rook" else (rook | touches)
    return [(int(i), int(j), float(w)) for i, j, w in zip(left[chosen], right[chosen], length[chosen])]


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
        more = f" and {len(comp) - 5} more" if len(comp) > 5 else ""
        lines.append(f"{len(comp)} municipalities: {shown}{more}")
    return "; ".join(lines)


def contiguity_graph(
    gdf: gpd.GeoDataFrame,
    kind: str = "rook",
    bridges: bool = True,
    cache: bool | str | Path = True,
) -> nx.Graph:
    """Build the contiguity graph of ``gdf`` (index = municipality code, projected CRS in metres).

    Parameters
    ----------
    gdf
        Municipalities with a ``population`` column and polygon geometry.
    kind
        ``"rook"``: neighbours share a boundary line (edge attribute ``length`` in metres);
        ``"queen"``: touching at a single point is enough.
    bridges
        Join disconnected parts by their nearest municipalities with edges marked
        ``bridge=True``. When False, a disconnected graph is an error naming the components.
    cache
        True for the default cache folder (see ``cache_dir``), a folder path, or False.
        Files are keyed by codes, geometry and options; deleting them is safe.

    Returns
    -------
    networkx.Graph
        Nodes are codes with ``population`` (and ``name``) attributes; edges carry
        ``length`` and ``bridge``; ``graph.graph["bridges"]`` lists the bridge edges.
    """
    if kind not in KINDS:
        raise InputError(f"unknown contiguity kind {kind!r}; allowed: {', '.join(KINDS)}")
    if gdf.crs is None or gdf.crs.is_geographic:
        raise InputError(f"contiguity needs a projected CRS in metres, got {gdf.crs}; reproject with to_crs()")
    folder = None if cache is False else (cache_dir() if cache is True else Path(cache))
    key = _key(gdf, kind, bridges)
    path = folder / f"graph-{key[:24]}.json" if folder else None
    edges = _read_cache(path, key, gdf, kind, bridges) if path is not None else None
    if edges is None:
        codes = gdf.index.astype(str)
        pairs = _adjacent_pairs(gdf.geometry.values, kind)
        edges = [[codes[i], codes[j], w, False, 0.0] for i, j, w in pairs]
        edges = _finish(edges, gdf, bridges, kind)
        if path is not None:
            _write_cache(path, key, edges, gdf, kind, bridges)
    graph = _assemble(gdf, edges, kind)
    log.info(
        "contiguity graph (%s): %d municipalities, %d edges, %d bridges",
        kind, graph.number_of_nodes(), graph.number_of_edges(), len(graph.graph["bridges"]),
    )
    return graph


def _assemble(gdf: gpd.GeoDataFrame, edges: list, kind: str) -> nx.Graph:
    graph = nx.Graph()
    for code, row in gdf.drop(columns="geometry").iterrows():
        graph.add_node(str(code), population=int(row["population"]), name=str(row.get("name", code)))
    for a, b, length, bridge, dist in edges:
        graph.add_edge(a, b, length=length, bridge=bridge, distance=dist)
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


def _read_cache(path: Path, key: str, gdf: gpd.GeoDataFrame, kind: str, bridges: bool) -> list | None:
    """The cached edges, or None (absent, unreadable or inconsistent: one warning, then rebuilt)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("graph cache %s cannot be read (%s); building the graph without it", path,
                    exc.strerror or exc)
        return None
    problem = None
    try:
        record = json.loads(raw.decode("utf-8"))
        problem = _cache_problem(record, key, gdf, kind, bridges)
    except (UnicodeDecodeError, ValueError, RecursionError):
        problem = "not valid JSON"
    if problem is not None:
        log.warning("graph cache %s discarded (%s); building the graph again", path, problem)
        return None
    log.info("contiguity graph read from cache %s", path)
    return record["edges"]


def _cache_problem(record, key: str, gdf: gpd.GeoDataFrame, kind: str, bridges: bool) -> str | None:
    """What is wrong with a cache record, or None when it is the graph of these inputs."""
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        return "not a graph cache file"
    if record.get("version") != _VERSION:
        return f"written by another version (cache version {record.get('version')!r}, this one {_VERSION})"
    if record.get("key") != key or record.get("kind") != kind or record.get("bridges") != bridges:
        return "its fingerprint is not these municipalities' and options'"
    edges = record.get("edges")
    if record.get("municipalities") != len(gdf) or not isinstance(edges, list):
        return "incomplete record"
    if record.get("edges_sha256") != _edges_hash(edges):
        return "its edges do not match their checksum"
    codes = set(gdf.index.astype(str))
    shape_ok = all(isinstance(e, list) and len(e) == 5 and e[0] in codes and e[1] in codes and e[0] != e[1]
                   and isinstance(e[3], bool) for e in edges)
    if not shape_ok:
        return "edges of the wrong shape or naming unknown municipalities"
    if bridges and len(gdf) > 1:
        graph = nx.Graph((e[0], e[1]) for e in edges)
        if len(graph) != len(gdf) or not nx.is_connected(graph):
            return "its graph is not connected although bridges join every part"
    return None


def _write_cache(path: Path, key: str, edges: list, gdf: gpd.GeoDataFrame, kind: str, bridges: bool) -> None:
    """Save the edges; any failure is a warning (the cache is optional)."""
    record = {"format": _FORMAT, "version": _VERSION, "key": key, "kind": kind, "bridges": bridges,
              "municipalities": len(gdf), "edges_sha256": _edges_hash(edges), "edges": edges}
    try:
        write_json(path, record)
    except OSError as exc:
        log.warning("graph cache not saved (%s); the next run builds the graph again. "
                    "Use --cache-dir DIR for another folder, or --no-cache", exc)
