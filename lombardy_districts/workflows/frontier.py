"""The trade-off frontier: for each number of area plans, the compliant plan keeping most collaboration.

How it is built:

1. Most plans. The chosen solver solves the problem with objectives max-plans then
   collaboration. This gives the max-plans plan P with k_max area plans. When the solver proves
   its answer optimal, that point is optimal: no compliant plan has more area plans, and none
   with as many keeps more collaboration.
2. Greedy merges (always run; all of method "greedy"). From the plan with k area plans, the plan
   with k - 1 merges the two adjacent area plans whose merger (a) still complies (its own class
   floor, the ceiling, hard boundaries, pieces of a selection, locked municipalities; locked status quo plans are never
   merged) and (b) keeps the most collaboration, i.e. has the largest collaboration weight between
   them (ties: the smaller merged population, then the lower plan ids). It stops when no pair can
   merge and still comply. Every greedy point is heuristic, except the single plan of k = 1.
3. Exact points (method "exact", the default when OR-Tools is installed). For each k below k_max,
   CP-SAT groups the area plans of P into exactly k compliant area plans keeping the most
   collaboration (merge mode with P as status quo, option plans = k), warm-started from the
   previous point merged greedily (or the greedy chain's plan with k plans, whichever keeps more),
   so every point has a compliant answer even when CP-SAT runs out of time. A point CP-SAT proves
   is "optimal among mergers" (``MERGERS``) of the max-plans plan: no plan made by joining whole
   area plans of P does better; a plan that splits an area plan of P is not considered, and may
   do better. Otherwise the point is heuristic. Below the fewest plans the greedy merges reach,
   CP-SAT also tries one plan fewer at a time, until it proves no merger complies or finds none.
   With a long range only every step-th k is solved (plus both ends); time_limit applies to each
   point and budget to all of them: once spent, the remaining points are the greedy ones. With
   the option ``deterministic``, each point counts the seconds its CP-SAT work stands for (its
   deterministic time), not the wall clock, so the same seed gives the same frontier anywhere.

Every point is scored by the evaluator and must pass plan.violations.

A ``stop`` (``model.stop.Stop``; Ctrl-C on the command line) ends the search early: the solve under
way hands back its best plan, which becomes a (heuristic) point, and no further point is computed;
the points found so far are returned, most plans first (none when the first solve had found no plan).
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial

import pandas as pd

from lombardy_districts.errors import InfeasibleError, InputError, expect
from lombardy_districts.io.output_folder import writing_into
from lombardy_districts.model.measures import ClassRule
from lombardy_districts.model.options import MAX_PLANS, MAX_SECONDS, SolverOptions, number_problem
from lombardy_districts.model.plan import Plan, hard_sides
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.scorecard import Scorecard, evaluate
from lombardy_districts.model.stop import Stop
from lombardy_districts.workflows.propose import named_after_status_quo, solve
from lombardy_districts.workflows.registry import solver_class

log = logging.getLogger(__name__)

COLUMNS = ["plans", "collaboration_retained", "municipalities_moved", "population_moved", "compliant_plans",
           "effective_plans", "min_population", "max_population", "cut_edges", "method", "proof"]
"""Columns of ``frontier.csv`` (see ``COLUMN_NOTES`` for ``method`` and ``proof``)."""
COLUMN_NOTES = (
    "method: how the point was found (solver NAME: the first solve, most plans; cpsat merge: CP-SAT grouping "
    "the area plans of the max-plans plan into exactly that many; merge: greedy merging of two adjacent area "
    "plans). proof: optimal when proved best; optimal among mergers for cpsat merge points proved best among "
    "the plans that join whole area plans of the max-plans plan (a plan splitting one of them may keep more "
    "collaboration); heuristic otherwise."
)
MERGERS = "optimal among mergers"
"""The proof of a CP-SAT merge point proved best among mergers of the max-plans plan only."""

METHODS = ("auto", "exact", "greedy")
FULL_RANGE_POINTS = 40
"""Ranges of at most this many numbers of plans are computed at every k; longer ones with a step."""
STEPPED_POINTS = 30
"""About how many points a stepped range gets."""


@dataclass(frozen=True, eq=False)
class FrontierPoint:
    """One point of the frontier: a compliant plan with ``plans`` area plans, its scorecard and how it was found."""

    plans: int
    plan: Plan
    scorecard: Scorecard
    method: str
    proof: str

    def row(self) -> dict:
        """The point as one row of ``frontier.csv`` (``COLUMNS``)."""
        s = self.scorecard.summary
        return {**{key: s.get(key) for key in COLUMNS}, "plans": self.plans, "method": self.method,
                "proof": self.proof}


def frontier(
    problem: Problem,
    options: SolverOptions | Mapping | None = None,
    *,
    method: str = "auto",
    budget: float | None = None,
    step: int | None = None,
    progress: Callable[[dict], None] | None = None,
    stop: Stop | None = None,
) -> list[FrontierPoint]:
    """The frontier from the most plans that comply down to the fewest reached (see the module docstring).

    Parameters
    ----------
    problem
        Territory, rules, collaboration, status quo and mode; its objectives are replaced by
        ``max-plans, collaboration`` for the first solve.
    options
        How to search (``SolverOptions``): the solver of the first solve; its time limit applies to
        the first solve and to each exact point; seed, workers and deterministic mode to every solve.
    method
        ``exact`` (CP-SAT per point), ``greedy`` (merges only) or ``auto`` (exact).
    budget
        Seconds for all exact points together (None: no limit); once spent, the remaining
        points are greedy.
    step
        Solve every ``step``-th number of plans (plus both ends); None: every one when the range
        has at most ``FULL_RANGE_POINTS`` numbers, else a step giving about ``STEPPED_POINTS``.
    progress
        Called after each point with ``{"plans", "collaboration_retained", "proof", "done", "total",
        "elapsed"}``.
    stop
        When set (from another thread, or by Ctrl-C on the command line), the search ends early and
        the points found so far are returned (see the module docstring).

    Returns
    -------
    list of FrontierPoint
        Sorted by number of plans, most first; empty only when ``stop`` came before the first plan.

    Raises
    ------
    InputError
        For an unknown ``method``, or ``step`` < 1.
    InfeasibleError
        When the problem is proved infeasible, or the solver finds no compliant plan.
    """
    expect(problem, Problem, "problem")
    options = SolverOptions.from_mapping(options)
    method = _method(method)
    if step is not None and (bad := number_problem("step", step, 1, MAX_PLANS, whole=True)):
        raise InputError(bad + " (1 computes every point)")
    if budget is not None and (bad := number_problem("budget", budget, 0, MAX_SECONDS, whole=False,
                                                     unit=" of seconds")):
        raise InputError(bad + " (0: greedy points only)")
    start = time.perf_counter()
    stop = stop if stop is not None else Stop()
    top = replace(problem, objectives=("max-plans", "collaboration"), weights=None)
    proposal = solve(top, options, stop=stop)
    solver = options.solver
    if proposal.plan is None:
        if stop.is_set():
            log.info("frontier: stopped (%s) before the first plan was found", stop.reason)
            return []
        raise InfeasibleError(f"solver {solver} found no compliant plan ({proposal.result.status}: "
                              f"{proposal.result.message}); raise time_limit or lower the floors")
    proof = "optimal" if proposal.result.status == "optimal" else "heuristic"
    assert proposal.scorecard is not None  # every plan found is scored
    first = FrontierPoint(len(proposal.plan), proposal.plan, proposal.scorecard, f"solver {solver}", proof)
    chain = greedy_chain(proposal.plan, problem, stop=stop)
    if method == "greedy":
        points = _greedy_points(first, chain, problem, progress, start, stop)
    else:
        points = _exact_points(first, chain, problem, options, budget, step, progress, start, stop)
    if stop.is_set():
        log.info("frontier: stopped (%s) after %d points", stop.reason, len(points))
    log.info("frontier: %d points, %d to %d plans in %.0f s", len(points), points[0].plans, points[-1].plans,
             time.perf_counter() - start)
    return points


def _method(method: str) -> str:
    if method not in METHODS:
        raise InputError(f"method {method!r} is unknown; allowed: {', '.join(METHODS)}")
    return "exact" if method == "auto" else method


def frontier_targets(k_max: int, k_min: int, step: int | None = None) -> list[int]:
    """Numbers of plans to compute, most first: every one, or every ``step``-th plus both ends."""
    span = k_max - k_min
    if step is None:
        step = 1 if span + 1 <= FULL_RANGE_POINTS else max(1, round(span / (STEPPED_POINTS - 1)))
    return sorted(set(range(k_max, k_min, -step)) | {k_max, k_min}, reverse=True)


def greedy_chain(plan: Plan, problem: Problem, *, stop: Stop | None = None) -> dict[int, Plan]:
    """Number of plans -> plan, by greedy compliant merges from ``plan`` (``best_merge``) down to the fewest.

    A set ``stop`` ends the merging where it is.
    """
    chain = {len(plan): plan}
    while len(plan) > 1 and not (stop is not None and stop.is_set()):
        merged = merge_once(plan, problem)
        if merged is None:
            log.info("frontier: no two of the %d plans can merge and still comply; stopping", len(plan))
            break
        plan = merged
        chain[len(plan)] = plan
    return chain


def merge_once(plan: Plan, problem: Problem) -> Plan | None:
    """``plan`` with its ``best_merge`` pair merged, or None when no pair can merge and comply."""
    pair = best_merge(plan, problem)
    if pair is None:
        return None
    keep, gone = pair
    return plan.reassign(dict.fromkeys(plan.members[gone], keep))


def _point(plan: Plan, problem: Problem, method: str, proof: str) -> FrontierPoint:
    plan = named_after_status_quo(plan, problem)  # with a status quo, its plans are recognisable in every point
    card = evaluate(plan, problem.rules, problem.collaboration, problem.status_quo)
    if card.summary["violations"]:  # the evaluator is the judge
        raise RuntimeError(f"frontier point with {len(plan)} plans broke the rules: {card.summary['violations'][:3]}")
    return FrontierPoint(len(plan), plan, card, method, proof)


def kept_weight(plan: Plan, problem: Problem) -> float:
    """Collaboration weight of the ties inside ``plan``'s area plans."""
    a = plan.assignment
    edges = problem.collaboration.restrict(a.index).weighted()
    inside = edges["code_a"].map(a).values == edges["code_b"].map(a).values
    return float(edges["weight"].astype(float).values[inside].sum())


def _greedy_points(first, chain, problem, progress, start, stop: Stop) -> list[FrontierPoint]:
    """Points by greedy merges only (module docstring, step 2; method "greedy")."""
    ks = sorted(chain, reverse=True)
    points = [first]
    _report(first, progress, 1, len(ks), start)
    for k in ks[1:]:
        if stop.is_set():
            break
        points.append(_point(chain[k], problem, "merge", "optimal" if k == 1 else "heuristic"))
        _report(points[-1], progress, len(points), len(ks), start)
    return points


def _exact_points(first, chain, problem, options, budget, step, progress, start, stop: Stop):
    """Points by CP-SAT merges of the max-plans plan (module docstring, step 3)."""
    base = first.plan
    k_min = min(chain)
    targets = frontier_targets(first.plans, k_min, step)
    points = [first]
    total = len(targets)
    _report(first, progress, 1, total, start)
    spent = 0.0
    previous = base
    for k in targets[1:]:
        if stop.is_set():
            return points
        warm = _warm_start(previous, chain, k, problem)
        left = None if budget is None else budget - spent
        point, used = _solve_point(problem, base, k, warm, options, left, stop)
        spent += used
        points.append(point)
        previous = point.plan
        _report(point, progress, len(points), total, start)
    k = k_min - 1
    while k >= 1 and (budget is None or spent < budget) and not stop.is_set():  # fewer plans than greedy reached?
        left = None if budget is None else budget - spent
        warm = _warm_start(points[-1].plan, chain, k, problem)
        point, used = _solve_point(problem, base, k, warm, options, left, stop)
        spent += used
        if point is None:
            break
        points.append(point)
        total += 1
        _report(point, progress, len(points), total, start)
        k -= 1
    return points


def _warm_start(previous: Plan, chain: dict[int, Plan], k: int, problem: Problem) -> Plan | None:
    """Best of: ``previous`` merged greedily down to ``k`` plans, and the greedy chain's ``k``-plan."""
    options = []
    plan: Plan | None = previous
    while plan is not None and len(plan) > k:
        plan = merge_once(plan, problem)
    if plan is not None:
        options.append(plan)
    if k in chain:
        options.append(chain[k])
    if not options:
        return None
    return max(options, key=lambda p: kept_weight(p, problem))


def _solve_point(problem, base, k, warm, options: SolverOptions, left, stop: Stop):
    """The point with ``k`` plans: CP-SAT over mergers of ``base`` (or ``warm`` when out of time or stopped)."""
    if k == 1 and warm is not None:
        return _point(warm, problem, "merge", "optimal"), 0.0
    time_limit = options.time_limit
    limit = time_limit if left is None else (left if time_limit is None else min(time_limit, left))
    if limit is not None and limit < 0.5:
        return (None, 0.0) if warm is None else (_point(warm, problem, "merge", "heuristic"), 0.0)
    sub = merge_problem(problem, base, k)
    clock = time.perf_counter()
    point_options = replace(options, solver="cpsat", time_limit=limit,
                            tuning={"restrict": False, "heuristic_warm_start": False})
    result = solver_class("cpsat").from_problem(sub, point_options, stop).solve(warm_start=warm)
    used = time.perf_counter() - clock
    log.info("frontier: %d plans by CP-SAT: %s in %.1f s", k, result.status, used)
    work = result.details.get("budget")
    if work and work.get("deterministic"):  # count work, not the wall clock: the same frontier anywhere
        used = work["cpsat_deterministic_time_used"] / work["cpsat_deterministic_per_second"]
    if result.plan is None:
        if warm is None:
            return None, used
        return _point(warm, problem, "merge", "heuristic"), used
    worse = warm is not None and kept_weight(warm, problem) > kept_weight(result.plan, problem)
    if worse and result.status != "optimal":
        return _point(warm, problem, "merge", "heuristic"), used
    proof = MERGERS if result.status == "optimal" else "heuristic"
    return _point(result.plan, problem, "cpsat merge", proof), used


def merge_problem(problem: Problem, base: Plan, k: int) -> Problem:
    """``problem`` in merge mode over the area plans of ``base``: exactly ``k`` plans, most collaboration.

    Locked status quo plans kept whole by ``base`` keep their id, so the solver keeps them as they
    are. ``_solve_point`` keeps the whole candidate set (tuning ``restrict=False``): ``base`` has few
    enough area plans for the exact model, and fewer plans means larger ones.
    """
    return replace(problem, status_quo=_locked_ids(base, problem), mode="merge", objectives=("collaboration",),
                   weights=None, min_plans=k, max_plans=k)


def _locked_ids(base: Plan, problem: Problem) -> Plan:
    sq = problem.status_quo
    if not problem.rules.locked_plans or sq is None:
        return base
    rename = {}
    for plan_id in problem.rules.locked_plans:
        codes = sq.members.get(plan_id, [])
        held = set(base.assignment.reindex(codes))
        if len(held) == 1:
            (held_id,) = held
            if set(base.members[held_id]) == set(codes):
                rename[held_id] = plan_id
    if not rename:
        return base
    clash = set(rename.values()) & (set(base.plan_ids) - set(rename))
    relabel = {p: (f"{p}~" if p in clash else p) for p in base.plan_ids}
    relabel.update(rename)
    return Plan(base.territory, base.assignment.map(relabel))


def best_merge(plan: Plan, problem: Problem) -> tuple[str, str] | None:
    """The adjacent pair of area plans whose merger complies and keeps most collaboration, or None.

    Returns ``(keep, gone)``: the plan id that stays (the lower) and the one merged into it.
    """
    rules = problem.rules
    table = pd.DataFrame({"population": plan.populations, "area": plan.area_units,
                          "mountain": plan.mountain_units(rules)})
    rule = ClassRule.of(rules)
    a = plan.assignment
    gdf = plan.territory.municipalities
    groups = {side: pd.Series(values, index=gdf.index).groupby(a).unique()
              for side, values in hard_sides(plan.territory, rules).items()}
    locked = pd.Series(rules.locked_municipalities, dtype=object)
    locked = locked[locked.index.isin(a.index)]
    locks = locked.groupby(a.reindex(locked.index)).unique() if len(locked) else pd.Series(dtype=object)
    frozen = _frozen_plans(plan, problem)
    weight: dict[tuple[str, str], float] = {}
    for u, v in plan.cut_edges:
        key = tuple(sorted((a[u], a[v])))
        weight.setdefault(key, 0.0)
    edges = problem.collaboration.restrict(a.index).weighted()
    pa, pb = edges["code_a"].map(a).values, edges["code_b"].map(a).values
    for p, q, w in zip(pa, pb, edges["weight"].astype(float).values):
        key = tuple(sorted((p, q)))
        if p != q and key in weight:
            weight[key] += w
    best, best_key = None, None
    for (p, q), w in weight.items():
        if p in frozen or q in frozen:
            continue
        if any(len(set(g[p]) | set(g[q])) > 1 for g in groups.values()):
            continue
        if len(set(locks.get(p, [])) | set(locks.get(q, []))) > 1:
            continue
        pop = int(table.at[p, "population"] + table.at[q, "population"])
        area = table.at[p, "area"] + table.at[q, "area"]
        klass = rule.classify(pop, area, table.at[p, "mountain"] + table.at[q, "mountain"])
        if pop < rules.floors[klass] or (rules.ceiling is not None and pop > rules.ceiling):
            continue
        key = (-w, pop, p, q)
        if best_key is None or key < best_key:
            best, best_key = (p, q), key
    return best


def _frozen_plans(plan: Plan, problem: Problem) -> set[str]:
    """Plans holding a municipality of a locked status quo plan (they must stay as they are)."""
    if not problem.rules.locked_plans or problem.status_quo is None:
        return set()
    sq = problem.status_quo.assignment
    codes = sq.index[sq.isin(problem.rules.locked_plans)]
    return set(plan.assignment.reindex(codes).dropna())


def frontier_table(points: list[FrontierPoint]) -> pd.DataFrame:
    """``frontier.csv``: one row per point (``COLUMNS``), most plans first."""
    table = pd.DataFrame([p.row() for p in points], columns=COLUMNS)
    return table.dropna(axis=1, how="all")


def _report(point: FrontierPoint, progress, done: int, total: int, start: float) -> None:
    retained = point.scorecard.summary["collaboration_retained"]
    log.info("frontier: %d plans, %s collaboration retained (%s, %s)", point.plans,
             f"{retained:.1%}" if retained is not None else "-", point.method, point.proof)
    if progress:
        progress({"plans": point.plans, "collaboration_retained": retained, "proof": point.proof,
                  "method": point.method, "done": done, "total": total, "elapsed": time.perf_counter() - start})


def write_frontier(points: list[FrontierPoint], out_dir, *, problem: Problem | None = None,
                   maps: bool = False, stopped_by: str | None = None) -> dict:
    """Write ``frontier.csv``, ``frontier.html`` (chart and table) and ``k<N>/plan.csv`` + ``scorecard.json``.

    With ``maps`` (and a ``problem`` for the rules and collaboration layers), also each point's
    ``k<N>/map.html`` ; the chart's points then link to them. ``stopped_by`` (a search stopped
    early, e.g. ``"SIGINT"``) makes the page say that its points are those found before the stop.
    ``out_dir`` is a folder, written as one unit (``io.output_folder.OutputFolder``: all files or
    none, and the ``k<N>`` folders of an earlier frontier removed), or an open ``OutputFolder``
    whose owner commits.
    """
    from lombardy_districts.maps.render import write_plan_map  # folium: loaded only when maps are written

    table = frontier_table(points)
    links = {}
    with writing_into(out_dir, marker="frontier.csv") as out:
        for p in points:
            folder = f"k{p.plans}"
            out.write(f"{folder}/plan.csv", p.plan.to_csv)
            out.write(f"{folder}/scorecard.json", p.scorecard.to_json)
            if maps:
                out.write(f"{folder}/map.html", partial(
                    write_plan_map, p.plan, p.scorecard, rules=problem.rules if problem else None,
                    status_quo=problem.status_quo if problem else None,
                    collaboration=problem.collaboration if problem else None))
                links[p.plans] = f"k{p.plans}/map.html"
        table["plan_file"] = [f"k{p.plans}/plan.csv" for p in points]
        page = frontier_page(points, links, stopped_by, table)
        written = {"html": out.write("frontier.html", lambda path: path.write_text(page, encoding="utf-8")),
                   "csv": out.write("frontier.csv", lambda path: table.to_csv(path, index=False))}
    return written


def frontier_page(points: list[FrontierPoint], links: dict | None = None, stopped_by: str | None = None,
                  table: pd.DataFrame | None = None) -> str:
    """The frontier as a standalone HTML page: chart(s) a planner can read, then the table.

    ``table`` is ``frontier_table(points)``, made here when not given; with its ``plan_file`` column (the
    page written beside the points' folders) each row links to its plan and, where ``links`` has it, its map.
    """
    from lombardy_districts.maps.chart import tradeoff_svg  # the maps package, as above

    links = links or {}
    table = frontier_table(points) if table is None else table
    chart = tradeoff_svg(
        [{"x": p.plans, "y": p.scorecard.summary["collaboration_retained"], "kind": p.proof,
          "href": links.get(p.plans),
          "tooltip": f"{p.plans} plans: {_pct(p.scorecard.summary['collaboration_retained'])} of collaboration "
                     f"retained ({p.proof}, {p.method})"} for p in points],
        line=True, title="collaboration retained against number of area plans")
    moved = ""
    if "municipalities_moved" in table.columns:
        moved = ("<h2>Disruption: municipalities moved from the status quo</h2>" + tradeoff_svg(
            [{"x": p.plans, "y": p.scorecard.summary.get("municipalities_moved"), "kind": p.proof,
              "href": links.get(p.plans)} for p in points],
            y_label="municipalities moved", y_percent=False, line=True,
            title="municipalities moved against number of area plans"))
    shown = _readable(table.drop(columns="plan_file", errors="ignore"))
    if "plan_file" in table.columns:  # the plan of each point, a click away
        shown["plan"] = [f'<a href="{html.escape(file)}">plan.csv</a>'
                         + (f' <a href="{html.escape(links[p.plans])}">map</a>' if p.plans in links else "")
                         for p, file in zip(points, table["plan_file"])]
    method = html.escape(__doc__.split("How it is built:")[1].split("Every point")[0].replace("``", ""))
    stopped = "" if stopped_by is None else (
        f"<p><b>The search was stopped early ({html.escape(stopped_by)})</b>: these are the points found "
        f"before it stopped; numbers of plans below {points[-1].plans} were not computed.</p>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Trade-off frontier</title>"
        "<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}"
        "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}pre{white-space:pre-wrap;"
        "max-width:60em}.wide{overflow-x:auto}</style></head><body>"
        "<h1>Trade-off frontier</h1>"
        f"{stopped}<p>From {points[0].plans} area plans (the most found that all comply) down to {points[-1].plans}. "
        "Each point is the best compliant plan found with that many area plans for keeping collaboration. "
        "Dark blue points are proved optimal; light blue points are <i>optimal among mergers</i>: found by "
        "CP-SAT merges (method <i>cpsat merge</i>), no plan made by joining whole area plans of the first point "
        "keeps more collaboration, but a plan that splits one of its area plans may; orange points are "
        "heuristic (good, not proved best).</p>"
        f"<h2>Collaboration retained</h2>{chart}{moved}<h2>Table</h2>"
        f"<div class=\"wide\">{shown.to_html(index=False, na_rep='', escape=False)}</div>"
        f"<p>{html.escape(COLUMN_NOTES)}</p>"
        f"<h2>Method</h2><pre>{method.strip()}</pre></body></html>\n"
    )


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    """The frontier table for the page: headings in words, numbers with separators, text escaped."""
    shown = pd.DataFrame(index=table.index)
    for column in table.columns:
        values = table[column]
        if column == "collaboration_retained":
            cells = values.map(_pct)
        elif column == "effective_plans":
            cells = values.map(lambda v: f"{v:.1f}")
        elif pd.api.types.is_numeric_dtype(values):
            cells = values.map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
        else:
            cells = values.map(lambda v: "" if pd.isna(v) else html.escape(str(v)))
        shown[column.replace("_", " ")] = cells
    return shown


def _pct(value) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else "-"
