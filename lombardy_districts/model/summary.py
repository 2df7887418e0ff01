"""One-object summary of a territory, for ``lombardy-districts data``."""

from __future__ import annotations

import networkx as nx

from lombardy_districts.model.territory import Territory


def summarize(territory: Territory) -> dict:
    """Counts a user checks first: municipalities, population, graph, classes."""
    gdf, graph = territory.municipalities, territory.graph
    names = gdf["name"]

    def counts(column: str) -> dict:
        if column not in gdf:
            return {}
        values = gdf[column].astype("string").fillna("unknown")
        return {str(k): int(v) for k, v in values.value_counts().sort_index().items()}

    bridges = [
        {"from": a, "from_name": names[a], "to": b, "to_name": names[b],
         "distance_m": round(graph.edges[a, b].get("distance", 0.0), 1),
         "selection": bool(graph.edges[a, b].get("selection"))}
        for a, b in graph.graph.get("bridges", [])
    ]
    regions = sorted(gdf["region"].dropna().unique()) if "region" in gdf else []
    overlaps = [{"a": a, "a_name": names[a], "b": b, "b_name": names[b], "area_m2": round(area, 1)}
                for a, b, area in graph.graph.get("overlaps", [])]
    return {
        "region": ", ".join(regions) or "user data",
        "municipalities": len(gdf),
        "population": int(gdf["population"].sum()),
        "area_km2": round(float(gdf["area_km2"].sum()), 1) if "area_km2" in gdf else None,
        "areas": territory.area_rule,
        "crs": str(gdf.crs),
        "ids": "ISTAT codes" if territory.istat else "text, exactly as in the file",
        "contiguity": graph.graph.get("kind", "rook"),
        "snap_m": graph.graph.get("snap"),
        "overlaps": overlaps,
        "contiguity_edges": graph.number_of_edges(),
        "bridges": bridges,
        "components": nx.number_connected_components(graph),
        "province": counts("province"),
        "altimetric_zone": counts("altimetric_zone"),
        "mountain_status": counts("mountain_status") if territory.istat or _supplied(gdf) else {},
        "degurba": counts("degurba"),
        "labour_market_areas": int(gdf["labour_market_area"].nunique()) if "labour_market_area" in gdf else None,
    }


def _supplied(gdf) -> bool:
    """Whether the data says anything about mountain status (user files without the column get "not")."""
    return "mountain_status" in gdf and bool((gdf["mountain_status"] != "not").any())
