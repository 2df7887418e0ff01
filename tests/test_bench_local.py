"""The enumeration behind ``benchmarks/bench_local.py``'s claims: every connected group, each once."""

import importlib.util
import itertools
from pathlib import Path

import networkx as nx
import pytest

_path = Path(__file__).parents[1] / "benchmarks" / "bench_local.py"
_spec = importlib.util.spec_from_file_location("bench_local", _path)
bench_local = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_local)


@pytest.mark.parametrize("seed", range(5))
def test_every_connected_group_once(seed):
    graph = nx.connected_watts_strogatz_graph(11, 4, 0.3, seed=seed)
    neighbours = {v: set(graph[v]) for v in graph}
    got = list(bench_local.connected_groups(neighbours, 4))
    want = {frozenset(c) for k in range(2, 5) for c in itertools.combinations(graph, k)
            if nx.is_connected(graph.subgraph(c))}
    assert len(got) == len(set(got))
    assert set(got) == want


def test_random_groups_are_connected_distinct_and_kept():
    graph = nx.grid_2d_graph(6, 6)
    index = {v: k for k, v in enumerate(graph)}
    neighbours = {index[v]: {index[u] for u in graph[v]} for v in graph}
    groups = bench_local.random_groups(neighbours, (3, 5), 40, seed=1, keep=lambda group: min(group) < 6)
    assert len(groups) == len(set(groups)) == 40
    assert all(min(group) < 6 for group in groups)
    back = {k: v for v, k in index.items()}
    for group in groups:
        assert 3 <= len(group) <= 5 and nx.is_connected(graph.subgraph(back[k] for k in group))
