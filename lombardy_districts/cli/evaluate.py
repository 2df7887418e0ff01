"""The ``evaluate`` command: score any grouping of municipalities and print its scorecard.

``lombardy-districts evaluate PLAN.csv [--status-quo SQ.csv] [--rules R.toml] [--floor N]
[--collaboration E.csv] [--collaboration-weight KIND=W] [--json OUT.json] [--csv OUT.csv]``
plus the data options and the selection options (``--province``, ``--select``,
``--within-status-quo``).
"""

from __future__ import annotations

import argparse
import logging

from lombardy_districts.cli.options import (
    add_collaboration_options,
    add_data_options,
    add_selection_options,
    read_command_inputs,
)
from lombardy_districts.errors import InputError
from lombardy_districts.model.scorecard import Scorecard, evaluate
from lombardy_districts.workflows.export import parse_formats, write_formats

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``evaluate`` sub-command."""
    parser = subparsers.add_parser(
        "evaluate", help="score a plan: floors, compliance, fragmentation, collaboration kept, change",
        description="Score a plan (CSV municipality_code,plan_id[,plan_name]) against the rules.",
    )
    parser.add_argument("plan", metavar="PLAN.csv", help="the plan: municipality_code,plan_id[,plan_name]")
    parser.add_argument("--plan-column", default="plan_id", help="plan id column of the CSV files (default plan_id)")
    parser.add_argument("--status-quo", metavar="SQ.csv",
                        help="the current plan, to measure how much the plan changes it")
    parser.add_argument("--rules", metavar="R.toml", help="rules file (default: the shipped data/rules.toml)")
    parser.add_argument("--floor", type=int, metavar="N",
                        help="replace every class floor with N inhabitants (as propose --floor N)")
    add_collaboration_options(parser)
    parser.add_argument("--json", metavar="OUT.json", help="write the whole scorecard as JSON")
    parser.add_argument("--csv", metavar="OUT.csv", help="write the table of plans as CSV")
    parser.add_argument("--format", metavar="FMT[,FMT]",
                        help="write the dissolved area plans with their scores to --out: gpkg (plans.gpkg, "
                             "in the CRS of the municipalities' file), geojson (plans.geojson, EPSG:4326)")
    parser.add_argument("--out", metavar="DIR", help="folder for the --format files (created if needed)")
    add_data_options(parser)
    add_selection_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load everything, check it all, score the plan, print and write the scorecard."""
    formats = parse_formats(args.format)
    if formats and not args.out:
        raise InputError(f"--format {args.format} needs --out DIR, the folder to write plans.{formats[0]} in")
    inputs = read_command_inputs(args, {"plan": args.plan, "status_quo": args.status_quo}, [])
    plan, status_quo = inputs.plans["plan"], inputs.plans.get("status_quo")
    card = evaluate(plan, inputs.rules, inputs.collaboration, status_quo)
    print_scorecard(card)
    if args.json:
        card.to_json(args.json)
        log.info("scorecard written to %s", args.json)
    if args.csv:
        card.to_csv(args.csv)
        log.info("plans table written to %s", args.csv)
    for path in write_formats(plan, card, args.out, formats).values():
        print(f"written: {path}")
    return 0


def print_scorecard(card: Scorecard) -> None:
    """A readable table of plans (non-compliant ones flagged ``!``), then the headline figures."""
    t = card.plans
    s = card.summary
    labels = [n if n == p else f"{p} {n}" for p, n in zip(t["plan_id"], t["name"])]
    width = max(12, min(48, max(len(label) for label in labels)))
    klass = t.columns.get_loc("class")
    print(f"  {'plan':<{width}} {'munic.':>6} {'population':>11} {'class':<12} {'floor':>8} {'margin':>10} "
          f"{'contig.':>7} {'collab. kept/cut':>16} {'PP':>5}")
    for label, r in sorted(zip(labels, t.itertuples(index=False)), key=lambda x: x[1].plan_id):
        flag = " " if r.compliant else "!"
        print(f"{flag} {label[:width]:<{width}} {r.municipalities:>6} {r.population:>11,} {r[klass]:<12} "
              f"{r.floor:>8,} {r.margin:>+10,} {'yes' if r.contiguous else 'NO':>7} "
              f"{r.collaboration_kept:>8g}/{r.collaboration_cut:<7g} {r.polsby_popper:>5.2f}")
    print()
    print(f"{s['plans']} area plans, {s['compliant_plans']} compliant, {s['non_compliant_plans']} not "
          f"(! above; {s['population_non_compliant']:,} of {s['population']:,} inhabitants)")
    print(f"effective number of plans {s['effective_plans']:.1f}; population min {s['min_population']:,}, "
          f"median {s['median_population']:,.0f}, max {s['max_population']:,}; {s['cut_edges']:,} cut edges")
    retained = s["collaboration_retained"]
    kinds = ", ".join(f"{k} {v:.1%}" if v is not None else f"{k} -" for k, v in
                      s["collaboration_retained_by_kind"].items())
    if retained is None:
        print("collaboration kept: no collaboration edges")
    else:
        print(f"collaboration kept: {retained:.1%} of {s['collaboration_total']:g} ({kinds})")
    if s.get("unions_split_list"):
        shown = "; ".join(f"{u['union']} ({', '.join(u['municipalities'][:4])}"
                          f"{' ...' if len(u['municipalities']) > 4 else ''}) between {', '.join(u['plans'])}"
                          for u in s["unions_split_list"][:5])
        more = f"; and {s['unions_split'] - 5} more" if s["unions_split"] > 5 else ""
        print(f"unions of municipalities split: {s['unions_split']}: {shown}{more}")
    if s["ties_broken"]:
        ties = "; ".join(f"{t['name_a']} - {t['name_b']} ({t['weight']:g})" for t in s["ties_broken"][:5])
        print(f"strongest ties broken: {ties}")
    if "municipalities_moved" in s:
        print(f"change from the status quo: {_count(s['municipalities_moved'], 'municipality', 'municipalities')} "
              f"moved ({s['population_moved']:,} inhabitants), {_count(s['plans_merged'], 'plan')} formed by "
              f"merging, {_count(s['plans_split'], 'status quo plan')} split")
    print_bridges(s["bridges"])
    for line in s["violations"]:
        print(f"violation: {line}")
    print(f"note: {s['collaboration_note']}")


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
          "holding one is contiguous only through it. If they are digitising gaps or slivers, try --snap METRES "
          "or --contiguity queen")
