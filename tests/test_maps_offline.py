"""Pages carry their own scripts and styles: shipped copies, licences, and no CDN link left."""

from __future__ import annotations

import hashlib
import re

import folium
import folium.folium
import folium.plugins
import pytest

from lombardy_districts.maps import offline
from lombardy_districts.maps.compare import write_comparison
from lombardy_districts.maps.render import write_plan_map
from tests.maps_tiny import tiny_plan_a, tiny_plan_b, tiny_rules, tiny_territory

EXTERNAL = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"']?(?:https?:)?//", re.I)


@pytest.fixture(scope="module")
def tiny():
    return tiny_territory()


def test_map_and_comparison_inline_leaflet_and_link_nothing(tiny, tmp_path):
    defaults = list(folium.folium._default_js)
    pages = [
        write_plan_map(tiny_plan_a(tiny), None, tmp_path / "map.html", rules=tiny_rules()),
        write_comparison(tiny_plan_a(tiny), tiny_plan_b(tiny), tmp_path / "compare.html", rules=tiny_rules()),
    ]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not EXTERNAL.search(html)
        assert html.count("leaflet.js, shipped with lombardy-districts") == 1
        assert "bootstrap" not in html.lower()
    assert "L.Map.Sync.js, shipped" in pages[1].read_text(encoding="utf-8")
    assert folium.folium._default_js == defaults  # Folium's own lists are untouched for other users


def test_an_unknown_resource_is_an_error_not_a_cdn_link():
    fmap = folium.Map(tiles=None)
    folium.plugins.MiniMap().add_to(fmap)  # brings Leaflet-MiniMap from a CDN
    with pytest.raises(RuntimeError, match="MiniMap needs .*not shipped: add it to maps/assets/fetch.sh"):
        offline.offline_html(fmap.get_root())


def test_stylesheet_images_are_inlined():
    css = offline.asset_text("leaflet.css")
    assert "url(images/" not in css and "url(data:image/png;base64," in css
    with pytest.raises(ValueError, match="unknown map asset 'bootstrap.css'; shipped: leaflet.css"):
        offline.asset_text("bootstrap.css")


def test_shipped_files_match_their_sources_and_carry_licences():
    sources = (offline.ASSETS / "SOURCES.txt").read_text()
    listed = dict(reversed(line.split("  ", 1)) for line in sources.splitlines() if re.match(r"[0-9a-f]{64}  ", line))
    for name in (*offline.FILES, "images/layers.png"):
        assert hashlib.sha256((offline.ASSETS / name).read_bytes()).hexdigest() == listed[name], name
    for package in ("leaflet", "jquery", "leaflet.sync"):
        assert f"{package}@" in sources
        assert "Permission" in (offline.ASSETS / f"LICENSE-{package}.txt").read_text() or \
            "Redistribution" in (offline.ASSETS / f"LICENSE-{package}.txt").read_text()
