"""Benchmark the planning studio in a real headless Chromium: page ready, and an edit's scorecard on screen.

    python benchmarks/bench_studio.py [--status-quo benchmarks/merge_status_quo.csv] [--loads 5] [--edits 60]

Serves the whole of Lombardy (or ``--province``) on 127.0.0.1, blocks every other request, then:

- *page ready*: a fresh page is opened ``--loads`` times; the time from navigation start until every
  municipality is drawn and the scorecard is filled (the page's own clock, ``performance.now()``);
- *edit*: ``--edits`` times, a municipality on a plan border is clicked on the map, a neighbouring plan
  chosen, and **Move** pressed; the time from that click until the page has painted the new scorecard
  (two animation frames after the server's answer is on screen). Every other edit is an undo, timed
  the same way from the Undo click.

Targets (issue 12): page ready under 3 s, an edit's scorecard under 150 ms at the 95th percentile.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

import numpy as np

CHROMIUM = os.environ.get("LOMBARDY_DISTRICTS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def percentile(values, q):
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def border_municipalities(state, count: int, seed: int) -> list[tuple[str, str]]:
    """(municipality, neighbouring plan) pairs on plan borders, municipalities not locked, in random order."""
    assignment = state.session.assignment
    pairs = {}
    for u, v in state.territory.graph.edges:
        if assignment[u] != assignment[v]:
            pairs.setdefault(u, assignment[v])
            pairs.setdefault(v, assignment[u])
    rng = np.random.default_rng(seed)
    codes = sorted(pairs)
    picked = rng.choice(len(codes), size=min(count, len(codes)), replace=False)
    return [(codes[i], pairs[codes[i]]) for i in picked]


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1500, "height": 950})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url)
               else route.abort())
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60000)
    return page, errors


def measure_loads(browser, url, loads: int) -> list[float]:
    out = []
    for _ in range(loads):
        page, errors = open_page(browser, url)
        out.append(page.evaluate("window.ldReadyAt"))
        if errors:
            raise RuntimeError(f"page errors: {errors}")
        page.close()
    return out


def measure_edits(browser, url, state, edits: int, seed: int) -> tuple[list[dict], list[dict]]:
    page, errors = open_page(browser, url)
    moves, undos = [], []
    for code, target in border_municipalities(state, edits, seed):
        page.evaluate("""([code]) => { const m = window.ldStudio.map(), t = window.ldStudio.territory();
            m.setView(t.points[t.codes.indexOf(code)], 11, {animate: false}); }""", [code])
        x, y = page.evaluate("(code) => window.ldStudio.pointOf(code)", code)
        page.mouse.click(x, y)
        options = page.locator("#move-to option").evaluate_all("os => os.map(o => o.value)")
        if target not in options:
            continue  # the click landed on a neighbour (a tiny municipality at this zoom)
        version = page.evaluate("window.ldStudio.state().version")
        page.locator("#move-to").select_option(target)
        before = page.evaluate("window.ldTimings.length")
        page.locator("#move").click()
        page.wait_for_function(f"() => window.ldTimings.length > {before}")
        moves.append(page.evaluate("window.ldTimings[window.ldTimings.length - 1]"))
        assert page.evaluate("window.ldStudio.state().version") == version + 1
        before += 1
        page.locator("#undo").click()
        page.wait_for_function(f"() => window.ldTimings.length > {before}")
        undos.append(page.evaluate("window.ldTimings[window.ldTimings.length - 1]"))
    if errors:
        raise RuntimeError(f"page errors: {errors}")
    page.close()
    return moves, undos


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--status-quo", help="a status quo CSV (default: none, the studio starts from provinces)")
    parser.add_argument("--plan", help="the plan to start from")
    parser.add_argument("--province", help="a part of Lombardy instead of the whole")
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from lombardy_districts.studio import prepare
    from lombardy_districts.studio.server import background

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workspace:
        state = prepare(args.plan, status_quo=args.status_quo, workspace=workspace,
                        **({"province": args.province} if args.province else {}))
        state.warm()
        prepared = time.perf_counter() - started
        card = state.scorecard().summary
        with background(state) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            loads = measure_loads(browser, url, args.loads)
            moves, undos = measure_edits(browser, url, state, args.edits, args.seed)
            browser.close()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.2f} at the end")
    print(f"Territory: {len(state.territory.codes):,} municipalities, {card['plans']} area plans; studio prepared "
          f"(data, shapes, borders, first scorecard) in {prepared:.1f} s")
    print()
    print("| measure | runs | median ms | p95 ms | max ms | target |")
    print("|---|---|---|---|---|---|")
    rows = [("page ready (navigation start to drawn and scored)", loads, "< 3,000")]
    for what, timings in (("move", moves), ("undo", undos)):
        rows.append((f"{what}: click to new scorecard painted", [t["ms"] for t in timings], "p95 < 150"))
        rows += [(f"- of which {part}", [t[part] for t in timings], "") for part in ("server", "apply", "paint")]
    for name, values, target in rows:
        print(f"| {name} | {len(values)} | {statistics.median(values):,.0f} | {percentile(values, 95):,.0f} | "
              f"{max(values):,.0f} | {target} |")
    print()
    print("server: from the click until the answer is read (request, edit, live scorecard, JSON); apply: the page "
          "restyles the map and rebuilds its tables; paint: two animation frames, until the new scorecard is drawn")
    return 0


if __name__ == "__main__":
    sys.exit(main())
