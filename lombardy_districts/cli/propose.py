"""The ``propose`` command: solve for a compliant plan and write it with its scorecard and map.

``lombardy-districts propose [--mode scratch|merge|repair] [--status-quo SQ.csv]
[--objective NAME[,NAME..]] [--floor N] [--rules R.toml] [--solver cpsat|pulp|heuristic]
[--time-limit S] [--seed N] [--workers N] [--deterministic] [--warm-start PLAN.csv] --out DIR``
"""

from __future__ import annotations

import argparse
import logging
import sys

from lombardy_districts.cli.evaluate import print_scorecard
from lombardy_districts.cli.interrupt import EXIT_CODES, until_stopped
from lombardy_districts.cli.options import (
    add_collaboration_options,
    add_data_options,
    add_problem_options,
    add_selection_options,
    add_solver_options,
    problem_and_solver,
)
from lombardy_districts.cli.progress import ProgressLine
from lombardy_districts.errors import InputError
from lombardy_districts.io.output_folder import OutputFolder
from lombardy_districts.model.changes import CHANGE_NOTES
from lombardy_districts.model.plan import Plan
from lombardy_districts.workflows.export import parse_formats
from lombardy_districts.workflows.inputs import read_plan
from lombardy_districts.workflows.propose import MARKER, solve

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``propose`` sub-command."""
    parser = subparsers.add_parser(
        "propose", help="propose area plans that meet the floors (from scratch, as mergers, or as a repair)",
        description="Solve for a plan in which every area plan meets its population floor; write "
                    "DIR/plan.csv, DIR/scorecard.json, DIR/result.json and DIR/map.html, and with a status quo "
                    "DIR/changes.csv and DIR/compare.html. Ctrl-C (or SIGTERM) stops the search and writes "
                    "the best plan found so far, with status interrupted and exit code 130 (143).",
        epilog=changes_help(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    add_problem_options(parser)
    add_solver_options(parser)
    parser.add_argument("--warm-start", metavar="PLAN.csv",
                        help="a complying plan to start from (municipality_code,plan_id): the search goes on "
                             "from it; in repair mode, what the repair falls back on when it finds none by moves")
    parser.add_argument("--no-map", action="store_true", help="do not write map.html")
    parser.add_argument("--format", metavar="FMT[,FMT]",
                        help="also write the dissolved area plans with their scores: gpkg (DIR/plans.gpkg, "
                             "in the CRS of the municipalities' file), geojson (DIR/plans.geojson, EPSG:4326)")
    add_collaboration_options(parser)
    add_data_options(parser)
    add_selection_options(parser)
    parser.set_defaults(run=run)


def changes_help() -> str:
    """The columns of ``changes.csv``, for ``--help`` (``changes.CHANGE_NOTES``)."""
    lines = ["changes.csv (with --status-quo): one row per group of municipalities that changed plan",
             "  (the plans of scorecard.json have the columns `evaluate --help` lists); its columns:"]
    lines += [f"  {name:<17} {note}" for name, note in CHANGE_NOTES.items()]
    return "\n".join(lines)


def _warm_start(path: str, territory) -> Plan:
    """The ``--warm-start`` plan over the municipalities worked on; its errors name the option and file."""
    try:
        return read_plan(path, territory)
    except InputError as exc:
        raise InputError([f"--warm-start {path}: {p}" for p in exc.problems]) from None


def run(args: argparse.Namespace) -> int:
    """Solve, write the outputs, print the plan in words then in numbers.

    Exit 1 when no plan was found; 130 (SIGINT) or 143 (SIGTERM) when the search was stopped,
    after writing the best plan found so far.
    """
    formats = parse_formats(args.format)
    problem, options = problem_and_solver(args)
    warm = None if args.warm_start is None else _warm_start(args.warm_start, problem.territory)
    # checked and locked before the solve: a folder that cannot be written fails now, not after it;
    # committed when the block ends, so a second Ctrl-C (which quits at once) leaves it as it was
    with OutputFolder(args.out, marker=MARKER) as out:
        print(f"{len(problem.territory.codes):,} municipalities, {problem.territory.population:,} inhabitants; "
              f"mode {problem.mode}, objectives {', '.join(problem.objectives)}, solver {options.solver}, "
              f"time limit {args.time_limit:g} s" + (" (deterministic)" if args.deterministic else "")
              + "; Ctrl-C stops the search and keeps the best plan", file=sys.stderr)
        _print_bridges(problem.territory.graph)

        def work(stop):
            progress = ProgressLine()
            try:
                proposal = solve(problem, options, progress=progress, stop=stop, warm_start=warm)
            finally:
                progress.close()
            return proposal, proposal.write(out, maps=not args.no_map, formats=formats)

        (proposal, written), stopped_by = until_stopped(work)
    r = proposal.result
    if proposal.scorecard is not None:
        print_scorecard(proposal.scorecard, proposal.search)
    else:
        for line in proposal.search:
            print(line, file=sys.stderr)
    if getattr(args, "verbose", 0):
        _technical_note(r)
    print("written: " + ", ".join(str(p) for p in written.values()))
    if stopped_by is not None:
        print(f"stopped by {stopped_by}: status {r.status}", file=sys.stderr)
        return EXIT_CODES.get(stopped_by, 130)
    return 0 if proposal.plan is not None else 1


def _technical_note(r) -> None:
    """The solver's own record, for ``-v``: status, objective, bound, gap and where the bound comes from."""
    bound = f", bound {r.bound:g}" if r.bound is not None else ""
    gap = f", gap {r.gap:.1%}" if r.gap is not None else ""
    print(f"technical: {r.solver}: {r.status} in {r.wall_time:.1f} s, objective {r.objective}{bound}{gap}")
    method = r.details.get("bound_method") or r.details.get("plan_bound_method")
    if method:
        print(f"technical: the bound comes from {method}" + (
            "; a large gap says the bound is loose as much as that the plan could improve"
            if r.gap is not None and r.gap > 0.1 else ""))
    for note in r.details.get("notes", []):
        print(f"technical: {note}")


def _print_bridges(graph) -> None:
    """Say which parts of the territory only a bridge joins (they share no boundary)."""
    if not graph.graph.get("bridges"):
        return
    joins = "; ".join(f"{a} - {b} ({graph.edges[a, b].get('distance', 0.0):,.0f} m apart)"
                      for a, b in graph.graph["bridges"][:10])
    more = f" and {len(graph.graph['bridges']) - 10:,} more" if len(graph.graph["bridges"]) > 10 else ""
    print(f"contiguity ({graph.graph.get('kind', 'rook')}, snapping tolerance {graph.graph.get('snap', 0):g} m) "
          f"needs {len(graph.graph['bridges'])} bridge(s) between parts that share no boundary: {joins}{more}",
          file=sys.stderr)
