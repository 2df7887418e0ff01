"""Option groups the commands share, and the typed objects they become.

Each ``add_*`` function adds one group of options to a parser; the function of the same
group's name turns the parsed options into the object the Python API takes
(``DataOptions``, ``Selection``, ``ProblemOptions``, ``SolverOptions``), appending every
problem it finds to ``problems`` so that a command reports them all at once.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

from lombardy_districts.errors import InputError, OutputError, did_you_mean
from lombardy_districts.io.graph import DEFAULT_SNAP_M
from lombardy_districts.model.options import (
    CONTIGUITY,
    DEFAULT_SOLVER,
    DEFAULT_TIME_LIMIT,
    MAX_WEIGHT,
    MODES,
    OBJECTIVES,
    DataOptions,
    ProblemOptions,
    Selection,
    SolverOptions,
)
from lombardy_districts.model.problem import Problem
from lombardy_districts.workflows.inputs import Inputs, problem_from_options, read_inputs
from lombardy_districts.workflows.registry import solver_names


def inhabitants(text: str) -> int:
    """A number of inhabitants as people type it: 80000, 80,000, 80.000, 80 000 or 80k."""
    plain = text.strip().replace("_", "")
    if re.fullmatch(r"-?\d+", plain):
        return int(plain)
    if re.fullmatch(r"\d{1,3}([,. ']\d{3})+", plain) and len(set(re.sub(r"\d", "", plain))) == 1:
        return int(re.sub(r"\D", "", plain))
    if re.fullmatch(r"\d+(\.\d+)?[kK]", plain) and float(plain[:-1]) * 1000 == int(float(plain[:-1]) * 1000):
        return int(float(plain[:-1]) * 1000)
    raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of inhabitants; write it as 80000 "
                                     "(80,000, 80.000 and 80k are read too)")


def add_verbose_option(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """``-v``: more log lines and the solvers' technical notes (``-vv`` for debug).

    Every command takes it before or after its name; a command's own ``-v`` leaves the
    top-level one alone when not given (``SUPPRESS``).
    """
    parser.add_argument("-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS,
                        help="more log lines and the solver's technical notes (-vv for debug)")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that loads municipalities shares."""
    group = parser.add_argument_group("municipalities")
    group.add_argument("--region", default="lombardia",
                       help="Italian region from the embedded data (name or ISTAT code; default lombardia)")
    group.add_argument("--municipalities", metavar="FILE",
                       help="your own polygons (GeoPackage, GeoJSON or Shapefile) instead of --region")
    group.add_argument("--population", metavar="CSV", help="population CSV for --municipalities")
    group.add_argument("--code-column", default="code", help="municipality code column (default code)")
    group.add_argument("--name-column", default="name", help="municipality name column (default name)")
    group.add_argument("--population-column", default="population",
                       help="population column of the CSV (default population)")
    group.add_argument("--contiguity", choices=CONTIGUITY, default="rook",
                       help="rook: shared boundary line (default); queen: a shared point is enough")
    group.add_argument("--snap", type=float, default=DEFAULT_SNAP_M, metavar="METRES",
                       help=f"snapping tolerance for contiguity (default {DEFAULT_SNAP_M:g} m): gaps and overlapping "
                            "slivers narrower than this are closed; raise it for data digitised with slivers, "
                            "0 for exact contiguity")
    group.add_argument("--cache-dir", metavar="DIR",
                       help="where the contiguity graph is cached (default ~/.cache/lombardy-districts)")
    group.add_argument("--no-cache", action="store_true", help="do not read or write the graph cache")


def data_options(args: argparse.Namespace) -> DataOptions:
    """The ``DataOptions`` of ``add_data_options``."""
    return DataOptions(region=args.region, municipalities=args.municipalities, population=args.population,
                       code_column=args.code_column, name_column=args.name_column,
                       population_column=args.population_column, contiguity=args.contiguity, snap=args.snap,
                       cache=False if args.no_cache else (args.cache_dir or True))


def add_selection_options(parser: argparse.ArgumentParser,
                          within: str | None = "only the municipalities listed in the --status-quo file") -> None:
    """Add ``--province``, ``--select`` and ``--within-status-quo`` (help ``within``; None: not offered)."""
    group = parser.add_argument_group("part of the region")
    group.add_argument("--province", metavar="NAME[,NAME..]",
                       help="only these provinces (names, ISTAT codes or abbreviations such as BG, MB; "
                            "comma-separated)")
    group.add_argument("--select", metavar="COLUMN=V1[,V2..]", action="append", default=[],
                       help="only municipalities whose COLUMN is one of the values (repeatable; "
                            "e.g. labour_market_area=Bergamo)")
    if within is not None:
        group.add_argument("--within-status-quo", action="store_true", help=within)


def selection(args: argparse.Namespace, problems: list[str]) -> Selection:
    """The ``Selection`` of ``add_selection_options``."""
    select: dict[str, tuple[str, ...]] = {}
    for item in args.select:
        column, sep, values = item.partition("=")
        if not sep or not column.strip() or not values.strip():
            problems.append(f"--select {item!r} must look like COLUMN=V1[,V2..], e.g. province=Bergamo,Brescia")
            continue
        column = column.strip()
        select[column] = select.get(column, ()) + tuple(v.strip() for v in values.split(",") if v.strip())
    province = args.province
    if province is not None and not [p for p in province.split(",") if p.strip()]:
        problems.append(f"--province {province!r} names no province; give names or ISTAT codes such as "
                        "Bergamo,BS or 016, or leave out --province for the whole region")
        province = None
    return Selection(province=province or (), select=select,
                     within_status_quo=getattr(args, "within_status_quo", False))


def add_collaboration_options(parser: argparse.ArgumentParser) -> None:
    """``--collaboration FILE`` and repeatable ``--collaboration-weight KIND=W``."""
    parser.add_argument("--collaboration", metavar="E.csv",
                        help="your collaboration edges code_a,code_b,weight,kind, added to the default ones "
                             "(union: same union of municipalities; labour_market: neighbours in the same labour "
                             "market area; current_plan: neighbours in the same plan of --status-quo)")
    parser.add_argument("--collaboration-weight", metavar="KIND=W", action="append", default=[],
                        help="set the weight of one kind of tie to W (repeatable; 0 ignores the kind; defaults "
                             "in data/collaboration.toml: union 3, current_plan 2, labour_market 1, others 1), "
                             "e.g. --collaboration-weight labour_market=0.5")


def collaboration_weights(args: argparse.Namespace, problems: list[str]) -> dict[str, float]:
    """``--collaboration-weight KIND=W`` items as ``{kind: weight}`` (from 0 to ``MAX_WEIGHT``)."""
    return _pairs(args.collaboration_weight, "--collaboration-weight", "KIND=W, e.g. labour_market=0.5", problems)


def _pairs(items, option: str, shape: str, problems: list[str], allowed=None, noun: str = "name") -> dict[str, float]:
    out = {}
    for item in items or []:
        name, sep, raw = str(item).partition("=")
        name, raw = name.strip(), raw.strip()
        try:
            value = float(raw) if sep and name else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not 0 <= value <= MAX_WEIGHT:
            problems.append(f"{option} {item!r} must look like {shape}, with a number from 0 to {MAX_WEIGHT:,}")
        elif allowed is not None and name not in allowed:
            problems.append(f"{option} {item!r}: unknown {noun} {name!r}; allowed: {', '.join(allowed)}")
        else:
            out[name] = value
    return out


def add_problem_options(parser: argparse.ArgumentParser) -> None:
    """Options describing the problem (shared with other commands that solve)."""
    parser.add_argument("--mode", choices=MODES, default="scratch",
                        help="scratch: group municipalities freely (default); merge: merge the status quo's "
                             "plans; repair: move the fewest municipalities of the status quo")
    parser.add_argument("--status-quo", metavar="SQ.csv", help="current plan: municipality_code,plan_id[,plan_name]")
    parser.add_argument("--objective", metavar="NAME[,NAME..]",
                        help=f"objectives in priority order, from {', '.join(OBJECTIVES)} (default: "
                             "max-plans,collaboration; repair: disruption,max-plans)")
    parser.add_argument("--weight", action="append", default=[], metavar="NAME=W",
                        help="optimise a weighted sum of the objectives instead of their order (repeatable)")
    parser.add_argument("--rules", metavar="R.toml", help="rules file (default: the shipped data/rules.toml)")
    parser.add_argument("--floor", type=inhabitants, metavar="N", help="replace every class floor with N inhabitants")


def problem_options(args: argparse.Namespace, problems: list[str]) -> ProblemOptions:
    """The ``ProblemOptions`` of ``add_problem_options`` and ``add_collaboration_options``."""
    weights = _pairs(args.weight, "--weight", "NAME=W, e.g. collaboration=2", problems, allowed=OBJECTIVES,
                     noun="objective")
    kinds = collaboration_weights(args, problems)
    try:
        return ProblemOptions(mode=args.mode, objectives=args.objective, weights=weights or None,
                              floor=args.floor, rules=args.rules, status_quo=args.status_quo,
                              collaboration=args.collaboration, collaboration_weights=kinds)
    except InputError as exc:
        problems += [as_flag(p) for p in exc.problems]
        return ProblemOptions(mode=args.mode)


def add_solver_options(parser: argparse.ArgumentParser) -> None:
    """Solver, time limit, seed, workers, deterministic mode."""
    parser.add_argument("--solver", default=DEFAULT_SOLVER, help=f"cpsat, pulp or heuristic (default {DEFAULT_SOLVER})")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar="S",
                        help=f"seconds for the solver (default {DEFAULT_TIME_LIMIT:g})")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed (default 0); with --deterministic the same seed gives the same plan, "
                             "without it the plan also depends on timing")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="solver threads, and the heuristic's processes on maps of 150 units or more "
                             "(default: 2 for cpsat and its heuristic warm start, 1 for heuristic and pulp; "
                             "--deterministic runs use 1)")
    parser.add_argument("--deterministic", action="store_true",
                        help="count work instead of time (about the work of --time-limit seconds on the "
                             "reference machine), so the same seed gives the same plan on any machine; "
                             "one thread; solvers heuristic and cpsat")


def solver_options(args: argparse.Namespace, problems: list[str]) -> SolverOptions:
    """The ``SolverOptions`` of ``add_solver_options``; an unknown solver is refused before any data is read."""
    try:
        return SolverOptions(solver=known_solver(args.solver, problems), time_limit=args.time_limit, seed=args.seed,
                             workers=args.workers, deterministic=args.deterministic)
    except InputError as exc:
        problems += [as_flag(p) for p in exc.problems]
        return SolverOptions()


def known_solver(name: str, problems: list[str]) -> str:
    """``--solver``'s value if a solver has that name; else a problem for ``problems`` and the default solver."""
    if name in solver_names():
        return name
    problems.append(f"--solver {name}: unknown solver{did_you_mean(name, solver_names())}; allowed: "
                    f"{', '.join(solver_names())}")
    return DEFAULT_SOLVER


FLAGS = {"objectives": "objective", "weights": "weight", "collaboration_weights": "collaboration-weight"}
"""Option fields whose flag is not the field's name with dashes (the flag is repeated, or takes one name)."""


def as_flag(problem: str) -> str:
    """``time_limit = -1: ...`` -> ``--time-limit -1: ...`` (messages in the words the user typed)."""
    name, sep, rest = problem.partition(" = ")
    if not sep or not name.isidentifier():
        return problem
    value, _, why = rest.partition(":")
    return f"--{FLAGS.get(name, name.replace('_', '-'))} {value}:{why}"


def read_command_inputs(args: argparse.Namespace, plans: dict[str, str | None], problems: list[str],
                        outputs: list[str] | None = None) -> Inputs:
    """``read_inputs`` with the data, selection, rules and collaboration options of ``args``.

    ``problems`` are the command's own checks; they are raised together with the rest. ``outputs`` are
    the problems of its output paths (``output_file_problems``): listed with any others (exit 2), or,
    alone, raised as an ``OutputError`` (exit 3, as for an output folder that cannot be written).
    """
    try:
        inputs = _read_command_inputs(args, plans, [*problems, *(outputs or [])])
    except InputError as exc:
        if outputs and exc.problems == outputs:
            raise OutputError("\n".join(outputs)) from None
        raise
    return inputs


def _read_command_inputs(args: argparse.Namespace, plans: dict[str, str | None], problems: list[str]) -> Inputs:
    data = data_options(args)
    part = selection(args, problems)
    weights = collaboration_weights(args, problems)
    floor = getattr(args, "floor", None)
    if floor is not None and floor < 0:
        problems.append(f"--floor {floor}: must be a whole number of inhabitants >= 0")
        floor = None
    return read_inputs(data, part, plans, rules=args.rules, floor=floor, collaboration=args.collaboration,
                       collaboration_weights=weights, plan_column=getattr(args, "plan_column", "plan_id"),
                       problems=problems)


def problem_and_solver(args: argparse.Namespace, problems: list[str] | None = None) -> tuple[Problem, SolverOptions]:
    """The problem the options describe (every input loaded and checked) and how to solve it."""
    problems = list(problems or [])
    data = data_options(args)
    part = selection(args, problems)
    wanted = problem_options(args, problems)
    options = solver_options(args, problems)
    return problem_from_options(data, part, wanted, problems), options


def output_file_problems(flag: str, value, example: str) -> list[str]:
    """What keeps ``value`` from being written as a file (a folder there, a file as its folder), before any work.

    ``example``: a file name to suggest inside a folder given instead of a file (``map.html``).
    """
    path = Path(value)
    if path.is_dir():
        return [f"{flag} {path} is a folder; give a file path such as {path / example}"]
    folder = next((a for a in path.parents if a.exists()), None)
    if folder is not None and not folder.is_dir():
        return [f"{flag} {path}: {folder} is a file, not a folder; give a path in a folder"]
    if folder is not None and not os.access(folder, os.W_OK | os.X_OK):
        why = "is on a read-only file system" if _read_only(folder) else "is not writable for you"
        return [f"{flag} {path}: {folder} {why}; give a path in a folder you can write"]
    return []


def _read_only(folder: Path) -> bool:
    """Whether ``folder`` lies on a file system mounted read-only (False where the system cannot say)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs on Windows
        return False
