"""The premise of ``tests.unproved``: no solver proves its province's plans, so a search on it runs on."""

import lombardy_districts as ld
from lombardy_districts.workflows.propose import build_problem
from tests import unproved


def test_the_unproved_province_leaves_a_gap_the_tests_can_stop_a_search_in(lombardy):
    territory = lombardy.select("province", [unproved.PROVINCE])
    assert len(territory.codes) == unproved.MUNICIPALITIES
    assert int(territory.municipalities["population"].sum()) == unproved.POPULATION
    proposal = ld.propose(territory, options={"solver": "cpsat", "time_limit": 5, "seed": 1, "workers": 1})
    result = proposal.result
    assert result.status == "feasible", "the tests that stop a search need a province the solvers do not prove"
    assert len(proposal.plan) + 2 <= result.bound, (len(proposal.plan), result.bound)
    assert build_problem(territory).rules == ld.Rules()  # the shipped rules
