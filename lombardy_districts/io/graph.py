"""Contiguity graph of municipalities: rook or queen adjacency, bridges for exclaves, disk cache.

Rule for units with no land neighbour (documented in README): each connected component other
than the largest is joined to the nearest municipality outside it (shortest distance between
polygons) by one edge marked ``bridge=True``, repeated until the graph is connected. In Lombardy
this joins Campione d'Italia (013040), an exclave in Switzerland, to the Como shore.
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

log = logging.getLogger(__name__)

KINDS = ("rook", "queen")
_VERSION = 1  # bump when the construction changes, so old cache files are ignored


def cache_dir() -> Path:
    """Where graphs are cached: ``$LOMBARDY_DISTRICTS_CACHE`` or ``~/.cache/lombardy-districts``."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lombardy-districts"
    return Path(os.environ.get("LOMBARDY_DISTRICTS_CACHE", default))


def _key(gdf: gpd.GeoDataFrame, kind: str, bridges: bool) -> str:
    digest = hashlib.sha256(f"{_VERSION}|{kind}|{bridges}|{gdf.crs}".encode())
    digest.update("|".join(gdf.index.astype(str)).encode())
    for wkb in shapely.to_wkb(gdf.geometry.values, hex=False):
        digest.update(wkb)
    return digest.hexdigest()[:24]


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
    path = folder / f"graph-{_key(gdf, kind, bridges)}.json" if folder else None
    if path is not None and path.exists():
        edges = json.loads(path.read_text())
        log.info("contiguity graph read from cache %s", path)
    else:
        codes = gdf.index.astype(str)
        pairs = _adjacent_pairs(gdf.geometry.values, kind)
        edges = [[codes[i], codes[j], w, False, 0.0] for i, j, w in pairs]
        edges = _finish(edges, gdf, bridges, kind)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(edges))
            tmp.replace(path)
    graph = _assemble(gdf, edges, kind)
    log.info(
        "contiguity graph (%s): %d municipalities, %d edges, %d bridges",
        kind, graph.number_of_nodes(), graph.number_of_edges(), len(graph.graph["bridges"]),
    )
    return graph


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
