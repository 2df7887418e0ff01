"""The ``frontier`` command: the best collaboration-keeping compliant plan for each number of plans.

``lombardy-districts frontier --out DIR [--maps] [problem, solver, collaboration, data and
selection options of propose]``; writes ``DIR/frontier.csv``, ``DIR/frontier.html`` and
``DIR/k<N>/plan.csv`` for each number of plans ``N``.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add the ``frontier`` sub-command (entry point ``lombardy_districts.commands``)."""
    from .cli import add_data_options
    from .evaluate_cli import add_collaboration_options
    from .propose_cli import add_problem_options, add_solver_options
    from .selection import add_selection_options

    parser = subparsers.add_parser(
        "frontier", help="trade-off between the number of area plans and the collaboration they keep",
        description="Find the most area plans that can all comply, then for each smaller number the compliant "
                    "plan keeping the most collaboration (by merging adjacent plans; each point says whether it "
                    "is proved optimal or heuristic). Writes DIR/frontier.csv, DIR/frontier.html and "
                    "DIR/k<N>/plan.csv. --objective is ignored: the frontier uses max-plans then collaboration.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    parser.add_argument("--maps", action="store_true", help="also write a map per point (slower)")
    add_problem_options(parser)
    add_solver_options(parser)
    add_collaboration_options(parser)
    add_data_options(parser)
    add_selection_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the frontier, print it as a table, write the files."""
    from .frontier import frontier, frontier_table, write_frontier
    from .propose_cli import problem_from_args

    problem = problem_from_args(args)
    print(f"{len(problem.territory.codes):,} municipalities, {problem.territory.population:,} inhabitants; "
          f"most plans by {args.solver} (time limit {args.time_limit:g} s), then merging", file=sys.stderr)

    def progress(info: dict) -> None:
        kept = info["collaboration_retained"]
        print(f"  {info['plans']:>4} plans: {'-' if kept is None else f'{kept:.1%}'} collaboration retained",
              file=sys.stderr)

    points = frontier(problem, solver=args.solver, time_limit=args.time_limit, seed=args.seed,
                      workers=args.workers, progress=progress)
    written = write_frontier(points, args.out, problem=problem, maps=args.maps)
    print(frontier_table(points).to_string(index=False))
    print("written: " + ", ".join(str(p) for p in written.values()))
    return 0
