"""Maps without a browser: colouring, display geometry, tables, comparison changes, gallery, commands."""

from __future__ import annotations

import re
from dataclasses import replace

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from lombardy_districts.cli import main
from lombardy_districts.errors import InputError
from lombardy_districts.maps.colouring import (
    PALETTE,
    colour_graph,
    colour_pair,
    colour_plans,
    conflicts,
    plan_adjacency,
)
from lombardy_districts.maps.compare import change_text, changes, write_comparison
from lombardy_districts.maps.display import DisplayGeometry
from lombardy_districts.maps.gallery import gallery_entry, write_gallery
from lombardy_districts.maps.render import legend_html, plan_table, write_plan_map
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


@pytest.fixture(scope="module")
def tiny():
    return tiny_territory()


def test_neighbouring_provinces_never_share_a_colour(lombardy):
    plan = Plan(lombardy, lombardy.municipalities["province"])
    colours = colour_plans(plan)
    assert conflicts(plan, colours) == []
    assert set(colours.values()) <= set(PALETTE)


def test_a_palette_too_small_gets_extra_colours_rather_than_a_clash(tiny):
    # every municipality its own plan: the grid needs 2 colours; a 1-colour palette must not clash
    plan = Plan(tiny, {c: c for c in tiny.codes})
    colours = colour_plans(plan, palette=("#000000",))
    assert conflicts(plan, colours) == []
    assert len(set(colours.values())) >= 2


def test_the_same_plan_has_the_same_colour_on_both_sides(tiny):
    a = tiny_plan_a(tiny)
    # renumbered, two municipalities moved: every plan continues one of A's and keeps its colour
    b = Plan(tiny, tiny_plan_b(tiny).assignment.map({"W": "1", "C": "2", "NE": "3", "SE": "4"}))
    colours_a, colours_b = colour_pair(a, b)
    assert [colours_b[p] for p in "1234"] == [colours_a[p] for p in ("W", "C", "NE", "SE")]
    assert conflicts(a, colours_a) == [] and conflicts(b, colours_b) == []
    # North-east (40,000) merges into South-east (60,000): the merged plan takes South-east's colour
    merged = a.reassign({c: "SE" for c in a.members["NE"]})
    colours_a, colours_m = colour_pair(a, merged)
    assert colours_m["SE"] == colours_a["SE"] and colours_m["W"] == colours_a["W"]
    assert conflicts(merged, colours_m) == []


def test_colours_already_shown_are_kept_where_both_sides_allow(tiny):
    a = tiny_plan_a(tiny)
    shown = colour_plans(a, palette=PALETTE[::-1])  # the colours a page shows A in already
    b = Plan(tiny, tiny_plan_b(tiny).assignment.map({"W": "1", "C": "2", "NE": "3", "SE": "4"}))
    colours_a, colours_b = colour_pair(a, b, preferred=shown)
    assert colours_a == shown  # no plan of B made two of them touch: A keeps every colour
    assert [colours_b[p] for p in "1234"] == [shown[p] for p in ("W", "C", "NE", "SE")]
    assert conflicts(b, colours_b) == []


def test_a_wish_refused_does_not_take_a_neighbours_wish():
    # X cannot keep H's colour; before, it took the palette's first, Y's wish, and Y changed colour too
    graph = nx.Graph([("H", "X"), ("H", "A"), ("H", "B"), ("X", "Y")])
    colours = colour_graph(graph, preferred={"H": PALETTE[3], "X": PALETTE[3], "Y": PALETTE[0]})
    assert colours["H"] == PALETTE[3] and colours["Y"] == PALETTE[0]
    assert colours["X"] not in (PALETTE[3], PALETTE[0])


def test_plans_across_the_po_400_m_apart_never_share_a_colour(lombardy):
    # Monticelli Pavese and Senna Lodigiana share no boundary, but look side by side across the river
    pair = ("018099", "098053")
    assert pair in lombardy.near_pairs and not lombardy.graph.has_edge(*pair)
    alone = Plan(lombardy, {c: c for c in lombardy.codes})  # every municipality a plan of its own
    colours = colour_plans(alone)
    assert plan_adjacency(alone).has_edge(*pair) and colours[pair[0]] != colours[pair[1]]
    assert len(set(colours.values())) <= len(PALETTE)


def test_joint_colours_stay_proper_on_both_sides_of_real_plans(lombardy):
    provinces = Plan(lombardy, lombardy.municipalities["province"])
    areas = Plan(lombardy, lombardy.municipalities["labour_market_area"])
    colours_a, colours_b = colour_pair(provinces, areas)
    assert conflicts(provinces, colours_a) == [] and conflicts(areas, colours_b) == []


def test_display_geometry_simplifies_without_gaps_or_overlaps(lombardy):
    shown = DisplayGeometry(lombardy.municipalities, 150)
    original = lombardy.municipalities.geometry
    assert shown.polygons.crs == "EPSG:4326"
    coords = shapely.get_coordinates(shown.polygons.values)
    assert np.allclose(coords, np.round(coords, 5))
    assert len(coords) < 0.6 * shapely.get_num_coordinates(original.values).sum()
    projected = shown._projected
    union = shapely.union_all(projected.values).area
    assert projected.area.sum() == pytest.approx(union, rel=1e-3)  # no overlaps between neighbours
    assert union == pytest.approx(shapely.union_all(original.values).area, rel=5e-3)  # no gaps opened


def test_plan_table_gives_readable_popup_fields(tiny):
    plan = tiny_plan_a(tiny)
    table = plan_table(plan, evaluate(plan, tiny_rules()))
    ne = table.loc["NE"]
    assert ne["plan_name"] == "North-east"
    assert ne["plan_population"] == "40,000"
    assert ne["plan_floor"] == "50,000"
    assert ne["plan_margin"] == "-10,000"
    assert ne["plan_status"] == "NOT COMPLIANT: below its floor"
    assert table.loc["W", "plan_status"] == "complies"
    hard = replace(tiny_rules(), hard_boundaries=("mountain_status",))  # the west column is mountain, the rest not
    across = plan_table(plan, evaluate(plan, hard))["plan_status"]
    assert across.str.contains("across the mountain_status boundary").any()
    legend = legend_html(table)
    assert "1 area plan(s) not compliant" in legend and "North-east" in legend


def test_changes_tell_moves_from_merges(tiny):
    a = tiny_plan_a(tiny)
    moved = changes(a, tiny_plan_b(tiny))
    assert sorted(moved.index[moved == "moved"]) == [code(0, 3), code(1, 3)]
    assert (moved[moved != "moved"] == "").all()
    merged = changes(a, a.reassign({c: "SE" for c in a.members["NE"]}))  # NE (40,000) joins SE (60,000)
    assert sorted(merged.index[merged == "merged"]) == sorted(a.members["NE"])
    assert (merged[merged != "merged"] == "").all()
    renamed = changes(a, Plan(tiny, a.assignment.map({"W": "1", "C": "2", "NE": "3", "SE": "4"})))
    assert (renamed == "").all()


def test_change_lines_are_empty_or_say_something(tiny):
    a = tiny_plan_a(tiny)
    b = tiny_plan_b(tiny)
    text = change_text(a, b, changes(a, b))
    assert text[code(0, 3)] == "moved from Centre to North-east"
    assert (text.drop([code(0, 3), code(1, 3)]) == "").all()
    merged = a.reassign({c: "SE" for c in a.members["NE"]})
    text = change_text(a, merged, changes(a, merged))
    assert set(text[a.members["NE"]]) == {"North-east merged with South-east"}
    # two plans of the same name (no names given: each is named after its largest municipality)
    plain_a, plain_b = Plan(tiny, a.assignment), Plan(tiny, b.assignment)
    line = change_text(plain_a, plain_b, changes(plain_a, plain_b))[code(0, 3)]
    before, after = plain_a.name("C"), plain_b.name("NE")
    assert line == (f"moved from {before} to {after}" if before != after else
                    f"moved from {before} (C) to {after} (NE)")


def test_plan_map_is_standalone_html_with_every_part(tiny, tmp_path):
    plan = tiny_plan_a(tiny)
    out = write_plan_map(plan, None, tmp_path / "map.html", rules=tiny_rules(), status_quo=tiny_plan_b(tiny),
                         collaboration=tiny_collaboration(), title="Tiny <test>")
    html = out.read_text()
    assert not [s for s in LOCAL if s in html]
    for text in ("Status quo area plans", "Collaboration: same union of municipalities (2 ties, 2 cut; dashed lines)",
                 "Collaboration: consortium", "Mountain municipalities", "<title>Tiny &lt;test&gt;</title>",
                 "North-east", "Population floor"):
        assert text in html, text
    assert "Tiny <test>" not in html  # escaped in the page title and the headline panel


def test_a_plan_name_in_a_saved_map_is_text_never_script(tiny, tmp_path):
    # Leaflet puts tooltip and popup fields in as HTML: a name with markup ran as script in a saved map
    plan = tiny_plan_a(tiny)
    evil = '<img src=x onerror="document.title=1"></script>'
    plan = Plan(tiny, plan.assignment, {**plan.names, "W": evil})
    for out in (write_plan_map(plan, None, tmp_path / "map.html", rules=tiny_rules()),
                write_comparison(plan, tiny_plan_b(tiny), tmp_path / "compare.html", rules=tiny_rules())):
        html = out.read_text()
        assert "<img src=x" not in html and "</script>\"" not in html
        assert "\\u0026lt;img src=x onerror=\\u0026quot;document.title=1" in html  # &lt;img ... in the JSON


def test_write_plan_map_creates_a_missing_folder_and_refuses_a_file_as_folder(tiny, tmp_path):
    plan = tiny_plan_a(tiny)
    out = write_plan_map(plan, evaluate(plan, tiny_rules()), tmp_path / "new" / "deeper" / "map.html")
    assert out.is_file() and "<html" in out.read_text().lower()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="file, not a folder"):
        write_plan_map(plan, None, tmp_path / "file" / "map.html")


def test_comparison_of_plans_over_different_municipalities_is_refused(tiny, tmp_path):
    other = tiny.subset(tiny.codes[:12])
    with pytest.raises(InputError, match="cover different municipalities"):
        write_comparison(tiny_plan_a(tiny), Plan(other, {c: "x" for c in other.codes}), tmp_path / "c.html")


def test_gallery_links_relative_escapes_names_and_formats_scores(tiny, tmp_path):
    plan = tiny_plan_a(tiny)
    card = evaluate(plan, tiny_rules())
    (tmp_path / "maps").mkdir()
    entries = [
        gallery_entry("<b>max-plans</b>", tmp_path / "maps" / "a.html", card, compare_path="maps/a-vs-sq.html"),
        {"name": "repair", "map": "maps/b.html", "plans": 3, "collaboration_retained": 0.5, "solver": "cpsat"},
    ]
    html = write_gallery(entries, tmp_path).read_text()
    assert (tmp_path / "index.html").exists()
    assert 'href="maps/a.html"' in html and 'href="maps/a-vs-sq.html"' in html and 'href="maps/b.html"' in html
    assert "&lt;b&gt;max-plans&lt;/b&gt;" in html and "<b>max-plans" not in html
    assert "50.0%" in html and ">cpsat<" in html
    assert not [s for s in LOCAL if s in html]


def test_gallery_links_paths_given_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "runs" / "s1").mkdir(parents=True)
    (tmp_path / "runs" / "s1" / "map.html").write_text("<html></html>")
    monkeypatch.chdir(tmp_path)
    html = write_gallery([{"name": "s1", "map": "runs/s1/map.html"}], "runs/index.html").read_text()
    assert 'href="s1/map.html"' in html


def test_gallery_refuses_links_outside_its_folder(tmp_path):
    (tmp_path / "g").mkdir()
    with pytest.raises(InputError, match=r"entry 1 \(a\) map: the file is outside the gallery folder") as info:
        write_gallery([{"name": "a", "map": tmp_path / "a.html"}, {"name": "b"}], tmp_path / "g" / "index.html")
    assert "gallery entry 2 (b) has no 'map' path" in str(info.value)


def _lodi_plan(lombardy, tmp_path, name, column="labour_market_area"):
    lodi = lombardy.municipalities[lombardy.municipalities["province"] == "Lodi"]
    path = tmp_path / name
    pd.DataFrame({"municipality_code": lodi.index, "plan_id": lodi[column]}).to_csv(path, index=False)
    return path


def test_map_and_compare_commands(lombardy, tmp_path, capsys):
    plan = _lodi_plan(lombardy, tmp_path, "lodi_lma.csv")
    sq = _lodi_plan(lombardy, tmp_path, "lodi_province.csv", "province")
    cache = ["--cache-dir", str(tmp_path / "cache"), "--province", "Lodi"]
    assert main(["map", str(plan), "-o", str(tmp_path / "m.html"), "--status-quo", str(sq), *cache]) == 0
    assert main(["compare", str(sq), str(plan), "-o", str(tmp_path / "c.html"), *cache]) == 0
    out = capsys.readouterr().out
    assert "written to" in out
    assert "lodi_lma" in (tmp_path / "m.html").read_text()
    compared = (tmp_path / "c.html").read_text()
    assert "<title>lodi_province vs lodi_lma</title>" in compared
    assert len(re.findall(r"map_\w+\.sync\(map_\w+\)", compared)) == 2  # each map follows the other
    # --within-status-quo: the municipalities plan A lists (it asked for a --status-quo compare lacks)
    within = ["--cache-dir", str(tmp_path / "cache"), "--within-status-quo"]
    assert main(["compare", str(sq), str(plan), "-o", str(tmp_path / "w.html"), *within]) == 0
    assert "<title>lodi_province vs lodi_lma</title>" in (tmp_path / "w.html").read_text()
    # propose's plan.csv is named after its folder, the run's name
    run = tmp_path / "lodi_run"
    run.mkdir()
    (run / "plan.csv").write_text(plan.read_text())
    assert main(["compare", str(sq), str(run / "plan.csv"), "-o", str(tmp_path / "r.html"), *cache]) == 0
    assert "<title>lodi_province vs lodi_run</title>" in (tmp_path / "r.html").read_text()
    # a partial B: --within-status-quo keeps to A's municipalities, so the fix says which file goes first
    whole = tmp_path / "whole.csv"
    lombardy.municipalities["province"].rename("plan_id").rename_axis("municipality_code").to_csv(whole)
    assert main(["compare", str(whole), str(plan), "-o", str(tmp_path / "x.html"), *within]) == 2
    err = capsys.readouterr().err
    assert f"{plan}: municipalities with no plan" in err and "(give the plan listing fewer municipalities as A" in err
    assert "Python:" not in err


def test_map_command_reports_every_input_problem_at_once(tmp_path, capsys):
    (tmp_path / "no").write_text("a file where a folder should be")
    code_ = main(["map", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "no" / "m.html"),
                  "--rules", str(tmp_path / "r.toml"), "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code_ == 2
    assert "error: output" in err and "nope.csv does not exist" in err and "r.toml" in err



def test_a_map_shows_the_shipped_union_ties_as_their_own_layer(lombardy, tmp_path):
    # Pontevico (Brescia) and Robecco d'Oglio (Cremona): one union across the province border
    part = lombardy.subset(["017149", "019085", "017004", "019079"])
    plan = Plan(part, part.municipalities["province"])
    html = write_plan_map(plan, None, tmp_path / "map.html").read_text()
    assert "Collaboration: same union of municipalities (1 ties, 1 cut; " in html
    assert "Unions of municipalities split" in html and "... by kind of tie" in html
