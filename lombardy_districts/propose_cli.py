"""The ``propose`` command: solve for a compliant plan and write it with its scorecard and map.

``lombardy-districts propose [--mode scratch|merge|repair] [--status-quo SQ.csv]
[--objective NAME[,NAME..]] [--floor N] [--rules R.toml] [--solver cpsat|pulp|heuristic]
[--time-limit S] [--seed N] [--workers N] [--deterministic] --out DIR``
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from .api import DEFAULT_SOLVER, DEFAULT_TIME_LIMIT, build_problem, solve
from .errors import InputError
from .evaluate_cli import add_collaboration_options, print_scorecard
from .inputs import read_inputs
from .problem import MODES, OBJECTIVES
from .selection import add_selection_options

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``propose`` sub-command (entry point ``lombardy_districts.commands``)."""
    from .cli import add_data_options

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
                             "EPSG:32632), geojson (DIR/plans.geojson, EPSG:4326)")
    add_collaboration_options(parser)
    add_data_options(parser)
    add_selection_options(parser)
    parser.set_defaults(run=run)


def add_problem_options(parser: argparse.ArgumentParser) -> None:
    """Options describing the problem (shared with other commands that solve)."""
    parser.add_argument("--mode", choices=MODES, default="scratch",
                        help="scratch: group municipalities freely (default); merge: merge the status quo's "
                             "plans; repair: move the fewest municipalities of the status quo")
    parser.add_argument("--status-quo", metavar="SQ.csv", help="current plan: municipality_code,plan_id[,plan_name]")
    parser.add_argument("--objective", metavar="NAME[,NAME..]",
                        help=f"objectives in priority order, from {', '.join(OBJECTIVES)} (default: max-plans; "
                             "merge: max-plans,collaboration; repair: disruption,max-plans)")
    parser.add_argument("--weight", action="append", default=[], metavar="NAME=W",
                        help="optimise a weighted sum of the objectives instead of their order (repeatable)")
    parser.add_argument("--rules", metavar="R.toml", help="rules file (default: the shipped data/rules.toml)")
    parser.add_argument("--floor", type=int, metavar="N", help="replace every class floor with N inhabitants")


def add_solver_options(parser: argparse.ArgumentParser) -> None:
    """Solver, time limit, seed, workers, deterministic mode."""
    parser.add_argument("--solver", default=DEFAULT_SOLVER, help=f"cpsat, pulp or heuristic (default {DEFAULT_SOLVER})")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar="S",
                        help=f"seconds for the solver (default {DEFAULT_TIME_LIMIT:g})")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same plan")
    parser.add_argument("--workers", type=int, metavar="N", help="solver threads (default: all cores)")
    parser.add_argument("--deterministic", action="store_true",
                        help="count work instead of time (about the work of --time-limit seconds on the "
                             "reference machine), so the same seed gives the same plan on any machine; "
                             "one thread; solvers heuristic and cpsat")


def parse_weights(items) -> dict[str, float] | None:
    """``["max-plans=10", "collaboration=1"]`` -> dict, or None when empty."""
    if not items:
        return None
    out, problems = {}, []
    for item in items:
        name, sep, raw = item.partition("=")
        try:
            out[name.strip()] = float(raw)
        except ValueError:
            problems.append(f"--weight {item!r} must look like NAME=W with W a number, e.g. collaboration=2")
        if sep and name.strip() not in OBJECTIVES:
            problems.append(f"--weight {item!r}: unknown objective; allowed: {', '.join(OBJECTIVES)}")
    if problems:
        raise InputError(problems)
    return out


class ProgressLine:
    """Incumbent, bound and elapsed time on stderr: one updating line on a terminal, else every 10 s."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = 0.0

    def __call__(self, info: dict) -> None:
        """Show one progress report (throttled)."""
        now = time.monotonic()
        if now - self.last < (0.5 if self.tty else 10.0):
            return
        self.last = now
        parts = [f"{info.get('elapsed', 0):6.1f} s"]
        if info.get("plans") is not None:
            parts.append(f"{info['plans']} plans")
        if info.get("incumbent") is not None:
            parts.append(f"incumbent {info['incumbent']:g}")
        if info.get("bound") is not None:
            parts.append(f"bound {info['bound']:g}")
        text = "solving: " + ", ".join(parts)
        self.stream.write(f"\r{text:<70}" if self.tty else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the updating line."""
        if self.tty and self.last:
            self.stream.write("\n")


def problem_from_args(args: argparse.Namespace):
    """Load territory, status quo, rules and collaboration from the options; check them all first."""
    problems, weights = [], None
    if args.floor is not None and args.floor < 0:
        problems.append(f"--floor {args.floor}: must be a whole number of inhabitants >= 0")
    try:
        weights = parse_weights(args.weight)
    except InputError as exc:
        problems += exc.problems
    inputs = read_inputs(args, {"status_quo": args.status_quo}, problems)
    options = {"deterministic": True} if getattr(args, "deterministic", False) else None
    return build_problem(inputs.territory, mode=args.mode, status_quo=inputs.plans.get("status_quo"),
                         objectives=args.objective, weights=weights, rules=inputs.rules, floor=args.floor,
                         collaboration=inputs.collaboration, options=options)


def run(args: argparse.Namespace) -> int:
    """Solve, print the scorecard, write the outputs. Exit 1 when no plan was found."""
    from .export import parse_formats

    formats = parse_formats(args.format)
    problem = problem_from_args(args)
    Path(args.out).mkdir(parents=True, exist_ok=True)  # fail now, not after the solve
    print(f"{len(problem.territory.codes):,} municipalities, {problem.territory.population:,} inhabitants; "
          f"mode {problem.mode}, objectives {', '.join(problem.objectives)}, solver {args.solver}, "
          f"time limit {args.time_limit:g} s" + (" (deterministic)" if args.deterministic else ""), file=sys.stderr)
    progress = ProgressLine()
    try:
        proposal = solve(problem, solver=args.solver, time_limit=args.time_limit, seed=args.seed,
                         workers=args.workers, progress=progress)
    finally:
        progress.close()
    written = proposal.write(args.out, maps=not args.no_map, formats=formats)
    r = proposal.result
    bound = f", bound {r.bound:g}" if r.bound is not None else ""
    gap = f", gap {r.gap:.1%}" if r.gap is not None else ""
    print(f"{r.solver}: {r.status} in {r.wall_time:.1f} s, objective {r.objective}{bound}{gap}")
    method = r.details.get("bound_method") or r.details.get("plan_bound_method")
    if method and r.gap is not None and r.gap > 0.1:
        print(f"note: the bound comes from {method}; a large gap says the bound is loose as much as that "
              "the plan could improve", file=sys.stderr)
    if proposal.plan is None:
        print(f"no plan found: {r.message or r.status}", file=sys.stderr)
        return 1
    print_scorecard(proposal.scorecard)
    print("written: " + ", ".join(str(p) for p in written.values()))
    return 0
