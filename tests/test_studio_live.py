"""The studio's live scorecard gives the numbers of ``evaluate``, edit after edit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lombardy_districts.maps.colouring import plan_adjacency
from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.scorecard import PLAN_COLUMNS, class_reason, evaluate
from lombardy_districts.studio.live import LiveScore


def _same(live, card):
    """Integers and text exactly, floats to 1e-9 relative (numpy and pandas may sum in another order)."""
    left, right = live.plans[PLAN_COLUMNS], card.plans
    assert list(left["plan_id"]) == list(right["plan_id"])
    for column in PLAN_COLUMNS:
        a, b = left[column].tolist(), right[column].tolist()
        if pd.api.types.is_float_dtype(right[column]):
            assert np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True), column
        else:
            assert a == b, column
    for key, value in card.summary.items():
        got = live.summary[key]
        if isinstance(value, float):
            assert math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9), key
        elif key == "collaboration_retained_by_kind":
            assert got.keys() == value.keys() and all(math.isclose(got[k], v, rel_tol=1e-9) for k, v in value.items())
        else:
            assert got == value, key
    assert live.summary.keys() == card.summary.keys()
    assert live.headline == card.headline  # the words evaluate and propose print first
    if card.changes is None:
        assert live.changes is None
    else:
        pd.testing.assert_frame_equal(live.changes, card.changes)


def _random_edit(rng, assignment, codes, neighbours):
    """Move a municipality (or a few around it) to a neighbour's plan, merge two plans, or start a new one."""
    kind = rng.choice(["move", "move", "move", "brush", "merge", "new"])
    code = codes[rng.integers(len(codes))]
    if kind == "merge":
        other = assignment[neighbours[code][rng.integers(len(neighbours[code]))]]
        mine = assignment[code]
        return {c: mine for c, p in assignment.items() if p == other}
    if kind == "new":
        return {code: f"new-{rng.integers(10**6)}"}
    group = [code] + ([n for n in neighbours[code]][:3] if kind == "brush" else [])
    target = assignment[neighbours[code][rng.integers(len(neighbours[code]))]]
    return dict.fromkeys(group, target)


@pytest.mark.parametrize("with_status_quo", [False, True])
def test_live_score_equals_evaluate_on_random_edits(lombardy, with_status_quo):
    territory = lombardy.subset(lombardy.municipalities.index[lombardy.municipalities["province"].isin(
        ["Bergamo", "Lecco"])])
    gdf = territory.municipalities
    status_quo = Plan(territory, gdf["labour_market_area"].astype(str)) if with_status_quo else None
    rules = Rules.default().with_changes(hard_boundaries=("province",), ceiling=900_000,
                                         locked_municipalities={gdf.index[0]: "x"}, keep_together=("union",))
    collaboration = Collaboration.combine(default_collaboration(territory, status_quo), Collaboration(pd.DataFrame(
        [(gdf.index[1], gdf.index[300], 2.5, "union"), (gdf.index[2], gdf.index[3], 0.0, "union")],
        columns=["code_a", "code_b", "weight", "kind"]))).with_kind_weights({"labour_market": 0.5})
    live = LiveScore(territory, rules, collaboration, status_quo)
    neighbours = {c: list(territory.graph.neighbors(c)) for c in territory.codes}
    rng = np.random.default_rng(7)
    assignment = gdf["labour_market_area"].astype(str).to_dict()
    names = {next(iter(assignment.values())): "A <b>named</b> plan"}
    split = said = crossed = 0
    for step in range(60):
        assignment.update(_random_edit(rng, assignment, territory.codes, neighbours))
        if step % 6 == 0 or step > 54:
            plan = Plan(territory, assignment, names)
            card = live.score(assignment, names)
            _same(card, evaluate(plan, rules, collaboration, status_quo))
            split = max(split, card.summary["unions_split"])
            across = card.plans[card.plans["crosses"] != ""]
            assert set(across["crosses"]) <= {"province"} and not across["compliant"].any()
            crossed = max(crossed, len(across))
            said = max(said, sum(line.startswith("- ") for line in card.headline))
            # the plans coloured apart: those the maps colour apart (touching, or less than 500 m apart)
            assert set(map(frozenset, live.adjacency(assignment).edges)) == \
                set(map(frozenset, plan_adjacency(plan).edges))
    assert split > 0  # unions of municipalities were split along the way, and named in the violations
    assert crossed > 0  # plans across the province boundary were marked, as evaluate marks them
    assert (said > 0) == with_status_quo  # the headline said the changes from the status quo in words


def test_moved_in_counts_the_municipalities_that_moved_into_each_plan(make_grid):
    territory = make_grid(2, 3, 10_000)
    status_quo = Plan(territory, {c: "A" if i < 3 else "B" for i, c in enumerate(territory.codes)})
    live = LiveScore(territory, Rules().with_floor(20_000), default_collaboration(territory), status_quo)
    card = live.score({**status_quo.assignment.to_dict(), "000003": "B"})
    assert dict(zip(card.plans["plan_id"], card.plans["moved_in"])) == {"A": 0, "B": 1}
    assert card.summary["municipalities_moved"] == 1 and card.summary["population_moved"] == 10_000


def test_class_reason_says_why_in_numbers():
    # the live table's class_reason is the scorecard's own (model.scorecard.class_reason)
    rules = Rules()
    assert class_reason("mountain", 300.0, 0.71, rules) == \
        "mountain: 71% of its area is in totally mountain municipalities, 300 inhabitants per km2"
    assert class_reason("high_density", 1431.0, 0.0, rules) == \
        "high density: 1,431 inhabitants per km2 (at least 1,000)"
    assert class_reason("low_density", 100.0, 0.0, rules).startswith("low density: 100 inhabitants")


def test_a_status_quo_plan_split_in_equal_halves_follows_the_lowest_plan_id(make_grid):
    territory = make_grid(1, 4, 10_000)  # same municipalities and inhabitants on both sides: the lowest id
    status_quo = Plan(territory, dict.fromkeys(territory.codes, "A"))
    rules, collaboration = Rules().with_floor(10_000), default_collaboration(territory)
    live = LiveScore(territory, rules, collaboration, status_quo)
    halves = {"000001": "Q", "000002": "Q", "000003": "P", "000004": "P"}
    card = live.score(halves)
    _same(card, evaluate(Plan(territory, halves), rules, collaboration, status_quo))
    assert dict(zip(card.plans["plan_id"], card.plans["moved_in"])) == {"P": 0, "Q": 2}


def test_the_successor_holds_most_municipalities_before_most_inhabitants(make_grid):
    territory = make_grid(1, 4, [10_000, 10_000, 10_000, 50_000])
    status_quo = Plan(territory, dict.fromkeys(territory.codes, "A"))
    rules, collaboration = Rules().with_floor(10_000), default_collaboration(territory)
    split = {"000001": "P", "000002": "P", "000003": "P", "000004": "Q"}
    card = LiveScore(territory, rules, collaboration, status_quo).score(split)
    _same(card, evaluate(Plan(territory, split), rules, collaboration, status_quo))
    assert card.summary["municipalities_moved"] == 1 and card.summary["population_moved"] == 50_000


def test_bridges_and_notes_follow_evaluate_where_the_graph_has_a_bridge(lombardy):
    como = lombardy.subset(lombardy.municipalities.index[lombardy.municipalities["province"] == "Como"])
    assert como.graph.graph.get("bridges")  # Campione d'Italia, an exclave in Switzerland
    rules, collaboration = Rules.default(), default_collaboration(como)
    live = LiveScore(como, rules, collaboration)
    neighbours = {c: list(como.graph.neighbors(c)) for c in como.codes}
    assignment = como.municipalities["labour_market_area"].astype(str).to_dict()
    rng = np.random.default_rng(3)
    for _ in range(20):
        assignment.update(_random_edit(rng, assignment, como.codes, neighbours))
        _same(live.score(assignment), evaluate(Plan(como, assignment), rules, collaboration))
    assert live.score(assignment).summary["bridges"]
