"""Maps planners compare in the browser: one plan, two plans side by side, and a gallery of proposals.

- :func:`lombardy_districts.maps.render.write_plan_map`: one plan, coloured so neighbouring
  plans never share a colour, plans below their floor flagged, tooltips, popups, layers, legend.
- :func:`lombardy_districts.maps.compare.write_comparison`: two plans with synchronised pan and zoom, changes marked.
- :func:`lombardy_districts.maps.gallery.write_gallery`: ``index.html`` linking every proposal with a sortable
  score table.

Maps only read plans and scorecards; they decide nothing. Geometry is simplified for display only.
"""
