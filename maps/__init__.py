"""Maps planners compare in the browser: one plan, two plans side by side, and a gallery of proposals.

- :func:`maps.render.write_plan_map` (the ``map`` renderer): one plan, coloured so neighbouring
  plans never share a colour, plans below their floor flagged, tooltips, popups, layers, legend.
- :func:`maps.compare.write_comparison`: two plans with synchronised pan and zoom, changes marked.
- :func:`maps.gallery.write_gallery`: ``index.html`` linking every proposal with a sortable score table.

Maps only read plans and scorecards; they decide nothing. Geometry is simplified for display only.
"""

from __future__ import annotations

__all__ = ["plan_map", "write_plan_map", "comparison_map", "write_comparison", "write_gallery", "gallery_entry"]

_WHERE = {"plan_map": "render", "write_plan_map": "render", "comparison_map": "compare",
          "write_comparison": "compare", "write_gallery": "gallery", "gallery_entry": "gallery"}


def __getattr__(name: str):
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
