"""Plans keep the current plans' identity, and every change from the status quo is listed, in rows and words."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from lombardy_districts.model.changes import CHANGE_COLUMNS, change_table, describe_changes, identify, predecessors
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import CLASSES, Rules
from lombardy_districts.model.scorecard import evaluate
from tests.grids import grid_territory

NO_FLOOR = Rules(floors=dict.fromkeys(CLASSES, 0))


@pytest.fixture
def line():
    # six municipalities in a row: 100, 200, ..., 600 inhabitants
    return grid_territory(1, 6, population=[100, 200, 300, 400, 500, 600])


def status_quo(territory, groups: str, names=None) -> Plan:
    return Plan(territory, dict(zip(territory.codes, groups)), names)


def solver_plan(territory, labels) -> Plan:
    """A plan as a solver hands it back: its own ids (P001...), named after the largest municipality."""
    return Plan(territory, dict(zip(territory.codes, labels)))


def test_unchanged_and_merged_plans_keep_the_current_ids(line):
    sq = status_quo(line, "aabbcc", {"a": "Alpha", "b": "Beta", "c": "Gamma"})
    # a and b merged, c unchanged, renumbered by the solver
    plan = identify(solver_plan(line, ["P2", "P2", "P2", "P2", "P1", "P1"]), sq)
    assert plan.assignment.tolist() == ["a+b"] * 4 + ["c"] * 2  # smaller first: a (300) joins b (700)
    assert plan.name("a+b") == "Alpha + Beta" and plan.name("c") == "Gamma"
    assert plan.parent is not None  # the solver's plan, kept as the parent


def test_predecessors_are_the_plans_continued_smallest_first(line):
    sq = status_quo(line, "aabbcc")
    # P2 continues a (300 inhabitants) and b (700), P1 continues c; the merged plan's largest predecessor is last
    assert predecessors(solver_plan(line, ["P2", "P2", "P2", "P2", "P1", "P1"]), sq) == {"P2": ["a", "b"],
                                                                                        "P1": ["c"]}
    # a plan continuing no current plan is left out
    assert predecessors(solver_plan(line, ["x", "y", "y", "y", "z", "z"]), sq) == {"y": ["a", "b"], "z": ["c"]}


def test_a_repaired_plan_keeps_its_id_and_a_plan_of_split_parts_is_new(line):
    sq = status_quo(line, "aabbbb", {"a": "Alpha", "b": "Beta"})
    repaired = identify(solver_plan(line, ["x", "x", "x", "y", "y", "y"]), sq)  # municipality 3 moves to a
    assert repaired.assignment.tolist() == ["a", "a", "a", "b", "b", "b"]
    split = identify(solver_plan(line, ["x", "x", "y", "y", "z", "z"]), sq)
    # b's successor holds most of its municipalities (tie: most inhabitants, 500 + 600), the other part is new
    assert split.assignment.tolist() == ["a", "a", "new_1", "new_1", "b", "b"]
    assert split.name("new_1") == f"{line.municipalities['name'].iloc[3]} (new)"


def test_lock_labels_are_kept_and_ids_stay_unique(line):
    sq = status_quo(line, "aabbcc")
    # the plan continuing b holds a municipality locked to plan "c": it keeps the lock label, and the
    # plan continuing c, whose id would also be c, gets a suffix instead
    plan = identify(solver_plan(line, ["c", "c", "c", "c", "q", "q"]), sq, locked={"c"})
    assert sorted(plan.plan_ids) == ["c", "c#2"]
    assert len(plan) == 2
    assert plan.name("c#2") == f"{sq.name('c')} (2)" != plan.name("c")  # two plans, two names


def test_change_table_lists_merges_moves_and_splits(line):
    sq = status_quo(line, "aabbcc", {"a": "Alpha", "b": "Beta", "c": "Gamma"})
    merged = identify(solver_plan(line, ["m", "m", "m", "m", "c", "c"]), sq)
    table = change_table(merged, sq)
    assert list(table.columns) == CHANGE_COLUMNS
    assert table[["change", "from_plan", "to_plan", "municipalities", "population", "population_moved"]] \
        .values.tolist() == [["merge", "a", "a+b", 2, 300, 0], ["merge", "b", "a+b", 2, 700, 0]]
    moved = identify(solver_plan(line, ["a", "a", "a", "b", "c", "c"]), sq)  # municipality 3 to a
    row = change_table(moved, sq).iloc[0]
    assert (row["change"], row["from_plan"], row["to_plan"], row["codes"], row["population_moved"]) == (
        "move", "b", "a", line.codes[2], 300)
    split = identify(solver_plan(line, ["a", "a", "b", "x", "c", "c"]), sq)
    row = change_table(split, sq).iloc[0]
    assert (row["change"], row["from_plan"], row["to_plan"]) == ("split", "b", "new_1")
    assert change_table(sq, sq).empty


def test_changes_in_words(line):
    sq = status_quo(line, "aabbcc", {"a": "Seriate", "b": "Dalmine", "c": "Treviglio"})
    plan = identify(solver_plan(line, ["m", "m", "m", "m", "c", "x"]), sq)
    card = evaluate(plan, NO_FLOOR, status_quo=sq)
    said = describe_changes(card.changes, card.plans.set_index("plan_id"))
    # Treviglio's two municipalities part: the one of more inhabitants (600) continues it
    name = line.municipalities["name"].iloc[4]
    assert said == ["Seriate merges with Dalmine: 1,000 inhabitants, standard, floor 0",
                    f"{name} (500 inhabitants) leaves Treviglio to form the new plan {name} (new)"]
    assert card.headline[1] == ("Changes from the status quo: 1 plan formed by merging, 1 municipality "
                                "(500 inhabitants) changes plan.")
    assert describe_changes(change_table(sq, sq)) == [
        "No change from the status quo: every current plan stays as it is."]


@pytest.mark.parametrize("seed", range(20))
def test_rows_add_up_to_the_scorecard_s_measures(seed):
    # random status quo and plan over a grid: the moved rows are exactly measures.moved
    rng = random.Random(seed)
    territory = grid_territory(3, 4, population=[rng.randint(1, 900) for _ in range(12)])
    sq = Plan(territory, {c: f"s{rng.randrange(4)}" for c in territory.codes})
    plan = identify(Plan(territory, {c: f"p{rng.randrange(rng.randint(1, 6))}" for c in territory.codes}), sq)
    card = evaluate(plan, NO_FLOOR, status_quo=sq)
    table, s = card.changes, card.summary
    moves = table[table["change"] != "merge"]
    assert moves["municipalities"].sum() == s["municipalities_moved"]
    assert moves["population_moved"].sum() == s["population_moved"]
    assert table[table["change"] == "merge"]["to_plan"].nunique() == s["plans_merged"]
    # every municipality that changed plan is listed once
    listed = [c for codes in moves["codes"] for c in codes.split("; ")]
    assert len(listed) == len(set(listed)) == s["municipalities_moved"]
    # identify only renames: the partition is the same
    assert pd.crosstab(plan.assignment, plan.parent.assignment).gt(0).sum(axis=1).eq(1).all()
