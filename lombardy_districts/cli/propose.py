"""The ``propose`` command: solve for a compliant plan and write it with its scorecard and map.

``lombardy-districts propose [--mode scratch|merge|repair] [--status-quo SQ.csv]
[--objective NAME[,NAME..]] [--floor N] [--rules R.toml] [--solver cpsat|pulp|heuristic]
[--time-limit S] [--seed N] [--workers N] [--deterministic] --out DIR``
"""

from __future__ import annotations

import argparse
import logging
import sys

from lombardy_districts.cli.evaluate import print_scorecard
from lombardy_districts.cli.options import (
    add_collaboration_options,
    add_data_options,
    add_problem_options,
    add_selection_options,
    add_solver_options,
    problem_and_solver,
)
from lombardy_districts.cli.progress import ProgressLine
from lombardy_districts.io.output_folder import OutputFolder
from lombardy_districts.workflows.export import parse_formats
from lombardy_districts.workflows.propose import MARKER, solve

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``propose`` sub-command."""
    parser = subparsers.add_parser(
        "propose", help="propose area plans that meet the floors (from scratch, as mergers, or as a repair)",
        description="Solve for a plan in which every area plan meets its population floor; write "
                    "DIR/plan.csv, DIR/scorecard.json, DIR/result.json and DIR/map.html.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    add_problem_options(parser)
    add_solver_options(parser)
    parser.add_argument("--no-map", action="store_true", help="do not write map.html")
    parser.add_argument("--format", metavar="FMT[,FMT]",
                        help="also write the dissolved area plans with their scores: gpkg (DIR/plans.gpkg, "
                             "in the CRS of the municipalities' file), geojson (DIR/plans.geojson, EPSG:4326)")
    add_collaboration_options(parser)
    add_data_options(parser)
    add_selection_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Solve, print the scorecard, write the outputs. Exit 1 when no plan was found."""
    formats = parse_formats(args.format)
    problem, options = problem_and_solver(args)
    # checked and locked before the solve: a folder that cannot be written fails now, not after it
    with OutputFolder(args.out, marker=MARKER) as out:
        print(f"{len(problem.territory.codes):,} municipalities, {problem.territory.population:,} inhabitants; "
              f"mode {problem.mode}, objectives {', '.join(problem.objectives)}, solver {options.solver}, "
              f"time limit {args.time_limit:g} s" + (" (deterministic)" if args.deterministic else ""),
              file=sys.stderr)
        _print_bridges(problem.territory.graph)
        progress = ProgressLine()
        try:
            proposal = solve(problem, options, progress=progress)
        finally:
            progress.close()
        written = proposal.write(out, maps=not args.no_map, formats=formats)
    r = proposal.result
    bound = f", bound {r.bound:g}" if r.bound is not None else ""
    gap = f", gap {r.gap:.1%}" if r.gap is not None else ""
    print(f"{r.solver}: {r.status} in {r.wall_time:.1f} s, objective {r.objective}{bound}{gap}")
    method = r.details.get("bound_method") or r.details.get("plan_bound_method")
    if method and r.gap is not None and r.gap > 0.1:
        print(f"note: the bound comes from {method}; a large gap says the bound is loose as much as that "
              "the plan could improve", file=sys.stderr)
    if proposal.scorecard is None:
        print(f"no plan found: {r.message or r.status}", file=sys.stderr)
        return 1
    print_scorecard(proposal.scorecard)
    print("written: " + ", ".join(str(p) for p in written.values()))
    return 0


def _print_bridges(graph) -> None:
    """Say which parts of the territory only a bridge joins (they share no boundary)."""
    if not graph.graph.get("bridges"):
        return
    joins = "; ".join(f"{a} - {b} ({graph.edges[a, b].get('distance', 0.0):,.0f} m apart)"
                      for a, b in graph.graph["bridges"][:10])
    more = f" and {len(graph.graph['bridges']) - 10} more" if len(graph.graph["bridges"]) > 10 else ""
    print(f"contiguity ({graph.graph.get('kind', 'rook')}, snapping tolerance {graph.graph.get('snap', 0):g} m) "
          f"needs {len(graph.graph['bridges'])} bridge(s) between parts that share no boundary: {joins}{more}",
          file=sys.stderr)
