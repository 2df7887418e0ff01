"""Benchmark the installed solvers (and PySAL spopt's MaxPHeuristic) on the full Lombardy map.

Usage::

    python benchmarks/bench_solvers.py [--time-limit S] [--skip-spopt] [--solvers heuristic,cpsat]
                                       [--scenarios 80k,merge] [--spopt-iterations N]
                                       [--spopt-time-limit S] [--seed K] [--deterministic]
                                       [--rebuild-status-quo] [--no-readme]

With its defaults it runs every scenario below with the heuristic and CP-SAT (60 s each) and
spopt on the uniform floors (stopped after 300 s), writes ``benchmarks/results.md`` and puts the
same text (command, machine, load average, date, table) between the ``benchmark`` markers of
``README.md``: that is how the README's table is made. A run with other solvers, scenarios or
output file leaves the README alone.

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
peak resident memory (``ru_maxrss``, including the loaded map; or that of a helper process the run
starts, HiGHS searches in large merges, when larger) measured alone. Compliance is
judged by ``plan.violations(rules)``; collaboration kept is the share of collaboration weight
inside plans. ``bound`` is the solver's own upper bound on the number of plans and ``bound method``
says how it was proved (``_method``: the solver's ``bound_method``, shortened); ``gap`` is
``(bound - plans) / plans`` (``relative_gap``, as in every solver's result).

``--deterministic`` runs the solvers in their deterministic mode (work counted instead of time,
one thread), so plans, bounds and gaps are the same on any machine for the same seed; only wall
time and memory vary. spopt has no such mode: its rows depend on the machine when it is stopped.

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
import datetime
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
README = HERE.parent / "README.md"
MARKERS = ("<!-- benchmark: start (written by benchmarks/bench_solvers.py) -->", "<!-- benchmark: end -->")
DEFAULT_SOLVERS = "heuristic,cpsat"
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
    """The scorecard's collaboration kept (``collaboration_retained``): one definition of the measure."""
    from lombardy_districts.model.scorecard import evaluate

    return evaluate(plan, problem.rules, problem.collaboration).summary["collaboration_retained"]


def _run_solver(name, scenario, time_limit, seed, out_csv, deterministic, queue):
    os.setpgrp()  # own process group, so a stopped run takes its helpers (e.g. CBC) with it
    try:
        from lombardy_districts.workflows.registry import solver_class

        problem = _setup(scenario)
        cls = solver_class(name)
        options = {"time_limit": time_limit, "seed": seed}
        options.update({"deterministic": True} if deterministic else {"workers": 2})
        start = time.perf_counter()
        result = cls.from_problem(problem, options).solve()
        wall = time.perf_counter() - start
        method = result.details.get("bound_method") or result.details.get("plan_bound_method")
        row = {"status": result.status, "bound": result.bound, "wall": wall, "method": _method(method)}
        if result.plan is not None:
            row["plans"] = len(result.plan)
            row["compliant"] = not result.plan.violations(problem.rules, collaboration=problem.collaboration)
            row["kept"] = _kept_share(result.plan, problem)
            if out_csv:
                result.plan.to_csv(out_csv)
            if result.status == "feasible" and row["plans"] == result.bound:
                row["status"] = "plan count optimal"  # a later objective (collaboration) is not proved
        row["memory_mb"] = _peak_mb()
        queue.put(row)
    except Exception:  # noqa: BLE001 - report any failure in the table
        queue.put({"status": "error", "error": traceback.format_exc(limit=3)})


def _peak_mb() -> float:
    """Peak resident memory of this process, or of a helper process it ran (HiGHS searches), the larger."""
    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024


def _method(text: str | None) -> str | None:
    """A short name for a solver's ``bound_method`` (the table column; results.md lists them)."""
    if not text:
        return None
    names = [("class rule summed per class", "class MIP + unit shares"), ("share", "unit shares"),
             ("big units", "big units + components"),
             ("capped population", "capped population"), ("aggregate class rule", "class MIP, no contiguity"),
             ("set-packing LP", "column LP")]
    head = text.split(" (tighter than")[0]
    short = next((name for key, name in names if key in head), head)
    if "set partitioning" in text:  # merge mode: the set partitioning bound is at least as tight
        short = "set partitioning"
    return short + (" + CP-SAT" if "CP-SAT bound" in text else "")


def _run_spopt(scenario, iterations, seed, out_csv, queue):
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
        plan.to_csv(out_csv)
        queue.put({"status": "feasible", "plans": len(plan), "compliant": compliant,
                   "kept": _kept_share(plan, problem), "bound": None, "wall": wall,
                   "memory_mb": _peak_mb()})
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

    head = ("| scenario | solver | status | plans | compliant | collaboration kept | bound | bound method | gap "
            "| wall s | peak MB |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        gap = None
        if r.get("bound") and r.get("plans") is not None:
            gap = relative_gap(r["plans"], r["bound"])
        kept = f"{100 * r['kept']:.1f}%" if r.get("kept") is not None else "-"
        lines.append(
            f"| {r['scenario']} | {r['solver']} | {r['status']} | {_fmt(r, 'plans')} | {_fmt(r, 'compliant')} | "
            f"{kept} | {_fmt(r, 'bound', '.0f')} | {_fmt(r, 'method')} | "
            f"{'-' if gap is None else f'{100 * gap:.1f}%'} | "
            f"{_fmt(r, 'wall', '.1f')} | {_fmt(r, 'memory_mb', '.0f')} |")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solver run (default 60)")
    parser.add_argument("--skip-spopt", action="store_true", help="do not run spopt's MaxPHeuristic")
    parser.add_argument("--solvers", default=DEFAULT_SOLVERS, help=f"comma-separated (default {DEFAULT_SOLVERS})")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated: " + ", ".join(SCENARIOS))
    parser.add_argument("--spopt-iterations", type=int, default=99, help="max_iterations_construction")
    parser.add_argument("--spopt-time-limit", type=float, default=300.0, help="stop spopt after this (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deterministic", action="store_true",
                        help="solvers count work instead of time: the same numbers on any machine for a seed")
    parser.add_argument("--rebuild-status-quo", action="store_true",
                        help="rebuild the merge scenarios' status quo files from the heuristic")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--no-readme", action="store_true", help="do not put the table into README.md")
    parser.add_argument("--plans", type=Path, default=HERE / "plans",
                        help="folder for every row's plan, SCENARIO-SOLVER.csv (default benchmarks/plans)")
    return parser


def _solvers(names: str) -> list[str]:
    from lombardy_districts.errors import InputError
    from lombardy_districts.workflows.registry import solver_class

    solvers = []
    for name in names.split(","):
        try:
            solver_class(name)
            solvers.append(name)
        except (InputError, ImportError, AttributeError) as exc:
            print(f"skipping solver {name}: {str(exc).splitlines()[0]}", file=sys.stderr)
    return solvers


def _status_quos(scenarios: list[str], args) -> list[str]:
    """Build the merge scenarios' status quo files when missing; the scenarios that can run."""
    scenarios = list(scenarios)
    for scenario, (source, sq_csv) in STATUS_QUO.items():
        if scenario in scenarios and (args.rebuild_status_quo or not sq_csv.exists()):
            print(f"building the {scenario} status quo: heuristic, {source} floor ...", flush=True)
            row = _child(_run_solver, ("heuristic", source, args.time_limit, args.seed, sq_csv, args.deterministic),
                         args.time_limit * 6 + 120)
            if row.get("plans") is None:
                print(f"could not build the {scenario} status quo; skipping {scenario}", file=sys.stderr)
                scenarios.remove(scenario)
    return scenarios


def _run_all(scenarios: list[str], solvers: list[str], args) -> list[dict]:
    rows = []
    # deterministic runs stop on counted work, with the wall clock only as a safety net (5x + 10 s)
    wait = args.time_limit * (6 if args.deterministic else 2) + 120
    for scenario in scenarios:
        for name in solvers:
            print(f"{scenario}: {name} ...", flush=True)
            out_csv = args.plans / f"{scenario}-{name}.csv"
            out_csv.unlink(missing_ok=True)  # a row without a plan leaves no older run's file behind
            row = _child(_run_solver, (name, scenario, args.time_limit, args.seed, out_csv, args.deterministic), wait)
            if row.get("error"):
                print(row["error"], file=sys.stderr)
            rows.append({"scenario": scenario, "solver": name, **row})
        if not args.skip_spopt and scenario in ("80k", "25k"):
            print(f"{scenario}: spopt MaxPHeuristic ...", flush=True)
            out_csv = args.plans / f"{scenario}-spopt.csv"
            out_csv.unlink(missing_ok=True)
            row = _child(_run_spopt, (scenario, args.spopt_iterations, args.seed, out_csv), args.spopt_time_limit)
            if row.get("error"):
                print(row["error"], file=sys.stderr)
            rows.append({"scenario": scenario, "solver": "spopt MaxPHeuristic", **row})
        print(_table(rows[-len(solvers) - 1:]), flush=True)
    return rows


def _report(rows: list[dict], args, command: str, load: tuple, started: datetime.datetime) -> str:
    """The text of results.md and of the README's benchmark block."""
    cpu = platform.processor() or platform.machine()
    machine = f"{cpu}, {mp.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    mode = ("deterministic (work counted, one thread: plans, bounds and gaps repeat on any machine)"
            if args.deterministic else "wall clock (results depend on the machine and its load), 2 workers "
            "(CP-SAT's threads, the heuristic's processes)")
    methods = sorted({r["method"] for r in rows if r.get("method")})
    return (
        f"Command: `{command}`  \nMachine: {machine}; load average at start "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)  \n"
        f"Date: {started:%Y-%m-%d %H:%M} UTC  \nTime limit per solver run: {args.time_limit:g} s, seed "
        f"{args.seed}, {mode}; spopt MaxPHeuristic: max_iterations_construction={args.spopt_iterations}, "
        f"max_iterations_sa=10, top_n=2, stopped after {args.spopt_time_limit:g} s."
        f"\n\n{_table(rows)}\n\n"
        "Scenarios: 80k / 25k = uniform floor, max-plans; default = shipped class rules, max-plans (propose's "
        "default adds collaboration second; spopt knows one floor only, so it runs on the uniform floors); "
        "merge = default rules, max-plans then collaboration, "
        "units = the heuristic's 80k plans (merge_status_quo.csv, 101 plans); merge-lma = units are the 57 "
        "labour market areas; merge-25k = units are the heuristic's 25k plans (merge_status_quo_25k.csv, "
        "274 plans). Status \"plan count optimal\": the number of plans is proved, a later objective "
        "(collaboration) is not. Peak MB = peak resident memory of the run's process, map data included "
        "(or of a helper process it starts, HiGHS searches in large merges, when larger). "
        f"Every row's plan is in {_shown(args.plans)}/SCENARIO-SOLVER.csv (municipality_code, plan_id), "
        "to check with any tool; "
        "e.g. `lombardy-districts evaluate benchmarks/plans/25k-cpsat.csv --floor 25000`. The graph joins "
        "Campione d'Italia, an exclave in Switzerland, to Alta Valle Intelvi (its one bridge), so a checker that "
        "joins municipalities by shared boundaries only sees the plan holding it in two pieces. "
        "Bound methods: " + "; ".join(f"{m}: {METHODS.get(m.removesuffix(' + CP-SAT'), m)}" for m in methods)
        + " (+ CP-SAT: or CP-SAT's own bound, when lower).\n")


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    try:
        return str(path.resolve().relative_to(HERE.parent))
    except ValueError:
        return str(path)


METHODS = {
    "unit shares": "each unit counts at most its population over the least population of a compliant "
                   "connected plan that can hold it (contiguity and class rule, solvers/share_bound.py)",
    "class MIP + unit shares": "the class rule summed over the plans of each class, with each unit counting at "
                               "most its share of a compliant connected plan of its class (solvers/class_bound.py)",
    "big units + components": "units that reach the lowest floor alone, and units set apart where they "
                              "split a part into pieces that waste population, count one plan each; each "
                              "connected piece left holds its population over the floor (solvers/_bound.py)",
    "capped population": "populations capped at the floor, over the floor (no contiguity)",
    "class MIP, no contiguity": "the class rule summed over the plans of each class (no contiguity)",
    "set partitioning": "LP of set partitioning over connected groups of plans (merge mode)",
}
"""Short bound method names of the table and what they mean (``+ CP-SAT``: CP-SAT's own bound was lower)."""


def _update_readme(text: str) -> bool:
    readme = README.read_text()
    start, end = MARKERS
    if start not in readme or end not in readme:
        print(f"README.md has no {start} ... {end} block; not updated", file=sys.stderr)
        return False
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    write_atomic(README, lambda path: path.write_text(f"{head}{start}\n{text}{end}{tail}"))
    return True


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    started = datetime.datetime.now(datetime.UTC)
    load = os.getloadavg()
    solvers = _solvers(args.solvers)
    scenarios = _status_quos([s for s in args.scenarios.split(",") if s], args)
    args.plans.mkdir(parents=True, exist_ok=True)
    rows = _run_all(scenarios, solvers, args)
    given = sys.argv[1:] if argv is None else argv
    command = ("python benchmarks/bench_solvers.py " + " ".join(given)).strip()
    text = _report(rows, args, command, load, started)
    write_atomic(args.out, lambda path: path.write_text("# Solver benchmark: Lombardy 2023, 1,504 municipalities\n\n"
                                                       + text))
    print("\n" + text)
    print(f"written to {args.out}")
    complete = (args.solvers == DEFAULT_SOLVERS and args.scenarios == ",".join(SCENARIOS)
                and args.out == HERE / "results.md" and not args.skip_spopt)
    if complete and not args.no_readme and _update_readme(text):
        print(f"and to {README} (between the benchmark markers)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
