"""Contiguity graph: real neighbours, the exclave bridge, queen option, cache."""

import networkx as nx
import pytest
from shapely.affinity import translate

from lombardy_districts.errors import GraphError, InputError
from lombardy_districts.io.graph import contiguity_graph
from tests.conftest import grid_frame


def _code(territory, name):
    gdf = territory.municipalities
    return gdf.index[gdf["name"] == name][0]


def test_lombardy_graph_is_connected_with_one_bridge(lombardy):
    graph = lombardy.graph
    # regression number: 1,504 municipalities of Lombardy in 2023 (ISTAT; data/README.md)
    assert graph.number_of_nodes() == 1504
    assert nx.is_connected(graph)
    assert graph.graph["bridges"] == [("013040", "013253")]  # Campione d'Italia - Alta Valle Intelvi
    assert graph.edges["013040", "013253"]["bridge"] is True
    assert list(graph["013040"]) == ["013253"]
    assert sum(1 for *_, d in graph.edges(data=True) if d["bridge"]) == 1


@pytest.mark.parametrize(
    "town, neighbours, strangers",
    [
        ("Milano", ["Sesto San Giovanni", "Rozzano", "Segrate", "Assago", "Rho", "Corsico"], ["Monza", "Bergamo"]),
        ("Bergamo", ["Seriate", "Orio al Serio", "Stezzano", "Curno"], ["Brescia", "Milano"]),
        ("Monza", ["Sesto San Giovanni", "Brugherio", "Lissone", "Villasanta"], ["Milano"]),
        ("Brescia", ["Rezzato", "Castenedolo", "Concesio", "Gussago"], ["Bergamo"]),
        # Lake Como: Bellagio faces Varenna and Tremezzina across the water
        ("Bellagio", ["Varenna", "Tremezzina", "Lezzeno"], ["Como"]),
    ],
)
def test_sensible_neighbours(lombardy, town, neighbours, strangers):
    code = _code(lombardy, town)
    near = {lombardy.graph.nodes[n]["name"] for n in lombardy.graph[code]}
    assert set(neighbours) <= near
    assert not set(strangers) & near


def test_shared_boundary_lengths_are_metres(lombardy):
    length = lombardy.graph.edges[_code(lombardy, "Milano"), _code(lombardy, "Sesto San Giovanni")]["length"]
    assert 1_000 < length < 15_000


def test_queen_adds_the_78_point_contacts(lombardy, tmp_path):
    queen = contiguity_graph(lombardy.municipalities, kind="queen", cache=tmp_path)
    assert queen.number_of_edges() - lombardy.graph.number_of_edges() == 78


def test_cache_is_reused_and_safe_to_delete(tmp_path):
    gdf = grid_frame(2, 3, 10)
    first = contiguity_graph(gdf, cache=tmp_path)
    files = list(tmp_path.glob("graph-*.json"))
    assert len(files) == 1
    again = contiguity_graph(gdf, cache=tmp_path)
    assert sorted(again.edges) == sorted(first.edges)
    files[0].unlink()
    assert sorted(contiguity_graph(gdf, cache=tmp_path).edges) == sorted(first.edges)
    other = gdf.copy()
    other.loc["000001", "geometry"] = other.loc["000001", "geometry"].buffer(-1)  # no longer touches
    contiguity_graph(other, cache=tmp_path)
    assert len(list(tmp_path.glob("graph-*.json"))) == 2


def test_grid_rook_and_queen():
    gdf = grid_frame(3, 3, 10)
    assert contiguity_graph(gdf, cache=False).number_of_edges() == 12
    assert contiguity_graph(gdf, kind="queen", cache=False).number_of_edges() == 12 + 8


def test_island_is_bridged_or_named():
    gdf = grid_frame(1, 3, 10)
    gdf.loc["000003", "geometry"] = translate(gdf.loc["000003", "geometry"], 5_000, 0)
    graph = contiguity_graph(gdf, cache=False)
    assert graph.graph["bridges"] == [("000003", "000002")]
    with pytest.raises(GraphError, match=r"2 components: 1 municipalities: M3 \(000003\)"):
        contiguity_graph(gdf, bridges=False, cache=False)


def test_bad_options():
    gdf = grid_frame(1, 2, 10)
    with pytest.raises(InputError, match="unknown contiguity kind 'bishop'"):
        contiguity_graph(gdf, kind="bishop", cache=False)
    with pytest.raises(InputError, match="projected CRS"):
        contiguity_graph(gdf.to_crs(4326), cache=False)


def test_the_snapping_tolerance_is_part_of_the_cache_key(tmp_path):
    gdf = grid_frame(1, 2, 10)
    gdf.loc["000002", "geometry"] = translate(gdf.loc["000002", "geometry"], 0.5, 0)  # a 0.5 m gap
    near = contiguity_graph(gdf, cache=tmp_path, snap=1.0)
    exact = contiguity_graph(gdf, cache=tmp_path, snap=0.0)
    assert len(list(tmp_path.glob("graph-*.json"))) == 2
    assert near.graph["bridges"] == [] and near.number_of_edges() == 1 and near.graph["snap"] == 1.0
    assert exact.graph["bridges"] == [("000001", "000002")]  # read back from its own file, not the other's
    assert contiguity_graph(gdf, cache=tmp_path, snap=0.0).graph["bridges"] == [("000001", "000002")]
