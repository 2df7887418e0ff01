"""The studio in a real headless Chromium, network blocked: edit, undo, lock, repair, save, a second tab.

Skipped locally when Chromium or Playwright is missing; failing in CI (see ``tests.maps_fixtures``).
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager

import networkx as nx
import pytest

from lombardy_districts.maps.colouring import TIE_LINES
from lombardy_districts.model.options import DataOptions, Selection, SolverOptions
from lombardy_districts.model.plan import across
from lombardy_districts.model.scorecard import evaluate
from lombardy_districts.solvers.heuristic import PREPARING
from lombardy_districts.studio.server import background as serve
from lombardy_districts.studio.state import StudioState
from lombardy_districts.workflows.inputs import load, read_inputs, read_plan
from tests.browser import Opened, block_network, watch_console

pytest_plugins = ["tests.maps_fixtures"]  # chromium
HOSTILE = "<img src=x onerror=\"document.body.dataset.owned=1\">"


@pytest.fixture(scope="module")
def lecco(tmp_path_factory):
    """Lecco as three plans: north and south halves, and a small plan of two municipalities below its floor."""
    territory = load(province="Lecco")
    plans = _three_plans(territory)
    names = {"north": "North Lecco", "south": HOSTILE, "small": "Small"}
    rows = [f"{code},{plan},\"{names[plan].replace(chr(34), chr(34) * 2)}\"" for code, plan in plans.items()]
    path = tmp_path_factory.mktemp("inputs") / "sq.csv"
    path.write_text("municipality_code,plan_id,plan_name\n" + "\n".join(rows) + "\n")
    inputs = read_inputs(DataOptions(), Selection(province="Lecco"), {"status_quo": path})
    return inputs, path


def _three_plans(territory) -> dict[str, str]:
    """Contiguous north and south parts, and two municipalities of the (mountain) north as a small third plan."""
    graph = territory.graph
    north = list(nx.bfs_tree(graph, territory.codes[0]))[: len(territory.codes) // 2]
    rest = graph.subgraph(set(territory.codes) - set(north))
    south = max(nx.connected_components(rest), key=len)
    north = set(territory.codes) - south
    population = territory.municipalities["population"]
    pairs = sorted((population[a] + population[b], a, b) for a, b in graph.edges if a in north and b in north)
    for _, a, b in pairs:
        if nx.is_connected(graph.subgraph(north - {a, b})):
            return {c: "small" if c in (a, b) else "north" if c in north else "south" for c in territory.codes}
    raise AssertionError("no small plan found")


@pytest.fixture
def studio_page(chromium, lecco, tmp_path):
    inputs, _ = lecco
    with _studio(chromium, inputs, tmp_path / "ws") as (state, open_page):
        yield state, open_page


@contextmanager
def _studio(chromium, inputs, workspace):
    """A studio served on ``inputs``, and a function opening it in a new page of one browser context."""
    state = StudioState(inputs, workspace, solver=SolverOptions(solver="heuristic", time_limit=3, workers=1))
    with serve(state) as url:
        context = chromium.new_context(viewport={"width": 1500, "height": 950})

        def open_page() -> Opened:
            page = context.new_page()
            opened = Opened(page)
            watch_console(page, opened)
            block_network(page, opened, (url,))
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=20000)
            return opened

        yield state, open_page
        context.close()


def _population(page, plan_id: str) -> str:
    return page.locator(f"#plan-table tr[data-plan='{plan_id}'] td.pop").inner_text()


def _click(page, code: str, **kw) -> None:
    x, y = page.evaluate("(code) => window.ldStudio.pointOf(code)", code)
    page.mouse.click(x, y, **kw)


def _border_municipality(state, plan_from: str, plan_to: str) -> str:
    s = state.session
    for u, v in state.territory.graph.edges:
        for a, b in ((u, v), (v, u)):
            if s.assignment[a] == plan_from and s.assignment[b] == plan_to:
                return a
    raise AssertionError(f"{plan_from} does not touch {plan_to}")


def test_move_undo_lock_repair_save_in_the_browser(studio_page, tmp_path):
    state, open_page = studio_page
    opened = open_page()
    page = opened.page
    page.set_viewport_size({"width": 1500, "height": 1500})  # tall: half the width shows Lecco smaller
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    whole = page.evaluate("() => window.ldStudio.map().getZoom()")  # the territory over the map's whole width
    # the map draws every municipality, the tooltip works, names are text
    assert page.evaluate("() => { let n = 0; window.ldStudio.map().eachLayer(l => { if (l.feature === undefined "
                         "&& l.options.fillColor) n++; }); return n; }") == len(state.territory.codes)
    code = _border_municipality(state, "south", "north")
    x, y = page.evaluate("(code) => window.ldStudio.pointOf(code)", code)
    page.mouse.move(x, y)
    page.mouse.move(x + 1, y + 1)
    page.locator(".leaflet-tooltip").first.wait_for(state="visible", timeout=5000)
    name = state.territory.municipalities.at[code, "name"]
    assert name in page.locator(".leaflet-tooltip").first.inner_text()
    assert HOSTILE in page.locator("#plan-table").inner_text()
    assert page.locator("#plan-table img").count() == 0 and page.evaluate("document.body.dataset.owned") is None

    # move a municipality: the plan's population changes
    north_before = _population(page, "north")
    people = int(state.territory.municipalities.at[code, "population"])
    _click(page, code)
    page.locator("#move-to").select_option("north")
    page.locator("#move").click()
    page.wait_for_function("() => window.ldStudio.state().version === 1")
    expected = f"{int(north_before.replace(',', '')) + people:,}"
    assert _population(page, "north") == expected
    # undo it
    page.locator("#undo").click()
    page.wait_for_function("() => window.ldStudio.state().version === 2")
    assert _population(page, "north") == north_before

    # lock the south plan: its municipalities no longer move
    page.locator("#plan-table tr[data-plan='south']").click()
    page.locator("#lock-plan").click()
    page.wait_for_function("() => window.ldStudio.state().locked_plans.includes('south')")
    assert "locked" in page.locator("#plan-table tr[data-plan='south'] td.name").inner_text()
    inside = _border_municipality(state, "south", "north")
    _click(page, inside)
    assert page.locator("#move").is_disabled()  # said before the click
    assert "locked (itself or its plan)" in page.locator("#move").get_attribute("title")
    page.evaluate("document.getElementById('move').disabled = false")  # the server refuses it all the same
    page.locator("#move-to").select_option("north")
    page.locator("#move").click()
    page.locator("#message.error").wait_for(timeout=5000)
    assert "locked" in page.locator("#message").inner_text()
    page.locator("#message .dismiss").click()  # the sticky box can be put away
    assert not page.locator("#message").is_visible()

    # Repair with a short time limit, then accept: every plan complies, the locked plan is kept
    south = set(state.session.members("south"))
    assert page.locator("#plan-table tr.bad").count() == 1  # the small plan
    assert page.locator("#time-limit").input_value() == "3"  # the studio's own time limit, not the page's 30
    page.locator("#time-limit").fill("0")  # 0 ran the default without a word
    page.locator("#run-repair").click()
    page.wait_for_function("() => document.querySelector('#message').textContent.includes('from 1 to 3600')")
    page.locator("#time-limit").fill("3")
    page.locator("#run-repair").click()
    page.locator("#candidate").wait_for(state="visible", timeout=90000)
    assert page.locator("#cand-map").is_visible()
    assert "Found by the " in page.locator("#cand-words").inner_text()  # how good the plan is, in words
    proved = page.locator("#cand-words").inner_text().startswith("Proved best")
    assert ("(proved best, " in page.locator("#cand-title").inner_text()) == proved  # the title agrees with it
    assert "move from Small" in page.locator("#cand-changes").inner_text() or \
        "Small" in page.locator("#cand-changes").inner_text()
    page.locator("#run-complete").click()  # asks first (the dialog is dismissed): the candidate stays
    time.sleep(0.5)
    assert page.locator("#candidate").is_visible() and page.locator("#job").is_hidden()
    half = page.evaluate("() => window.ldStudio.map().getZoom()")  # fitted to half the width beside the candidate
    # the halved map's layers panel is an icon, clear of the zoom buttons; open again on the whole width
    assert not _layers_open(page)
    zoom, layers = _box(page, "#map .leaflet-control-zoom"), _box(page, "#map .leaflet-control-layers")
    assert zoom["right"] < layers["left"]
    page.locator("#cand-accept").click()
    page.wait_for_function("() => window.ldStudio.state().candidate === null")
    page.wait_for_function("() => !!document.querySelector('#map .leaflet-control-layers-expanded')")
    assert half < whole == page.evaluate("() => window.ldStudio.map().getZoom()")  # the whole width again
    assert page.locator("#plan-table tr.bad").count() == 0
    assert set(state.session.members("south")) == south

    # an edit while the solver runs: its answer is for the plan before it, so it is marked and cannot be accepted
    page.locator("#time-limit").fill("4")
    page.locator("#run-complete").click()
    page.locator("#plan-table tr[data-plan='north']").click()
    assert re.search(r"\d\.\d\d Polsby-Popper", page.locator("#card-table").inner_text())  # compactness, as evaluate
    page.locator("#rename-text").fill("North, renamed while the solver ran")
    page.locator("#rename").click()
    page.locator("#candidate").wait_for(state="visible", timeout=90000)
    assert page.locator("#cand-stale").is_visible() and page.locator("#cand-accept").is_disabled()
    page.locator("#cand-discard").click()
    page.wait_for_function("() => window.ldStudio.state().candidate === null")

    # save as CSV in the workspace, and reload it with evaluate
    page.locator("#file-name").fill("agreed")
    page.locator("#file-kind").select_option("csv")
    page.locator("#write").click()
    page.locator("#file-list a", has_text="agreed.csv").wait_for(timeout=10000)
    saved = read_plan(state.workspace / "agreed.csv", state.territory)
    card = evaluate(saved, state.rules, state.collaboration, state.status_quo)
    assert card.summary["non_compliant_plans"] == 0
    assert saved.assignment.to_dict() == state.session.assignment
    assert page.locator("#message").inner_text().startswith("Wrote agreed.csv")
    # a reload does not replay the last action's words as if it had just happened
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    reloaded = f"Reloaded: the plan as you left it (version {state.session.version})."
    assert page.locator("#message").inner_text() == reloaded
    assert page.locator("#time-limit").input_value() == "4"  # the planner's last time limit, not the studio's 3
    page.screenshot(path=str(tmp_path / "studio.png"))
    assert opened.console_errors == []
    assert opened.blocked_besides_tiles() == []


def test_a_second_tab_cannot_overwrite_the_first(studio_page):
    state, open_page = studio_page
    first, second = open_page().page, open_page().page
    first.locator("#plan-table tr[data-plan='south']").click()
    first.locator("#rename-text").fill("South Lecco")
    first.locator("#rename").click()
    first.wait_for_function("() => window.ldStudio.state().version === 1")
    second.locator("#plan-table tr[data-plan='south']").click()
    second.locator("#rename-text").fill("Sud")
    second.locator("#rename").click()
    second.locator("#message.error").wait_for(timeout=5000)
    assert "another tab" in second.locator("#message").inner_text()
    second.wait_for_function("() => window.ldStudio.state().version === 1")  # now shows the latest state
    assert "South Lecco" in second.locator("#plan-table").inner_text()
    assert state.session.names["south"] == "South Lecco"


def test_lasso_and_brush_select_municipalities_to_move_together(studio_page):
    state, open_page = studio_page
    page = open_page().page
    code = _border_municipality(state, "south", "north")
    others = [n for n in state.territory.graph.neighbors(code) if state.session.assignment[n] == "south"]
    page.evaluate("""([code]) => { const m = window.ldStudio.map(), t = window.ldStudio.territory();
        m.setView(t.points[t.codes.indexOf(code)], 12, {animate: false}); }""", [code])
    x, y = page.evaluate("(code) => window.ldStudio.pointOf(code)", code)
    page.locator("input[name=tool][value=lasso]").check()
    page.mouse.move(x - 4, y - 4)
    page.mouse.down()
    for dx, dy in ((4, -4), (4, 4), (-4, 4), (-4, -4)):
        page.mouse.move(x + dx, y + dy, steps=3)
    page.mouse.up()
    assert page.locator("#sel-count").inner_text().startswith("1 municipality")
    assert state.territory.municipalities.at[code, "name"] in page.locator("#sel-names").inner_text()
    assert page.locator("#card-title").inner_text().endswith("(south)")  # the card shows the selection's plan
    # the brush adds a neighbour by passing over it
    page.locator("input[name=tool][value=brush]").check()
    nx_, ny = page.evaluate("(code) => window.ldStudio.pointOf(code)", others[0])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(nx_, ny, steps=8)
    page.mouse.up()
    assert page.locator("#sel-count").inner_text().startswith("2 municipalities")
    page.locator("#move-to").select_option("north")
    page.locator("#move").click()
    page.wait_for_function("() => window.ldStudio.state().version === 1")
    assert state.session.assignment[code] == state.session.assignment[others[0]] == "north"
    assert state.session.steps()["labels"][-1].startswith("move ")
    # clicks still reach the municipalities after a lasso (its line once left a canvas over them)
    page.locator("input[name=tool][value=select]").check()
    _click(page, others[-1])
    assert page.locator("#sel-count").inner_text().startswith("1 municipality")


def test_a_plan_file_opened_in_the_page_is_checked_as_the_command_line_checks_it(studio_page, tmp_path):
    state, open_page = studio_page
    page = open_page().page
    bad = tmp_path / "bad.csv"
    bad.write_text("municipality_code,plan_id\n999999,a\n")
    page.locator("#upload").set_input_files(str(bad))
    page.locator("#message.error").wait_for(timeout=10000)
    assert "bad.csv: unknown municipality codes 999999" in page.locator("#message").inner_text()
    good = tmp_path / "good.csv"
    good.write_text("municipality_code,plan_id\n" + "\n".join(f"{c},one" for c in state.territory.codes) + "\n")
    page.locator("#upload").set_input_files(str(good))
    page.wait_for_function("() => window.ldStudio.state().version === 1")
    assert page.locator("#plan-table tr[data-plan]").count() == 1
    assert "open good.csv" in page.locator("#steps").inner_text()


def _headline_shown(page) -> list[str]:
    return page.evaluate("() => Array.from(document.querySelectorAll('#headline-words p, #headline-words li'))"
                         ".map((e) => e.textContent)")


def _headline_of(state) -> list[str]:
    """``evaluate``'s headline of the session's plan, as the page shows it (a change line without its "- ")."""
    card = evaluate(state.session.plan(), state.rules, state.collaboration, state.status_quo)
    return [line[2:] if line.startswith("- ") else line for line in card.headline]


def test_the_scorecard_opens_with_the_headline_evaluate_prints(studio_page):
    state, open_page = studio_page
    opened = open_page()
    page = opened.page
    shown = _headline_shown(page)
    assert shown == _headline_of(state)
    assert shown[0].startswith("3 area plans for ") and "2 comply, 1 does not, with " in shown[0]  # the small plan
    assert page.locator("#headline-words p").first.get_attribute("class") == "bad"
    assert shown[1] == "Changes from the status quo: none, every current plan stays as it is."
    # an edit: the headline says what changed, in the words of changes.csv; names stay text
    code = _border_municipality(state, "south", "north")
    _click(page, code)
    page.locator("#move-to").select_option("north")
    page.locator("#move").click()
    page.wait_for_function("() => window.ldStudio.state().version === 1")
    shown = _headline_shown(page)
    assert shown == _headline_of(state)
    name = state.territory.municipalities.at[code, "name"]
    assert shown[1].startswith("Changes from the status quo: 1 municipality (")
    assert shown[2].startswith(f"{name} (") and shown[2].endswith(f"moves from {HOSTILE} to North Lecco.")
    assert page.locator("#headline-words img").count() == 0 and page.evaluate("document.body.dataset.owned") is None
    assert opened.console_errors == []


def test_each_kind_of_tie_has_its_own_lines_as_on_the_maps(studio_page):
    page = studio_page[1]().page
    page.locator("#map .leaflet-control-layers").hover()
    listed = page.locator("#map .leaflet-control-layers").inner_text()
    kinds, drawn = page.evaluate("() => [window.ldStudio.territory().kinds, window.ldStudio.territory().tie_lines]")
    assert len(kinds) >= 2 and len({d[0] for d in drawn}) == len(kinds)  # two layers on at once read apart
    assert [d[1] for d in drawn] == [TIE_LINES[k][1] for k in range(len(kinds))]
    assert f"({drawn[1][1]} lines, grey kept, red cut)" in listed


def test_the_plan_card_says_a_crossing_as_the_scorecard_does(studio_page):
    page = studio_page[1]().page
    for crosses in ("province", "selection pieces", "province, ats, selection pieces"):
        assert page.evaluate("(c) => window.ldStudio.across(c)", crosses) == across(crosses)


def test_the_running_job_line_shows_the_plans_and_the_solvers_note(studio_page):
    _, open_page = studio_page
    page = open_page().page
    label = "(progress) => window.ldStudio.jobLabel({action: 'repair', elapsed: 3.2, progress})"
    assert page.evaluate(label, {"plans": 12}) == "repair: 3 s, 12 plans"
    assert page.evaluate(label, {"plans": None, "note": PREPARING}) == f"repair: 3 s, {PREPARING}"


def test_stop_takes_the_searchs_best_plan_so_far_as_the_candidate(studio_page):
    # Complete for 300 s; Stop once the job line shows plans: the candidate comes within seconds
    _, open_page = studio_page
    opened = open_page()
    page = opened.page
    page.locator("#time-limit").fill("300")
    page.locator("#run-complete").click()
    page.locator("#job-label", has_text="plans").wait_for(timeout=60000)
    page.locator("#job-finish").click()
    page.locator("#candidate").wait_for(state="visible", timeout=30000)
    assert page.locator("#job").is_hidden() and "interrupted" in page.locator("#cand-title").inner_text()
    assert page.evaluate("window.ldStudio.state().candidate.scorecard.summary.non_compliant_plans") == 0
    assert opened.console_errors == []


def test_a_whole_labour_market_area_or_union_is_selected_at_once(studio_page):
    state, open_page = studio_page
    page = open_page().page
    code = _border_municipality(state, "south", "north")
    _click(page, code)
    assert page.locator("#sel-count").inner_text().startswith("1 municipality")
    gdf = state.territory.municipalities
    area = gdf["labour_market_area"] == gdf.at[code, "labour_market_area"]
    page.locator("#grow-by").select_option("labour_market_area")
    page.locator("#grow").click()
    assert page.locator("#sel-count").inner_text().startswith(f"{int(area.sum())} municipalit")
    assert "union of municipalities" in page.locator("#grow-by").inner_text()
    ties = state.collaboration.restrict(state.territory.codes).weighted()
    unions = nx.Graph(list(zip(*[ties.loc[ties["kind"] == "union", c] for c in ("code_a", "code_b")])))
    member = sorted(unions.nodes)[0]
    page.locator("#clear-sel").click()
    _click(page, member)
    page.locator("#grow-by").select_option("union")
    page.locator("#grow").click()
    assert page.locator("#sel-count").inner_text().startswith(f"{len(nx.node_connected_component(unions, member))} "
                                                              "municipalit")


def test_a_version_kept_shows_when_and_can_be_deleted(studio_page):
    state, open_page = studio_page
    page = open_page().page
    page.locator("#version-name").fill("agreed")
    page.locator("#keep-version").click()
    page.wait_for_function("() => window.ldStudio.state().versions.length === 1")
    assert re.search(r"agreed \(at version 0, saved \d{4}-\d\d-\d\d \d\d:\d\d\)",
                     page.locator("#version-list").inner_text())
    page.once("dialog", lambda dialog: dialog.accept())  # "Delete version 'agreed'?"
    page.locator("#version-list button", has_text="Delete").click()
    page.wait_for_function("() => window.ldStudio.state().versions.length === 0")
    assert "agreed" not in state.session.versions


def test_municipalities_take_clicks_where_the_map_draws_a_bridge(chromium, tmp_path):
    # Como holds Campione d'Italia's bridge: its dashes once lay on a canvas of their own over the map,
    # which took every click and hover meant for the municipalities
    inputs = read_inputs(DataOptions(), Selection(province="Como"), {})
    with _studio(chromium, inputs, tmp_path / "ws") as (state, open_page):
        assert state.territory.graph.graph["bridges"]
        opened = open_page()
        code = "013075" if "013075" in state.territory.codes else state.territory.codes[10]
        _click(opened.page, code)
        assert opened.page.locator("#sel-count").inner_text().startswith("1 municipality")
        assert not opened.console_errors


def _layers_open(page) -> bool:
    return page.locator("#map .leaflet-control-layers-expanded").count() == 1


def _box(page, selector: str) -> dict:
    return page.evaluate("(s) => document.querySelector(s).getBoundingClientRect().toJSON()", selector)


def test_a_small_window_folds_the_map_panels_and_keeps_the_side_panel_usable(studio_page):
    state, open_page = studio_page
    page = open_page().page  # 1500 x 950: the map is wide, its layers panel and legend open
    assert _layers_open(page) and page.evaluate("document.querySelector('.ld-legend').open")
    page.set_viewport_size({"width": 1024, "height": 700})
    page.wait_for_function("() => !document.querySelector('#map .leaflet-control-layers-expanded')")
    side, map_ = _box(page, "#side"), _box(page, "#map")
    assert side["width"] <= 380 and map_["width"] >= 600  # the side panel was 500 px at least
    legend = _box(page, ".ld-legend")
    assert legend["width"] * legend["height"] < 0.05 * map_["width"] * map_["height"]  # folded under its title
    code = _border_municipality(state, "south", "north")
    _click(page, code)
    move, panel = _box(page, "#move"), _box(page, "#panel")
    assert panel["top"] <= move["top"] and move["bottom"] <= min(panel["bottom"], 700)  # Move in view, not below
    bar = _box(page, "#bar")["height"]  # a job's line fits the bar: the map below does not jump
    page.locator("#time-limit").fill("300")
    page.locator("#run-complete").click()
    page.locator("#job").wait_for(state="visible")
    assert _box(page, "#bar")["height"] == bar
    page.locator("#job-cancel").click()
    page.locator("#job").wait_for(state="hidden", timeout=20000)
    page.set_viewport_size({"width": 1500, "height": 950})
    page.wait_for_function("() => !!document.querySelector('#map .leaflet-control-layers-expanded')")
    assert page.evaluate("document.querySelector('.ld-legend').open")


def test_quick_ctrl_z_presses_each_undo_one_step(studio_page):
    state, open_page = studio_page
    for k in range(5):
        state.edit({"op": "rename", "plan": "north", "name": f"North {k}", "version": k})
    page = open_page().page
    page.locator("#plan-table").click(position={"x": 2, "y": 2})  # the page has the keyboard
    for _ in range(5):
        page.keyboard.press("Control+z")  # faster than the server answers: they used to be dropped
    page.wait_for_function("() => window.ldStudio.state().steps.cursor === 0", timeout=10000)
    assert state.session.cursor == 0 and state.session.version == 10 and state.session.names["north"] == "North Lecco"
    page.keyboard.press("Control+z")  # nothing left to undo: as the disabled button, nothing (it said so in red)
    page.wait_for_timeout(300)
    assert page.locator("#message.error").count() == 0 and state.session.version == 10
    # a move pressed while a redo is on its way waits its turn (it was dropped without a word)
    code = _border_municipality(state, "south", "north")
    _click(page, code)
    page.locator("#redo").click()
    page.locator("#move").click()
    page.wait_for_function("() => window.ldStudio.state().version === 12", timeout=10000)
    assert state.session.assignment[code] == "north" and state.session.cursor == 2


def test_a_new_plan_is_named_in_the_message_and_shown_on_the_card(studio_page):
    state, open_page = studio_page
    page = open_page().page
    code = _border_municipality(state, "south", "north")
    name = state.territory.municipalities.at[code, "name"]
    _click(page, code)
    page.locator("#new-plan").click()
    page.wait_for_function("() => window.ldStudio.state().version === 1")
    assert page.locator("#message").inner_text() == f"New plan {name} of {name} alone."
    assert page.locator("#card-title").inner_text() == f"{name} (new-1)"  # ready to be renamed
    assert page.locator("#rename-text").input_value() == name


def test_locked_plans_are_marked_in_the_move_list_and_a_file_lifting_a_lock_warns(studio_page, tmp_path):
    state, open_page = studio_page
    state.edit({"op": "lock_plan", "plan": "north", "version": 0})
    page = open_page().page
    code = _border_municipality(state, "south", "north")
    _click(page, code)
    option = page.locator("#move-to option[value='north']")
    assert option.is_disabled() and option.inner_text().endswith("(locked)")
    note = page.locator("#selection .locked-note")
    assert note.is_visible() and "North Lecco" in note.inner_text() and "unlock it" in note.inner_text()
    assert page.locator("#move").is_disabled()  # its only neighbour is locked: nothing to move into
    page.locator("#plan-table tr[data-plan='north']").click()  # a locked plan keeps its name and municipalities
    assert page.locator("#rename").is_disabled() and page.locator("#merge").is_disabled()
    # a file that moves a municipality out of the locked plan opens, and says which lock it lifted
    inside = _border_municipality(state, "north", "south")
    plans = {**state.session.assignment, inside: "south"}
    path = tmp_path / "f.csv"
    path.write_text("municipality_code,plan_id\n" + "\n".join(f"{c},{p}" for c, p in plans.items()) + "\n")
    page.locator("#upload").set_input_files(str(path))
    page.locator("#message.warning").wait_for(timeout=10000)
    assert "now lifted: plan North Lecco (north)" in page.locator("#message").inner_text()
    assert page.locator("#selection").is_hidden() and page.locator("#card").is_hidden()  # the old plan's, gone


def test_the_job_time_ticks_between_polls(studio_page):
    state, open_page = studio_page
    page = open_page().page
    page.route("**/api/job", lambda route: None)  # the polls get no answer: the page counts on its own
    page.locator("#time-limit").fill("300")
    started = time.monotonic()
    page.locator("#run-complete").click()
    page.locator("#job").wait_for(state="visible")
    page.wait_for_function("() => /complete: [2-9] s/.test(document.querySelector('#job-label').textContent)",
                           timeout=5000)
    assert time.monotonic() - started >= 2
    page.unroute("**/api/job")
    page.locator("#job-cancel").click()
    page.wait_for_function("() => window.ldStudio.state().job.state === 'cancelled'")


def test_the_message_never_hides_the_plan_card_title(studio_page):
    _, open_page = studio_page
    page = open_page().page
    page.set_viewport_size({"width": 1500, "height": 600})
    page.locator("#plan-table tr[data-plan='north']").click()
    page.locator("#rename").click()  # the same name: refused, in the message box
    page.locator("#message.error").wait_for()
    page.evaluate("document.getElementById('card-title').scrollIntoView({block: 'start'})")
    title = _box(page, "#card-title")
    x, y = title["left"] + 20, title["top"] + title["height"] / 2
    assert page.evaluate("([x, y]) => document.getElementById('card-title').contains("
                         "document.elementFromPoint(x, y))", [x, y])
    assert page.locator("#message").is_visible()


def test_the_plan_table_reads_at_1366_pixels(studio_page):
    _, open_page = studio_page
    page = open_page().page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_timeout(300)
    gaps = page.evaluate("""() => {
        const heads = Array.from(document.querySelectorAll('#plan-table tr:first-child th'));
        const text = (th) => {
            const r = document.createRange(); r.selectNodeContents(th); return r.getBoundingClientRect(); };
        return heads.slice(1, -1).map((th, k) => text(heads[k + 2]).left - text(th).right);
    }""")
    assert min(gaps) >= 6, gaps  # "People" and "Class" ran together
    heights = page.evaluate("() => Array.from(document.querySelectorAll('#plan-table tr[data-plan]'))"
                            ".map((tr) => tr.getBoundingClientRect().height)")
    assert max(heights) < 1.3 * min(heights), heights  # one line each: no wrapped class, no name on 4 lines
    assert page.evaluate("(t) => t.scrollWidth <= t.parentElement.clientWidth",
                         page.locator("#plan-table").element_handle())  # every column in view, no sideways scroll
    long = page.locator("#plan-table tr[data-plan='south'] .plan-name")
    assert long.get_attribute("title") == HOSTILE and long.evaluate("(e) => e.scrollWidth > e.clientWidth")
    assert page.locator("#plan-table tr[data-plan='south'] td.class").get_attribute("title").startswith(
        ("standard: ", "mountain: ", "high density: ", "low density: "))
    assert not _layers_open(page)  # the 845 px map of a 1366 laptop: no panel over the territory
    # at 1024 the floor and contiguity columns give way (the card has them): still no sideways scroll
    page.set_viewport_size({"width": 1024, "height": 700})
    page.wait_for_timeout(300)
    widths = page.evaluate("(t) => [t.scrollWidth, t.parentElement.clientWidth, Array.from(t.querySelectorAll("
                           "'tr:first-child th')).map((h) => h.textContent + ':' + h.getBoundingClientRect().width)]",
                           page.locator("#plan-table").element_handle())
    assert widths[0] <= widths[1], widths
    assert page.locator("#plan-table th", has_text="Margin").is_visible()
