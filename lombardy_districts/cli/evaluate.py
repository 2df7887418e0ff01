"""The ``evaluate`` command: score any grouping of municipalities and print its scorecard.

``lombardy-districts evaluate PLAN.csv [--status-quo SQ.csv] [--rules R.toml] [--floor N]
[--collaboration E.csv] [--collaboration-weight KIND=W] [--json OUT.json] [--csv OUT.csv]``
plus the data options and the selection options (``--province``, ``--select``,
``--within-status-quo``).
"""

from __future__ import annotations

import argparse
import logging
import sys

from lombardy_districts.cli.options import (
    add_collaboration_options,
    add_data_options,
    add_selection_options,
    inhabitants,
    output_file_problems,
    read_command_inputs,
)
from lombardy_districts.errors import InputError
from lombardy_districts.model.scorecard import COLUMN_NOTES, Scorecard, evaluate
from lombardy_districts.workflows.export import parse_formats, write_formats

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``evaluate`` sub-command."""
    parser = subparsers.add_parser(
        "evaluate", help="score a plan: floors, compliance, fragmentation, collaboration kept, change",
        description="Score a plan (CSV municipality_code,plan_id[,plan_name]) against the rules.",
        epilog=columns_help(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("plan", metavar="PLAN.csv", help="the plan: municipality_code,plan_id[,plan_name]")
    parser.add_argument("--plan-column", default="plan_id", help="plan id column of the CSV files (default plan_id)")
    parser.add_argument("--status-quo", metavar="SQ.csv",
                        help="the current plan, to measure how much the plan changes it")
    parser.add_argument("--rules", metavar="R.toml", help="rules file (default: the shipped data/rules.toml)")
    parser.add_argument("--floor", type=inhabitants, metavar="N",
                        help="replace every class floor with N inhabitants (as propose --floor N)")
    add_collaboration_options(parser)
    parser.add_argument("--json", metavar="OUT.json", help="write the whole scorecard as JSON")
    parser.add_argument("--csv", metavar="OUT.csv", help="write the table of plans as CSV (columns below)")
    parser.add_argument("--format", metavar="FMT[,FMT]",
                        help="write the dissolved area plans with their scores to --out: gpkg (plans.gpkg, "
                             "in the CRS of the municipalities' file), geojson (plans.geojson, EPSG:4326)")
    parser.add_argument("--out", metavar="DIR", help="folder for the --format files (created if needed)")
    parser.add_argument("--check", action="store_true",
                        help="exit with code 1 when any area plan does not comply or a rule of the whole plan "
                             "is broken (a lock, a union kept whole): for scripts")
    add_data_options(parser)
    add_selection_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load everything, check it all, score the plan, print and write the scorecard.

    Exit code 1 with ``--check`` when any area plan does not comply.
    """
    formats = parse_formats(args.format)
    if formats and not args.out:
        raise InputError(f"--format {args.format} needs --out DIR, the folder to write plans.{formats[0]} in")
    if args.out and not formats:
        raise InputError(f"--out {args.out} writes the plan in the formats of --format (e.g. --format gpkg,geojson); "
                         "give one, or --json/--csv for the scorecard")
    outputs = []
    for flag, value, example in (("--json", args.json, "scorecard.json"), ("--csv", args.csv, "plans.csv")):
        if value:
            outputs += output_file_problems(flag, value, example)
    inputs = read_command_inputs(args, {"plan": args.plan, "status_quo": args.status_quo}, [], outputs)
    plan, status_quo = inputs.plans["plan"], inputs.plans.get("status_quo")
    card = evaluate(plan, inputs.rules, inputs.collaboration, status_quo)
    written = []  # files first: a reader that stops early (| head) must not cost them
    if args.json:
        written.append(card.to_json(args.json))
    if args.csv:
        written.append(card.to_csv(args.csv))
    written += write_formats(plan, card, args.out, formats).values()
    print_scorecard(card)
    for path in written:
        print(f"written: {path}")
    bad, broken = card.summary["non_compliant_plans"], card.summary["violations"]
    if args.check and broken:
        what = (f"{bad} of {card.summary['plans']} area plans do not comply" if bad
                else f"{len(broken)} rule(s) of the whole plan are broken ({broken[0]}"
                + (f"; and {len(broken) - 1:,} more, listed above)" if len(broken) > 1 else ")"))
        print(f"check failed: {what}", file=sys.stderr)
        return 1
    return 0


def columns_help() -> str:
    """The plans table's columns, for ``--help`` (``scorecard.COLUMN_NOTES``)."""
    lines = ["columns of the plans table (--csv, and \"plans\" in --json):"]
    lines += [f"  {name:<19} {note}" for name, note in COLUMN_NOTES.items()]
    return "\n".join(lines)


TABLE_LEGEND = (
    "columns: munic. = municipalities; floor = population floor of the plan's class; margin = population "
    "minus floor; contig. = its municipalities form one piece; collab. kept/cut = weight of collaboration "
    "ties inside the plan / to other plans; PP = Polsby-Popper compactness (1 a disc, 0.79 a square, near 0 "
    "a long or ragged shape); why = why the plan has its class; ! = the plan does not comply (its floor, the "
    "ceiling, contiguity or a hard boundary)"
)


def print_scorecard(card: Scorecard, search: list[str] | None = None) -> None:
    """Plain words first (the headline, then ``search``), then the table of plans and the details."""
    for line in card.headline:
        print(line)
    for line in search or []:
        print(line)
    print()
    _print_table(card.plans)
    print(TABLE_LEGEND)
    s = card.summary
    print(f"effective number of plans {s['effective_plans']:.1f}; population min {s['min_population']:,}, "
          f"median {s['median_population']:,.0f}, max {s['max_population']:,}; {s['cut_edges']:,} cut edges")
    if s.get("unions_split_list"):
        shown = "; ".join(f"{u['union']} ({', '.join(u['municipalities'][:4])}"
                          f"{' ...' if len(u['municipalities']) > 4 else ''}) between {', '.join(u['plans'])}"
                          for u in s["unions_split_list"][:5])
        more = f"; and {s['unions_split'] - 5:,} more" if s["unions_split"] > 5 else ""
        print(f"unions of municipalities split: {s['unions_split']}: {shown}{more}")
    if s["ties_broken"]:
        print(_ties_line(s))
    print_bridges(s["bridges"])
    for line in s["violations"]:
        print(f"violation: {line}")
    print(f"note: {s['collaboration_note']}")


def _print_table(t) -> None:
    labels = [n if n == p else f"{p} {n}" for p, n in zip(t["plan_id"], t["name"])]
    width = max(12, min(48, max(len(label) for label in labels)))
    klass = t.columns.get_loc("class")
    print(f"  {'plan':<{width}} {'munic.':>6} {'population':>11} {'class':<12} {'floor':>8} {'margin':>10} "
          f"{'contig.':>7} {'collab. kept/cut':>16} {'PP':>5}  why")
    for label, r in sorted(zip(labels, t.itertuples(index=False)), key=lambda x: x[1].plan_id):
        flag = " " if r.compliant else "!"
        why = r.class_reason.split(": ", 1)[-1]
        print(f"{flag} {label[:width]:<{width}} {r.municipalities:>6} {r.population:>11,} {r[klass]:<12} "
              f"{r.floor:>8,} {r.margin:>+10,} {'yes' if r.contiguous else 'NO':>7} "
              f"{r.collaboration_kept:>8g}/{r.collaboration_cut:<7g} {r.polsby_popper:>5.2f}  {why}")


def _ties_line(s: dict) -> str:
    """The ties broken: the strongest, or, when every one weighs the same, those between the most people."""
    shown = "; ".join(f"{t['name_a']} - {t['name_b']}" + ("" if s["ties_broken_weight"] else f" ({t['weight']:g})")
                      for t in s["ties_broken"][:5])
    if s["ties_broken_weight"] is not None:
        return (f"collaboration ties broken: {s['ties_broken_count']:,}, each of weight {s['ties_broken_weight']:g}; "
                f"those between the most populous municipalities: {shown}")
    return f"collaboration ties broken: {s['ties_broken_count']:,}; the strongest: {shown}"


def _count(n: int, one: str, many: str | None = None) -> str:
    """``1 plan``, ``2 plans``."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def print_bridges(bridges: list[dict]) -> None:
    """One line per bridge (a join of parts that share no boundary) and the plan relying on it."""
    if not bridges:
        return
    for b in bridges:
        where = f"inside plan {b['plan_id']}" if b["plan_id"] is not None else "between two plans"
        print(f"bridge: {b['from_name']} ({b['from']}) - {b['to_name']} ({b['to']}), {b['distance_m']:,.0f} m apart, "
              f"{where}")
    print(f"note: {_count(len(bridges), 'bridge')} joined parts of the territory that share no boundary; a plan "
          f"holding one is contiguous only through it. {bridge_advice(bridges)}".rstrip())


GAP_M = 100.0
"""Bridges of the data up to this long may be digitising gaps; longer ones join an island or exclave
(Campione d'Italia's is 721 m)."""


def bridge_advice(bridges: list[dict]) -> str:
    """What to do about these bridges (``distance_m``, ``selection``): snap a gap, or select what touches."""
    advice = []
    if any(not b.get("selection") and b["distance_m"] <= GAP_M for b in bridges):
        advice.append("A bridge under 100 m may be a digitising gap or sliver: "
                      "try --snap METRES or --contiguity queen.")
    if any(b.get("selection") for b in bridges):
        advice.append("A bridge the selection made joins separate pieces of it: proposals keep the pieces apart "
                      "(a plan across two is listed as a violation) unless a piece is too small for a plan of its "
                      "own, such as an exclave of a province, which is planned with the piece its bridge reaches; "
                      "to work on one territory, select municipalities that touch (--province, --select).")
    return " ".join(advice)
