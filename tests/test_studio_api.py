"""The studio's web API with an in-process client: edits, versions, locks, the solver, files, safety."""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest
from starlette.testclient import TestClient

from lombardy_districts.model.changes import CHANGE_COLUMNS
from lombardy_districts.model.collaboration import default_collaboration
from lombardy_districts.model.options import DataOptions, Selection, SolverOptions
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.scorecard import evaluate
from lombardy_districts.studio import prepare
from lombardy_districts.studio.app import build_app
from lombardy_districts.studio.jobs import solver_problem
from lombardy_districts.studio.payload import territory_payload
from lombardy_districts.studio.state import StudioState
from lombardy_districts.workflows.inputs import load, read_inputs, read_plan
from tests.conftest import grid_frame

HEADERS = {"X-Studio": "1"}


@pytest.fixture(scope="module")
def lecco_sq(tmp_path_factory):
    """A status quo over Lecco: two halves by code, the second one named with HTML in it."""
    territory = load(province="Lecco")
    codes = territory.codes
    path = tmp_path_factory.mktemp("inputs") / "sq.csv"
    rows = [f"{c},{'north' if i < len(codes) // 2 else 'south'},"
            f"{'North Lecco' if i < len(codes) // 2 else '<img src=x onerror=alert(1)>'}" for i, c in enumerate(codes)]
    path.write_text("municipality_code,plan_id,plan_name\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def lecco_inputs(lecco_sq):
    return read_inputs(DataOptions(), Selection(province="Lecco"), {"status_quo": lecco_sq})


@pytest.fixture
def studio(lecco_inputs, tmp_path):
    state = StudioState(lecco_inputs, tmp_path / "ws", solver=SolverOptions(solver="heuristic", time_limit=3,
                                                                            workers=1))
    with TestClient(build_app(state)) as client:
        client.state_ = state
        yield client
    state.close()


def _post(client, path, body, status=200):
    response = client.post(path, json=body, headers=HEADERS)
    assert response.status_code == status, response.text
    return response.json()


def _neighbour_in_other_plan(state):
    s = state.session
    for u, v in state.territory.graph.edges:
        if s.assignment[u] != s.assignment[v]:
            return u, s.assignment[v]
    raise AssertionError("no border")


def test_move_undo_redo_and_the_scorecard_follows(studio):
    state = studio.get("/api/state").json()
    assert state["version"] == 0 and state["scorecard"]["summary"]["plans"] == 2
    code, target = _neighbour_in_other_plan(studio.state_)
    before = {r["plan_id"]: r["population"] for r in state["scorecard"]["plans"]}
    moved = _post(studio, "/api/edit", {"op": "move", "codes": [code], "plan": target, "version": 0})
    after = {r["plan_id"]: r["population"] for r in moved["scorecard"]["plans"]}
    people = int(studio.state_.territory.municipalities.at[code, "population"])
    assert after[target] == before[target] + people
    assert moved["version"] == 1 and moved["steps"]["undo"].startswith("move ")
    assert moved["scorecard"]["summary"]["municipalities_moved"] == 1
    # the live scorecard is evaluate's
    card = evaluate(studio.state_.session.plan(), studio.state_.rules, studio.state_.collaboration,
                    studio.state_.status_quo)
    assert moved["scorecard"]["summary"]["violations"] == card.summary["violations"]
    undone = _post(studio, "/api/edit", {"op": "undo", "version": 1})
    assert {r["plan_id"]: r["population"] for r in undone["scorecard"]["plans"]} == before
    assert undone["notice"].startswith("Undone: move ")  # it said "Move ...", the step just undone
    redone = _post(studio, "/api/edit", {"op": "redo", "version": 2})
    assert {r["plan_id"]: r["population"] for r in redone["scorecard"]["plans"]} == after
    assert redone["notice"].startswith("Redone: move ")


def test_a_stale_edit_from_a_second_tab_is_refused_with_the_latest_state(studio):
    code, target = _neighbour_in_other_plan(studio.state_)
    _post(studio, "/api/edit", {"op": "lock_plan", "plan": "north", "version": 0})
    stale = _post(studio, "/api/edit", {"op": "move", "codes": [code], "plan": target, "version": 0}, 409)
    assert "another tab" in stale["error"][0] and stale["state"]["version"] == 1
    assert stale["state"]["locked_plans"] == ["north"]


def test_locked_plans_and_municipalities_do_not_move(studio):
    s = studio.state_.session
    north = s.members("north")
    _post(studio, "/api/edit", {"op": "lock_plan", "plan": "north", "version": 0})
    refused = _post(studio, "/api/edit", {"op": "move", "codes": north[:1], "plan": "south", "version": 1}, 400)
    assert "locked" in refused["error"][0] and "unlock it first" in refused["error"][0]
    refused = _post(studio, "/api/edit", {"op": "merge", "plan": "south", "other": "north", "version": 1}, 400)
    assert "is locked; unlock it first" in refused["error"][0]
    south = s.members("south")
    _post(studio, "/api/edit", {"op": "lock", "codes": south[:1], "version": 1})
    refused = _post(studio, "/api/edit", {"op": "new_plan", "codes": south[:1], "version": 2}, 400)
    assert "locked" in refused["error"][0]


def test_names_are_data_never_markup(studio):
    state = studio.get("/api/state").json()
    assert state["names"]["south"] == "<img src=x onerror=alert(1)>"  # shown with textContent by the page
    renamed = _post(studio, "/api/edit", {"op": "rename", "plan": "north", "name": "  Lecco\u0000 <b>nord</b>\n ",
                                          "version": 0})
    assert renamed["names"]["north"] == "Lecco <b>nord</b>"
    refused = _post(studio, "/api/edit", {"op": "rename", "plan": "north", "name": "x" * 81, "version": 1}, 400)
    assert "at most 80" in refused["error"][0]
    page = studio.get("/static/studio.js").text
    assert "innerHTML" not in page


def test_versions_new_plan_merge_and_restore(studio):
    code, target = _neighbour_in_other_plan(studio.state_)
    _post(studio, "/api/version", {"name": "start"})
    state = _post(studio, "/api/edit", {"op": "new_plan", "codes": [code], "version": 0})
    assert "new-1" in state["names"] and state["scorecard"]["summary"]["plans"] == 3
    state = _post(studio, "/api/edit", {"op": "merge", "plan": target, "other": "new-1", "version": 1})
    assert "new-1" not in state["names"]
    state = _post(studio, "/api/edit", {"op": "restore_version", "name": "start", "version": 2})
    assert state["scorecard"]["summary"]["plans"] == 2 and state["versions"][0]["name"] == "start"
    assert state["steps"]["labels"][-1] == "restore version start"
    again = _post(studio, "/api/version", {"name": "start"})  # a name kept again replaces the version, and says so
    assert again["notice"] == "Version 'start' kept, replacing the one kept at step 0."
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", again["versions"][0]["saved"])  # when it was kept
    gone = _post(studio, "/api/version/delete", {"name": "start"})
    assert gone["versions"] == [] and gone["notice"] == "Version 'start' deleted."
    refused = _post(studio, "/api/version/delete", {"name": "start"}, status=400)
    assert "no version named 'start'; versions: none yet" in refused["error"][0]


def _repaired(studio):
    """Run Repair and wait for it; the job status with its candidate."""
    state = _post(studio, "/api/solve", {"action": "repair", "version": studio.state_.session.version,
                                         "time_limit": 3})
    assert state["job"]["state"] == "running"
    deadline = time.monotonic() + 60
    while True:
        status = studio.get("/api/job").json()
        if status["job"]["state"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert status["job"]["state"] == "done", status["job"]["messages"]
    return status


def test_repair_runs_in_the_background_and_its_candidate_is_accepted(studio):
    candidate = _repaired(studio)["candidate"]
    assert candidate["scorecard"]["summary"]["non_compliant_plans"] == 0
    assert set(candidate["names"]) >= {"north", "south"}  # the repaired plans keep their ids
    # how good the repair is, as propose says it (search_words): proved or not, then by what
    quality, how = candidate["words"]
    assert "moves the fewest municipalities" in quality and how.startswith("Found by the ")
    # the changes are model.changes': its rows (a repair merges no plan) and its sentences
    rows = candidate["change_table"]
    assert rows and {r["change"] for r in rows} <= {"move", "split"}
    assert len(candidate["changes"]) == len(rows)
    assert sum(r["population_moved"] for r in rows) == candidate["scorecard"]["summary"]["population_moved"]
    accepted = _post(studio, "/api/candidate/accept", {"version": 0})
    assert accepted["scorecard"]["summary"]["non_compliant_plans"] == 0 and accepted["candidate"] is None
    assert accepted["steps"]["labels"] == ["accept repair"]


def test_a_worker_waits_for_the_next_job_with_its_imports_done(studio):
    # the server warms the studio before the first page: the first job takes the worker started then,
    # and a new one waits once the job is over
    state = studio.state_
    state.warm()
    waiting = state.spare._process
    assert waiting is not None and waiting.poll() is None
    _repaired(studio)
    assert state.job._process is waiting
    following = state.spare._process
    assert following is not None and following is not waiting and following.poll() is None
    state.close()  # the server shuts down: no worker is left behind
    assert state.spare._process is None and following.poll() is not None


def test_a_repair_falls_back_on_the_latest_complying_step_that_keeps_the_locks(studio):
    state = studio.state_
    s = state.session

    def problem(locked=None):
        return solver_problem("repair", s.plan(), state.rules, state.collaboration, set(), locked or {})

    assert s.plan().violations(state.rules) and state._complying_step(problem()) is None
    _repaired(studio)
    accepted = _post(studio, "/api/candidate/accept", {"version": s.version})
    assert accepted["scorecard"]["summary"]["non_compliant_plans"] == 0
    complying = dict(s.assignment)
    code, target = _neighbour_in_other_plan(state)
    _post(studio, "/api/edit", {"op": "move", "codes": [code], "plan": target, "version": s.version})
    assert state._complying_step(problem()).assignment.to_dict() == complying
    # locked where the planner put it, the municipality rules that step out (the lock step moved
    # nothing, and the start breaks rules): nothing to start from
    _post(studio, "/api/edit", {"op": "lock", "codes": [code], "version": s.version})
    assert state._complying_step(problem({code: target})) is None


def test_an_infeasible_request_gets_the_command_line_explanation(studio):
    s = studio.state_.session
    _post(studio, "/api/edit", {"op": "lock_plan", "plan": "north", "version": 0})
    _post(studio, "/api/edit", {"op": "lock_plan", "plan": "south", "version": 1})
    refused = _post(studio, "/api/solve", {"action": "complete", "version": 2}, 400)
    assert refused["infeasible"] and refused["error"][0] == "no plan can meet the rules:"
    assert any("unlock it" in line for line in refused["error"]) or s.locked_plans


def test_a_time_limit_out_of_range_is_refused(studio):
    for seconds in (0, -5, 99999, "30"):
        refused = _post(studio, "/api/solve", {"action": "complete", "version": 0, "time_limit": seconds}, 400)
        assert "give a number of seconds from 1 to 3600" in refused["error"][0]
    assert studio.get("/api/state").json()["time_limit"] == studio.state_.solver.time_limit


def test_cancel_stops_the_solver_and_keeps_the_plan(studio):
    _post(studio, "/api/solve", {"action": "complete", "version": 0, "time_limit": 60})
    state = _post(studio, "/api/job/cancel", {})
    assert state["job"]["state"] == "cancelled" and state["version"] == 0


def test_stop_ends_the_solver_and_its_best_plan_so_far_is_the_candidate(studio):
    # Complete on Lecco would search for 120 s; Stop once it has a plan takes that plan at once
    _post(studio, "/api/solve", {"action": "complete", "version": 0, "time_limit": 120})
    deadline = time.monotonic() + 60
    while not (studio.get("/api/job").json()["job"]["progress"].get("plans") or time.monotonic() > deadline):
        time.sleep(0.3)
    stopping = _post(studio, "/api/job/finish", {})
    assert stopping["job"]["state"] == "running" and "best plan so far" in stopping["notice"]
    asked = time.monotonic()
    while (status := studio.get("/api/job").json())["job"]["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert status["job"]["state"] == "done", status["job"]["messages"]
    assert time.monotonic() - asked < 30 and status["job"]["result"]["status"] == "interrupted"
    assert status["candidate"]["scorecard"]["summary"]["non_compliant_plans"] == 0
    assert _post(studio, "/api/job/finish", {}, 400)["error"] == ["no solver is running"]


def test_save_export_upload_and_reload_with_evaluate(studio, lecco_sq, tmp_path):
    ws = studio.state_.workspace
    state = _post(studio, "/api/write", {"kind": "csv", "name": "mine"})
    assert state["written"] == "mine.csv" and (ws / "mine.csv").exists()
    assert state["notice"] == "Wrote mine.csv in the workspace."
    again = _post(studio, "/api/write", {"kind": "csv", "name": "mine"})  # it used to replace it without a word
    assert again["notice"] == "Wrote mine.csv in the workspace, replacing the file of that name."
    territory = studio.state_.territory
    saved = read_plan(ws / "mine.csv", territory)
    assert saved.assignment.to_dict() == studio.state_.session.assignment
    for kind, name in (("geojson", "mine.geojson"), ("gpkg", "mine.gpkg"), ("html", "mine.html"),
                       ("changes", "mine-changes.csv")):
        assert _post(studio, "/api/write", {"kind": kind, "name": "mine"})["written"] == name
    changes = pd.read_csv(ws / "mine-changes.csv", dtype=str)  # propose's changes.csv: every change, not five
    assert list(changes.columns) == CHANGE_COLUMNS and read_plan(ws / "mine.csv", territory) is not None
    assert "shipped with lombardy-districts" in (ws / "mine.html").read_text()
    offered = {f["name"]: f["plan"] for f in studio.get("/api/state").json()["files"]}
    assert offered["mine.csv"] and not offered["mine-changes.csv"]  # the page offers to open plan files only
    assert studio.get("/files/mine.csv").text.startswith("municipality_code,plan_id,plan_name")
    # paths from the page never leave the workspace
    for bad in ("../escape", "/etc/passwd", "a/b", "..", ""):
        refused = _post(studio, "/api/write", {"kind": "csv", "name": bad}, 400)
        assert "plain name" in refused["error"][0]
    assert studio.get("/files/../../etc/passwd").status_code in (400, 404)
    assert not (ws.parent / "escape.csv").exists()
    # an upload with the command line's messages, file named as the user named it
    bad = "municipality_code,plan_id\n097001,a\n999999,b\n"
    refused = studio.post("/api/upload?name=bad.csv&version=0", content=bad, headers=HEADERS)
    assert refused.status_code == 400
    assert refused.json()["error"][0].startswith("bad.csv: unknown municipality codes 999999")
    assert str(ws) not in refused.text
    listed = [f["name"] for f in studio.get("/api/state").json()["files"]]
    assert "uploads/bad.csv" not in listed and not list((ws / "uploads").iterdir())  # a refused file is not kept
    good = (ws / "mine.csv").read_text().replace("south", "sud")
    opened = studio.post("/api/upload?name=other.csv&version=0", content=good, headers=HEADERS).json()
    assert "sud" in opened["names"] and opened["steps"]["labels"][-1] == "open other.csv"
    assert "uploads/other.csv" in [f["name"] for f in opened["files"]]
    excel = "\n".join(line.lstrip("0") for line in good.replace("sud", "meridione").splitlines())  # zeros lost
    opened = studio.post("/api/upload?name=excel.csv&version=1", content=excel, headers=HEADERS).json()
    assert opened["steps"]["labels"][-1] == "open excel.csv" and "meridione" in opened["names"]
    too_big = studio.post("/api/upload?name=big.csv&version=2", content=b"x" * 5_000_001, headers=HEADERS)
    assert too_big.status_code == 413


def test_plan_objects_from_a_notebook_open_as_files_do(lecco_sq, tmp_path):
    territory = load(province="Lecco")
    status_quo = Plan.from_csv(lecco_sq, territory)
    plan = status_quo.reassign({territory.codes[0]: "south"})
    state = prepare(plan, status_quo=status_quo, workspace=tmp_path)
    assert state.session.assignment == dict(plan.assignment) and state.session.names["north"] == "North Lecco"
    assert state.notice == "Started from the plan file." and (tmp_path / "given_plan.csv").exists()
    assert state.status_quo.assignment.equals(status_quo.assignment)


def test_the_session_reopens_as_it_was_left(lecco_sq, tmp_path):
    first = prepare(status_quo=lecco_sq, province="Lecco", workspace=tmp_path)
    code, target = _neighbour_in_other_plan(first)
    first.edit({"op": "move", "codes": [code], "plan": target, "version": 0})
    first.edit({"op": "rename", "plan": target, "name": "Kept", "version": 1})
    first.edit({"op": "undo", "version": 2})
    first.save_version("v1")
    again = prepare(status_quo=lecco_sq, province="Lecco", workspace=tmp_path)
    assert again.session.assignment == first.session.assignment and again.session.version == 3
    assert again.session.steps()["redo"].startswith("rename") and "v1" in again.session.versions
    assert again.notice.startswith("Reopened your session (2 steps)")


def test_requests_without_the_studio_header_host_or_token_are_refused(studio, lecco_inputs, tmp_path):
    assert studio.post("/api/edit", json={"op": "undo", "version": 0}).status_code == 403
    assert studio.post("/api/edit", json={"op": "undo", "version": 0},
                       headers={**HEADERS, "Origin": "http://evil.example"}).status_code == 403
    state = StudioState(lecco_inputs, tmp_path / "other")
    guarded = TestClient(build_app(state, hosts={"127.0.0.1:8765"}, token="s3cret"),
                         base_url="http://127.0.0.1:8765")
    assert guarded.get("/api/state").status_code == 403
    assert "access token" in guarded.get("/").text
    page = guarded.get("/?token=s3cret")
    assert page.status_code == 200 and "ld_studio_token" in page.headers["set-cookie"]
    assert guarded.get("/api/state").status_code == 200  # the cookie carries the token now
    rebinding = TestClient(build_app(state, hosts={"127.0.0.1:8765"}), base_url="http://evil.example:8765")
    assert rebinding.get("/api/state").status_code == 403


def test_the_page_and_its_scripts_come_from_the_package(studio):
    assert "static/leaflet.js" in studio.get("/").text
    assert "Leaflet 1.9.4" in studio.get("/static/leaflet.js").text
    assert "data:image/png;base64" in studio.get("/static/leaflet.css").text
    payload = studio.get("/api/territory").json()
    assert len(payload["codes"]) == len(studio.state_.territory.codes) and payload["edges"]


def test_the_studio_works_on_your_own_data(tmp_path):
    from tests.maps_tiny import tiny_territory

    grid = tiny_territory().municipalities.reset_index()
    grid["id"] = [f"cell-{i}" for i in range(len(grid))]  # ids that are not ISTAT codes
    grid[["id", "name", "geometry"]].to_file(tmp_path / "cells.gpkg")
    grid[["id", "population"]].to_csv(tmp_path / "people.csv", index=False)
    floors = dict.fromkeys(("standard", "high_density", "mountain", "low_density"), 50_000)
    state = prepare(municipalities=tmp_path / "cells.gpkg", population=tmp_path / "people.csv", code_column="id",
                    rules={"floors": floors}, workspace=tmp_path / "ws",
                    solver={"solver": "heuristic", "time_limit": 3, "workers": 1})
    with TestClient(build_app(state)) as client:
        assert client.get("/api/territory").json()["kinds"] == []  # no labour market areas outside Italy
        state_ = client.get("/api/state").json()
        assert state_["notice"] == "Started from one area plan for everything."
        assert "no labour_market_area column" in state_["scorecard"]["summary"]["collaboration_note"]
        _post(client, "/api/edit", {"op": "lock", "codes": ["cell-0"], "version": 0})
        _post(client, "/api/solve", {"action": "complete", "version": 1, "time_limit": 3})
        deadline = time.monotonic() + 60
        while (status := client.get("/api/job").json())["job"]["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert status["job"]["state"] == "done", status["job"]["messages"]
        candidate = status["candidate"]
        assert candidate["scorecard"]["summary"]["plans"] > 1
        first = candidate["assignment"][state.territory.codes.index("cell-0")]
        accepted = _post(client, "/api/candidate/accept", {"version": 1})
        assert accepted["assignment"][state.territory.codes.index("cell-0")] == first
        assert accepted["locked_municipalities"] == ["cell-0"]  # the lock holds through the solver's answer
    state.close()


def test_a_merge_is_named_as_propose_names_it_keeps_its_colour_and_the_locks(tmp_path):
    # a 2 x 3 grid in three plans: West and East comply (60,000), Centre (20,000) does not; East is locked
    grid = grid_frame(2, 3, [30_000, 10_000, 30_000, 30_000, 10_000, 30_000]).reset_index()
    grid[["code", "name", "geometry"]].to_file(tmp_path / "cells.gpkg")
    grid[["code", "population"]].to_csv(tmp_path / "people.csv", index=False)
    plans = {"1": "W", "4": "W", "2": "C", "5": "C", "3": "E", "6": "E"}
    names = {"W": "West", "C": "Centre", "E": "East"}
    rows = [f"{int(k):06d},{p},{names[p]}" for k, p in plans.items()]
    (tmp_path / "sq.csv").write_text("municipality_code,plan_id,plan_name\n" + "\n".join(rows) + "\n")
    floors = dict.fromkeys(("standard", "high_density", "mountain", "low_density"), 50_000)
    state = prepare(municipalities=tmp_path / "cells.gpkg", population=tmp_path / "people.csv", code_column="code",
                    status_quo=tmp_path / "sq.csv", rules={"floors": floors}, workspace=tmp_path / "ws",
                    solver={"solver": "heuristic", "time_limit": 3, "workers": 1})
    with TestClient(build_app(state)) as client:
        before = client.get("/api/state").json()["colours"]
        _post(client, "/api/edit", {"op": "lock_plan", "plan": "E", "version": 0})
        _post(client, "/api/solve", {"action": "merge", "version": 1, "time_limit": 3})
        deadline = time.monotonic() + 60
        while (status := client.get("/api/job").json())["job"]["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert status["job"]["state"] == "done", status["job"]["messages"]
        candidate = status["candidate"]
        # changes.identify: smallest first, so the plan the other joins comes last; the locked plan as it was
        assert candidate["names"] == {"C+W": "Centre + West", "E": "East"}
        assert candidate["changes"][0].startswith("Centre merges with West: 80,000 inhabitants")
        assert [r["change"] for r in candidate["change_table"]] == ["merge", "merge"]
        # the same plan has the same colour on both maps, a merged plan its largest predecessor's: West and
        # East shared one (they did not touch), so West's changes on both sides; the others keep theirs
        now = candidate["current_colours"]
        assert before["W"] == before["E"] and now["W"] != now["E"]
        assert now["E"] == before["E"] and now["C"] == before["C"]
        assert candidate["colours"] == {"C+W": now["W"], "E": now["E"]}
        assert client.get("/api/state").json()["colours"] == now  # the page shows the current plan so
        accepted = _post(client, "/api/candidate/accept", {"version": 1})
        assert accepted["names"] == {"C+W": "Centre + West", "E": "East"}
        assert accepted["colours"] == candidate["colours"] and accepted["locked_plans"] == ["E"]
        assert accepted["steps"]["labels"][-1] == "accept merge"
        undone = _post(client, "/api/edit", {"op": "undo", "version": 2})
        assert set(undone["names"]) == {"W", "C", "E"} and undone["locked_plans"] == ["E"]
    state.close()


def test_the_page_gets_the_bridges_to_draw(lombardy):
    como = lombardy.select("province", ["Como"])
    payload = territory_payload(como, default_collaboration(como), None)
    (i, j, metres), = payload["bridges"]  # Campione d'Italia, the exclave, and its one bridge
    assert {payload["codes"][i], payload["codes"][j]} == {"013040", "013253"} and 600 < metres < 900


def test_an_answer_still_fits_when_the_edits_made_meanwhile_were_undone(studio):
    # a planner who undoes an edit made while the solver ran is back on the plan it solved: it can be accepted
    state = _post(studio, "/api/solve", {"action": "repair", "version": 0, "time_limit": 3})
    code = studio.state_.session.codes[0]
    plan = studio.state_.session.assignment[code]
    target = next(p for p in state["names"] if p != plan)
    _post(studio, "/api/edit", {"op": "move", "codes": [code], "plan": target, "version": 0})
    _post(studio, "/api/edit", {"op": "undo", "version": 1})
    deadline = time.monotonic() + 60
    while (status := studio.get("/api/job").json())["job"]["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert status["candidate"]["version"] == status["version"] == 2
    accepted = _post(studio, "/api/candidate/accept", {"version": 2})
    assert accepted["candidate"] is None and accepted["steps"]["labels"][-1] == "accept repair"
    # an edit that stays makes the answer stale, as before
    _post(studio, "/api/solve", {"action": "complete", "version": 3, "time_limit": 3})
    _post(studio, "/api/edit", {"op": "move", "codes": [code], "plan": target, "version": 3})
    while (status := studio.get("/api/job").json())["job"]["state"] == "running" and time.monotonic() < deadline + 60:
        time.sleep(0.3)
    assert status["candidate"]["version"] == 3 != status["version"]
    assert "no longer fits" in _post(studio, "/api/candidate/accept", {"version": 4}, 400)["error"][0]


def _upload(client, name, rows, version, status=200):
    response = client.post(f"/api/upload?name={name}&version={version}",
                           content="municipality_code,plan_id,plan_name\n" + "\n".join(rows) + "\n", headers=HEADERS)
    assert response.status_code == status, response.text
    return response.json()


def test_opening_a_file_that_breaks_a_lock_says_which_lock_it_lifted(studio):
    s = studio.state_.session
    _post(studio, "/api/edit", {"op": "lock_plan", "plan": "north", "version": 0})
    moved = s.members("north")[0]
    plans = {**s.assignment, moved: "south"}
    rows = [f"{c},{p},{'North Lecco' if p == 'north' else 'South'}" for c, p in plans.items()]
    opened = _upload(studio, "f.csv", rows, 1)
    assert opened["locked_plans"] == [] and opened["warning"]  # shown as a warning, not a plain notice
    assert opened["notice"].startswith("Opened f.csv. It breaks 1 lock you set, now lifted: plan North Lecco (north).")
    assert "undo to go back" in opened["notice"]
    undone = _post(studio, "/api/edit", {"op": "undo", "version": 2})
    assert undone["locked_plans"] == ["north"] and not undone["warning"]


def test_plan_names_are_one_rule_whatever_their_case(studio):
    refused = _post(studio, "/api/edit", {"op": "rename", "plan": "south", "name": " north LECCO ", "version": 0}, 400)
    assert "is already called 'North Lecco' (the same name but for case or spaces)" in refused["error"][0]
    s = studio.state_.session
    rows = [f"{c},{p},{'Dalmine' if p == 'north' else 'dalmine '}" for c, p in s.assignment.items()]
    opened = _upload(studio, "twins.csv", rows, 0)
    assert sorted(opened["names"].values()) == ["Dalmine", "dalmine (2)"]
    assert opened["warning"] and "'dalmine (2)', as 'dalmine' is another plan's name" in opened["notice"]


def test_a_new_plan_is_called_by_its_name_and_file_names_take_accents_not_devices(studio):
    code, _ = _neighbour_in_other_plan(studio.state_)
    state = _post(studio, "/api/edit", {"op": "new_plan", "codes": [code], "version": 0})
    name = studio.state_.territory.municipalities.at[code, "name"]
    assert state["notice"] == f"New plan {name} of {name} alone." and state["names"]["new-1"] == name
    for given, written in (("piano_è", "piano_è.csv"), ("piano_e\u0300", "piano_è.csv"),  # as a Mac types it
                           ("Città alta", "Città alta.csv"), ("console", "console.csv")):
        assert _post(studio, "/api/write", {"kind": "csv", "name": given})["written"] == written
    for device in ("con", "PRN", "aux.csv", "Nul.txt", "com1", "LPT9.csv", "COM\u00b9"):
        refused = _post(studio, "/api/write", {"kind": "csv", "name": device}, 400)["error"][0]
        assert "is a name Windows keeps for a device" in refused and "use another name, e.g. plan-" in refused


def test_upload_errors_say_what_the_planner_can_do_in_the_studio(lecco_inputs, tmp_path):
    codes = lecco_inputs.territory.codes
    region = codes + [f"0{k:05d}" for k in range(1000)]  # the region loaded is larger than the studio's part
    state = StudioState(lecco_inputs, tmp_path / "ws", known_codes=region)
    with TestClient(build_app(state)) as client:
        unknown = _upload(client, "bad.csv", ["999999,a"], 0, 400)["error"][0]
        assert unknown.startswith("bad.csv: unknown municipality codes 999999")
        assert f"this studio plans {len(codes):,} municipalities" in unknown and "1,0" not in unknown
        partial = _upload(client, "part.csv", [f"{c},a,A" for c in codes[:-3]], 0, 400)["error"]
        assert partial[0].startswith("part.csv: municipalities with no plan (3): ")
        assert "Python" not in partial[0] and f"this studio plans {len(codes):,} municipalities" in partial[0]
        assert "lombardy-districts studio --status-quo part.csv --within-status-quo" in partial[0]
        # a plan of the whole region opens on the studio's part, and says how many it left out
        whole = [f"{c},a,A" for c in codes] + [f"{c},b,B" for c in region[len(codes):len(codes) + 40]]
        opened = _upload(client, "region.csv", whole, 0)
        assert f"Opened region.csv. 40 of its municipalities lie outside the {len(codes):,} this studio plans" \
            in opened["notice"]
    state.close()
