"""Command line: ``lombardy-districts COMMAND ...``, the only layer that knows argparse.

Each command module has ``register(subparsers)``, which adds a sub-parser and sets
``run=func`` with ``func(args) -> int``. Exit codes: 0 done; 1 done, but no plan was found (or a
sweep scenario failed); 2 bad input (one ``error:`` line per problem); 3 an output could not be
written (a full disk, no permission, a folder in use by another run), the previous files intact;
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from importlib.metadata import PackageNotFoundError, version

from lombardy_districts.cli import evaluate, frontier, maps, propose, studio, sweep
from lombardy_districts.cli.options import (
    add_data_options,
    add_selection_options,
    add_verbose_option,
    data_options,
    selection,
)
from lombardy_districts.errors import GraphError, InfeasibleError, InputError, OutputError, did_you_mean
from lombardy_districts.model.summary import summarize
from lombardy_districts.workflows.inputs import load

log = logging.getLogger(__name__)


def _run_data(args: argparse.Namespace) -> int:
    problems: list[str] = []
    part = selection(args, problems)
    if problems:
        raise InputError(problems)
    territory = load(data_options(args), part)
    summary = summarize(territory)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(summary)
    if args.table:
        path = territory.to_csv(args.table)
        print(f"wrote {path}: {len(territory.codes):,} municipalities; fill plan_id, save as CSV, then evaluate it",
              file=sys.stderr)
    return 0


def _print_summary(s: dict) -> None:
    print(f"{s['region']}: {s['municipalities']:,} municipalities, {s['population']:,} inhabitants, "
          f"{s['area_km2']:,.0f} km2 (areas: {s['areas']})")
    print(f"codes: {s['ids']}")
    print(f"contiguity ({s['contiguity']}, snapping tolerance {s['snap_m']:g} m): {s['contiguity_edges']:,} edges, "
          f"{s['components']} component(s), {len(s['bridges'])} bridge(s)")
    for b in s["bridges"]:
        print(f"  bridge: {b['from_name']} ({b['from']}) - {b['to_name']} ({b['to']}), {b['distance_m']:,.0f} m apart")
    for o in s["overlaps"]:
        print(f"  overlap, not counted as neighbours: {o['a_name']} ({o['a']}) - {o['b_name']} ({o['b']}), "
              f"{o['area_m2']:,.4g} m2")
    if s["bridges"]:
        print(("  a bridge joins parts that share no boundary; plans may use it (see the README's contiguity rule). "
               + evaluate.bridge_advice(s["bridges"])).rstrip())
    labels = {"degurba": {"1": "1 densely populated", "2": "2 intermediate", "3": "3 thinly populated"}}
    for key, title in (("altimetric_zone", "altimetric zone"), ("mountain_status", "legal mountain status"),
                       ("degurba", "degree of urbanisation"), ("province", "province")):
        if not s[key]:
            continue  # the data has no such column (user data from outside Italy, say)
        counts = ", ".join(f"{labels.get(key, {}).get(k, k)}: {v:,}" for k, v in s[key].items())
        print(f"{title}: {counts}")
    if not s["mountain_status"]:
        print("legal mountain status: none in the data (no plan is classed mountain)")
    if s["labour_market_areas"] is not None:
        print(f"local labour market areas (ISTAT SLL 2011): {s['labour_market_areas']}")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes print one ``error:`` line and where to look, not the whole usage."""

    def error(self, message: str):
        wrong = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if wrong:
            message += did_you_mean(wrong[1], re.findall(r"'([^']*)'", wrong[2]))
        self.exit(2, f"error: {message}\nSee: {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with commands registered by installed packages."""
    parser = _Parser(
        prog="lombardy-districts",
        description="Propose area social plans (ambiti) whose populations meet the regional floors.",
    )
    add_verbose_option(parser, top=True)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    data = sub.add_parser("data", help="summarise the municipalities and their contiguity graph",
                          description="Summarise the municipalities loaded (population, area, classes, provinces) "
                                      "and their contiguity graph (edges, components, bridges).")
    add_data_options(data)
    add_selection_options(data, within=None)
    data.add_argument("--json", action="store_true", help="print JSON instead of a readable summary")
    data.add_argument("--table", metavar="CSV", help="also write the municipalities as a CSV (codes, names, "
                      "population, attributes) with an empty plan_id column: the start of a plan file")
    data.set_defaults(run=_run_data)
    for command in (evaluate, frontier, maps, propose, studio, sweep):
        command.register(sub)
    for command_parser in sub.choices.values():  # -v works after the command's name too
        add_verbose_option(command_parser)
    return parser


def _version() -> str:
    try:
        return version("lombardy-districts")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown (not installed)"


class _PlainFormatter(logging.Formatter):
    """``warning: message``, as the command's own ``error:`` lines read."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {super().format(record)}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    # "warning: ..." beside the "error: ..." lines; -v and -vv name the module too
    handler = logging.StreamHandler()
    verbose = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    handler.setFormatter(verbose if args.verbose else _PlainFormatter())
    logging.basicConfig(level=level, handlers=[handler])
    try:
        return int(args.run(args) or 0)
    except (InputError, GraphError, InfeasibleError) as exc:
        problems = getattr(exc, "problems", None) or str(exc).splitlines()
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output was piped into a reader that has stopped (head): quietly, as shell tools
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        except (AttributeError, OSError, ValueError):  # stdout is no file (captured)
            pass
        return 141
    except OutputError as exc:  # a file or folder that cannot be written; nothing good was lost
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 3
    except FileNotFoundError as exc:
        print(f"error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. an output folder that cannot be written
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
