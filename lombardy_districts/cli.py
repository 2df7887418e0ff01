"""Command line: ``lombardy-districts COMMAND ...``.

Commands of this package live here. Packages that build on it (``solvers``, ``maps``) add
their own commands through the ``lombardy_districts.commands`` entry point group: each entry
point is a function ``register(subparsers)`` that adds a sub-parser and sets ``run=func``
with ``func(args) -> int``. So this package never imports them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from importlib.metadata import entry_points

from .errors import GraphError, InfeasibleError, InputError

log = logging.getLogger(__name__)


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
    group.add_argument("--contiguity", choices=["rook", "queen"], default="rook",
                       help="rook: shared boundary line (default); queen: a shared point is enough")
    group.add_argument("--cache-dir", metavar="DIR",
                       help="where the contiguity graph is cached (default ~/.cache/lombardy-districts)")
    group.add_argument("--no-cache", action="store_true", help="do not read or write the graph cache")


def territory_from_args(args: argparse.Namespace):
    """Load the territory the data options describe (``api.load`` with the same options)."""
    from .api import load

    return load(args.region, municipalities=args.municipalities, population=args.population,
                code_column=args.code_column, name_column=args.name_column,
                population_column=args.population_column, contiguity=args.contiguity,
                cache=False if args.no_cache else (args.cache_dir or True))


def _run_data(args: argparse.Namespace) -> int:
    from .summary import summarize

    summary = summarize(territory_from_args(args))
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(summary)
    return 0


def _print_summary(s: dict) -> None:
    print(f"{s['region']}: {s['municipalities']:,} municipalities, {s['population']:,} inhabitants, "
          f"{s['area_km2']:,.0f} km2")
    print(f"contiguity ({s['contiguity']}): {s['contiguity_edges']:,} edges, {s['components']} component(s), "
          f"{len(s['bridges'])} bridge(s)")
    for b in s["bridges"]:
        print(f"  bridge: {b['from_name']} ({b['from']}) - {b['to_name']} ({b['to']}), {b['distance_m']:,.0f} m apart")
    labels = {"degurba": {"1": "1 densely populated", "2": "2 intermediate", "3": "3 thinly populated"}}
    for key, title in (("altimetric_zone", "altimetric zone"), ("mountain_status", "legal mountain status"),
                       ("degurba", "degree of urbanisation"), ("province", "province")):
        counts = ", ".join(f"{labels.get(key, {}).get(k, k)}: {v:,}" for k, v in s[key].items())
        print(f"{title}: {counts}")
    print(f"local labour market areas (ISTAT SLL 2011): {s['labour_market_areas']}")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with commands registered by installed packages."""
    parser = argparse.ArgumentParser(
        prog="lombardy-districts",
        description="Propose area social plans (ambiti) whose populations meet the regional floors.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    data = sub.add_parser("data", help="summarise the municipalities and their contiguity graph")
    add_data_options(data)
    data.add_argument("--json", action="store_true", help="print JSON instead of a readable summary")
    data.set_defaults(run=_run_data)
    for register in _plugins():
        register(sub)
    return parser


def _plugins():
    for ep in sorted(entry_points(group="lombardy_districts.commands"), key=lambda e: e.name):
        try:
            yield ep.load()
        except ImportError as exc:  # a plugin whose optional dependency is missing
            log.warning("command %s unavailable: %s", ep.name, exc)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args) or 0)
    except (InputError, GraphError, InfeasibleError) as exc:
        problems = getattr(exc, "problems", None) or str(exc).splitlines()
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
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
