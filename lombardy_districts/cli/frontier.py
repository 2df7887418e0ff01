"""The ``frontier`` command: the best collaboration-keeping compliant plan for each number of plans.

``lombardy-districts frontier --out DIR [--maps] [problem, solver, collaboration, data and
selection options of propose]``; writes ``DIR/frontier.csv``, ``DIR/frontier.html`` and
``DIR/k<N>/plan.csv`` for each number of plans ``N``.
"""

from __future__ import annotations

import argparse
import sys

from lombardy_districts.cli.interrupt import EXIT_CODES, until_stopped
from lombardy_districts.cli.options import (
    add_collaboration_options,
    add_data_options,
    add_problem_options,
    add_selection_options,
    add_solver_options,
    problem_and_solver,
)
from lombardy_districts.io.output_folder import OutputFolder
from lombardy_districts.model.options import MAX_PLANS, MAX_SECONDS, number_problem
from lombardy_districts.workflows.frontier import (
    FULL_RANGE_POINTS,
    METHODS,
    STEPPED_POINTS,
    frontier,
    frontier_table,
    write_frontier,
)

DEFAULT_BUDGET = 900.0


def register(subparsers) -> None:
    """Add the ``frontier`` sub-command."""
    parser = subparsers.add_parser(
        "frontier", help="trade-off between the number of area plans and the collaboration they keep",
        description="Find the most area plans that can all comply, then for each smaller number the compliant "
                    "plan keeping the most collaboration: by default CP-SAT groups the area plans of the "
                    "max-plans plan into exactly that many, warm-started by greedy merges of adjacent plans "
                    "(--method greedy: merges only). Each point says whether it is optimal, optimal among "
                    "mergers (of the max-plans plan's area plans; a plan splitting one may do better) or "
                    "heuristic. --time-limit applies to the "
                    "first solve and to each point, --budget to all points together. Writes DIR/frontier.csv, "
                    "DIR/frontier.html and DIR/k<N>/plan.csv. --objective is ignored: the frontier uses "
                    "max-plans then collaboration. Ctrl-C (or SIGTERM) stops the search and writes the "
                    "points found so far, with exit code 130 (143).",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    parser.add_argument("--maps", action="store_true", help="also write a map per point (slower)")
    parser.add_argument("--method", choices=METHODS, default="auto",
                        help="exact (CP-SAT per point), greedy (merges only) or auto (default: exact when "
                             "OR-Tools is installed)")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET, metavar="S",
                        help=f"seconds for all exact points together (default {DEFAULT_BUDGET:g}); once spent, "
                             "the remaining points are greedy merges")
    parser.add_argument("--step", type=int, metavar="N",
                        help=f"solve every N-th number of plans, plus both ends (default: every one when the "
                             f"range has at most {FULL_RANGE_POINTS} numbers, else a step giving about "
                             f"{STEPPED_POINTS} points)")
    add_problem_options(parser)
    add_solver_options(parser)
    add_collaboration_options(parser)
    add_data_options(parser)
    add_selection_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the frontier, print it as a table, write the files."""
    problems = []
    if args.budget is not None and (bad := number_problem("--budget", args.budget, 0, MAX_SECONDS, whole=False,
                                                          unit=" of seconds")):
        problems.append(bad.replace(" = ", " ", 1) + " (0: greedy points only)")
    if args.step is not None and (bad := number_problem("--step", args.step, 1, MAX_PLANS, whole=True)):
        problems.append(bad.replace(" = ", " ", 1) + " (1 computes every point)")
    problem, options = problem_and_solver(args, problems)
    print(f"{len(problem.territory.codes):,} municipalities, {problem.territory.population:,} inhabitants; "
          f"most plans by {args.solver}, then fewer plans by method {args.method} (time limit "
          f"{args.time_limit:g} s per point, budget {args.budget:g} s)", file=sys.stderr)

    def progress(info: dict) -> None:
        kept = info["collaboration_retained"]
        plans = f"{info['plans']:>4} plan{'' if info['plans'] == 1 else 's'}"
        print(f"  [{info['done']:>3}/{info['total']}] {plans}: "
              f"{'-' if kept is None else f'{kept:.1%}'} collaboration retained ({info['proof']}, "
              f"{info['method']}) {info['elapsed']:.0f} s", file=sys.stderr)

    # checked and locked before the search: a folder that cannot be written fails now, not after it;
    # committed when the block ends, so a second Ctrl-C (which quits at once) leaves it as it was
    with OutputFolder(args.out, marker="frontier.csv") as out:

        def work(stop):
            points = frontier(problem, options, method=args.method, budget=args.budget, step=args.step,
                              progress=progress, stop=stop)
            if not points:  # stopped before the first plan: nothing to write, the folder stays as it was
                return points, {}
            return points, write_frontier(points, out, problem=problem, maps=args.maps,
                                          stopped_by=stop.reason if stop.is_set() else None)

        (points, written), stopped_by = until_stopped(work, keeps="the points found so far will be written")
    if points:
        print(frontier_table(points).to_string(index=False))
        print("written: " + ", ".join(str(p) for p in written.values()))
    if stopped_by is not None:
        said = (f"{len(points)} points written, from {points[0].plans} down to {points[-1].plans} plans; fewer "
                "plans were not computed" if points else "no plan had been found yet, nothing was written")
        print(f"stopped by {stopped_by}: {said}", file=sys.stderr)
        return EXIT_CODES.get(stopped_by, 130)
    return 0
