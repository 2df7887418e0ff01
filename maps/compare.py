"""Two plans side by side, panning and zooming together, with the municipalities that changed marked.

The left map shows plan A, the right plan B (``folium.plugins.DualMap``, synchronised with
Leaflet.Sync). Each has its own headline panel; B's also counts what changed from A. A
municipality has *changed plan* when its B plan is not the successor of its A plan (the B plan
holding most of the A plan's municipalities, ``measures.moved``, as the scorecard counts
``municipalities_moved``), so renamed or renumbered plans are not changes. A municipality whose
whole plan joined a B plan that continues a larger A plan has not moved, but its *plan merged*.
Moved municipalities are hatched in black, merged ones in blue, on both maps, and their tooltips
say where they went ("moved from Centre to North-east", "Seriate merged with Dalmine").
The same plan has the same colour on both sides (``colouring.colour_pair``: a merged plan takes
its largest predecessor's colour). Both sides count collaboration on the same ties, and their
headlines say which kinds. Panels and legend fold away (a click on their title) and are folded
at first, so neither map is ever hidden; tooltips and plan cards draw above them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import folium
import pandas as pd
from folium.plugins import DualMap

from lombardy_districts.errors import InputError, expect
from lombardy_districts.io.files import write_atomic
from lombardy_districts.model import measures
from lombardy_districts.model.changes import predecessors
from lombardy_districts.model.collaboration import default_collaboration
from lombardy_districts.model.plan import Plan

from ._elements import MOVED, STATUS_QUO, HatchPatterns, Panel, TooltipsOnTop, add_css, esc, hatch_id, number
from .colouring import colour_pair
from .display import DEFAULT_TOLERANCE_M, DisplayGeometry, feature_collection
from .offline import write_offline
from .render import (
    add_basemap,
    add_plan_layers,
    check_output_path,
    headline_html,
    headline_title,
    legend_html,
    plan_table,
    resolve_scorecard,
)

log = logging.getLogger(__name__)


def _check_same_municipalities(plan_a, plan_b) -> None:
    a, b = set(plan_a.assignment.index), set(plan_b.assignment.index)
    if a != b:
        only_a, only_b = sorted(a - b), sorted(b - a)
        raise InputError(
            f"the two plans cover different municipalities: {len(only_a)} only in A "
            f"({', '.join(only_a[:5])}), {len(only_b)} only in B ({', '.join(only_b[:5])}). "
            "Fix: compare plans over the same municipalities (same --region, --province or --select)."
        )


def changes(plan_a, plan_b) -> pd.Series:
    """How each municipality's plan changed from A to B: ``moved``, ``merged`` or ``""`` (unchanged).

    ``moved``: its B plan is not the successor of its A plan (``measures.moved``, as the scorecard counts).
    ``merged``: not moved, but its A plan is one of several that B's plan continues, and not the
    most populous of them (that one is the plan the others joined).
    """
    _check_same_municipalities(plan_a, plan_b)
    old = plan_a.assignment
    moved = measures.moved(old, plan_b.assignment, plan_a.territory.municipalities["population"])
    joined = _joined(plan_a, plan_b)
    merged = ~moved & old.map(lambda a: a in joined)
    out = pd.Series("", index=old.index, name="change")
    out[moved] = "moved"
    out[merged] = "merged"
    return out


def changed_municipalities(plan_a, plan_b) -> pd.Series:
    """Boolean Series by municipality code: True where the municipality moved or its plan merged."""
    return (changes(plan_a, plan_b) != "").rename("changed")


def _joined(plan_a, plan_b) -> dict[str, list[str]]:
    """A plans that joined a larger one: A plan -> the other A plans its successor continues, largest last."""
    out = {}
    for group in predecessors(plan_b, plan_a).values():
        for a in group[:-1]:  # the largest is the plan the others joined
            out[a] = [other for other in group if other != a]
    return out


def change_text(plan_a, plan_b, change: pd.Series) -> pd.Series:
    """Per municipality, what happened to it in words (empty when nothing did).

    ``moved from Centre to North-east``; ``Seriate merged with Dalmine``. Plan ids are added when
    two different plans share a name, so a line never reads "Luino to Luino".
    """
    joined = _joined(plan_a, plan_b)
    out = pd.Series("", index=change.index)
    for c in change.index[change != ""]:
        a, b = plan_a.assignment[c], plan_b.assignment[c]
        if change[c] == "moved":
            before, after = plan_a.name(a), plan_b.name(b)
            if before == after:
                before, after = f"{before} ({a})", f"{after} ({b})"
            out[c] = f"moved from {before} to {after}"
        else:
            others = " and ".join(plan_a.name(o) for o in joined[a])
            out[c] = f"{plan_a.name(a)} merged with {others}"
    return out


def comparison_map(plan_a, plan_b, *, scorecard_a=None, scorecard_b=None, rules=None, collaboration=None,
                   titles: tuple[str, str] | None = None, tolerance_m: float = DEFAULT_TOLERANCE_M):
    """A ``folium.plugins.DualMap`` of plan A (left) and plan B (right); see the module docstring.

    Scorecards are computed with ``lombardy_districts.scorecard.evaluate`` when not given (B's
    with A as its status quo, so its headline counts the changes), both on the same
    collaboration ties: ``collaboration``, or else the labour-market proxy.
    """
    expect(plan_a, Plan, "plan_a")
    expect(plan_b, Plan, "plan_b")
    _check_same_municipalities(plan_a, plan_b)
    title_a, title_b = titles or ("Plan A", "Plan B")
    if collaboration is None:  # one set of ties for both sides (B's status quo would add its own)
        collaboration = default_collaboration(plan_a.territory)
    scorecard_a = resolve_scorecard(plan_a, scorecard_a, rules=rules, collaboration=collaboration)
    scorecard_b = resolve_scorecard(plan_b, scorecard_b, rules=rules, collaboration=collaboration,
                                    status_quo=plan_a)
    change = changes(plan_a, plan_b)
    geometry = DisplayGeometry(plan_a.territory.municipalities, tolerance_m)
    colours_a, colours_b = colour_pair(plan_a, plan_b)
    said = change_text(plan_a, plan_b, change)
    extra = pd.DataFrame({"Change A \u2192 B": said.where(said != "", "none")})

    dual = DualMap(location=None, layout="horizontal", tiles=None, control_scale=True, zoom_snap=0.25)
    add_css(dual.m1.get_root())
    sides = ((dual.m1, plan_a, scorecard_a, colours_a, title_a, None),
             (dual.m2, plan_b, scorecard_b, colours_b, title_b, f"Moved from {title_a}"))
    tables = {title: plan_table(plan, card) for _, plan, card, _, title, _ in sides}
    for fmap, plan, card, colours, title, change_label in sides:
        add_basemap(fmap)
        table = tables[title]
        add_plan_layers(fmap, plan, table, colours, geometry, extra=extra)
        _add_changed_layer(fmap, geometry, change)
        folium.LayerControl(collapsed=True).add_to(fmap)
        summary = dict(card.summary)
        if change_label is None:
            for key in ("municipalities_moved", "population_moved", "plans_merged", "plans_split"):
                summary.pop(key, None)
        Panel(headline_html(summary, change_label or ""), "bottomleft", title=headline_title(title, summary),
              folded=True).add_to(fmap)
        if change_label is not None:  # one legend, on the right: both sides draw the same things
            n_moved, n_merged = (int((change == kind).sum()) for kind in ("moved", "merged"))
            Panel(legend_html(table, moved=n_moved, merged=n_merged, layers=False, sides=tables), "bottomright",
                  "ld-panel ld-legend", title="Legend", folded=True).add_to(fmap)
        TooltipsOnTop().add_to(fmap)
    dual.fit_bounds(geometry.bounds)
    dual.m1.get_root().title = esc(f"{title_a} vs {title_b}")
    moved = change.index[change != ""]
    log.info("comparison: %d vs %d plans, %d municipalities changed plan (%s inhabitants)",
             len(plan_a), len(plan_b), len(moved),
             number(plan_a.territory.municipalities["population"].reindex(moved).sum()))
    return dual


def _add_changed_layer(fmap, geometry: DisplayGeometry, change: pd.Series) -> None:
    """Moved municipalities hatched in black; those whose plan merged, hatched in blue."""
    changed = change[change != ""]
    if changed.empty:
        return
    ids = {"moved": hatch_id("moved", fmap), "merged": hatch_id("merged", fmap)}
    colours = {"moved": MOVED, "merged": STATUS_QUO}
    folium.GeoJson(
        feature_collection(geometry.polygons.reindex(changed.index), changed.to_frame()),
        name=f"Municipalities moved ({int((changed == 'moved').sum())}) or whose plan merged "
             f"({int((changed == 'merged').sum())})",
        style_function=lambda f: {"color": colours[f["properties"]["change"]], "weight": 1.2, "fill": True,
                                  "fillColor": f"url(#{ids[f['properties']['change']]})", "fillOpacity": 1.0},
        interactive=False,
    ).add_to(fmap)
    HatchPatterns({ids["moved"]: (MOVED, -45), ids["merged"]: (STATUS_QUO, 0)}).add_to(fmap)


def write_comparison(plan_a, plan_b, path, *, scorecard_a=None, scorecard_b=None, rules=None,
                     collaboration=None, titles: tuple[str, str] | None = None,
                     tolerance_m: float = DEFAULT_TOLERANCE_M) -> Path:
    """Write the side-by-side comparison of two plans as a standalone HTML file (atomically); return its path.

    Like the plan map, the page carries its own scripts and styles and works with no internet.
    """
    path = check_output_path(path)
    dual = comparison_map(plan_a, plan_b, scorecard_a=scorecard_a, scorecard_b=scorecard_b, rules=rules,
                          collaboration=collaboration, titles=titles, tolerance_m=tolerance_m)
    write_atomic(path, lambda p: write_offline(dual.m1.get_root(), p))
    log.debug("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path
