"""Benchmark the installed solvers (and PySAL spopt's MaxPHeuristic) on the full Lombardy map.

Usage::

    python benchmarks/bench_solvers.py [--time-limit S] [--skip-spopt] [--solvers heuristic,cpsat]
                                       [--scenarios 80k,merge] [--spopt-iterations N]
                                       [--spopt-time-limit S] [--seed K] [--rebuild-status-quo]

Scenarios (all on the 1,504 municipalities of Lombardy 2023, rook contiguity plus the Campione
bridge, default collaboration edges = shared labour market area, plus same-status-quo-plan in
merge mode):

- ``80k``: uniform floor 80,000, objective max-plans;
- ``25k``: uniform floor 25,000, objective max-plans;
- ``default``: the shipped rules (class floors 80k/120k/25k/25k), objective max-plans;
- ``merge``: default rules, merge mode, status quo = the heuristic's own 80k plan (101 plans,
  ``benchmarks/merge_status_quo.csv``), objectives max-plans then collaboration;
- ``merge-lma``: the same, status quo = the 57 ISTAT local labour market areas;
- ``merge-25k``: the same, status quo = the heuristic's own 25k plan (274 plans,
  ``benchmarks/merge_status_quo_25k.csv``).

The two status quo files are built by the heuristic (same time limit and seed) only when missing
or with ``--rebuild-status-quo``, so that runs compare on the same input.

Each run happens in a child process (forked), so a run that overshoots can be stopped and its
peak resident memory (``ru_maxrss``, including the loaded map) measured alone. Compliance is
judged by ``plan.violations(rules)``; collaboration kept is the share of collaboration weight
inside plans. ``bound`` is the solver's own upper bound on the number of plans; ``gap`` is
``(bound - plans) / plans`` (``relative_gap``, as in every solver's result).

spopt ``MaxPHeuristic`` runs on the same graph (a ``libpysal.weights.W`` built from our edges,
so Campione's bridge is included) with ``threshold_name="population"``, ``attrs_name=["density"]``
(only used for its homogeneity tie-breaks), ``top_n=2``, ``max_iterations_construction`` =
``--spopt-iterations`` (default 99, spopt's default), ``max_iterations_sa=10`` (spopt's default),
``policy="single"``, seeded with ``numpy.random.seed``; it has no time limit of its own, so the run
is stopped after ``--spopt-time-limit`` seconds. It handles uniform floors only.

Results are printed and written to ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

from lombardy_districts.io.files import write_atomic

HERE = Path(__file__).resolve().parent
SCENARIOS = ("80k", "25k", "default", "merge", "merge-lma", "merge-25k")
STATUS_QUO = {"merge": ("80k", HERE / "merge_status_quo.csv"),
              "merge-25k": ("25k", HERE / "merge_status_quo_25k.csv")}
"""Merge scenario -> (scratch scenario whose heuristic plan is the status quo, its file)."""


def _setup(scenario: str):
    from lombardy_districts.model.collaboration import default_collaboration
    from lombardy_districts.model.plan import Plan
    from lombardy_districts.model.problem import DEFAULT_OBJECTIVES, Problem
    from lombardy_districts.model.rules import Rules
    from lombardy_districts.model.territory import Territory

    territory = Territory.load()
    rules = {"80k": Rules.default().with_floor(80_000), "25k": Rules.default().with_floor(25_000)}.get(
        scenario, Rules.default())
    if scenario.startswith("merge"):
        if scenario == "merge-lma":
            sq = Plan(territory, territory.municipalities["labour_market_area"])
        else:
            sq = Plan.from_csv(STATUS_QUO[scenario][1], territory)
        return Problem(territory, rules, default_collaboration(territory, sq), status_quo=sq, mode="merge",
                       objectives=DEFAULT_OBJECTIVES["merge"])
    return Problem(territory, rules, default_collaboration(territory))


def _kept_share(plan, problem) -> float | None:
    weights = problem.collaboration.weights()
    total = sum(weights.values())
    if not total:
        return None
    a = plan.assignment
    return sum(w for (x, y), w in weights.items() if a[x] == a[y]) / total


def _run_solver(name, scenario, time_limit, seed, out_csv, queue):
    os.setpgrp()  # own process group, so a stopped run takes its helpers (e.g. CBC) with it
    try:
        from lombardy_districts.workflows.registry import solver_class

        problem = _setup(scenario)
        cls = solver_class(name)
        start = time.perf_counter()
        result = cls.from_problem(problem, {"time_limit": time_limit, "seed": seed, "workers": 2}).solve()
        wall = time.perf_counter() - start
        row = {"status": result.status, "bound": result.bound, "wall": wall}
        if result.plan is not None:
            row["plans"] = len(result.plan)
            row["compliant"] = not result.plan.violations(problem.rules, collaboration=problem.collaboration)
            row["kept"] = _kept_share(result.plan, problem)
            if out_csv:
                result.plan.to_csv(out_csv)
        row["memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put(row)
    except Exception:  # noqa: BLE001 - report any failure in the table
        queue.put({"status": "error", "error": traceback.format_exc(limit=3)})


def _run_spopt(scenario, iterations, seed, queue):
    os.setpgrp()
    try:
        import numpy as np
        from libpysal.weights import W
        from spopt.region import MaxPHeuristic

        from lombardy_districts.model.plan import Plan

        problem = _setup(scenario)
        territory = problem.territory
        floor = problem.rules.lowest_floor
        gdf = territory.municipalities.reset_index()
        index = {c: i for i, c in enumerate(gdf["code"])}
        neighbors = {i: [] for i in range(len(gdf))}
        for a, b in territory.graph.edges:
            neighbors[index[a]].append(index[b])
            neighbors[index[b]].append(index[a])
        w = W(neighbors, silence_warnings=True)
        np.random.seed(seed)
        start = time.perf_counter()
        model = MaxPHeuristic(gdf, w, attrs_name=["density"], threshold_name="population", threshold=floor,
                              top_n=2, max_iterations_construction=iterations, max_iterations_sa=10)
        model.solve()
        wall = time.perf_counter() - start
        plan = Plan(territory, dict(zip(gdf["code"], (str(x) for x in model.labels_))))
        compliant = not plan.violations(problem.rules, collaboration=problem.collaboration)
        queue.put({"status": "feasible", "plans": len(plan), "compliant": compliant,
                   "kept": _kept_share(plan, problem), "bound": None, "wall": wall,
                   "memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    except Exception:  # noqa: BLE001
        queue.put({"status": "error", "error": traceback.format_exc(limit=3)})


def _child(target, args, wait: float) -> dict:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    start = time.perf_counter()
    proc.start()
    try:
        row = queue.get(timeout=wait)
    except Exception:  # noqa: BLE001 - queue.Empty: the run overshot
        row = {"status": f"stopped after {wait:.0f} s", "wall": time.perf_counter() - start}
    proc.join(timeout=5)
    if proc.is_alive():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.join()
    return row


def _fmt(row: dict, key: str, spec: str = "") -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return format(value, spec)


def _table(rows: list[dict]) -> str:
    from lombardy_districts.model.problem import relative_gap

    head = "| scenario | solver | status | plans | compliant | collaboration kept | bound | gap | wall s | peak MB |"
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        gap = None
        if r.get("bound") and r.get("plans") is not None:
            gap = relative_gap(r["plans"], r["bound"])
        kept = f"{100 * r['kept']:.1f}%" if r.get("kept") is not None else "-"
        lines.append(
            f"| {r['scenario']} | {r['solver']} | {r['status']} | {_fmt(r, 'plans')} | {_fmt(r, 'compliant')} | "
            f"{kept} | {_fmt(r, 'bound', '.0f')} | {'-' if gap is None else f'{100 * gap:.1f}%'} | "
            f"{_fmt(r, 'wall', '.1f')} | {_fmt(r, 'memory_mb', '.0f')} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solver run (default 60)")
    parser.add_argument("--skip-spopt", action="store_true", help="do not run spopt's MaxPHeuristic")
    parser.add_argument("--solvers", default="heuristic,cpsat,pulp", help="comma-separated solver names")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS))
    parser.add_argument("--spopt-iterations", type=int, default=99, help="max_iterations_construction")
    parser.add_argument("--spopt-time-limit", type=float, default=600.0, help="stop spopt after this")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rebuild-status-quo", action="store_true",
                        help="rebuild the merge scenarios' status quo files from the heuristic")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)

    from lombardy_districts.errors import InputError
    from lombardy_districts.workflows.registry import solver_class

    solvers = []
    for name in args.solvers.split(","):
        try:
            solver_class(name)
            solvers.append(name)
        except (InputError, ImportError, AttributeError) as exc:
            print(f"skipping solver {name}: {str(exc).splitlines()[0]}", file=sys.stderr)
    scenarios = [s for s in args.scenarios.split(",") if s]
    rows = []
    for scenario, (source, sq_csv) in STATUS_QUO.items():
        if scenario in scenarios and (args.rebuild_status_quo or not sq_csv.exists()):
            print(f"building the {scenario} status quo: heuristic, {source} floor ...", flush=True)
            row = _child(_run_solver, ("heuristic", source, args.time_limit, args.seed, sq_csv),
                         args.time_limit + 120)
            if row.get("plans") is None:
                print(f"could not build the {scenario} status quo; skipping {scenario}", file=sys.stderr)
                scenarios.remove(scenario)
    for scenario in scenarios:
        for name in solvers:
            print(f"{scenario}: {name} ...", flush=True)
            row = _child(_run_solver, (name, scenario, args.time_limit, args.seed, None),
                         args.time_limit * 2 + 120)
            if row.get("error"):
                print(row["error"], file=sys.stderr)
            rows.append({"scenario": scenario, "solver": name, **row})
        if not args.skip_spopt and scenario in ("80k", "25k"):
            print(f"{scenario}: spopt MaxPHeuristic ...", flush=True)
            row = _child(_run_spopt, (scenario, args.spopt_iterations, args.seed), args.spopt_time_limit)
            if row.get("error"):
                print(row["error"], file=sys.stderr)
            rows.append({"scenario": scenario, "solver": "spopt MaxPHeuristic", **row})
        print(_table(rows[-len(solvers) - 1:]), flush=True)
    table = _table(rows)
    given = sys.argv[1:] if argv is None else argv
    command = "python benchmarks/bench_solvers.py " + " ".join(given)
    cpu = platform.processor() or platform.machine()
    machine = f"{cpu}, {mp.cpu_count()} cores, Python {platform.python_version()}"
    text = (f"# Solver benchmark: Lombardy 2023, 1,504 municipalities\n\n"
            f"Command: `{command.strip()}`  \nMachine: {machine}  \nTime limit per solver run: "
            f"{args.time_limit:.0f} s; spopt MaxPHeuristic: max_iterations_construction="
            f"{args.spopt_iterations}, max_iterations_sa=10, top_n=2, stopped after {args.spopt_time_limit:.0f} s."
            f"\n\n{table}\n\nScenarios: 80k / 25k = uniform floor, max-plans; default = shipped class rules; "
            "merge = default rules, max-plans then collaboration, units = the heuristic's 80k plans "
            "(merge_status_quo.csv, 101 plans); merge-lma = units are the 57 labour market areas; "
            "merge-25k = units are the heuristic's 25k plans (merge_status_quo_25k.csv, 274 plans). "
            "Peak MB = peak resident memory of the run's process, map data included.\n")
    write_atomic(args.out, lambda path: path.write_text(text))
    print("\n" + table)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
