"""Colours for area plans: neighbouring plans never share one.

Plans are coloured greedily over their adjacency graph (two plans are neighbours when a
contiguity edge joins them), largest-degree first, from ``PALETTE``: ten colours chosen to
stay apart from each other and from the red used for plans below their floor. A map of
contiguous plans needs at most six (planar graphs are 6-degenerate); should a plan graph ever
need more than the palette, extra colours are generated rather than reused, so the rule holds.
"""

from __future__ import annotations

import colorsys
from collections.abc import Mapping

import networkx as nx

# Paul Tol's "muted" and "light" schemes, minus red-looking and near-white entries.
PALETTE = (
    "#88CCEE",  # cyan
    "#DDCC77",  # sand
    "#117733",  # green
    "#AA4499",  # purple
    "#44AA99",  # teal
    "#999933",  # olive
    "#332288",  # indigo
    "#EE8866",  # orange
    "#BBCC33",  # pear
    "#77AADD",  # light blue
)


def plan_adjacency(plan) -> nx.Graph:
    """Graph whose nodes are the plan ids and whose edges join plans that touch."""
    graph = nx.Graph()
    graph.add_nodes_from(plan.plan_ids)
    assignment = plan.assignment.to_dict()  # a dict lookup per edge: the studio recolours after every edit
    for u, v in plan.territory.graph.edges:
        a, b = assignment[u], assignment[v]
        if a != b:
            graph.add_edge(a, b)
    return graph


def colour_plans(
    plan, palette: tuple[str, ...] = PALETTE, preferred: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Plan id -> colour, such that neighbouring plans always differ.

    Parameters
    ----------
    plan
        A :class:`lombardy_districts.plan.Plan`.
    palette
        Colours to use first, in order.
    preferred
        Optional plan id -> colour wished for (e.g. the colour of the matching plan on the
        other side of a comparison); granted whenever no neighbour already holds it.
    """
    return colour_graph(plan_adjacency(plan), palette, preferred)


def colour_graph(
    graph: nx.Graph, palette: tuple[str, ...] = PALETTE, preferred: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Node -> colour for a graph of plans (``plan_adjacency``), neighbours never sharing one.

    The rule of :func:`colour_plans`, for callers that keep the plan adjacency up to date themselves.
    """
    preferred = dict(preferred or {})
    order = sorted(graph.nodes, key=lambda p: (-graph.degree[p], p))
    colours: dict[str, str] = {}
    extra: list[str] = []
    for node in order:
        taken = {colours[n] for n in graph.neighbors(node) if n in colours}
        wish = preferred.get(node)
        if wish is not None and wish not in taken:
            colours[node] = wish
            continue
        choice = next((c for c in (*palette, *extra) if c not in taken), None)
        if choice is None:
            choice = _extra_colour(len(extra))
            extra.append(choice)
        colours[node] = choice
    return colours


def _extra_colour(i: int) -> str:
    """The i-th generated colour (golden-angle hues, mid lightness), for palettes too small."""
    r, g, b = colorsys.hls_to_rgb((0.13 + i * 0.618034) % 1.0, 0.6, 0.55)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def conflicts(plan, colours: Mapping[str, str]) -> list[tuple[str, str]]:
    """Pairs of neighbouring plans that share a colour (empty for a proper colouring)."""
    return [(a, b) for a, b in plan_adjacency(plan).edges if colours[a] == colours[b]]
