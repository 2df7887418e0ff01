"""A small trade-off chart as inline SVG: number of area plans against collaboration retained.

Plain text, no JavaScript and no CDN, so the chart works offline inside any HTML page.
Used by the sweep's gallery page and by the frontier page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

WIDTH, HEIGHT = 640, 380
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 50
COLOURS = {"optimal": "#1f77b4", "proved": "#1f77b4", "optimal among mergers": "#7fb8e0", "heuristic": "#ff7f0e",
           "feasible": "#ff7f0e"}


def tradeoff_svg(
    points: Sequence[Mapping],
    *,
    x_label: str = "number of area plans",
    y_label: str = "collaboration retained",
    y_percent: bool = True,
    line: bool = False,
    title: str = "",
) -> str:
    """An SVG scatter (or line) chart of ``points``.

    Parameters
    ----------
    points
        Dicts with ``x`` and ``y`` (numbers; points with a missing value are left out), and
        optionally ``label`` (shown beside the point), ``tooltip``, ``href`` (the point links
        there) and ``kind`` (a key of ``COLOURS``: ``optimal`` filled blue, ``optimal among mergers`` light
        blue, ``heuristic`` orange).
    x_label, y_label
        Axis titles.
    y_percent
        Show the y values (fractions) as percentages.
    line
        Join the points in order of ``x`` (a frontier).
    title
        Accessible title of the chart.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    pts = [p for p in points if _number(p.get("x")) and _number(p.get("y"))]
    if not pts:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="60" role="img">'
                f'<text x="10" y="30">No points to plot ({html.escape(y_label)} is unknown).</text></svg>')
    xs = [float(p["x"]) for p in pts]
    ys = [float(p["y"]) for p in pts]
    x0, x1 = _padded(min(xs), max(xs), whole=True)
    y0, y1 = _padded(min(ys), max(ys), whole=False)
    if y_percent:
        y0, y1 = max(0.0, y0), min(1.0, y1) if max(ys) <= 1 else y1

    def sx(v):
        return LEFT + (v - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT)

    def sy(v):
        return HEIGHT - BOTTOM - (v - y0) / (y1 - y0) * (HEIGHT - TOP - BOTTOM)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="ld-chart" width="{WIDTH}" height="{HEIGHT}" '
           'style="max-width: 100%; height: auto" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family="system-ui, sans-serif" font-size="12">',
           f"<title>{html.escape(title or f'{y_label} against {x_label}')}</title>"]
    for v in _ticks(x0, x1, whole=True):
        out.append(f'<line x1="{sx(v):.1f}" x2="{sx(v):.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#eee"/>'
                   f'<text x="{sx(v):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{v:g}</text>')
    for v in _ticks(y0, y1, whole=False):
        text = f"{v:.0%}" if y_percent else f"{v:g}"
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" stroke="#eee"/>'
                   f'<text x="{LEFT - 6}" y="{sy(v) + 4:.1f}" text-anchor="end">{text}</text>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" stroke="#444"/>'
               f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#444"/>'
               f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
               f"{html.escape(x_label)}</text>"
               f'<text transform="translate(16 {(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)" text-anchor="middle">'
               f"{html.escape(y_label)}</text>")
    if line and len(pts) > 1:
        ordered = sorted(pts, key=lambda p: float(p["x"]))
        path = " ".join(f"{sx(float(p['x'])):.1f},{sy(float(p['y'])):.1f}" for p in ordered)
        out.append(f'<polyline points="{path}" fill="none" stroke="#888" stroke-width="1.5"/>')
    labels: dict[tuple, list[str]] = {}
    for p in pts:  # points at the same place share one label
        if p.get("label"):
            labels.setdefault((round(float(p["x"]), 6), round(float(p["y"]), 6)), []).append(str(p["label"]))
    for p in pts:
        x, y = sx(float(p["x"])), sy(float(p["y"]))
        here = labels.pop((round(float(p["x"]), 6), round(float(p["y"]), 6)), None)
        colour = COLOURS.get(str(p.get("kind", "")), "#1f77b4")
        tip = p.get("tooltip") or f"{p.get('label', '')} {float(p['x']):g}, {float(p['y']):.1%}".strip()
        dot = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}" stroke="#222" stroke-width="0.7">'
               f"<title>{html.escape(str(tip))}</title></circle>")
        if here and len(pts) <= 40:
            dot += f'<text x="{x + 7:.1f}" y="{y - 7:.1f}" font-size="11">{html.escape(", ".join(here))}</text>'
        if p.get("href"):
            dot = f'<a href="{html.escape(str(p["href"]))}">{dot}</a>'
        out.append(dot)
    out.append("</svg>")
    return "".join(out)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _padded(low: float, high: float, whole: bool) -> tuple[float, float]:
    if high == low:
        pad = 1.0 if whole else max(abs(low) * 0.05, 0.05)
    else:
        pad = (high - low) * 0.08
    if whole:
        return math.floor(low - pad), math.ceil(high + pad)
    return low - pad, high + pad


def _ticks(low: float, high: float, whole: bool, count: int = 6) -> list[float]:
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 5, 10):
        if raw <= m * step:
            step *= m
            break
    if whole:
        step = max(1, round(step))
    start = math.ceil(low / step) * step
    out: list[float] = []
    v = start
    while v <= high + 1e-9:
        out.append(round(v, 10))
        v += step
    return out
