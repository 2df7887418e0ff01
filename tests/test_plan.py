from dataclasses import replace

import pandas as pd
import pytest

from lombardy_districts.errors import InputError
from lombardy_districts.model.plan import Plan, read_assignment_csv
from lombardy_districts.model.rules import CLASSES, Rules
from tests.grids import grid_territory

# 2 x 3 grid, codes row by row:
#   000004 000005 000006
#   000001 000002 000003


@pytest.fixture
def grid():
    return grid_territory(2, 3, population=[100, 200, 300, 400, 500, 600])


def columns_plan(territory):
    """Left column, middle column, right column."""
    return Plan(territory, {"000001": "L", "000004": "L", "000002": "M", "000005": "M",
                            "000003": "R", "000006": "R"}, names={"L": "Left"})


def test_plan_totals_and_names(grid):
    plan = columns_plan(grid)
    assert len(plan) == 3 and plan.plan_ids == ["L", "M", "R"]
    assert plan.populations.to_dict() == {"L": 500, "M": 700, "R": 900}
    assert plan.areas.to_dict() == pytest.approx({"L": 2.0, "M": 2.0, "R": 2.0})
    assert plan.members["M"] == ["000002", "000005"]
    assert plan.name("L") == "Left"
    assert plan.name("M") == "M5"  # no name given: its most populous municipality
    assert repr(plan) == "<Plan 3 area plans over 6 municipalities>"


def test_cut_edges_and_contiguity(grid):
    plan = columns_plan(grid)
    # rook grid 2x3 has 7 edges; the two vertical ones inside columns stay, 4 horizontal are cut
    assert sorted(plan.cut_edges) == [("000001", "000002"), ("000002", "000003"),
                                      ("000004", "000005"), ("000005", "000006")]
    assert plan.contiguous.all()
    diagonal = Plan(grid, {"000001": "a", "000005": "a", "000002": "b", "000004": "b",
                           "000003": "c", "000006": "c"})
    assert diagonal.contiguous.to_dict() == {"a": False, "b": False, "c": True}
    assert "plan a (M5) is not contiguous" in diagonal.violations(Rules(floors=dict.fromkeys(CLASSES, 0)))


def test_classes_and_floors_follow_the_rules():
    t = grid_territory(1, 3, population=[2000, 100, 100], mountain_status=["not", "totally", "totally"])
    plan = Plan(t, {"000001": "city", "000002": "hills", "000003": "hills"})
    rules = Rules()
    assert plan.classes(rules).to_dict() == {"city": "high_density", "hills": "mountain"}
    assert plan.floors(rules).to_dict() == {"city": 120_000, "hills": 25_000}
    assert plan.violations(rules) == [
        "plan city (M1) has 2,000 inhabitants, below the high density floor of 120,000",
        "plan hills (M2) has 200 inhabitants, below the mountain floor of 25,000",
    ]


def test_every_municipality_exactly_once(grid):
    with pytest.raises(InputError) as info:
        Plan(grid, pd.Series(["a", "a", "b", "c", "c", "c"],
                             index=["000001", "000001", "000002", "000003", "000004", "999999"]))
    problems = info.value.problems
    assert problems[0] == "municipalities assigned more than once: 000001 (plans a)"
    assert problems[1].startswith("unknown municipality codes: 999999")
    assert problems[2].startswith("municipalities with no plan (2): 000005 M5, 000006 M6. Fix:")
    # a municipality mapped to no plan id is not a plan of its own (nor left out of the count)
    for empty in (None, float("nan"), ""):
        with pytest.raises(InputError, match=r"empty plan id \(None, NaN or \"\"\): 000001 M1\. Fix: give each"):
            Plan(grid, {c: empty if c == "000001" else "a" for c in grid.codes})


def test_plans_never_change_in_place(grid):
    plan = columns_plan(grid)
    before = plan.populations
    moved = plan.reassign({"000002": "L"})
    assert moved.parent is plan and plan.parent is None
    assert plan.assignment["000002"] == "M" and moved.assignment["000002"] == "L"
    assert plan.populations is before  # cached, and untouched by the child
    assert moved.populations.to_dict() == {"L": 700, "M": 500, "R": 900}
    assert moved.names == {"L": "Left"}
    with pytest.raises(InputError, match="unknown municipality codes: 123456"):
        plan.reassign({"123456": "L"})


def test_derived_values_are_cached(grid):
    plan = columns_plan(grid)
    assert plan.populations is plan.populations
    assert plan.cut_edges is plan.cut_edges
    assert plan.contiguous is plan.contiguous
    assert plan.members is plan.members


def test_assignment_input_is_copied(grid):
    series = pd.Series(dict.fromkeys(grid.codes, "one"))
    plan = Plan(grid, series)
    series.iloc[0] = "two"
    assert set(plan.assignment) == {"one"}


def test_csv_round_trip(grid, tmp_path):
    plan = columns_plan(grid)
    path = tmp_path / "plan.csv"
    plan.to_csv(path)
    again = Plan.from_csv(path, grid)
    assert again.assignment.equals(plan.assignment)
    assert again.name("L") == "Left" and again.name("M") == "M5"


def test_read_assignment_csv_pads_istat_codes_and_accepts_code_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("code,plan_id\n15146,milano\n 016024 , bergamo \n")
    frame = read_assignment_csv(path, istat=True)
    assert list(frame["municipality_code"]) == ["015146", "016024"]
    assert list(frame["plan_id"]) == ["milano", "bergamo"]


@pytest.mark.parametrize("text, message", [
    ("municipality_code,ambito\n015146,1\n", r"no plan_id column; columns found: municipality_code, ambito"),
    ("comune,plan_id\n015146,1\n",
     r"no municipality_code column; columns found: comune, plan_id\. Fix: name the columns municipality_code "
     r"\(the codes\) and plan_id \(the plans\)"),
    ("municipality_code|plan_id\n015146|1\n", r"one column only \(municipality_code\|plan_id\): its separator is "
     r"not a comma, semicolon or tab"),
    ("015146,1\n016024,1\n", r"its first row \(015146, 1\) holds data, not column names\. Fix: add the header"),
    ("municipality_code,plan_id\nMilano,1\n", r"municipality codes must be ISTAT numbers .*row 2: 'Milano'"),
    ("municipality_code,plan_id\n015146,\n", r"empty plan_id on 1 of its 1 rows \(2\)\. Fix: give each"),
    ("municipality_code,plan_id\n", r"no rows below its header; write one row per municipality"),
    ("", r"is empty; write a header line and one row per municipality"),
    ('municipality_code,plan_id\n"015146,1\n', r"is not a readable CSV"),
])
def test_bad_assignment_files(tmp_path, text, message):
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_assignment_csv(path, istat=True)


def test_assignment_codes_of_user_data_are_kept_verbatim(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("municipality_code,plan_id\n037009,a\n37011,a\nMilano,b\n12345678901,b\n")
    frame = read_assignment_csv(path)
    assert list(frame["municipality_code"]) == ["037009", "37011", "Milano", "12345678901"]
    path.write_text("municipality_code,plan_id\n037009,a\n ,b\n")
    with pytest.raises(InputError, match=r"empty municipality_code on rows 3"):
        read_assignment_csv(path)


def test_missing_assignment_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_assignment_csv(tmp_path / "none.csv")


def test_codes_of_before_2023_are_read_as_their_2023_municipality(lombardy, tmp_path, caplog):
    """An old list (2017): the parts of a merged municipality in one plan, a code changed with its province."""
    path = tmp_path / "old.csv"
    rows = [f"{code},{'b' if code == '016024' else 'a'}" for code in lombardy.codes
            if code not in ("012144", "016215")]
    path.write_text("municipality_code,plan_id\n" + "\n".join(rows + ["012009,a", "012018,a", "012095,a", "097080,b",
                                                                          "012144,a"]) + "\n")
    plan = Plan.from_csv(path, lombardy)
    assert plan.assignment["012144"] == "a" and plan.assignment["016215"] == "b"
    assert "codes of before 2023: 012009 (Bardello), 012018 (Bregano), 012095 (Malgesso): now 012144 (Bardello " \
           "con Malgesso e Bregano); 097080 (Torre De' Busi): now 016215 (Torre de' Busi); read as the 2023 " \
           "municipalities" in caplog.text


@pytest.mark.parametrize("rows, plans", [(["012009,a", "012018,b", "012095,a"], "a, b"),
                                         (["012009,c", "012018,c", "012095,c", "012144,a"], "a, c")])
def test_parts_of_a_merged_municipality_in_two_plans_are_refused(lombardy, tmp_path, rows, plans):
    path = tmp_path / "old.csv"
    path.write_text("municipality_code,plan_id\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match=rf"012144 would be in plans {plans} \(codes of before 2023: 012009 "
                                         r"\(Bardello\), 012018 \(Bregano\), 012095 \(Malgesso\): now 012144 "
                                         r"\(Bardello con Malgesso e Bregano\)\)\. Fix: give its parts one plan"):
        read_assignment_csv(path, istat=True)


def test_codes_of_before_2023_in_a_plan_built_in_code_are_named(lombardy):
    assignment = {code: "a" for code in lombardy.codes if code != "012144"} | {"012009": "a"}
    with pytest.raises(InputError, match=r"unknown municipality codes: 012009 .*; codes of before 2023: 012009 "
                                         r"\(Bardello\): now 012144 \(Bardello con Malgesso e Bregano\); fix: give "
                                         r"each municipality"):
        Plan(lombardy, assignment)


def test_a_name_where_a_code_belongs_is_answered_with_the_code(tmp_path):
    """Names of the municipalities loaded (case, accents and spacing aside), not of any fixed list."""
    path = tmp_path / "plan.csv"
    path.write_text("municipality_code,plan_id\nsant angelo,a\nNowhere,a\nTwin,b\n")
    names = pd.Series({"000001": "Sant'Àngelo", "000002": "Twin", "000003": "Twin"})
    with pytest.raises(InputError, match=r"fix: write codes, not names: sant angelo is 000001 \(Sant'Àngelo\)$"):
        read_assignment_csv(path, istat=True, names=names)  # "Twin" names two municipalities: no answer


def test_reassign_takes_codes_as_numbers_and_name_refuses_an_unknown_plan(grid):
    plan = Plan(grid, pd.Series(["a", "a", "b", "b", "c", "c"], index=grid.codes))
    with pytest.raises(InputError, match="unknown municipality codes: 1"):
        plan.reassign({1: "b"})  # text codes are compared as written unless they are ISTAT codes
    istat = Plan(replace(grid, istat=True), plan.assignment)
    assert istat.reassign({1: "b"}).assignment["000001"] == "b"  # a spreadsheet's 1 is 000001
    numbers = pd.Series(plan.assignment.values, index=[int(c) for c in grid.codes])  # pd.read_csv's integers
    assert Plan(replace(grid, istat=True), numbers).assignment.equals(plan.assignment)
    with pytest.raises(InputError, match=r"no plan 'nope' in this plan; its 3 plan ids include 'a', 'b', 'c'"):
        plan.name("nope")


def test_plan_names_that_disagree_or_repeat_are_warned_of(grid, tmp_path, caplog):
    path = tmp_path / "p.csv"
    path.write_text("municipality_code,plan_id,plan_name\n000001,a,North\n000002,a,Nord\n000003,b,Same\n"
                    "000004,b,Same\n000005,c,Same\n000006,c,Same\n")
    with caplog.at_level("WARNING"):
        plan = Plan.from_csv(path, grid)
    assert plan.name("a") == "North" and plan.name("c") == "Same"
    assert "1 plan(s) have more than one plan_name (a: Nord, North); the first row's is used" in caplog.text
    assert "plan_name 'Same' names 2 plans (b, c): the results will not tell them apart by name" in caplog.text
