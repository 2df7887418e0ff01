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
         "distance_m": round(graph.edges[a, b].get("distance", 0.0), 1)}
        for a, b in graph.graph.get("bridges", [])
    ]
    regions = sorted(gdf["region"].dropna().unique()) if "region" in gdf else []
    return {
        "region": ", ".join(regions) or "user data",
        "municipalities": len(gdf),
        "population": int(gdf["population"].sum()),
        "area_km2": round(float(gdf["area_km2"].sum()), 1) if "area_km2" in gdf else None,
        "contiguity": graph.graph.get("kind", "rook"),
        "contiguity_edges": graph.number_of_edges(),
        "bridges": bridges,
        "components": nx.number_connected_components(graph),
        "province": counts("province"),
        "altimetric_zone": counts("altimetric_zone"),
        "mountain_status": counts("mountain_status"),
        "degurba": counts("degurba"),
        "labour_market_areas": int(gdf["labour_market_area"].nunique()) if "labour_market_area" in gdf else 0,
    }
