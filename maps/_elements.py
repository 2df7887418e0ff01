"""Small Folium elements shared by the plan map and the comparison: panels, hatch patterns, CSS."""

from __future__ import annotations

import html

from branca.element import Element, MacroElement
from folium.template import Template

RED = "#D62728"
PLAN_BORDER = "#1A1A1A"
STATUS_QUO = "#0B3D91"
MOVED = "#111111"
MOUNTAIN = "#8C6D31"

CSS = """
<style>
.ld-panel { background: rgba(255,255,255,0.94); padding: 6px 10px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35); font: 12px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif;
  max-width: min(300px, max(21vw, 170px)); max-height: 42vh; overflow-y: auto; color: #222; }
.ld-panel > details > summary { cursor: pointer; font-size: 13px; font-weight: 600; overflow-wrap: anywhere; }
.ld-panel > details[open] > summary { margin-bottom: 4px; }
.ld-panel h4 { margin: 0 0 4px; font-size: 14px; font-weight: 600; }
.ld-panel table { border-collapse: collapse; }
.ld-panel td { padding: 1px 6px 1px 0; vertical-align: top; }
.ld-panel td.ld-num { text-align: right; font-variant-numeric: tabular-nums; }
.ld-legend td:first-child { white-space: nowrap; }
.ld-legend details details summary { cursor: pointer; }
.ld-sw { display: inline-block; width: 22px; height: 12px; margin-right: 6px; vertical-align: middle; }
.ld-bad { color: #D62728; font-weight: 600; }
.ld-ok { color: #2E7D32; font-weight: 600; }
.ld-list { margin: 2px 0 0; padding-left: 16px; }
.ld-line { display: inline-block; width: 22px; height: 0; margin: 0 6px 3px 0; vertical-align: middle; }
.leaflet-interactive:focus { outline: none; }
</style>
"""


def add_css(root) -> None:
    """Add the panels' CSS to the page header once."""
    root.header.add_child(Element(CSS), name="ld_css")


class Panel(MacroElement):
    """A Leaflet control at ``position`` whose content is ``html`` (a legend, a headline).

    With a ``title``, the panel folds: a click on the title shows or hides the content, and
    ``folded`` panels start hidden (the comparison's, so the two half-width maps stay visible), and so do all
    on a map smaller than 700 x 550 pixels (a phone, a small window).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function() {
                var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
                div.innerHTML = {{ this.html|tojson }};
                var size = {{ this._parent.get_name() }}.getSize(), folds = div.querySelector("details");
                if (folds && (size.x < 700 || size.y < 550)) { folds.open = false; }  // a small screen: the map first
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, position: str = "bottomright", css_class: str = "ld-panel",
                 title: str | None = None, folded: bool = False):
        super().__init__()
        self._name = "Panel"
        if title is not None:
            html_text = f'<details{"" if folded else " open"}><summary>{esc(title)}</summary>{html_text}</details>'
        self.html = html_text
        self.position = position
        self.css_class = css_class


class OpenLayersWhenWide(MacroElement):
    """Open the layer control (made with ``collapsed=True``) on a map at least ``WIDE`` pixels wide.

    Narrower (a laptop, a phone), it stays an icon, so it covers none of the territory; hovering or
    a click opens it.
    """

    WIDE = 1600
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map) {
            setTimeout(function() {
                var box = map.getContainer().querySelector(".leaflet-control-layers");
                if (box && map.getSize().x >= {{ this.WIDE }}) { box.classList.add("leaflet-control-layers-expanded"); }
            }, 0);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "OpenLayersWhenWide"


class HatchPatterns(MacroElement):
    """SVG hatch patterns in the map's vector layer, usable as ``fillColor: url(#id)``.

    ``patterns`` maps an id to ``(colour, angle)``. The definitions are (re)inserted whenever a
    layer is added, because Leaflet creates its SVG element lazily.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map) {
            var defs = {{ this.defs|tojson }};
            var mark = {{ this.get_name()|tojson }};
            function addDefs() {
                map.getPanes().overlayPane.querySelectorAll("svg").forEach(function(svg) {
                    if (svg.querySelector("defs[data-ld='" + mark + "']")) { return; }
                    var el = document.createElementNS("http://www.w3.org/2000/svg", "defs");
                    el.setAttribute("data-ld", mark);
                    el.innerHTML = defs;
                    svg.insertBefore(el, svg.firstChild);
                });
            }
            addDefs();
            map.on("layeradd", addDefs);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, patterns: dict[str, tuple[str, int]]):
        super().__init__()
        self._name = "HatchPatterns"
        self.defs = "".join(
            f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="9" height="9" '
            f'patternTransform="rotate({angle})"><line x1="0" y1="0" x2="0" y2="9" '
            f'stroke="{colour}" stroke-width="2.5" stroke-opacity="0.7"/></pattern>'
            for pid, (colour, angle) in patterns.items()
        )


class TooltipsOnTop(MacroElement):
    """Tooltips and plan cards drawn above the panels and controls.

    Leaflet draws them in panes inside the map pane, under the controls' corners (z-index 800 and
    1000), so a panel could cover the tooltip of the municipality under the mouse. Their panes move
    to the map's container, above the controls, and follow the map pane as it pans.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map) {
            var container = map.getContainer(), mapPane = map.getPane("mapPane");
            var panes = ["tooltipPane", "popupPane"].map(function(name) { return map.getPane(name); });
            panes.forEach(function(pane) {
                container.appendChild(pane);
                pane.style.zIndex = pane === panes[0] ? 1100 : 1050;
            });
            function follow() {
                var at = L.DomUtil.getPosition(mapPane);
                panes.forEach(function(pane) { L.DomUtil.setPosition(pane, at); });
            }
            map.on("move zoomend viewreset resize", follow);
            follow();
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "TooltipsOnTop"


def hatch_id(kind: str, map_obj) -> str:
    """Pattern id unique to one map of the page (two maps share a page in a comparison)."""
    return f"ld-{kind}-{map_obj.get_name()}"


def swatch(fill: str = "none", border: str = "none", style: str = "solid", width: int = 2,
           hatch: str | None = None) -> str:
    """A legend swatch as an inline-styled span."""
    background = fill
    if hatch:
        background = f"repeating-linear-gradient(45deg, {hatch} 0 3px, transparent 3px 7px)"
    return (f'<span class="ld-sw" style="background:{background};'
            f'border:{width}px {style} {border};"></span>')


def line_swatch(colour: str, style: str = "solid", width: int = 2) -> str:
    """A legend swatch for a line."""
    return f'<span class="ld-line" style="border-top:{width}px {style} {colour};"></span>'


def esc(text) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=True)


def number(value, decimals: int = 0) -> str:
    """A number with thousands separators; '-' when missing."""
    if value is None:
        return "-"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if value != value:  # NaN
        return "-"
    return f"{value:,.{decimals}f}"


def percent(value) -> str:
    """A share in 0..1 as a percentage; '-' when missing."""
    if value is None:
        return "-"
    try:
        return f"{100 * float(value):.1f}%"
    except (TypeError, ValueError):
        return "-"
