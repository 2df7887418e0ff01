"""Merge and repair of the real example status quo (data/status_quo_example.csv), with and without
keeping every union of municipalities whole: the numbers the README gives."""

import pytest

import lombardy_districts as ld
from lombardy_districts.io.embedded import data_file
from lombardy_districts.model.options import DataOptions, Selection
from lombardy_districts.model.rules import Rules
from lombardy_districts.workflows.inputs import read_inputs

EXAMPLE = str(data_file("status_quo_example.csv"))


@pytest.fixture(scope="module")
def example():
    # the example covers 238 of the 1,504 municipalities: a status quo must say that a part is meant
    inputs = read_inputs(DataOptions(), Selection(within_status_quo=True), {"status_quo": EXAMPLE})
    return inputs.territory, inputs.plans["status_quo"]


def merged(plan, sq) -> list[list[str]]:
    """Status quo plans that share a plan of ``plan``, two or more."""
    groups = sq.assignment.groupby(plan.assignment.reindex(sq.assignment.index)).agg(lambda s: sorted(set(s)))
    return sorted(g for g in groups if len(g) > 1)


def test_the_example_splits_one_union(example):
    territory, sq = example
    card = ld.evaluate(sq, status_quo=sq)
    assert card.summary["unions_split"] == 1
    split = card.summary["unions_split_list"][0]
    assert split["union"] == "Terre Del Serio" and split["plans"] == ["bg_romano", "bg_treviglio"]
    together = Rules.default().with_changes(keep_together=("union",))
    assert any("Terre Del Serio" in v for v in sq.violations(together))


@pytest.mark.parametrize("keep, plans, pairs", [
    ((), 9, [["bg_dalmine", "bg_seriate"]]),
    (("union",), 8, [["bg_dalmine", "bg_seriate"], ["bg_romano", "bg_treviglio"]]),
])
def test_merge_of_the_example(example, keep, plans, pairs):
    territory, sq = example
    rules = Rules.default().with_changes(keep_together=keep)
    proposal = ld.propose(territory, mode="merge", status_quo=sq, rules=rules, options={"time_limit": 30})
    assert proposal.result.status == "optimal" and len(proposal.plan) == plans
    assert merged(proposal.plan, sq) == pairs
    summary = proposal.scorecard.summary
    assert summary["unions_split"] == (0 if keep else 1) and summary["municipalities_moved"] == 0
    assert summary["collaboration_retained_by_kind"]["current_plan"] == 1.0


def test_repair_of_the_example(example):
    territory, sq = example
    free = ld.propose(territory, mode="repair", status_quo=sq, options={"time_limit": 20})
    assert free.scorecard.summary["municipalities_moved"] == 2 and len(free.plan) == 10
    assert free.scorecard.summary["unions_split"] == 1
    rules = Rules.default().with_changes(keep_together=("union",))
    kept = ld.propose(territory, mode="repair", status_quo=sq, rules=rules, options={"time_limit": 10})
    summary = kept.scorecard.summary
    assert kept.plan.violations(rules) == [] and len(kept.plan) == 10 and summary["unions_split"] == 0
    # two of Terre del Serio's five members are in Romano, three in Treviglio: one side moves, and Seriate
    # still grows; the heuristic's repair (CP-SAT's warm start) moves 5, CP-SAT has not found fewer
    assert summary["municipalities_moved"] <= 5 and summary["collaboration_retained_by_kind"]["union"] == 1.0


def test_a_lock_to_another_plan_in_the_example(example):
    # the README's lock: Dalmine (016091) locked to Isola Bergamasca moves into it in a repair (and
    # Dalmine's plan, short of 120,000, takes a municipality back); in a merge their plans merge
    territory, sq = example
    rules = Rules.default().with_changes(locked_municipalities={"016091": "bg_isola_bergamasca"})
    repair = ld.propose(territory, mode="repair", status_quo=sq, rules=rules, options={"time_limit": 20})
    isola = sq.assignment[sq.assignment == "bg_isola_bergamasca"].index
    assert repair.plan.assignment["016091"] == "bg_isola_bergamasca"
    assert (repair.plan.assignment[isola] == "bg_isola_bergamasca").mean() > 0.5
    assert repair.plan.violations(rules) == [] and len(repair.plan) == 10
    assert 3 <= repair.scorecard.summary["municipalities_moved"] <= 4
    merge = ld.propose(territory, mode="merge", status_quo=sq, rules=rules, options={"time_limit": 30})
    assert merge.result.status == "optimal" and len(merge.plan) == 8
    assert merged(merge.plan, sq) == [["bg_dalmine", "bg_isola_bergamasca", "bg_seriate"]]
