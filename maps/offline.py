"""Pages that work with no internet: the scripts and styles a map needs, shipped in the package and inlined.

Folium pages load Leaflet, jQuery, Bootstrap, Font Awesome and more from public CDNs; opened with no
internet (a public-administration network, a map mailed to a mayor) they stay blank. The files the maps
really use are copied into ``maps/assets/`` at pinned versions with their licence texts (see
``assets/SOURCES.txt``; the build script ``assets/fetch.sh`` fetches them from the npm registry), and
:func:`offline_html` writes them into the page itself, so one HTML file is all a reader needs.

Resources Folium lists that these maps never use (Bootstrap, its glyphicons, Font Awesome and Awesome
Markers: icons for markers, which the maps do not draw) are left out. A resource this module does not
know is an error, so a new Folium element cannot quietly bring a CDN link back. The basemap tiles are
the one thing still fetched from the internet; offline they simply do not show.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

from branca.element import Element, Figure
from folium.elements import JSCSSMixin

ASSETS = Path(__file__).resolve().parent / "assets"

FILES = ("leaflet.css", "leaflet.js", "jquery.min.js", "L.Map.Sync.js")
"""The shipped files a page may need, in the order a page loads them."""

FOLIUM_RESOURCES = {
    "leaflet": "leaflet.js",
    "leaflet_css": "leaflet.css",
    "jquery": "jquery.min.js",
    "Leaflet.Sync": "L.Map.Sync.js",
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
}
"""Folium's resource name -> the shipped file that replaces it, or None when the maps never use it."""

_EXTERNAL = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.I)
_IMAGE = re.compile(r"url\((images/[A-Za-z0-9_.-]+\.png)\)")


@cache
def asset_text(name: str) -> str:
    """The text of a shipped file; a stylesheet's images come inlined as data URIs.

    Raises
    ------
    ValueError
        When ``name`` is not one of ``FILES``.
    """
    if name not in FILES:
        raise ValueError(f"unknown map asset {name!r}; shipped: {', '.join(FILES)}")
    text = (ASSETS / name).read_text(encoding="utf-8")
    if name.endswith(".css"):
        text = _IMAGE.sub(lambda m: f"url({_data_uri(ASSETS / m.group(1))})", text)
    return text


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def inline_tag(name: str) -> str:
    """A ``<script>`` or ``<style>`` element holding the shipped file ``name``."""
    tag = "style" if name.endswith(".css") else "script"
    text = asset_text(name).replace(f"</{tag}", f"<\\/{tag}")  # the text cannot end its own element
    return f"<{tag}>/* {name}, shipped with lombardy-districts */\n{text}</{tag}>"


def offline_html(root: Figure) -> str:
    """The page of ``root`` (a Folium figure) as HTML that loads no script or style from the internet.

    Every element's CDN links are replaced, on that element only, by the shipped copies inlined once in
    the page's header.

    Raises
    ------
    RuntimeError
        When an element asks for a resource this module does not ship or know to leave out, or the
        page would still load a script or style from elsewhere.
    """
    needed: set[str] = set()
    for element in _elements(root):
        if not isinstance(element, JSCSSMixin):
            continue
        for name, url in [*element.default_js, *element.default_css]:
            if name not in FOLIUM_RESOURCES:
                raise RuntimeError(f"map element {type(element).__name__} needs {name} ({url}), which is not "
                                   "shipped: add it to maps/assets/fetch.sh and maps/offline.py")
            shipped = FOLIUM_RESOURCES[name]
            if shipped is not None:
                needed.add(shipped)
        element.default_js = []  # instance attributes: Folium's class-level lists stay as they are
        element.default_css = []
    for name in FILES:
        if name in needed:
            root.header.add_child(Element(inline_tag(name)), name=f"ld_asset_{name}")
    html = root.render()
    external = _EXTERNAL.findall(html)
    if external:
        raise RuntimeError(f"the page would still load {', '.join(sorted(set(external)))} from the internet")
    return html


def _elements(element):
    yield element
    for child in list(element._children.values()):
        yield from _elements(child)
    if isinstance(element, Figure):
        for part in (element.header, element.html, element.script):
            yield from _elements(part)


def write_offline(root: Figure, path) -> Path:
    """Write the page of ``root`` with :func:`offline_html` (UTF-8) and return its path."""
    path = Path(path)
    path.write_text(offline_html(root), encoding="utf-8")
    return path
