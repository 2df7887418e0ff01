"""The spare-gathering prototype of ``benchmarks/bench_gather.py`` on small graphs built here."""

import importlib.util
import random
from pathlib import Path

import networkx as nx

_path = Path(__file__).parents[1] / "benchmarks" / "bench_gather.py"
_spec = importlib.util.spec_from_file_location("bench_gather", _path)
bench_gather = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_gather)


def complies(graph, population, plan, floor):
    """Every plan of ``plan`` (unit -> plan id) reaches ``floor(units)`` and is connected."""
    groups: dict = {}
    for unit, p in plan.items():
        groups.setdefault(p, []).append(unit)
    return all(sum(population[u] for u in units) >= floor(units) and nx.is_connected(graph.subgraph(units))
               for units in groups.values())


def test_spare_handed_along_a_chain_makes_one_plan_more():
    # a path of twelve units of 10 in three plans of 40 under a floor of 30: 30 of spare, 10 in each;
    # the target (the last plan) reaches 60 and splits only if the first plan's spare passes through
    # the middle one
    graph = nx.path_graph(12)
    population = {u: 10 for u in graph}
    plan = {u: "abc"[u // 4] for u in graph}
    run = bench_gather.Gathering(graph, population, plan, lambda units: 30, random.Random(0))
    assert [run.spare(p) for p in "abc"] == [10, 10, 10]
    side = run.gather("c")
    assert side is not None and run.total == {"a": 30, "b": 30, "c": 60}
    new = run.with_new_plan("c", side)
    assert len(set(new.values())) == 4
    assert complies(graph, population, new, lambda units: 30)


def test_nothing_is_made_when_the_population_is_not_there():
    graph = nx.path_graph(6)
    population = {u: 10 for u in graph}
    plan = {u: "a" if u < 3 else "b" for u in graph}
    run = bench_gather.Gathering(graph, population, plan, lambda units: 25, random.Random(0))
    assert run.gather("b") is None
    assert complies(graph, population, run.plan, lambda units: 25)  # every hand-on kept the floors


def test_a_unit_that_would_cut_its_plan_stays():
    # a star: the centre cannot leave its plan, only leaves can
    graph = nx.star_graph(4)  # centre 0, leaves 1-4
    graph.add_edge(4, 5)
    population = {u: 10 for u in graph}
    plan = {0: "a", 1: "a", 2: "a", 3: "a", 4: "b", 5: "b"}
    run = bench_gather.Gathering(graph, population, plan, lambda units: 20, random.Random(0))
    run.gather("b")
    assert run.plan[0] == "a"
    assert complies(graph, population, run.plan, lambda units: 20)


def test_the_class_floor_is_the_scorecards(lombardy):
    # one definition of a plan's floor: the scorecard's; the prototype's, from totals, must agree
    from lombardy_districts.model.plan import Plan
    from lombardy_districts.model.rules import Rules
    from lombardy_districts.model.scorecard import evaluate

    rules = Rules.default()
    plan = Plan.from_csv(Path(__file__).parents[1] / "benchmarks" / "plans" / "default-cpsat.csv", lombardy)
    floor = bench_gather.class_floor(lombardy, rules)
    table = evaluate(plan, rules).plans.set_index("plan_id")
    for plan_id, members in plan.assignment.groupby(plan.assignment):
        assert floor(list(members.index)) == table.loc[plan_id, "floor"]
    assert set(table["floor"]) == {25_000, 80_000, 120_000}  # every class's floor was compared
