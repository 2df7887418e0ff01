"""Two plans side by side, panning and zooming together, with the municipalities that changed marked.

The left map shows plan A, the right plan B (``folium.plugins.DualMap``, synchronised with
Leaflet.Sync). Each has its own headline panel; B's also counts what changed from A. A
municipality has *changed plan* when its B plan is not the successor of its A plan, the
successor being the B plan holding most of the A plan's population (the same rule the
scorecard uses for ``municipalities_moved``), so renamed or renumbered plans are not changes.
A municipality whose whole plan joined one that mostly comes from another A plan has not moved,
but its *plan merged*. Moved municipalities are hatched in black, merged ones in blue, on both
maps, and their tooltips say where they went.
B's plans take the colour of the A plan they mostly come from whenever no neighbour has it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import folium
import pandas as pd
from folium.plugins import DualMap

from lombardy_districts.errors import InputError
from lombardy_districts.io.files import write_atomic
from lombardy_districts.model import measures

from ._elements import MOVED, STATUS_QUO, HatchPatterns, Panel, add_css, esc, hatch_id, number
from .colouring import colour_plans
from .display import DEFAULT_TOLERANCE_M, DisplayGeometry, feature_collection
from .offline import write_offline
from .render import (
    add_basemap,
    add_plan_layers,
    check_output_path,
    headline_html,
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
    ``merged``: not moved, but its whole A plan joined a B plan that mostly comes from another A plan.
    """
    _check_same_municipalities(plan_a, plan_b)
    old = plan_a.assignment
    new = plan_b.assignment.reindex(old.index)
    moved = measures.moved(old, plan_b.assignment, plan_a.territory.municipalities["population"])
    merged = ~moved & (new.map(_origins(plan_a, plan_b)) != old)
    out = pd.Series("", index=old.index, name="change")
    out[moved] = "moved"
    out[merged] = "merged"
    return out


def changed_municipalities(plan_a, plan_b) -> pd.Series:
    """Boolean Series by municipality code: True where the municipality moved or its plan merged."""
    return (changes(plan_a, plan_b) != "").rename("changed")


def _origins(plan_a, plan_b) -> pd.Series:
    """For each B plan, the A plan contributing most of its population."""
    pop = plan_a.territory.municipalities["population"].reindex(plan_a.assignment.index)
    frame = pd.DataFrame({"a": plan_a.assignment, "b": plan_b.assignment.reindex(plan_a.assignment.index),
                          "population": pop})
    sums = frame.groupby(["b", "a"], as_index=False)["population"].sum()
    sums = sums.sort_values(["b", "population", "a"], ascending=[True, False, True])
    return sums.drop_duplicates("b").set_index("b")["a"]


def comparison_map(plan_a, plan_b, *, scorecard_a=None, scorecard_b=None, rules=None, collaboration=None,
                   titles: tuple[str, str] | None = None, tolerance_m: float = DEFAULT_TOLERANCE_M):
    """A ``folium.plugins.DualMap`` of plan A (left) and plan B (right); see the module docstring.

    Scorecards are computed with ``lombardy_districts.scorecard.evaluate`` when not given
    (B's with A as its status quo, so its headline counts the changes).
    """
    _check_same_municipalities(plan_a, plan_b)
    title_a, title_b = titles or ("Plan A", "Plan B")
    scorecard_a = resolve_scorecard(plan_a, scorecard_a, rules=rules, collaboration=collaboration)
    scorecard_b = resolve_scorecard(plan_b, scorecard_b, rules=rules, collaboration=collaboration,
                                    status_quo=plan_a)
    change = changes(plan_a, plan_b)
    geometry = DisplayGeometry(plan_a.territory.municipalities, tolerance_m)
    colours_a = colour_plans(plan_a)
    colours_b = colour_plans(plan_b, preferred={b: colours_a[a] for b, a in _origins(plan_a, plan_b).items()})

    names_a = {p: plan_a.name(p) for p in plan_a.plan_ids}
    names_b = {p: plan_b.name(p) for p in plan_b.plan_ids}
    change_text = pd.Series("", index=change.index)
    moved = change.index[change != ""]
    change_text[moved] = [
        f"{'moved' if change[c] == 'moved' else 'plan merged'}: "
        f"{names_a[plan_a.assignment[c]]} \u2192 {names_b[plan_b.assignment[c]]}" for c in moved
    ]
    extra = pd.DataFrame({"Change A \u2192 B": change_text})

    dual = DualMap(location=None, layout="horizontal", tiles=None, control_scale=True)
    add_css(dual.m1.get_root())
    sides = ((dual.m1, plan_a, scorecard_a, colours_a, title_a, None),
             (dual.m2, plan_b, scorecard_b, colours_b, title_b, f"Changed from {title_a}"))
    for fmap, plan, card, colours, title, change_label in sides:
        add_basemap(fmap)
        table = plan_table(plan, card)
        add_plan_layers(fmap, plan, table, colours, geometry, extra=extra)
        _add_changed_layer(fmap, geometry, change)
        folium.LayerControl(collapsed=True).add_to(fmap)
        summary = dict(card.summary)
        if change_label is None:
            for key in ("municipalities_moved", "population_moved", "plans_merged", "plans_split"):
                summary.pop(key, None)
        Panel(headline_html(title, summary, change_label or ""), "bottomleft").add_to(fmap)
        n_moved, n_merged = (int((change == kind).sum()) for kind in ("moved", "merged"))
        Panel(legend_html(table, moved=n_moved, merged=n_merged, layers=False, open_=False), "bottomright",
              "ld-panel ld-legend").add_to(fmap)
    dual.fit_bounds(geometry.bounds)
    dual.m1.get_root().title = esc(f"{title_a} vs {title_b}")
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
        name=f"Municipalities that changed plan ({len(changed)})",
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
