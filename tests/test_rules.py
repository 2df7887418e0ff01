import math
from dataclasses import replace

import numpy as np
import pytest

from lombardy_districts.errors import InputError
from lombardy_districts.model.measures import AREA_SCALE, ClassRule
from lombardy_districts.model.plan import Plan, across
from lombardy_districts.model.rules import CLASSES, Rules
from lombardy_districts.model.scorecard import evaluate
from tests.grids import grid_territory


def write(tmp_path, text):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def test_default_rules_are_the_regional_floors_and_the_stated_class_rule():
    rules = Rules.default()
    assert rules.floors == {"standard": 80_000, "high_density": 120_000, "mountain": 25_000, "low_density": 25_000}
    assert rules.mountain_area_share == 0.5
    assert rules.mountain_statuses == ("totally",)  # partly mountain towns (Como, Varese) do not count
    assert rules.mountain_density_below == 1000
    assert (rules.high_density_min, rules.low_density_max) == (1000, 150)
    assert rules.ceiling is None and rules.hard_boundaries == () and rules.locked_plans == ()
    assert rules == Rules()  # the shipped file and the code defaults agree


def test_default_floors_are_not_shared_between_instances():
    a, b = Rules(), Rules()
    assert a.floors is not b.floors


def test_full_toml_is_read(tmp_path):
    path = write(tmp_path, """
[floors]
standard = 70000
[classes]
mountain_statuses = "totally"
high_density_min = 900
[limits]
ceiling = 500000
[boundaries]
hard = "province"
[locked]
municipalities = { "015146" = "milano" }
plans = ["bg_dalmine", 7]
""")
    rules = Rules.from_toml(path)
    assert rules.floors["standard"] == 70_000 and rules.floors["mountain"] == 25_000
    assert rules.mountain_statuses == ("totally",)
    assert rules.high_density_min == 900
    assert rules.ceiling == 500_000
    assert rules.hard_boundaries == ("province",)
    assert rules.locked_municipalities == {"015146": "milano"}
    assert rules.locked_plans == ("bg_dalmine", "7")


@pytest.mark.parametrize("text, message", [
    ("[flors]\nstandard = 1", r"unknown section \[flors\]; allowed: floors, classes"),
    ("[floors]\nstandrd = 1", r"unknown key floors.standrd; allowed: high_density, low_density, mountain"),
    ("[classes]\nmountain_share = 0.3", r"unknown key classes.mountain_share"),
    ("[limits]\nmax = 3", r"unknown key limits.max; allowed: ceiling"),
    ("floors = 3", r"\[floors\] must be a table"),
    ("[floors]\nstandard = -5", r"floors.standard = -5: must be a whole number of inhabitants from 0 to "
                                r"10,000,000,000"),
    # extreme numbers: refused at the door with the allowed range (issue 15)
    ("[floors]\nstandard = 1000000000000000", r"floors.standard = 1000000000000000: must be a whole number of "
                                              r"inhabitants from 0 to 10,000,000,000"),
    ("[floors]\nstandard = 100000000000000000000", r"floors.standard = 100000000000000000000: must be"),
    ("[floors]\nstandard = nan", r"floors.standard = nan: must be a whole number"),
    ("[classes]\nhigh_density_min = nan", r"classes.high_density_min = nan: must be a number of inhabitants per "
                                          r"km2 from 0 to 100,000"),
    ("[classes]\nlow_density_max = inf", r"classes.low_density_max = inf: must be a number"),
    ("[classes]\nmountain_area_share = nan", r"classes.mountain_area_share = nan: must be a number from 0 up to"),
    ("[limits]\nceiling = 100000000000", r"limits.ceiling = 100000000000: must be a whole number of inhabitants "
                                        r"from 1 to 10,000,000,000"),
    ("[floors]\nstandard = 80000.5", r"floors.standard = 80000.5"),
    ("[floors]\nmountain = \"many\"", r"floors.mountain = 'many'"),
    ("[classes]\nmountain_area_share = 1.5",
     r"classes.mountain_area_share = 1.5: must be a number from 0 up to, not including, 1"),
    ("[classes]\nmountain_statuses = [\"high\"]", r"mountain_statuses has \['high'\]; allowed: totally, partly, not"),
    ("[classes]\nhigh_density_min = \"dense\"", r"classes.high_density_min = 'dense'"),
    ("[classes]\nmountain_density_below = -1", r"classes.mountain_density_below = -1: must be a number of "
     "inhabitants per km2 from 0 to 100,000"),
    ("[classes]\nlow_density_max = 2000", r"low_density_max \(2000\) must be below classes.high_density_min"),
    ("[limits]\nceiling = 0", r"limits.ceiling = 0: must be a whole number of inhabitants from 1 to"),
    ("[limits]\nceiling = true", r"limits.ceiling = True"),
    ("[limits]\nceiling = 10000", r"ceiling = 10,000 is below every floor"),
    ("[boundaries]\nhard = [3]", r"boundaries.hard has \[3\]"),
    ("[locked]\nmunicipalities = [\"015146\"]", r"locked.municipalities must be a table"),
])
def test_bad_rules_name_the_key(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        Rules.from_toml(write(tmp_path, text))


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(InputError) as info:
        Rules.from_toml(write(tmp_path, "[floors]\nstandard = -1\nmountain = -2\n"))
    assert len(info.value.problems) == 2


def test_malformed_toml_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="is not valid TOML"):
        Rules.from_toml(write(tmp_path, "[floors\nstandard = 1"))
    with pytest.raises(InputError, match="cannot read rules file"):
        Rules.from_toml(tmp_path / "none.toml")


def test_classify_mountain_first_then_density():
    rule = ClassRule.of(Rules())
    km2 = AREA_SCALE  # area units per km2
    pops = [100, 2000, 1000, 500, 100]
    areas = [1 * km2, 2 * km2, km2, km2, km2]
    mountain = [6000, 0, 0, 0, 5000]
    # 0.6 of the area is mountain -> mountain; density 1000 (the cut-off itself) -> high;
    # 500 -> standard; 100 -> low; exactly half mountain is not mountain
    assert list(rule.classify_all(pops, areas, mountain)) == [
        "mountain", "high_density", "high_density", "standard", "low_density"]
    assert rule.classify(150, km2, 0) == "low_density"  # the low cut-off itself is low density
    assert rule.classify(100, 0, 0) == "low_density"  # no area: density taken as 0
    assert rule.classify(1000, km2 + 1, 0) == "standard"  # one area unit more: just under 1,000 per km2
    assert list(Rules().floor_of(["standard", "high_density", "mountain", "low_density"])) == [
        80_000, 120_000, 25_000, 25_000]


def test_a_dense_plan_is_never_mountain():
    # Varese: 78,409 inhabitants on 54.8 km2 (1,431 per km2), legally partly mountain: even with all
    # its area counted as mountain (the rule before), it is no mountain plan
    rule = ClassRule.of(Rules())
    km2 = AREA_SCALE
    varese = (78_409, 548_006, 548_006)
    assert rule.classify(*varese) == "high_density"
    # exactly at the cut-off is dense; one inhabitant fewer is a mountain plan
    assert rule.classify(1000, km2, km2) == "high_density"
    assert rule.classify(999, km2, km2) == "mountain"
    # a cut-off of its own, below the high-density one: 600 per km2 of mountain area is standard
    lower = ClassRule.of(Rules(mountain_density_below=500.0))
    assert lower.classify(600, km2, km2) == "standard"
    assert lower.classify(499, km2, km2) == "mountain"
    # the largest cut-off allowed, 100,000 per km2: the old rule in effect
    assert ClassRule.of(Rules(mountain_density_below=100_000)).classify(*varese) == "mountain"


def test_mountain_area_counts_the_chosen_statuses():
    t = grid_territory(1, 3, mountain_status=["totally", "partly", "not"])
    gdf = t.municipalities
    assert list(Rules().counts_as_mountain(gdf)) == [True, False, False]
    assert list(Rules(mountain_statuses=("totally", "partly")).counts_as_mountain(gdf)) == [True, True, False]


def test_with_floor_and_with_changes():
    rules = Rules().with_floor(5000)
    assert set(rules.floors.values()) == {5000} and set(rules.floors) == set(CLASSES)
    assert rules.lowest_floor == 5000
    with pytest.raises(InputError, match="floor = -3"):
        Rules().with_floor(-3)
    assert Rules().with_changes(ceiling=200_000).ceiling == 200_000
    with pytest.raises(InputError, match=r"unknown rule option 'cieling' \(did you mean 'ceiling'\?\)"):
        Rules().with_changes(cieling=1)
    # a partial floors table changes those classes only; one name where a list belongs is a list of one
    changed = Rules().with_changes(floors={"mountain": 30_000}, hard_boundaries="ats", mountain_statuses="totally")
    assert changed.floors == {**Rules().floors, "mountain": 30_000}
    assert changed.hard_boundaries == ("ats",) and changed.mountain_statuses == ("totally",)
    assert Rules(keep_together=["union"]).keep_together == ("union",)
    with pytest.raises(InputError, match="low_density_max"):
        Rules().with_changes(low_density_max=5000)


def test_hard_boundaries_ceiling_and_locks_show_as_violations():
    t = grid_territory(1, 4, province=["A", "A", "B", "B"])
    plan = Plan(t, {"000001": "x", "000002": "x", "000003": "x", "000004": "y"})
    rules = Rules(floors=dict.fromkeys(CLASSES, 0), hard_boundaries=("province", "nope"), ceiling=2500,
                  locked_municipalities={"000004": "x"})
    found = plan.violations(rules)
    assert "plan x (M1) crosses the province boundary" in found
    assert "hard boundary column 'nope' is not in the municipality table" in found
    assert "plan x (M1) has 3,000 inhabitants, above the ceiling of 2,500" in found
    assert "municipality 000004 is locked to plan x but is in y" in found
    assert not plan.is_compliant(rules)
    # the plans table marks it too: not compliant, and why in the headline (as the map hatches it)
    card = evaluate(plan, replace(rules, hard_boundaries=("province",), ceiling=None))
    assert card.plans.set_index("plan_id")["crosses"].to_dict() == {"x": "province", "y": ""}
    assert card.plans.set_index("plan_id")["compliant"].to_dict() == {"x": False, "y": True}
    assert "(plan M1 is across the province boundary)" in card.headline[0]
    assert across("province, selection pieces") == \
        "across the province boundary and pieces of the selection that do not touch"
    one = evaluate(Plan(t, dict.fromkeys(t.codes, "x")), replace(rules, hard_boundaries=("province",), ceiling=None))
    assert one.headline[0] == "1 area plan for 4,000 inhabitants: it does not comply (plan M1 is across the " \
                              "province boundary)."


def test_locked_plans_are_checked_against_the_status_quo():
    t = grid_territory(1, 4)
    status_quo = Plan(t, {"000001": "a", "000002": "a", "000003": "b", "000004": "b"})
    rules = Rules(locked_plans=("a", "b", "zz")).with_floor(0)
    kept = Plan(t, {"000001": "p", "000002": "p", "000003": "q", "000004": "q"})
    merged = Plan(t, dict.fromkeys(t.codes, "all"))
    assert kept.violations(rules, status_quo) == [
        "locked plan zz is not a plan of the status quo; status quo plans: a, b"]
    found = merged.violations(rules, status_quo)
    assert "locked plan a (M1) is not kept as it is: its municipalities are now in all" in found
    assert merged.violations(rules) == []  # without a status quo locks on plans cannot be checked


def test_floor_values_are_integers_for_numpy_input():
    assert Rules(floors={k: np.int64(10) for k in CLASSES}).lowest_floor == 10
    assert math.isclose(Rules().mountain_area_share, 0.5)


def test_rules_file_that_is_not_text(tmp_path):
    path = tmp_path / "r.toml"
    path.write_bytes(b"\x00\xd0\xff binary")
    with pytest.raises(InputError, match="is not UTF-8 text"):
        Rules.from_toml(path)


def test_locked_codes_are_istat_codes_only_for_the_embedded_data():
    from dataclasses import replace

    from lombardy_districts.model.feasibility import locked_code_problems

    rules = Rules(locked_municipalities={"15146": "milano", "Ashe": "north"})  # any text is a code in itself
    user = grid_territory(1, 2)
    italian = replace(user, istat=True)
    assert locked_code_problems(rules, italian) == [
        "locked.municipalities has keys ['15146', 'Ashe']; must be 6-digit ISTAT codes written as strings, "
        "e.g. \"015146\" = \"milano\""]
    assert locked_code_problems(rules, user) == [
        "locked.municipalities: 15146, Ashe not among the 2 municipalities loaded (codes are compared as text, "
        "exactly as written)"]
    assert locked_code_problems(Rules(locked_municipalities={"000002": "b"}), user) == []
    with pytest.raises(InputError, match="must be municipality codes written as strings"):
        Rules(locked_municipalities={" ": "a"})
