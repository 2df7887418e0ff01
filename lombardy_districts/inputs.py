"""Reading a command's inputs: the territory, the rules and plan files, every problem reported at once.

``evaluate``, ``propose``, ``map`` and ``compare`` all read their inputs here, so a plan file is
checked the same way whichever command reads it.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass

from .collaboration import Collaboration, default_collaboration, parse_kind_weights, read_collaboration_csv
from .errors import InputError
from .plan import Plan, read_assignment_csv
from .rules import Rules
from .selection import has_selection, plan_for, select_territory
from .territory import Territory

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Inputs:
    """What a command works on: territory, rules, plans by key, collaboration edges."""

    territory: Territory
    rules: Rules
    plans: dict[str, Plan]
    collaboration: Collaboration


def read_inputs(args: argparse.Namespace, paths: dict[str, str | None], problems: list[str] | None = None) -> Inputs:
    """Territory, rules, plans (key -> Plan, for each path given) and collaboration from the options.

    ``paths`` maps keys (``"plan"``, ``"status_quo"``, ...) to CSV files; the one keyed
    ``status_quo`` serves ``--within-status-quo``. The territory is the selection options' part
    of the region, or else the municipalities the first file lists (with a warning when that is
    part of the region). Collaboration edges: ``collaboration_from_args`` with the plan keyed
    ``status_quo``. ``problems`` are the caller's own checks, raised with the rest.
    """
    from .cli import territory_from_args

    problems = list(problems or [])
    region = territory_from_args(args)
    column = getattr(args, "plan_column", "plan_id")
    frames = {}
    for key, path in paths.items():
        if path is None:
            continue
        try:
            frame = read_assignment_csv(path, column)
        except InputError as exc:
            problems += exc.problems
            continue
        unknown = sorted(set(frame["municipality_code"]) - set(region.codes))
        if unknown:
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            problems.append(f"{path}: unknown municipality codes {', '.join(unknown[:10])}{more} "
                            f"(not among the {len(region.codes):,} municipalities loaded). Fix: use 2023 ISTAT codes.")
        frames[key] = frame
    rules = None
    try:
        rules = Rules.from_toml(args.rules) if args.rules else Rules.default()
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)

    if has_selection(args) or not frames:
        territory = select_territory(region, args, frames.get("status_quo"))
    else:
        first = next(iter(frames))
        listed = set(frames[first]["municipality_code"])
        territory = region
        if listed != set(region.codes):
            log.warning("%s lists %d of the %d municipalities: working on just these (use --province, --select "
                        "or --within-status-quo to choose another part)", paths[first], len(listed), len(region.codes))
            territory = region.subset(sorted(listed))
    plans = {}
    for key, frame in frames.items():
        try:
            plans[key] = plan_for(territory, frame, region.codes, what=str(paths[key]))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    collaboration = collaboration_from_args(args, territory, plans.get("status_quo"), known_codes=region.codes)
    return Inputs(territory, rules, plans, collaboration)


def collaboration_from_args(args: argparse.Namespace, territory, status_quo=None, known_codes=None) -> Collaboration:
    """Default edges, plus ``--collaboration`` edges, weighted per kind by ``--collaboration-weight``.

    User edges may name any municipality of ``known_codes`` (default: the territory's); those
    with an end outside the territory are dropped, so one region-wide file serves every part.
    """
    edges = default_collaboration(territory, status_quo)
    if getattr(args, "collaboration", None):
        user = read_collaboration_csv(args.collaboration, known_codes or territory.codes)
        edges = Collaboration.combine(edges, user.restrict(territory.codes))
    weights = parse_kind_weights(getattr(args, "collaboration_weight", []), kinds=set(edges.kinds))
    return edges.with_kind_weights(weights) if weights else edges
