"""A gallery page: every proposal of a batch run, linked to its map and comparison, in a sortable table.

``write_gallery(entries, path)`` writes plain HTML with a few lines of JavaScript (click a column
heading to sort; click again to reverse). No CDN, no local paths: links are relative to the page.
Each entry is a dict with ``name``, ``map`` (path of its map), optionally ``compare`` (path of its
comparison) and headline numbers, either under ``scores`` or as further keys; ``gallery_entry``
builds one from a scorecard.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from lombardy_districts.errors import InputError
from lombardy_districts.io.files import write_atomic

from ._elements import esc, number, percent
from .render import check_output_path

log = logging.getLogger(__name__)

# Scorecard summary key -> column heading, in table order.
HEADLINE = {
    "plans": "Area plans",
    "compliant_plans": "Compliant",
    "non_compliant_plans": "Not compliant",
    "population_non_compliant": "People in non-compliant plans",
    "effective_plans": "Effective plans",
    "min_population": "Smallest plan",
    "median_population": "Median plan",
    "collaboration_retained": "Collaboration kept",
    "unions_split": "Unions split",
    "municipalities_moved": "Municipalities moved",
    "population_moved": "People moved",
}
_RESERVED = {"name", "map", "compare", "scores"}

_SCRIPT = """
document.querySelectorAll("table.ld-gallery th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var asc = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var key = function (row) {
      var v = row.cells[col].getAttribute("data-sort"), n = parseFloat(v);
      return v === "" ? null : (isNaN(n) ? v.toLowerCase() : n);
    };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    }).forEach(function (row) { body.appendChild(row); });
  });
});
"""

_STYLE = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; }
table.ld-gallery { border-collapse: collapse; }
.ld-gallery th, .ld-gallery td { padding: 4px 10px; border-bottom: 1px solid #ddd; }
.ld-gallery th { cursor: pointer; text-align: left; background: #f3f3f3; user-select: none; }
.ld-gallery th[aria-sort=ascending]::after { content: " \\25B2"; }
.ld-gallery th[aria-sort=descending]::after { content: " \\25BC"; }
.ld-gallery td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ld-gallery td.bad { color: #D62728; font-weight: 600; }
"""


def gallery_entry(name: str, map_path, scorecard=None, compare_path=None, **extra) -> dict:
    """An entry for ``write_gallery`` with the scorecard's headline numbers (``HEADLINE`` keys)."""
    scores = {}
    if scorecard is not None:
        summary = scorecard.summary
        scores = {key: summary.get(key) for key in HEADLINE if summary.get(key) is not None}
    entry = {"name": name, "map": map_path, "scores": {**scores, **extra}}
    if compare_path is not None:
        entry["compare"] = compare_path
    return entry


def write_gallery(entries: Iterable[Mapping], path, *, title: str = "Proposals") -> Path:
    """Write ``index.html`` (or ``path``) linking every entry's map and comparison; return its path.

    Raises
    ------
    InputError
        An entry has no name or map, or a link points outside the gallery's folder.
    """
    path = Path(path)
    path = check_output_path(path / "index.html" if path.is_dir() else path)
    folder = path.parent.resolve()
    entries = list(entries)
    problems: list[str] = []
    rows = []
    for i, entry in enumerate(entries, 1):
        name = entry.get("name")
        if not name:
            problems.append(f"gallery entry {i} has no name; give each entry a 'name'")
        if not entry.get("map"):
            problems.append(f"gallery entry {i} ({name or 'unnamed'}) has no 'map' path")
            continue
        links = {key: _relative(entry[key], folder, f"entry {i} ({name}) {key}", problems)
                 for key in ("map", "compare") if entry.get(key)}
        scores = dict(entry.get("scores") or {})
        scores.update({k: v for k, v in entry.items() if k not in _RESERVED})
        rows.append((str(name), links, scores))
    if problems:
        raise InputError(problems)
    columns = list(dict.fromkeys(k for _, _, scores in rows for k in scores))
    columns = [c for c in HEADLINE if c in columns] + [c for c in columns if c not in HEADLINE]
    page = _page(title, rows, columns)
    write_atomic(path, lambda p: p.write_text(page, encoding="utf-8"))
    log.debug("gallery: %d proposals in %s", len(rows), path)
    return path


def _relative(target, folder: Path, what: str, problems: list[str]) -> str:
    """A link relative to the gallery folder, POSIX style; absolute paths must lie inside it.

    A relative path is taken relative to the gallery folder, unless only the current directory
    has such a file (e.g. ``runs/s1/map.html`` for a gallery in ``runs/``).
    """
    target = Path(target)
    if not target.is_absolute() and not (folder / target).exists() and target.exists():
        target = target.resolve()
    if target.is_absolute():
        try:
            target = Path(os.path.relpath(target.resolve(), folder))
        except ValueError:  # another drive on Windows
            problems.append(f"{what}: {target} is not inside the gallery folder {folder}")
            return ""
        if target.parts and target.parts[0] == "..":
            problems.append(f"{what}: the file is outside the gallery folder; write maps next to index.html "
                            "or in a sub-folder so the links keep working when the folder is moved")
            return ""
    return str(PurePosixPath(*target.parts))


def _cell(key: str, value) -> str:
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value != value:
        value = None
    if value is None or value == "":
        return '<td class="num" data-sort=""></td>'
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f'<td data-sort="{esc(value)}">{esc(value)}</td>'
    if key in ("collaboration_retained",) or key.endswith("_share"):
        text = percent(value)
    elif isinstance(value, float) and not value.is_integer():
        text = number(value, 2 if abs(value) < 100 else 0)
    else:
        text = number(value)
    bad = ' bad' if key in ("non_compliant_plans", "population_non_compliant") and value > 0 else ""
    return f'<td class="num{bad}" data-sort="{value!r}">{text}</td>'


def _page(title: str, rows, columns) -> str:
    head = "".join(f"<th>{esc(HEADLINE.get(c, c.replace('_', ' ')))}</th>" for c in columns)
    body = []
    for name, links, scores in rows:
        link_cells = "".join(
            f'<td data-sort="{esc(name) if key == "map" else ""}">'
            + (f'<a href="{esc(links[key])}">{esc(name) if key == "map" else "compare"}</a>' if links.get(key)
               else "")
            + "</td>"
            for key in ("map", "compare")
        )
        cells = "".join(_cell(c, scores.get(c)) for c in columns)
        body.append(f"<tr>{link_cells}{cells}</tr>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{esc(title)}</h1><p>{len(rows)} proposal(s). Click a column heading to sort.</p>"
        '<div style="overflow-x: auto">'  # a wide table scrolls in its box, not the page
        f'<table class="ld-gallery"><thead><tr><th>Proposal (map)</th><th>Comparison</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div><script>{_SCRIPT}</script></body></html>\n"
    )
