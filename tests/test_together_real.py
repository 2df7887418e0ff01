"""ATS borders and unions of municipalities on the real Lombardy map, checked from the shipped tables."""

import pandas as pd
import pytest

import lombardy_districts as ld
from lombardy_districts.errors import InfeasibleError
from lombardy_districts.io.embedded import data_file
from lombardy_districts.model.collaboration import default_collaboration
from lombardy_districts.model.feasibility import check_feasible
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules

TABLE = pd.read_csv(data_file("lombardy_2023.csv"), dtype={"code": str}).set_index("code")
UNIONS = pd.read_csv(data_file("unions.csv"), dtype=str)


def test_a_union_across_an_ats_border_is_named_before_solving(lombardy):
    rules = Rules.default().with_changes(hard_boundaries=("ats",), keep_together=("union",))
    with pytest.raises(InfeasibleError) as caught:
        check_feasible(Problem(lombardy, rules, default_collaboration(lombardy)))
    message = str(caught.value)
    assert "Pontevico e Robecco D'Oglio" in message and "lies across the hard boundary ats" in message
    assert "Pontevico (017149) in ats=Brescia; Robecco d'Oglio (019085) in ats=Val Padana" in message
    assert message.count("\n- ") == 1  # the only such union
    # either rule alone passes
    check_feasible(Problem(lombardy, rules.with_changes(keep_together=()), default_collaboration(lombardy)))
    check_feasible(Problem(lombardy, rules.with_changes(hard_boundaries=()), default_collaboration(lombardy)))


def test_the_evaluator_names_the_union_a_plan_splits(lombardy):
    provinces = Plan(lombardy, TABLE["province"])
    rules = Rules().with_floor(0).with_changes(keep_together=("union",))
    broken = [v for v in provinces.violations(rules) if "keep_together" in v]
    assert broken == ['union "Unione Lombarda tra i Comuni di Pontevico e Robecco D\'Oglio" (Pontevico, Robecco '
                      'd\'Oglio) is split between plans Brescia (Brescia), Cremona (Cremona); keep_together = '
                      '["union"] keeps it in one plan']
    assert provinces.violations(rules.with_changes(keep_together=())) == ["plan Milano (Milano) is not contiguous"]


def _ats_per_plan(plan: Plan) -> pd.Series:
    frame = pd.DataFrame({"plan": plan.assignment, "ats": TABLE["ats"].reindex(plan.assignment.index)})
    return frame.groupby("plan")["ats"].nunique()


@pytest.mark.slow
def test_no_plan_crosses_an_ats_border_on_the_whole_region(lombardy):
    rules = Rules.default().with_changes(hard_boundaries=("ats",))
    proposal = ld.propose(lombardy, rules=rules, options={"time_limit": 20, "seed": 1})
    plan = proposal.plan
    assert plan is not None and proposal.scorecard.summary["non_compliant_plans"] == 0
    assert set(plan.assignment.index) == set(TABLE.index)
    assert (_ats_per_plan(plan) == 1).all()  # from the shipped table, not from the evaluator
    assert len(plan) >= 100


@pytest.mark.slow
def test_every_union_is_kept_whole_on_the_whole_region(lombardy):
    rules = Rules.default().with_changes(keep_together=("union",))
    proposal = ld.propose(lombardy, rules=rules, options={"solver": "heuristic", "time_limit": 20, "seed": 1})
    plan = proposal.plan
    assert plan is not None and plan.violations(rules) == []
    plan_of = plan.assignment
    for union_id, members in UNIONS.groupby("union_id")["municipality_code"]:
        assert plan_of[list(members)].nunique() == 1, union_id
    assert proposal.scorecard.summary["collaboration_retained_by_kind"]["union"] == 1.0
