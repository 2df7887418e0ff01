"""Commands ``map`` and ``compare``.

``lombardy-districts map PLAN.csv -o map.html [--status-quo SQ.csv] [--rules R.toml] [--collaboration E.csv]``
``lombardy-districts compare A.csv B.csv -o compare.html [--rules R.toml] [--collaboration E.csv]``

Both take the data options (``--region``, ``--municipalities`` ...) and the selection options
(``--province``, ``--select``, ``--within-status-quo``), read plans as the ``evaluate`` command
does, and report every input problem at once as an ``InputError`` (``error: ...``, exit 2).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lombardy_districts.cli.options import (
    add_collaboration_options,
    add_data_options,
    add_selection_options,
    inhabitants,
    output_file_problems,
    read_command_inputs,
)
from lombardy_districts.errors import InputError
from lombardy_districts.maps.display import MAX_TOLERANCE_M
from lombardy_districts.model.options import number_problem
from lombardy_districts.model.plan import WITHIN_HINT

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``map`` and ``compare`` sub-commands."""
    one = subparsers.add_parser(
        "map", help="draw a plan as an interactive HTML map (colours, borders, scores, layers)",
        description="Draw a plan (CSV municipality_code,plan_id[,plan_name]) as a standalone HTML map.",
    )
    one.add_argument("plan", metavar="PLAN.csv", help="the plan: municipality_code,plan_id[,plan_name]")
    one.add_argument("-o", "--output", metavar="MAP.html", default="map.html", help="output file (default map.html)")
    one.add_argument("--status-quo", metavar="SQ.csv", help="the current plan: scored against, and drawn as a layer")
    one.add_argument("--title", help="title shown on the map (default: the plan file's name)")
    _common(one)
    add_collaboration_options(one)
    add_data_options(one)
    add_selection_options(one)
    one.set_defaults(run=run_map)

    two = subparsers.add_parser(
        "compare", help="two plans side by side with synchronised maps and the changed municipalities marked",
        description="Draw plan A (left) and plan B (right) side by side, panning and zooming together.",
    )
    two.add_argument("plan_a", metavar="A.csv", help="first plan (left), e.g. the status quo")
    two.add_argument("plan_b", metavar="B.csv", help="second plan (right), e.g. a proposal")
    two.add_argument("-o", "--output", metavar="COMPARE.html", default="compare.html",
                     help="output file (default compare.html)")
    two.add_argument("--title-a", help="label of plan A (default: its file name)")
    two.add_argument("--title-b", help="label of plan B (default: its file name)")
    _common(two)
    add_collaboration_options(two)
    add_data_options(two)
    add_selection_options(two, within="only the municipalities plan A lists")
    two.set_defaults(run=run_compare, status_quo=None)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", metavar="R.toml", help="rules file (default: the shipped data/rules.toml)")
    parser.add_argument("--floor", type=inhabitants, metavar="N",
                        help="replace every class floor with N inhabitants (as propose --floor N)")
    parser.add_argument("--plan-column", default="plan_id", help="plan id column of the CSV files (default plan_id)")
    parser.add_argument("--tolerance", metavar="METRES", type=float, default=150.0,
                        help="simplify borders by this many metres for display only (default 150; 0 keeps all)")


def _load(args: argparse.Namespace, paths: dict[str, str | None]):
    """The command's inputs (``read_inputs``), checking the output path and tolerance with them."""
    problems: list[str] = []
    if bad := number_problem("--tolerance", args.tolerance, 0, MAX_TOLERANCE_M, whole=False, unit=" of metres"):
        problems.append(bad.replace(" = ", " ", 1))
    return read_command_inputs(args, paths, problems, output_file_problems("output", args.output, "map.html"))


def run_map(args: argparse.Namespace) -> int:
    """``map``: score the plan and write its map."""
    from lombardy_districts.maps.render import write_plan_map  # folium: half a second other commands skip

    inputs = _load(args, {"plan": args.plan, "status_quo": args.status_quo})
    plans = inputs.plans
    path = write_plan_map(plans["plan"], None, args.output, rules=inputs.rules, status_quo=plans.get("status_quo"),
                          collaboration=inputs.collaboration, title=args.title or _title(args.plan),
                          tolerance_m=args.tolerance)
    print(f"map of {len(plans['plan'])} area plans written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


COMPARE_HINT = ("(give the plan listing fewer municipalities as A, with --within-status-quo, or compare a part "
                "both cover with --province or --select)")


def _title(path: str) -> str:
    """A plan's label from its file: its name, or for propose's ``plan.csv`` its folder's (``out/lombardy``)."""
    file = Path(path)
    return file.parent.name if file.stem == "plan" and file.parent.name else file.stem


def run_compare(args: argparse.Namespace) -> int:
    """``compare``: score both plans and write the side-by-side page."""
    from lombardy_districts.maps.compare import write_comparison  # folium, as in run_map

    # --within-status-quo: plan A, "e.g. the status quo", gives the municipalities worked on
    first = "status_quo" if args.within_status_quo else "plan_a"
    try:
        inputs = _load(args, {first: args.plan_a, "plan_b": args.plan_b})
    except InputError as exc:  # --within-status-quo keeps to A's municipalities, never to B's
        raise InputError([p.replace(WITHIN_HINT, COMPARE_HINT) if p.startswith(f"{args.plan_b}:") else p
                          for p in exc.problems]) from None
    plans = {**inputs.plans, "plan_a": inputs.plans[first]}
    titles = (args.title_a or _title(args.plan_a), args.title_b or _title(args.plan_b))
    if titles[0] == titles[1]:
        titles = (f"A: {titles[0]}", f"B: {titles[1]}")
    path = write_comparison(plans["plan_a"], plans["plan_b"], args.output, rules=inputs.rules,
                            collaboration=inputs.collaboration, titles=titles, tolerance_m=args.tolerance)
    print(f"comparison written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
