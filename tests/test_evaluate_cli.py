import json
import logging

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
    assert "lists 238 of the 1504 municipalities: working on just these" in caplog.text
    lines = out.splitlines()
    assert lines[1].startswith("  bg_dalmine Dalmine") and "145,907" in lines[1]
    seriate = next(line for line in lines if "bg_seriate" in line)
    assert seriate.startswith("!") and "-42,066" in seriate  # high density, under 120,000
    assert "10 area plans, 9 compliant, 1 not" in out
    assert "0 municipalities moved" in out
    summary = json.loads((tmp_path / "s.json").read_text())["summary"]
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
    milano = next(line for line in out.splitlines() if " Milano " in line)
    assert milano.startswith("!") and "3,219,391" in milano and " NO " in milano
    assert "violation: plan Milano (Milano) is not contiguous" in out
    assert "12 area plans, 11 compliant, 1 not" in out
    assert json.loads((tmp_path / "p.json").read_text())["summary"]["population"] == 9_950_742


def test_part_of_the_region_with_a_status_quo(run, tmp_path):
    sq = pd.read_csv(EXAMPLE, dtype=str)
    plan = sq.copy()
    plan.loc[plan["plan_id"] == "bg_seriate", "plan_id"] = "bg_dalmine"  # merge Seriate into Dalmine
    write(tmp_path / "plan.csv", plan.to_csv(index=False))
    code, out, err = run(tmp_path / "plan.csv", "--status-quo", EXAMPLE, "--province", "Bergamo",
                         "--within-status-quo", "--collaboration-weight", "current_plan=2")
    assert code == 0, err
    assert "5 area plans, 5 compliant" in out  # Brescia and Pavia rows dropped by the selection
    assert "bg_seriate" not in out
    assert "0 municipalities moved" in out and "1 plan formed by merging" in out
    assert "current_plan 100.0%" in out  # merging keeps every same-plan tie


def test_user_collaboration_edges(run, tmp_path):
    # Dalmine - Seriate (both evaluated); Bergamo - Milano (outside the example: dropped)
    edges = write(tmp_path / "e.csv", "code_a,code_b,weight,kind\n016091,016198,5,consortium\n"
                                      "016024,015146,1,consortium\n")
    code, out, err = run(EXAMPLE, "--collaboration", edges, "--collaboration-weight", "labour_market=0",
                         "--collaboration-weight", "union=0")
    assert code == 0, err
    assert "collaboration kept: 0.0% of 5 (consortium 0.0%, labour_market -, union -)" in out
    assert "Dalmine - Seriate (5)" in out


@pytest.mark.parametrize("make, message", [
    (lambda p: write(p / "x.csv", "municipality_code,plan_id\n999999,a\n"), "unknown municipality codes 999999"),
    (lambda p: write(p / "x.csv", "municipality_code,plan_id\n016091,a\n016091,b\n"),
     "municipalities assigned more than once: 016091"),
    (lambda p: write(p / "x.csv", "municipality_code,ambito\n016091,a\n"), "no plan_id column"),
    (lambda p: write(p / "x.csv", 'municipality_code,plan_id\n"016091,a\n'), "is not a readable CSV"),
    (lambda p: write(p / "x.csv", ""), "is not a readable CSV"),
    (lambda p: write(p / "x.csv", "municipality_code,plan_id\nBergamo,a\n"), "must be ISTAT numbers"),
    (lambda p: p / "absent.csv", "absent.csv does not exist"),
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
