"""The ``sweep`` command: run the scenarios of a TOML file in parallel and compare them.

``lombardy-districts sweep S.toml --out DIR [--jobs N] [--executor local|dask] [--scheduler ADDRESS]
[--format gpkg,geojson] [--no-map]``
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from lombardy_districts.cli.interrupt import EXIT_CODES, until_stopped
from lombardy_districts.errors import InputError
from lombardy_districts.workflows.export import parse_formats
from lombardy_districts.workflows.scenarios import read_scenarios
from lombardy_districts.workflows.sweep import EXECUTORS, sweep


def register(subparsers) -> None:
    """Add the ``sweep`` sub-command."""
    parser = subparsers.add_parser(
        "sweep", help="run the scenarios of a TOML file (in parallel) and compare them in one table and page",
        description="Run every [[scenario]] of S.toml (a name plus any propose option); write DIR/results.csv, "
                    "DIR/<name>/ (plan.csv, scorecard.json, result.json, map.html) and DIR/index.html with a "
                    "trade-off chart. A re-run skips the scenarios already finished. Ctrl-C (or SIGTERM) "
                    "stops the running scenarios, which write their best plan so far with status "
                    "interrupted, starts no other, and exits with code 130 (143); finished ones are kept.",
    )
    parser.add_argument("scenarios", metavar="S.toml", help="scenario file: [[scenario]] tables with name and options")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="scenarios run at the same time (default 1)")
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="local: processes on this machine (default); dask: a Dask distributed cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    parser.add_argument("--format", metavar="FMT[,FMT]", help="also write each scenario's area plans as gpkg, geojson")
    parser.add_argument("--no-map", action="store_true", help="no maps and no index.html (faster)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the sweep with a progress bar; print a summary. Exit 1 when a scenario failed."""
    scenarios = read_scenarios(args.scenarios)
    formats = parse_formats(args.format)
    if args.scheduler and args.executor != "dask":
        raise InputError(f"--scheduler {args.scheduler} needs --executor dask")
    # a bar on a terminal only (a log gets the lines), shown after a second (not before a refusal)
    bar = tqdm(total=len(scenarios), unit="scenario", file=sys.stderr, dynamic_ncols=True, delay=1.0, disable=None)

    def progress(info: dict) -> None:
        said = f"{info['name']}: {'skipped, finished before: ' if info['skipped'] else ''}{info['status']}"
        bar.write(f"[{info['done']}/{info['total']}] {said}", file=sys.stderr)
        bar.set_postfix_str(said)
        bar.update(1)

    def work(stop):
        return sweep(scenarios, args.out, jobs=args.jobs, executor=args.executor, scheduler=args.scheduler,
                     progress=progress, formats=formats, maps=not args.no_map, stop=stop)

    try:
        with logging_redirect_tqdm():  # warnings above the bar, not glued to it
            table, stopped_by = until_stopped(work, keeps=KEEPS)
    finally:
        bar.close()
    for row in table.itertuples():
        plans = "" if pd.isna(row.plans) else f", {int(row.plans)} plans"
        kept = row.collaboration_retained
        kept = "" if pd.isna(kept) else f", {kept:.1%} collaboration kept"
        error = f": {row.error}" if isinstance(row.error, str) and row.error else ""
        print(f"{row.name}: {row.status}{plans}{kept}{error}")
    print(f"written: {args.out}/results.csv" + ("" if args.no_map else f", {args.out}/index.html"))
    if stopped_by is not None:
        print(f"stopped by {stopped_by}: {_stopped_summary(scenarios, table)}", file=sys.stderr)
        return EXIT_CODES.get(stopped_by, 130)
    return 1 if (table["status"] == "failed").any() else 0


KEEPS = "finished scenarios are kept, running ones write their best plan so far (status interrupted)"
"""What a stopped sweep keeps, as the command says when the first Ctrl-C comes."""


def _stopped_summary(scenarios, table: pd.DataFrame) -> str:
    """How many scenarios finished, were interrupted, or did not run; and how to finish them."""
    interrupted = int((table["status"] == "interrupted").sum())
    not_run = [s.name for s in scenarios if s.name not in set(table["name"])]
    names = ", ".join(not_run[:5]) + (f" and {len(not_run) - 5:,} more" if len(not_run) > 5 else "")
    return (f"{len(table) - interrupted} finished, {interrupted} interrupted (their best plan kept), "
            f"{len(not_run)} not run{f' ({names})' if not_run else ''}; the same command runs the "
            "interrupted and the others again, and skips the finished ones")
