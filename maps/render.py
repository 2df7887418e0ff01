"""One plan on an interactive map: a standalone HTML file a planner opens in a browser.

What the map shows (layers switch on and off in the layer control, top right):

- every municipality filled with its area plan's colour (neighbouring plans never share one),
  faint white municipal borders; hover for name, population and plan; click for the plan's card
  (municipalities, population, class and why it has that class, floor, margin, collaboration kept);
- area plan borders in bold; non-compliant plans (below their population floor, or not
  contiguous) in red, dashed and hatched, and listed in the legend with the reason;
- optional layers, off at first: the status quo's plans (dashed blue outline), collaboration edges
  (one layer per kind, lines between points inside the municipalities: grey kept, red cut by a
  plan border), and the legally mountain municipalities;
- bridges (joins of parts of the territory that share no boundary, from the scorecard), always
  shown as orange dashed lines and listed in the legend, so no plan looks contiguous silently;
- a headline panel with the scorecard's numbers (saying which collaboration ties it counts),
  bottom left, and a legend, bottom right; both fold away with a click on their title;
- tooltips and plan cards draw above the panels.

Geometry is simplified for display only (see :mod:`maps.display`); scores come from the
scorecard, which the map never changes.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, MultiLineString

from lombardy_districts.errors import InputError, expect, expect_path
from lombardy_districts.io.files import write_atomic
from lombardy_districts.model.collaboration import default_collaboration
from lombardy_districts.model.plan import Plan, across
from lombardy_districts.model.scorecard import KIND_LABELS, Scorecard, evaluate

from ._elements import (
    MOUNTAIN,
    PLAN_BORDER,
    RED,
    STATUS_QUO,
    HatchPatterns,
    OpenLayersWhenWide,
    Panel,
    TooltipsOnTop,
    add_css,
    esc,
    hatch_id,
    line_swatch,
    number,
    percent,
    swatch,
)
from .colouring import TIE_LINES, colour_plans
from .display import DEFAULT_TOLERANCE_M, DisplayGeometry, feature_collection
from .offline import write_offline

log = logging.getLogger(__name__)

TILES_OPACITY = 0.5  # OpenStreetMap faded, so plan colours read first; blank offline, which is fine
CLASS_LABELS = {"standard": "standard", "high_density": "high density", "mountain": "mountain",
                "low_density": "low density"}


def resolve_scorecard(plan, scorecard=None, *, rules=None, collaboration=None, status_quo=None):
    """The given scorecard, or the evaluator's one for ``plan`` (the single judge of scores)."""
    expect(plan, Plan, "plan")
    expect(scorecard, Scorecard, "scorecard", optional=True)
    if scorecard is not None:
        return scorecard
    return evaluate(plan, rules=rules, collaboration=collaboration, status_quo=status_quo)


def plan_table(plan, scorecard) -> pd.DataFrame:
    """Scorecard rows indexed by plan id, with readable text columns for tooltips and popups."""
    rows = scorecard.plans.copy()
    if "plan_id" in rows.columns:
        rows = rows.set_index("plan_id")
    rows.index = rows.index.astype(str)
    rows = rows.reindex(plan.plan_ids)
    names = pd.Series({p: plan.name(p) for p in plan.plan_ids})
    rows["name"] = rows["name"].fillna(names) if "name" in rows.columns else names
    compliant = rows["compliant"] if "compliant" in rows.columns else pd.Series(True, index=rows.index)
    rows["compliant"] = compliant.fillna(True).astype(bool)
    kept = rows.get("collaboration_kept")
    cut = rows.get("collaboration_cut")
    text = pd.DataFrame(index=rows.index)
    text["plan_name"] = rows["name"].astype(str)
    counts = pd.Series({p: len(m) for p, m in plan.members.items()})
    text["plan_municipalities"] = [number(v) for v in rows.get("municipalities", counts)]
    text["plan_population"] = [number(v) for v in rows.get("population", plan.populations)]
    text["plan_class"] = [CLASS_LABELS.get(v, str(v)) for v in rows.get("class", pd.Series("-", rows.index))]
    reasons = rows.get("class_reason", pd.Series("", rows.index)).fillna("").astype(str)
    text["plan_class_reason"] = [r.split(": ", 1)[-1] for r in reasons]
    text["plan_floor"] = [number(v) for v in rows.get("floor", pd.Series(None, rows.index))]
    text["plan_margin"] = [_signed(v) for v in rows.get("margin", pd.Series(None, rows.index))]
    text["plan_collaboration"] = [
        _kept_text(k, c) for k, c in zip(
            kept if kept is not None else [None] * len(rows), cut if cut is not None else [None] * len(rows))
    ]
    text["plan_status"] = [_status(r) for r in rows.to_dict(orient="records")]
    return rows.join(text)


def _status(row: dict) -> str:
    """'complies', or the reasons a plan does not, e.g. 'NOT COMPLIANT: below its floor, not contiguous'."""
    if row.get("compliant", True):
        return "complies"
    reasons = []
    margin = row.get("margin")
    if margin is not None and margin == margin and margin < 0:
        reasons.append("below its floor")
    if row.get("contiguous") is False or row.get("contiguous") == 0:
        reasons.append("not contiguous")
    if isinstance(row.get("crosses"), str) and row["crosses"]:
        reasons.append(across(row["crosses"]))
    if not reasons:
        reasons.append("breaks a rule (see evaluate)")
    return "NOT COMPLIANT: " + ", ".join(reasons)


def _signed(value) -> str:
    if value is None or value != value:
        return "-"
    return f"{float(value):+,.0f}"


def _kept_text(kept, cut) -> str:
    if kept is None or kept != kept:
        return "-"
    if cut is None or cut != cut or kept + cut == 0:
        return number(kept, 1 if float(kept) % 1 else 0)
    return f"{number(kept, 1 if float(kept) % 1 else 0)} of {number(kept + cut, 1 if float(kept + cut) % 1 else 0)} " \
           f"({percent(kept / (kept + cut))})"


POPUP_FIELDS = ["plan_name", "plan_status", "plan_municipalities", "plan_population", "plan_class",
                "plan_class_reason", "plan_floor", "plan_margin", "plan_collaboration"]
POPUP_ALIASES = ["Area plan", "Status", "Municipalities", "Population", "Threshold class", "Why this class",
                 "Population floor", "Margin over floor", "Collaboration kept"]


def add_plan_layers(fmap, plan, table: pd.DataFrame, colours: dict[str, str], geometry: DisplayGeometry,
                    *, extra: pd.DataFrame | None = None) -> None:
    """Municipalities coloured by plan (tooltip + plan popup) and bold plan borders, on ``fmap``.

    ``extra`` adds per-municipality columns to the tooltip (its column names are the labels).
    """
    gdf = plan.territory.municipalities
    assignment = plan.assignment
    props = pd.DataFrame({
        "name": gdf["name"].astype(str),
        "population": [number(v) for v in gdf["population"]],
        "plan": [table.at[p, "plan_name"] + ("" if table.at[p, "compliant"] else " (not compliant)")
                 for p in assignment],
    }, index=gdf.index)
    props = props.join(table[POPUP_FIELDS], on=assignment)
    fields, aliases = ["name", "population", "plan"], ["Municipality", "Population", "Area plan"]
    if extra is not None:
        for i, column in enumerate(extra.columns):
            props[f"extra_{i}"] = extra[column].reindex(props.index).fillna("").astype(str)
            fields.append(f"extra_{i}")
            aliases.append(str(column))
    fill = {code: colours[p] for code, p in assignment.items()}

    folium.GeoJson(
        feature_collection(geometry.polygons, props),
        name="Municipalities, coloured by area plan",
        style_function=lambda f: {"fillColor": fill[f["id"]], "fillOpacity": 0.6, "color": "#FFFFFF",
                                  "weight": 0.6, "opacity": 0.9},
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000", "fillOpacity": 0.8},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        popup=folium.GeoJsonPopup(fields=POPUP_FIELDS, aliases=POPUP_ALIASES),
        smooth_factor=0.5,
    ).add_to(fmap)

    hatch = hatch_id("noncompliant", fmap)
    bad = set(table.index[~table["compliant"]])
    outlines = geometry.dissolve(assignment)
    folium.GeoJson(
        feature_collection(outlines, table[["plan_name"]]),
        name="Area plan borders (red hatched: not compliant)",
        style_function=lambda f: (
            {"color": RED, "weight": 3.5, "dashArray": "8 5", "fill": True, "fillColor": f"url(#{hatch})",
             "fillOpacity": 1.0} if f["id"] in bad
            else {"color": PLAN_BORDER, "weight": 2.2, "fill": False}),
        interactive=False,
    ).add_to(fmap)
    HatchPatterns({hatch: (RED, 45)}).add_to(fmap)


def add_status_quo_layer(fmap, status_quo, geometry: DisplayGeometry) -> None:
    """The status quo's plan borders as a dashed blue outline (off at first)."""
    outlines = geometry.dissolve(status_quo.assignment.reindex(geometry.polygons.index))
    folium.GeoJson(
        feature_collection(outlines),
        name="Status quo area plans (blue dashes)",
        style_function=lambda f: {"color": STATUS_QUO, "weight": 2.5, "dashArray": "3 6", "fill": False},
        interactive=False, show=False,
    ).add_to(fmap)


def add_collaboration_layers(fmap, plan, collaboration, geometry: DisplayGeometry) -> None:
    """One layer per collaboration kind: lines between municipalities, grey when kept, red when cut.

    Each kind has its own dashes (``TIE_LINES``).
    """
    points = geometry.points
    assignment = plan.assignment
    edges = collaboration.edges
    edges = edges[edges["code_a"].isin(points.index) & edges["code_b"].isin(points.index)]
    kinds = sorted(edges.groupby("kind"), key=lambda kv: str(kv[0]))
    for (kind, group), (dash, drawn) in zip(kinds, itertools.cycle(TIE_LINES)):
        kept_mask = (assignment.reindex(group["code_a"]).values == assignment.reindex(group["code_b"]).values)
        features = []
        for label, mask in (("kept", kept_mask), ("cut", ~kept_mask)):
            part = group[mask]
            if part.empty:
                continue
            lines = MultiLineString([[points[a].coords[0], points[b].coords[0]]
                                     for a, b in zip(part["code_a"], part["code_b"])])
            features.append((label, lines, len(part)))
        series = pd.Series([f[1] for f in features], index=[f[0] for f in features], dtype=object)
        folium.GeoJson(
            feature_collection(gpd.GeoSeries(series)),
            name=f"Collaboration: {esc(KIND_LABELS.get(kind, kind))} ({number(len(group))} ties, "
                 f"{number((~kept_mask).sum())} cut; {drawn} lines)",
            style_function=lambda f, dash=dash: (
                {"color": "#444444", "weight": 1.2, "opacity": 0.7, "dashArray": dash} if f["id"] == "kept"
                else {"color": RED, "weight": 1.8, "opacity": 0.9, "dashArray": dash}),
            interactive=False, show=False,
        ).add_to(fmap)


BRIDGE = "#EE7733"


def add_bridge_layer(fmap, bridges: list[dict], geometry: DisplayGeometry) -> None:
    """The scorecard's bridges as orange dashed lines between the municipalities they join (shown).

    The legend names them (``legend_html``).
    """
    if not bridges:
        return
    points = geometry.points
    rows = [b for b in bridges if b["from"] in points.index and b["to"] in points.index]
    lines = gpd.GeoSeries([LineString([points[b["from"]].coords[0], points[b["to"]].coords[0]]) for b in rows],
                          index=[f"{b['from']}-{b['to']}" for b in rows], crs=points.crs)
    layer = folium.GeoJson(
        feature_collection(lines),
        name=f"Bridges: joins without a shared boundary ({len(rows)})",
        style_function=lambda f: {"color": BRIDGE, "weight": 3, "dashArray": "6 6", "opacity": 0.95},
        interactive=False,  # named in the legend; the municipalities underneath keep their tooltips
    )
    layer.add_to(fmap)


def add_mountain_layer(fmap, plan, geometry: DisplayGeometry) -> None:
    """Legally mountain municipalities (law 991/1952), totally or partly, off at first."""
    status = plan.territory.municipalities.get("mountain_status")
    if status is None:
        return
    status = status.where(status.isin(["totally", "partly"]))
    if status.notna().sum() == 0:
        return
    shapes = geometry.dissolve(status.dropna())
    folium.GeoJson(
        feature_collection(shapes),
        name="Mountain municipalities (brown: totally, light: partly)",
        style_function=lambda f: {"color": MOUNTAIN, "weight": 1, "fillColor": MOUNTAIN,
                                  "fillOpacity": 0.45 if f["id"] == "totally" else 0.2},
        interactive=False, show=False,
    ).add_to(fmap)


def headline_title(title: str | None, summary: dict) -> str:
    """The headline panel's title, readable while folded: ``"status quo: 8 area plans, 1 not compliant"``."""
    s = summary or {}
    bad = s.get("non_compliant_plans", 0) or 0
    broken = len(s.get("violations") or [])
    text = f"{number(s.get('plans'))} area plans, " + (
        f"{number(bad)} not compliant" if bad else f"each at its floor, {number(broken)} other rule(s) broken"
        if broken else "all compliant")
    return f"{title}: {text}" if title else text


def headline_html(summary: dict, change_label: str = "Moved from status quo") -> str:
    """The scorecard's headline as a small HTML table (``change_label`` names the move counts).

    The collaboration row says which kinds of tie it counts, so two pages that count different
    ties say so.
    """
    s = summary or {}
    plans = s.get("plans")
    bad = s.get("non_compliant_plans", 0) or 0
    kinds = s.get("collaboration_retained_by_kind") or {}
    rows = [
        ("Area plans", number(plans)),
        ("Compliant", f'<span class="ld-ok">{number(s.get("compliant_plans"))}</span>'),
        ("Not compliant", f'<span class="{"ld-bad" if bad else "ld-ok"}">{number(bad)}</span>'),
        ("People in non-compliant plans", number(s.get("population_non_compliant"))),
        ("Effective number of plans", number(s.get("effective_plans"), 1)),
        ("Plan population min / median / max",
         " / ".join(number(s.get(k)) for k in ("min_population", "median_population", "max_population"))),
        ("Collaboration kept", percent(s.get("collaboration_retained"))),
        ("Ties counted", esc(", ".join(KIND_LABELS.get(k, str(k).replace("_", " ")) for k in kinds) or "none")),
    ]
    by_kind = s.get("collaboration_retained_by_kind") or {}
    if by_kind:
        rows.append(("... by kind of tie", ", ".join(f"{esc(k)} {percent(v)}" for k, v in sorted(by_kind.items()))))
    if s.get("unions_split") is not None and "union" in by_kind:
        rows.append(("Unions of municipalities split", number(s.get("unions_split"))))
    if s.get("municipalities_moved") is not None:
        rows.append((change_label,
                     f'{number(s.get("municipalities_moved"))} municipalities, '
                     f'{number(s.get("population_moved"))} people'))
        rows.append(("Plans merged / split",
                     f'{number(s.get("plans_merged"))} / {number(s.get("plans_split"))}'))
    body = "".join(f'<tr><td>{esc(k)}</td><td class="ld-num">{v}</td></tr>' for k, v in rows)
    return f'<table class="ld-headline">{body}</table>'


def legend_html(table: pd.DataFrame, *, status_quo: bool = False, moved: int | None = None,
                merged: int | None = None, layers: bool = True, bridges: list | None = None,
                mountain: bool = True, collaboration: bool = True, sides: dict | None = None) -> str:
    """Legend: what borders, hatches and layers mean, and the non-compliant plans.

    ``sides`` (title -> plans table), for two maps side by side: the non-compliant plans of each.
    """
    items = [
        (swatch("#DDCC77", "#FFFFFF", width=1), "Municipality (colour = its area plan; "
                                                "neighbouring plans never share a colour)"),
        (line_swatch(PLAN_BORDER, width=3), "Area plan border"),
        (swatch("transparent", RED, "dashed", hatch=RED),
         "Area plan not compliant (below its population floor, not contiguous, or across a hard boundary)"),
    ]
    if moved is not None:
        items.append((swatch("transparent", "#111111", hatch="#111111", width=1),
                      f"Municipality that moved to another plan ({number(moved)})"))
    if merged:
        items.append((swatch("transparent", STATUS_QUO, hatch=STATUS_QUO, width=1),
                      f"Municipality whose plan merged into another ({number(merged)})"))
    if status_quo:
        items.append((line_swatch(STATUS_QUO, "dashed", 3), "Status quo plan border (layer)"))
    if bridges:
        named = "; ".join(f"{b['from_name']} - {b['to_name']}, {b['distance_m']:,.0f} m" for b in bridges[:3])
        more = f"; and {len(bridges) - 3:,} more" if len(bridges) > 3 else ""
        items.append((line_swatch(BRIDGE, "dashed", 3),
                      f"Bridge: a join without a shared boundary ({named}{more}); a plan holding one is "
                      "contiguous only through it"))
    if layers and mountain:
        items.append((swatch(MOUNTAIN + "99", MOUNTAIN, width=1), "Mountain municipality (layer)"))
    if layers and collaboration:
        items.append((line_swatch("#444444") + line_swatch(RED), "Collaboration tie kept / cut (layers)"))
    rows = "".join(f"<tr><td>{s}</td><td>{esc(t)}</td></tr>" for s, t in items)
    listing = "".join(_compliance_html(t, f"{title}: ") for title, t in sides.items()) if sides else \
        _compliance_html(table)
    return f"<table>{rows}</table>{listing}"


def _compliance_html(table: pd.DataFrame, label: str = "") -> str:
    """The plans of ``table`` that do not comply, with why, or that every one does."""
    bad = table[~table["compliant"]]
    if not len(bad):
        return f'<div class="ld-ok">{esc(label)}{"every" if label else "Every"} area plan complies.</div>'
    shown = bad.sort_values("plan_margin", key=lambda s: s.map(_margin_key)).head(25)
    lines = "".join(
        f"<li>{esc(r.plan_name)}: {esc(r.plan_status.split(': ', 1)[-1])}; {esc(r.plan_population)} "
        f"people, floor {esc(r.plan_floor)} ({esc(r.plan_class)})</li>"
        for r in shown.itertuples()
    )
    more = f"<li>and {len(bad) - len(shown)} more</li>" if len(bad) > len(shown) else ""
    return (f'<details open><summary class="ld-bad">{esc(label)}{len(bad)} area plan(s) not compliant</summary>'
            f'<ul class="ld-list">{lines}{more}</ul></details>')


def _margin_key(text: str) -> float:
    try:
        return float(str(text).replace(",", "").replace("+", ""))
    except ValueError:
        return 0.0


def add_basemap(fmap) -> None:
    """A faded OpenStreetMap background (not listed in the layer control)."""
    folium.TileLayer("OpenStreetMap", opacity=TILES_OPACITY, control=False).add_to(fmap)


def new_map(geometry: DisplayGeometry):
    """An empty map with a faded basemap, fitted to the territory."""
    fmap = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25)  # fit the region snugly
    add_basemap(fmap)
    fmap.fit_bounds(geometry.bounds)
    return fmap


def plan_map(plan, scorecard=None, *, rules=None, status_quo=None, collaboration=None, title=None,
             tolerance_m: float = DEFAULT_TOLERANCE_M, geometry: DisplayGeometry | None = None):
    """The plan as a ``folium.Map`` (see the module docstring for what it shows).

    Parameters
    ----------
    plan
        The plan to draw.
    scorecard
        Its scorecard; computed with ``lombardy_districts.scorecard.evaluate`` when None.
    rules, status_quo, collaboration
        As given to the evaluator; the status quo and collaboration edges also become layers
        (collaboration defaults to the labour-market proxy plus same-current-plan ties).
    title
        Shown at the top of the headline panel.
    tolerance_m
        Display simplification in metres (never affects scores).
    geometry
        Precomputed display geometry of the plan's territory, to reuse across maps.
    """
    scorecard = resolve_scorecard(plan, scorecard, rules=rules, collaboration=collaboration,
                                  status_quo=status_quo)
    geometry = geometry or DisplayGeometry(plan.territory.municipalities, tolerance_m)
    if collaboration is None:
        collaboration = default_collaboration(plan.territory, status_quo)
    table = plan_table(plan, scorecard)
    colours = colour_plans(plan)
    fmap = new_map(geometry)
    add_css(fmap.get_root())
    add_plan_layers(fmap, plan, table, colours, geometry)
    if status_quo is not None:
        add_status_quo_layer(fmap, status_quo, geometry)
    add_collaboration_layers(fmap, plan, collaboration, geometry)
    add_mountain_layer(fmap, plan, geometry)
    add_bridge_layer(fmap, scorecard.summary.get("bridges", []), geometry)
    folium.LayerControl(collapsed=True).add_to(fmap)
    OpenLayersWhenWide().add_to(fmap)
    Panel(headline_html(scorecard.summary), "bottomleft", title=headline_title(title, scorecard.summary)).add_to(fmap)
    status = plan.territory.municipalities.get("mountain_status")
    Panel(legend_html(table, status_quo=status_quo is not None, bridges=scorecard.summary.get("bridges", []),
                      mountain=status is not None and bool(status.isin(["totally", "partly"]).any()),
                      collaboration=len(collaboration.edges) > 0), "bottomright",
          "ld-panel ld-legend", title="Legend").add_to(fmap)
    TooltipsOnTop().add_to(fmap)
    fmap.get_root().title = esc(title or "Area plans")
    log.info("plan map: %d plans, %d municipalities, %d colours", len(plan), len(plan.assignment),
             len(set(colours.values())))
    return fmap


def write_plan_map(plan, scorecard, path, *, rules=None, status_quo=None, collaboration=None,
                   title=None, tolerance_m: float = DEFAULT_TOLERANCE_M) -> Path:
    """Write the plan's map as a standalone HTML file (atomically) and return its path.

    The page carries its own scripts and styles (:mod:`maps.offline`), so it works with no internet;
    only the faded basemap then stays blank. See :func:`plan_map` for what it shows.
    """
    path = check_output_path(path)
    fmap = plan_map(plan, scorecard, rules=rules, status_quo=status_quo, collaboration=collaboration,
                    title=title, tolerance_m=tolerance_m)
    write_atomic(path, lambda p: write_offline(fmap.get_root(), p))
    log.debug("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path


def check_output_path(path) -> Path:
    """The output path, after checking it names a file (raises InputError otherwise); a missing folder is created."""
    expect_path(path, "path", "the HTML file to write")
    path = Path(path)
    if path.is_dir():
        raise InputError(f"output {path} is a folder; give a file name such as {path / 'map.html'}")
    if path.parent.exists() and not path.parent.is_dir():
        raise InputError(f"output {path}: {path.parent} is a file, not a folder; choose another -o path")
    return path
