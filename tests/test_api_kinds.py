"""Objects of the Python API given in the wrong place: refused with what was given and the fix."""

import pytest

import lombardy_districts as ld
from lombardy_districts.errors import InputError, did_you_mean
from lombardy_districts.maps.compare import write_comparison
from lombardy_districts.maps.render import write_plan_map

# each call gets (territory, plan, path of the plan's CSV, a folder); a wrong object must be named, not crash inside
CALLS = {
    "evaluate a territory": (lambda t, p, csv, d: ld.evaluate(t),
                             "plan is a Territory: expected a Plan; fix: read one with read_plan"),
    "evaluate a path": (lambda t, p, csv, d: ld.evaluate(str(csv)), r"plan = '.*plan.csv' \(a str\): expected a Plan"),
    "rules as a path": (lambda t, p, csv, d: ld.evaluate(p, rules="rules.toml"),
                        r"rules = 'rules.toml' \(a str\): expected a Rules or None; "
                        r"fix: Rules.default\(\), Rules.from_toml\(path\)"),
    "territory as status quo": (lambda t, p, csv, d: ld.evaluate(p, status_quo=t),
                                "status_quo is a Territory: expected a Plan or None"),
    "collaboration as a list": (lambda t, p, csv, d: ld.evaluate(p, collaboration=[]),
                                "collaboration is a list: expected a Collaboration or None"),
    "propose a plan": (lambda t, p, csv, d: ld.propose(p),
                       r"territory is a Plan: expected a Territory; fix: load\(\) gives the region"),
    "rules as a dict": (lambda t, p, csv, d: ld.propose(t, rules={"floors": {}}),
                        "rules is a dict: expected a Rules or None"),
    "status quo as a path": (lambda t, p, csv, d: ld.propose(t, status_quo=csv),
                             r"status_quo = \w*Path\(.*plan.csv'\) \(a \w*Path\): expected a Plan"),
    "read_plan swapped": (lambda t, p, csv, d: ld.read_plan(t, csv), "territory = .*plan.csv.* expected a Territory"),
    "solve a territory": (lambda t, p, csv, d: ld.solve(t),
                          "problem is a Territory: expected a Problem; fix: build one with build_problem"),
    "frontier of a plan": (lambda t, p, csv, d: ld.frontier(p), "problem is a Plan: expected a Problem"),
    "Plan swapped": (lambda t, p, csv, d: ld.Plan(dict.fromkeys(t.codes, "A"), t),
                     "territory is a dict: expected a Territory"),
    "violations of a path": (lambda t, p, csv, d: p.violations("rules.toml"),
                             r"rules = 'rules.toml' \(a str\): expected a Rules;"),
    "map of a territory": (lambda t, p, csv, d: write_plan_map(t, ld.evaluate(p), d / "map.html"),
                           "plan is a Territory: expected a Plan"),
    "map with a dict": (lambda t, p, csv, d: write_plan_map(p, {}, d / "map.html"),
                        "scorecard is a dict: expected a Scorecard or None"),
    "compare with a territory": (lambda t, p, csv, d: write_comparison(p, t, d / "c.html"),
                                 "plan_b is a Territory: expected a Plan"),
    "sweep a territory": (lambda t, p, csv, d: ld.sweep([t], d / "sweep"),
                          "scenario 1 is a Territory: expected a table of options"),
    "rules from a path": (lambda t, p, csv, d: ld.Rules.from_dict("rules.toml"),
                          "rules = 'rules.toml': expected a table of sections"),
    "studio of a territory": (lambda t, p, csv, d: ld.studio(t, workspace=d / "studio", open_browser=False),
                              r"plan is a Territory: expected the path of a plan CSV file \(a str or a Path\); "
                              "fix: write it with to_csv"),
    "write into a plan": (lambda t, p, csv, d: ld.propose(t, floor=10, options={"solver": "heuristic"}).write(p),
                          r"out_dir is a Plan: expected the path of the output folder \(a str or a Path\)"),
    "scenarios of a plan": (lambda t, p, csv, d: ld.read_scenarios(p),
                            "path is a Plan: expected the path of a scenario file"),
    "map into a territory": (lambda t, p, csv, d: write_plan_map(p, None, t),
                             "path is a Territory: expected the path of the HTML file to write"),
    "one floor for all": (lambda t, p, csv, d: ld.Rules(floors=80_000),
                          "floors = 80000: expected a table of floors by class"),
}


@pytest.mark.parametrize("case", CALLS)
def test_a_wrong_object_is_named_with_the_fix(make_grid, tmp_path, case):
    territory = make_grid(2, 2, 10)
    plan = ld.Plan(territory, dict.fromkeys(territory.codes, "A"))
    csv = plan.to_csv(tmp_path / "plan.csv")
    call, message = CALLS[case]
    with pytest.raises(InputError, match=message):
        call(territory, plan, csv, tmp_path)


def test_did_you_mean_offers_the_closest_word_or_nothing():
    assert did_you_mean("colaboration", ["collaboration", "compact"]) == " (did you mean 'collaboration'?)"
    assert did_you_mean("xyz", ["collaboration", "compact"]) == ""
    # a mapping compares its keys and shows its values
    assert did_you_mean("bergamso", {"bergamo": "Bergamo", "brescia": "Brescia"}) == " (did you mean 'Bergamo'?)"
    assert did_you_mean("torino", {"sondrio": "Sondrio"}, cutoff=0.7) == ""
