import argparse
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from lombardy_districts.cli.options import add_selection_options, selection
from lombardy_districts.errors import InfeasibleError, InputError
from lombardy_districts.model.collaboration import default_collaboration
from lombardy_districts.model.feasibility import check_feasible
from lombardy_districts.model.options import Selection
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.selection import plan_for, select_territory, warn_enclosed
from lombardy_districts.solvers.units import Units
from lombardy_districts.studio.live import LiveScore
from lombardy_districts.workflows.frontier import best_merge
from lombardy_districts.workflows.inputs import load
from lombardy_districts.workflows.propose import build_problem, solve
from tests.grids import grid_territory


@pytest.fixture
def grid():
    # 1 x 4: provinces Bergamo Bergamo Brescia Pavia
    return grid_territory(1, 4, province=["Bergamo", "Bergamo", "Brescia", "Pavia"],
                          province_code=["016", "016", "017", "018"],
                          labour_market_area=["Bergamo", "Treviglio", "Brescia", "Pavia"])


def parse(*argv) -> Selection:
    """The command line's selection options as the ``Selection`` they build (its problems raised)."""
    parser = argparse.ArgumentParser()
    add_selection_options(parser)
    problems = []
    found = selection(parser.parse_args(list(argv)), problems)
    if problems:
        raise InputError(problems)
    return found


def frame(rows):
    return pd.DataFrame(rows, columns=["municipality_code", "plan_id"]).assign(plan_name=float("nan"))


def test_no_option_keeps_everything(grid):
    args = parse()
    assert not args.active
    assert select_territory(grid, args) is grid


def test_province_by_name_or_code(grid):
    assert select_territory(grid, parse("--province", "bergamo, BRESCIA")).codes == ["000001", "000002", "000003"]
    assert select_territory(grid, parse("--province", "18")).codes == ["000004"]


def test_select_columns_intersect(grid):
    args = parse("--select", "province=Bergamo,Brescia", "--select", "labour_market_area=Treviglio,Brescia")
    part = select_territory(grid, args)
    assert part.codes == ["000002", "000003"]
    assert part.graph.number_of_nodes() == 2  # graph rebuilt for the part


def test_within_status_quo(grid):
    sq = frame([("000003", "x"), ("000004", "x")])
    assert select_territory(grid, parse("--within-status-quo"), sq).codes == ["000003", "000004"]
    with pytest.raises(InputError, match="--within-status-quo needs a status quo. Fix: add --status-quo"):
        select_territory(grid, parse("--within-status-quo"))


def test_a_malformed_select_option_is_named():
    with pytest.raises(InputError, match="--select 'nonsense' must look like COLUMN=V1"):
        parse("--select", "nonsense")


def test_bad_selection_names_every_problem(grid):
    with pytest.raises(InputError) as info:
        select_territory(grid, parse("--province", "Bergamo,Milano", "--select", "provincia=Pavia",
                                     "--select", "province=Lecco"))
    assert info.value.problems == [
        "--province 'Milano' is not a province of this territory; allowed: Bergamo, Brescia, Pavia "
        "(or their ISTAT codes or official abbreviations, e.g. BG, MB)",
        "--select: unknown column 'provincia'; allowed: name, province, province_code, region, population, "
        "area_km2, altimetric_zone, mountain_status, degurba, labour_market_area, density",
        "--select: no municipality has province = 'Lecco'; values present: Bergamo, Brescia, Pavia",
    ]


@pytest.mark.parametrize("given, found", [
    ("BG", "Bergamo"), ("bs", "Brescia"), ("Monza e Brianza", "Monza e della Brianza"), ("MB", "Monza e della Brianza"),
    ("Mantua", "Mantova"), ("monza", "Monza e della Brianza"), ("016", "Bergamo"), ("bergamo", "Bergamo"),
])
def test_provinces_by_abbreviation_and_common_variants(lombardy, given, found):
    part = select_territory(lombardy, parse("--province", given))
    assert set(part.municipalities["province"]) == {found}


def test_a_misspelled_province_gets_the_closest_suggestion(lombardy):
    with pytest.raises(InputError, match="--province 'Bergamso' is not a province of this territory "
                                         "\\(did you mean 'Bergamo'\\?\\); allowed"):
        select_territory(lombardy, parse("--province", "Bergamso"))
    # from Python, in the words of the call
    with pytest.raises(InputError, match="^province = 'Bergamso' is not a province of this territory "):
        load(province="Bergamso")


def test_empty_selection(grid):
    with pytest.raises(InputError, match="the selection is empty"):
        select_territory(grid, parse("--province", "Pavia", "--select", "province=Bergamo"))


def test_plan_for_drops_rows_outside_the_selection_only(grid):
    part = select_territory(grid, parse("--province", "Bergamo"))
    plan = plan_for(part, frame([("000001", "a"), ("000002", "a"), ("000003", "b")]), grid.codes)
    assert plan.assignment.to_dict() == {"000001": "a", "000002": "a"}
    with pytest.raises(InputError, match=r"status quo: municipalities with no plan \(1\): 000002 M2"):
        plan_for(part, frame([("000001", "a")]), grid.codes, what="status quo")
    with pytest.raises(InputError, match="plan: unknown municipality codes: 999999"):
        plan_for(part, frame([("000001", "a"), ("000002", "a"), ("999999", "a")]), grid.codes)


def test_pieces_of_a_selection_are_kept_apart_and_an_exclave_is_not_a_piece(lombardy):
    assert lombardy.select("province", ["Como"]).pieces is None  # Campione's bridge is the region's own
    two = lombardy.select("province", ["Lodi", "Sondrio"])  # far apart: one long bridge joins them
    pieces = two.pieces
    assert pieces is not None and pieces.nunique() == 2
    assert pieces.groupby(two.municipalities["province"]).nunique().eq(1).all()  # a piece is a province
    problem = build_problem(two, floor=25_000)
    units = Units.from_problem(problem)  # the solvers see the pieces as across a hard boundary
    assert units.group is not None and len(set(units.group)) == 2
    proposal = solve(problem, {"solver": "heuristic", "time_limit": 3, "deterministic": True, "seed": 0})
    provinces = two.municipalities["province"].groupby(proposal.plan.assignment).nunique()
    assert (provinces == 1).all()  # no plan across the bridge
    assert proposal.scorecard.summary["non_compliant_plans"] == 0
    # a plan across them breaks a rule, for the scorecard and the studio alike; no merger across them
    across = Plan(two, pd.Series("one", index=two.codes))
    said = [v for v in across.violations(Rules()) if "runs across pieces of the selection" in v]
    assert said == ["plan one (Lodi) runs across pieces of the selection that do not touch (the selection's bridge "
                    "between them is no shared boundary); plan each piece apart"]
    live = LiveScore(two, Rules(), default_collaboration(two)).score(across.assignment.to_dict())
    assert said[0] in live.summary["violations"]
    by_province = Plan(two, two.municipalities["province"])
    assert best_merge(by_province, build_problem(two, floor=25_000)) is None


def test_a_piece_too_small_for_a_plan_is_planned_across_its_bridge(lombardy, caplog):
    milano = lombardy.select("province", ["Milano"])  # San Colombano al Lambro is an exclave of the province
    assert milano.pieces is not None and milano.pieces.nunique() == 2
    with caplog.at_level("WARNING"):
        assert milano.pieces_apart(25_000) is None
    assert ("(San Colombano al Lambro, 7,274 inhabitants) is too small for a plan of its own (lowest floor 25,000): it "
            "is planned with piece 1, across the bridge San Colombano al Lambro (015191) - San Zenone al Lambro "
            "(015202)") in caplog.text
    lonely = lombardy.subset([*lombardy.select("province", ["Lodi"]).codes, "014001"])  # Lodi and a Sondrio village
    proposal = solve(build_problem(lonely, floor=25_000), {"solver": "heuristic", "time_limit": 3, "seed": 0})
    assert proposal.scorecard.summary["compliant"]
    two = lombardy.select("province", ["Lodi", "Sondrio"])
    assert two.pieces_apart(25_000).nunique() == 2  # both provinces hold plans of their own: still apart
    assert two.pieces_apart(10**6) is None  # a floor neither reaches: the smaller one joins the other


def test_a_lock_across_pieces_of_a_selection_is_refused_before_solving(lombardy):
    two = lombardy.select("province", ["Lodi", "Sondrio"])
    lodi = two.municipalities.index[two.municipalities["province"] == "Lodi"]
    sondrio = two.municipalities.index[two.municipalities["province"] == "Sondrio"]
    locks = {lodi[0]: "together", sondrio[0]: "together"}
    with pytest.raises(InfeasibleError, match=r"locked to plan together would join pieces of the selection .*"
                                              r"piece 1: .*; piece 2: .*no plan runs across two"):
        check_feasible(build_problem(two, rules=Rules(locked_municipalities=locks)))
    # in repair mode a lock to a current plan's id reaches that plan's municipalities
    sq = Plan(two, pd.Series(np.where(two.municipalities["province"] == "Lodi", "lodi", "sondrio"), index=two.codes))
    with pytest.raises(InfeasibleError, match=r"locked to plan sondrio \(Sondrio\) would join pieces"):
        check_feasible(build_problem(two, mode="repair", status_quo=sq,
                                     rules=Rules(locked_municipalities={lodi[0]: "sondrio"})))
    check_feasible(build_problem(two, mode="repair", status_quo=sq,
                                 rules=Rules(locked_municipalities={lodi[0]: "lodi"})))


def test_a_municipality_left_out_inside_the_listed_ones_is_warned_of(lombardy, caplog):
    lodi = list(lombardy.select("province", ["Lodi"]).codes)
    graph = lombardy.graph
    inner = next(c for c in lodi if all(n in lodi for n in graph.neighbors(c)))
    listed = [c for c in lodi if c != inner]
    with caplog.at_level("WARNING"):
        assert warn_enclosed(lombardy, listed, "sq.csv") == [inner]
    name = lombardy.municipalities.at[inner, "name"]
    assert f"sq.csv leaves out {name} ({inner}," in caplog.text and "a row forgotten?" in caplog.text
    assert warn_enclosed(lombardy, lodi, "sq.csv") == []  # a whole province has edges, not holes


def test_a_repair_lock_across_a_hard_boundary_is_refused_before_solving(lombardy):
    two = lombardy.select("province", ["Lodi", "Cremona"])  # they touch: one piece
    province = two.municipalities["province"]
    sq = Plan(two, pd.Series(np.where(province == "Lodi", "lodi", "cremona"), index=two.codes))
    lodi = province.index[province == "Lodi"][0]
    rules = Rules(hard_boundaries=("province",), locked_municipalities={lodi: "cremona"})
    with pytest.raises(InfeasibleError, match=r"locked to plan cremona \(Cremona\) would join sides of a hard "
                                              r"boundary \(province=Cremona: .*; province=Lodi: .*\), and no plan "
                                              r"runs across two; fix the locks or drop the hard boundary"):
        check_feasible(build_problem(two, mode="repair", status_quo=sq, rules=rules))
    # without the hard boundary the lock only moves it across
    check_feasible(build_problem(two, mode="repair", status_quo=sq, rules=replace(rules, hard_boundaries=())))
