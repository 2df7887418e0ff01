import argparse

import pandas as pd
import pytest

from lombardy_districts.cli.options import collaboration_weights
from lombardy_districts.errors import InputError
from lombardy_districts.model.collaboration import (
    Collaboration,
    current_plan_edges,
    default_collaboration,
    default_kind_weights,
    labour_market_edges,
    read_collaboration_csv,
    union_edges,
)
from lombardy_districts.model.plan import Plan
from lombardy_districts.workflows.inputs import collaboration_edges
from tests.grids import grid_territory

# 1 x 4 grid 000001 - 000002 - 000003 - 000004; labour markets L1 L1 L1 L2


@pytest.fixture
def line():
    return grid_territory(1, 4, labour_market_area=["L1", "L1", "L1", "L2"])


def test_labour_market_edges_join_neighbours_in_the_same_area(line):
    edges = labour_market_edges(line).edges
    assert list(zip(edges["code_a"], edges["code_b"])) == [("000001", "000002"), ("000002", "000003")]
    assert set(edges["kind"]) == {"labour_market"} and set(edges["weight"]) == {1.0}


def test_current_plan_edges_and_kinds_kept(line):
    sq = Plan(line, {"000001": "a", "000002": "b", "000003": "b", "000004": "b"})
    assert current_plan_edges(sq).weights() == {("000002", "000003"): 1.0, ("000003", "000004"): 1.0}
    both = default_collaboration(line, sq)
    assert both.kinds == ["current_plan", "labour_market"]
    # shipped weights: a same-current-plan tie weighs 2, a labour-market tie 1
    assert both.weights() == {("000001", "000002"): 1.0, ("000002", "000003"): 3.0, ("000003", "000004"): 2.0}
    assert default_collaboration(line).kinds == ["labour_market"]
    assert set(both.groups["group_id"]) == {"a", "b"} and set(both.groups["kind"]) == {"current_plan"}


def test_shipped_weights_put_real_ties_above_the_proxy():
    weights = default_kind_weights()
    assert weights == {"union": 3.0, "current_plan": 2.0, "labour_market": 1.0}
    assert min(weights["union"], weights["current_plan"]) > weights["labour_market"]


def test_kind_weights_scale_each_kind(line):
    sq = Plan(line, dict.fromkeys(line.codes, "all"))
    collab = default_collaboration(line, sq).with_kind_weights({"current_plan": 3.0, "labour_market": 0.5})
    assert collab.weights() == {("000001", "000002"): 3.5, ("000002", "000003"): 3.5, ("000003", "000004"): 3.0}
    zero = collab.with_kind_weights({"current_plan": 0.0, "labour_market": 0.0})
    assert zero.weights() == {}  # pairs of weight 0 are dropped
    weighted = collab.weighted()
    assert set(weighted.loc[weighted["kind"] == "current_plan", "weight"]) == {3.0}
    with pytest.raises(InputError, match="collaboration weight of kind 'current_plan' = -1"):
        collab.with_kind_weights({"current_plan": -1})


def test_the_old_kind_name_says_the_new_one(line):
    sq = Plan(line, dict.fromkeys(line.codes, "all"))
    with pytest.raises(InputError, match="kind 'status_quo': that kind is now called 'current_plan'"):
        collaboration_edges(line, sq, kind_weights={"status_quo": 2.0})


def test_union_ties_join_every_pair_of_members_once(lombardy):
    # Unione Municipia (Motta Baluffi, Scandolara Ravara; San Martino del Lago too in 2020, which is in
    # Unione Palvareta Nova with Solarolo Rainerio and Voltido in the newer list)
    part = lombardy.subset(["019061", "019092", "019091", "019096", "019115", "019088"])
    ties = union_edges(part)
    pairs = set(zip(ties.edges["code_a"], ties.edges["code_b"]))
    assert ("019061", "019092") in pairs  # in Municipia in both lists: one tie, not two
    assert len(ties.edges) == len(pairs)
    assert ("019061", "019091") in pairs and ("019091", "019115") in pairs  # San Martino ties to both unions
    assert ("019061", "019115") not in pairs  # never in one union
    assert set(ties.edges["kind"]) == {"union"} and set(ties.edges["weight"]) == {1.0}


def test_union_ties_of_a_union_whose_members_do_not_touch(lombardy):
    # Unione Lombarda dei Comuni Oglio - Ciria: Corte de' Frati, Grontardo, Olmeneta, Scandolara Ripa d'Oglio
    codes = ["019033", "019050", "019063", "019093"]
    ties = union_edges(lombardy.subset(codes))
    assert len(ties.edges) == 6  # every pair of the four, neighbours or not
    region = union_edges(lombardy)
    assert region.edges["code_a"].lt(region.edges["code_b"]).all()
    assert len(region.edges) == len(region.edges.drop_duplicates(["code_a", "code_b"]))


def test_restrict_keeps_edges_inside(line):
    collab = labour_market_edges(line).restrict(["000001", "000002", "000004"])
    assert collab.weights() == {("000001", "000002"): 1.0}


def test_collaboration_weight_options_are_parsed_and_checked():
    args = argparse.Namespace(collaboration_weight=["labour_market=0.5", " current_plan = 2 "])
    assert collaboration_weights(args, []) == {"labour_market": 0.5, "current_plan": 2.0}
    problems = []
    args.collaboration_weight = ["labour_market=lots", "current_plan", "x=-1", "y=nan", "z=1e308"]
    assert collaboration_weights(args, problems) == {}
    assert problems == [f"--collaboration-weight {item!r} must look like KIND=W, e.g. labour_market=0.5, "
                        "with a number from 0 to 1,000,000" for item in args.collaboration_weight]


def test_a_weight_for_a_kind_with_no_edges_is_refused(line):
    with pytest.raises(InputError, match="kind 'union': there are no collaboration edges of that kind; "
                                         "kinds present: labour_market"):
        collaboration_edges(line, kind_weights={"union": 1.0})


def test_read_collaboration_csv_orders_pairs_and_keeps_kinds(line, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("code_a,code_b,weight,kind\n2,1,2.5,union\n000003,000004,1,consortium\n")
    collab = read_collaboration_csv(path, line.codes, istat=True)
    assert collab.edges.to_dict("records") == [
        {"code_a": "000001", "code_b": "000002", "weight": 2.5, "kind": "union"},
        {"code_a": "000003", "code_b": "000004", "weight": 1.0, "kind": "consortium"},
    ]
    assert Collaboration.combine(collab, labour_market_edges(line)).kinds == ["consortium", "labour_market", "union"]


@pytest.mark.parametrize("text, message", [
    ("a,b,weight,kind\n1,2,1,x\n", r"missing columns \['code_a', 'code_b'\]"),
    ("code_a,code_b,weight,kind\nMilano,2,1,x\n", r"row 2: code_a 'Milano' is not an ISTAT code"),
    ("code_a,code_b,weight,kind\n1,9,1,x\n", r"row 2: code_b 000009 is not a municipality of this territory"),
    ("code_a,code_b,weight,kind\n1,2,strong,x\n", r"row 2: weight 'strong' is not a number"),
    ("code_a,code_b,weight,kind\n1,2,-1,x\n",
     r"row 2: weight -1 is out of range; weights must be numbers from 0 to 1,000,000"),
    ("code_a,code_b,weight,kind\n1,2,1e308,x\n", r"row 2: weight 1e\+308 is out of range"),
    ("code_a,code_b,weight,kind\n1,2,1,\n", r"row 2: empty kind"),
    ("code_a,code_b,weight,kind\n1,2,inf,x\n", r"row 2: weight 'inf' is not finite"),
    ("code_a,code_b,weight,kind\n1,1,1,x\n", r"row 2: an edge from 000001 to itself"),
    ("", r"is empty; write a header line"),
])
def test_bad_collaboration_files(line, tmp_path, text, message):
    path = tmp_path / "e.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_collaboration_csv(path, line.codes, istat=True)


def test_collaboration_codes_of_user_data_are_kept_verbatim(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("code_a,code_b,weight,kind\n037009,Ashe,1,union\n37009,Ashe,2,union\n,Ashe,1,x\n")
    with pytest.raises(InputError) as info:
        read_collaboration_csv(path, ["037009", "Ashe"])
    assert info.value.problems == [f"{path} row 4: code_a '' is empty",
                                   f"{path} row 3: code_a 37009 is not a municipality of this territory"]
    path.write_text("code_a,code_b,weight,kind\nAshe,037009,1.5,union\n")
    edges = read_collaboration_csv(path, ["037009", "Ashe"]).edges
    assert edges.to_dict("records") == [{"code_a": "037009", "code_b": "Ashe", "weight": 1.5, "kind": "union"}]


def test_collaboration_needs_its_columns():
    with pytest.raises(InputError, match="missing"):
        Collaboration(pd.DataFrame({"code_a": []}))


def test_union_ties_need_istat_codes(line, lombardy):
    # a territory of your own: its ids are not ISTAT codes, so the shipped unions do not apply
    assert union_edges(line).edges.empty and "union" not in default_collaboration(line).kinds
    assert "union" in default_collaboration(lombardy.subset(["019061", "019092"])).kinds
