"""Colours for area plans: neighbouring plans never share one.

Plans are coloured greedily over their adjacency graph (two plans are neighbours when a
contiguity edge joins them, or when they are less than 500 m apart, across a river or lake or at a corner),
largest-degree first, from ``PALETTE``: ten colours chosen to stay apart from each other and from
the red used for plans below their floor. Lombardy's plans need five or six; should a plan graph
ever need more than the palette, extra colours are generated rather than reused, so the rule holds.

Two plans side by side (``colour_pair``) are coloured together, so that the same plan has the
same colour on both sides: each plan B continues the largest of the A plans whose successor it is
(``model.changes.predecessors``), and takes that plan's colour; the colouring runs over A's and B's
adjacencies at once, so neither side ever gives two neighbours one colour.
"""

from __future__ import annotations

import colorsys
from collections.abc import Mapping

import networkx as nx

from lombardy_districts.model.changes import predecessors

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


TIE_LINES = (("", "solid"), ("6 4", "dashed"), ("1 4", "dotted"), ("8 3 1 3", "dash-dot"))
"""How the ties of each kind (in name order) are drawn: SVG dashes, and in words; two layers on at once read apart."""


def plan_adjacency(plan) -> nx.Graph:
    """Graph whose nodes are the plan ids and whose edges join plans that touch or look as if they do.

    Plans touch across a contiguity edge; they look as if they do across a river or lake, where their
    municipalities are less than ``territory.NEAR_M`` apart (``Territory.near_pairs``).
    """
    graph = nx.Graph()
    graph.add_nodes_from(plan.plan_ids)
    assignment = plan.assignment.to_dict()  # a dict lookup per edge: the studio recolours after every edit
    for u, v in (*plan.territory.graph.edges, *plan.territory.near_pairs):
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
        Optional plan id -> colour wished for (e.g. the colour a plan had before an edit in the
        studio); granted whenever no neighbour already holds it. Two plans side by side are
        coloured by :func:`colour_pair` instead.
    """
    return colour_graph(plan_adjacency(plan), palette, preferred)


def colour_graph(
    graph: nx.Graph, palette: tuple[str, ...] = PALETTE, preferred: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Node -> colour for a graph of plans (``plan_adjacency``), neighbours never sharing one.

    The rule of :func:`colour_plans`, for callers that keep the plan adjacency up to date themselves.
    Wishes are granted first, so a node whose wish is refused never takes a colour another node wished
    for before that node is coloured (on real candidates 85-90% of plans keep the colour shown).
    """
    preferred = dict(preferred or {})
    order = sorted(graph.nodes, key=lambda p: (-graph.degree[p], p))
    colours: dict[str, str] = {}
    for node in order:  # first every wish that no neighbour's granted wish stands against
        wish = preferred.get(node)
        if wish is not None and all(colours.get(n) != wish for n in graph.neighbors(node)):
            colours[node] = wish
    extra: list[str] = []
    for node in order:
        if node in colours:
            continue
        taken = {colours[n] for n in graph.neighbors(node) if n in colours}
        choice = next((c for c in (*palette, *extra) if c not in taken), None)
        if choice is None:
            choice = _extra_colour(len(extra))
            extra.append(choice)
        colours[node] = choice
    return colours


def colour_pair(
    plan_a, plan_b, palette: tuple[str, ...] = PALETTE, preferred: Mapping[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Colours of two plans of the same municipalities: the same plan gets the same colour on both sides.

    A plan of B that continues plans of A (their successor: ``model.changes.predecessors``) takes
    the colour of the most populous of them, so an unchanged or repaired plan keeps its colour and a
    merged plan takes its largest predecessor's; a plan of B that continues none gets its own.
    Both sides stay properly coloured: the graph coloured joins the plans that touch on either side.
    ``preferred`` (A plan id -> colour, e.g. the colours A is shown in already, as in the studio) is
    granted wherever no plan touching it on either side holds that colour.
    """
    # B plan -> the A plan it continues (its largest predecessor)
    identity = {b: before[-1] for b, before in predecessors(plan_b, plan_a).items()}
    node_b = {b: identity.get(b, f"B:{b}") for b in plan_b.plan_ids}
    graph = plan_adjacency(plan_a)
    graph.add_nodes_from(node_b.values())
    graph.add_edges_from((node_b[x], node_b[y]) for x, y in plan_adjacency(plan_b).edges if node_b[x] != node_b[y])
    joint = colour_graph(graph, palette, preferred)
    return {a: joint[a] for a in plan_a.plan_ids}, {b: joint[node_b[b]] for b in plan_b.plan_ids}


def _extra_colour(i: int) -> str:
    """The i-th generated colour (golden-angle hues, mid lightness), for palettes too small."""
    r, g, b = colorsys.hls_to_rgb((0.13 + i * 0.618034) % 1.0, 0.6, 0.55)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def conflicts(plan, colours: Mapping[str, str]) -> list[tuple[str, str]]:
    """Pairs of neighbouring plans that share a colour (empty for a proper colouring)."""
    return [(a, b) for a, b in plan_adjacency(plan).edges if colours[a] == colours[b]]
