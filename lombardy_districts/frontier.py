"""The trade-off frontier: for each number of area plans, the compliant plan keeping most collaboration.

How it is built (method ``merge``):

1. **Most plans.** The chosen solver solves the problem with objectives ``max-plans`` then
   ``collaboration``. When the solver proves its answer optimal, that point is *optimal*: no
   compliant plan has more area plans, and none with as many keeps more collaboration.
2. **Fewer plans, one merge at a time.** From the plan with ``k`` area plans, the plan with
   ``k - 1`` merges the two adjacent area plans whose merger (a) still complies (its own class
   floor, the ceiling, hard boundaries, locked municipalities; locked status quo plans are never
   merged) and (b) keeps the most collaboration, i.e. has the largest collaboration weight between
   them (ties: the smaller merged population, then the lower plan ids). This greedy step is a
   *heuristic*: an exact answer for ``k`` could regroup municipalities freely. The single plan of
   ``k = 1`` is the only plan with one area plan, hence *optimal*.
3. It stops when no pair can merge and still comply, so the smallest ``k`` reached is the fewest
   plans found, not a proved minimum (except ``k = 1``).

Every point is scored by the evaluator and must pass ``plan.violations``. The exact version of
step 2 (solve ``mode="merge"`` with the ``k``-plan as status quo and ``options={"plans": k - 1}``)
needs solvers that honour the ``plans`` option; the installed ones do not yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import pandas as pd

from .errors import InfeasibleError
from .plan import Plan
from .problem import Problem
from .scorecard import Scorecard, evaluate

log = logging.getLogger(__name__)

COLUMNS = ["plans", "collaboration_retained", "municipalities_moved", "population_moved", "compliant_plans",
           "effective_plans", "min_population", "max_population", "cut_edges", "method", "proof"]


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
    *,
    solver: str = "cpsat",
    time_limit: float | None = 60.0,
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[dict], None] | None = None,
) -> list[FrontierPoint]:
    """The frontier from the most plans that comply down to the fewest reached (see the module docstring).

    Parameters
    ----------
    problem
        Territory, rules, collaboration, status quo and mode; its objectives are replaced by
        ``max-plans, collaboration`` for the first solve.
    solver, time_limit, seed, workers
        For the first solve (``api.solve``).
    progress
        Called after each point with ``{"plans": k, "collaboration_retained": r}``.

    Returns
    -------
    list of FrontierPoint
        Sorted by number of plans, most first.

    Raises
    ------
    InfeasibleError
        When the problem is proved infeasible, or the solver finds no compliant plan.
    """
    from .api import solve

    top = replace(problem, objectives=("max-plans", "collaboration"), weights=None)
    proposal = solve(top, solver=solver, time_limit=time_limit, seed=seed, workers=workers)
    if proposal.plan is None:
        raise InfeasibleError(f"solver {solver} found no compliant plan ({proposal.result.status}: "
                              f"{proposal.result.message}); raise time_limit or lower the floors")
    proof = "optimal" if proposal.result.status == "optimal" else "heuristic"
    points = [FrontierPoint(len(proposal.plan), proposal.plan, proposal.scorecard, f"solver {solver}", proof)]
    _report(points[-1], progress)
    plan = proposal.plan
    while len(plan) > 1:
        pair = best_merge(plan, problem)
        if pair is None:
            log.info("frontier: no two of the %d plans can merge and still comply; stopping", len(plan))
            break
        keep, gone = pair
        plan = plan.reassign(dict.fromkeys(plan.members[gone], keep))
        card = evaluate(plan, problem.rules, problem.collaboration, problem.status_quo)
        if card.summary["violations"]:  # the evaluator is the judge
            raise RuntimeError(f"merging plans {keep} and {gone} broke the rules: {card.summary['violations'][:3]}")
        points.append(FrontierPoint(len(plan), plan, card, "merge", "optimal" if len(plan) == 1 else "heuristic"))
        _report(points[-1], progress)
    log.info("frontier: %d points, %d to %d plans", len(points), points[0].plans, points[-1].plans)
    return points


def best_merge(plan: Plan, problem: Problem) -> tuple[str, str] | None:
    """The adjacent pair of area plans whose merger complies and keeps most collaboration, or None.

    Returns ``(keep, gone)``: the plan id that stays (the lower) and the one merged into it.
    """
    rules = problem.rules
    table = pd.DataFrame({"population": plan.populations, "area": plan.areas,
                          "mountain": plan.mountain_areas(rules)})
    a = plan.assignment
    gdf = plan.territory.municipalities
    groups = {c: gdf[c].groupby(a).unique() for c in rules.hard_boundaries if c in gdf.columns}
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
        klass = rules.classify(pop, area, table.at[p, "mountain"] + table.at[q, "mountain"])
        if pop < int(rules.floor_of(klass)) or (rules.ceiling is not None and pop > rules.ceiling):
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


def _report(point: FrontierPoint, progress) -> None:
    retained = point.scorecard.summary["collaboration_retained"]
    log.info("frontier: %d plans, %s collaboration retained (%s)", point.plans,
             f"{retained:.1%}" if retained is not None else "-", point.proof)
    if progress:
        progress({"plans": point.plans, "collaboration_retained": retained})


def write_frontier(points: list[FrontierPoint], out_dir, *, problem: Problem | None = None,
                   maps: bool = False) -> dict:
    """Write ``frontier.csv``, ``frontier.html`` (chart and table) and ``k<N>/plan.csv`` + ``scorecard.json``.

    With ``maps`` (and a ``problem`` for the rules and collaboration layers), also each point's
    ``k<N>/map.html`` through the installed renderers; the chart's points then link to them.
    """
    from pathlib import Path

    from .files import write_atomic, write_json
    from .registry import renderers

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = frontier_table(points)
    links = {}
    for p in points:
        folder = out / f"k{p.plans}"
        write_atomic(folder / "plan.csv", p.plan.to_csv)
        write_json(folder / "scorecard.json", p.scorecard.to_dict())
        if maps:
            for name, render in renderers().items():
                write_atomic(folder / f"{name}.html", lambda path, render=render, p=p: render(
                    p.plan, p.scorecard, path, rules=problem.rules if problem else None,
                    status_quo=problem.status_quo if problem else None,
                    collaboration=problem.collaboration if problem else None))
                links.setdefault(p.plans, f"k{p.plans}/{name}.html")
    table["plan_file"] = [f"k{p.plans}/plan.csv" for p in points]
    written = {"csv": write_atomic(out / "frontier.csv", lambda path: table.to_csv(path, index=False))}
    page = frontier_page(points, links)
    written["html"] = write_atomic(out / "frontier.html", lambda path: path.write_text(page, encoding="utf-8"))
    return written


def frontier_page(points: list[FrontierPoint], links: dict | None = None) -> str:
    """The frontier as a standalone HTML page: chart(s) a planner can read, then the table."""
    import html

    from .chart import tradeoff_svg

    links = links or {}
    table = frontier_table(points)
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
    shown = table.copy()
    if "collaboration_retained" in shown.columns:
        shown["collaboration_retained"] = shown["collaboration_retained"].map(_pct)
    if "effective_plans" in shown.columns:
        shown["effective_plans"] = shown["effective_plans"].map(lambda v: f"{v:.1f}")
    method = __doc__.split("How it is built (method ``merge``):")[1].split("Every point")[0]
    method = html.escape(method.replace("``", "").replace("**", ""))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Trade-off frontier</title>"
        "<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}"
        "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}pre{white-space:pre-wrap;"
        "max-width:60em}</style></head><body><h1>Trade-off frontier</h1>"
        f"<p>From {points[0].plans} area plans (the most found that all comply) down to {points[-1].plans}. "
        "Each point is the compliant plan with that many area plans keeping the most collaboration. "
        "Blue points are proved optimal; orange points are heuristic (good, not proved best).</p>"
        f"<h2>Collaboration retained</h2>{chart}{moved}<h2>Table</h2>"
        f"{shown.to_html(index=False, na_rep='', escape=True)}"
        f"<h2>Method</h2><pre>{method.strip()}</pre></body></html>\n"
    )


def _pct(value) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else "-"
