"""The ``studio`` command: edit a plan in the browser with a live scorecard and the solver in the loop.

``lombardy-districts studio [PLAN.csv] [--status-quo SQ.csv] [--rules R.toml] [--collaboration E.csv]
[data and selection options] [--workspace DIR] [--host HOST] [--port N] [--no-browser]``
"""

from __future__ import annotations

import argparse

from lombardy_districts.cli.options import (
    add_collaboration_options,
    add_data_options,
    add_selection_options,
    as_flag,
    collaboration_weights,
    data_options,
    known_solver,
    selection,
)
from lombardy_districts.errors import InputError
from lombardy_districts.model.options import DEFAULT_SOLVER, SolverOptions
from lombardy_districts.studio import DEFAULT_PORT, DEFAULT_WORKSPACE, studio


def register(subparsers) -> None:
    """Add the ``studio`` sub-command."""
    parser = subparsers.add_parser(
        "studio", help="edit a plan in the browser: live scorecard, locks, undo, the solver in the loop",
        description="Start the planning studio, a local web application, and open the browser on it. "
                    "Move municipalities, merge plans, lock what is agreed, watch every floor and the "
                    "collaboration kept, and let Complete, Repair or Merge work around your locks.",
    )
    parser.add_argument("plan", metavar="PLAN.csv", nargs="?",
                        help="plan to start from: municipality_code,plan_id[,plan_name] (default: the status "
                             "quo, or one area plan per province)")
    parser.add_argument("--status-quo", metavar="SQ.csv", help="the current plan: changes are measured against it")
    parser.add_argument("--rules", metavar="R.toml", help="rules file (default: the shipped data/rules.toml)")
    add_collaboration_options(parser)
    parser.add_argument("--workspace", metavar="DIR", default=DEFAULT_WORKSPACE,
                        help=f"folder for everything the studio saves, and its session (default ./{DEFAULT_WORKSPACE})")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only; any other needs the "
                             "access token printed at start)")
    parser.add_argument("--port", type=int, metavar="N", help=f"port (default {DEFAULT_PORT}, or a free one)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--solver", default=DEFAULT_SOLVER, help="solver of the Complete, Repair and Merge buttons")
    parser.add_argument("--time-limit", type=float, default=30.0, metavar="S",
                        help="default seconds for those buttons (default 30; the page can change it)")
    add_data_options(parser)
    add_selection_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the options, then serve until Ctrl-C."""
    problems: list[str] = []
    part = selection(args, problems)
    weights = collaboration_weights(args, problems)
    if args.port is not None and not 0 < args.port < 65536:
        problems.append(f"--port {args.port}: must be between 1 and 65535")
    try:
        solver = SolverOptions(solver=known_solver(args.solver, problems), time_limit=args.time_limit, workers=1)
    except InputError as exc:
        problems += [as_flag(p) for p in exc.problems]
        solver = None
    if problems:
        raise InputError(problems)
    studio(args.plan, status_quo=args.status_quo, rules=args.rules, collaboration=args.collaboration,
           collaboration_weights=weights, data=data_options(args), selection=part, workspace=args.workspace,
           host=args.host, port=args.port, open_browser=not args.no_browser, solver=solver)
    return 0
