"""Reading what a run works on: the territory, plan files, rules and collaboration, every problem at once.

``load`` gives a territory; ``read_inputs`` adds the plans, rules and collaboration edges a command
or a scenario names by file; ``problem_from_options`` builds the ``Problem`` that ``propose``, a
scenario and the frontier solve. The command line, scenario files and scripts all come through
here, so a plan file is checked the same way whoever reads it.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from lombardy_districts.errors import InputError, did_you_mean, expect, expect_path
from lombardy_districts.io.embedded import data_file
from lombardy_districts.io.userdata import read_municipalities
from lombardy_districts.model.collaboration import (
    RENAMED,
    Collaboration,
    default_collaboration,
    read_collaboration_csv,
)
from lombardy_districts.model.feasibility import boundary_column_problems, locked_code_problems
from lombardy_districts.model.options import DataOptions, ProblemOptions, Selection
from lombardy_districts.model.plan import Plan, read_assignment_csv
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.selection import in_option_words, plan_for, select_territory, warn_enclosed
from lombardy_districts.model.territory import Territory
from lombardy_districts.workflows.propose import build_problem

log = logging.getLogger(__name__)


def load(data: DataOptions | Mapping | None = None, selection: Selection | Mapping | None = None,
         status_quo: str | Path | Plan | None = None, **options) -> Territory:
    """Load a territory: an Italian region of the embedded data, or your own files, or part of either.

    ``options`` are the fields of ``DataOptions`` and ``Selection`` given by name, e.g.
    ``load(province="Sondrio")`` or ``load(municipalities="units.gpkg", population="pop.csv")``.
    ``status_quo`` (a plan CSV, or a ``Plan`` as ``propose`` takes) serves ``within_status_quo=True``:
    just the municipalities it lists, as ``--status-quo SQ.csv --within-status-quo`` does.
    """
    data, selection = data_and_selection("load", data, selection, options)
    region = region_of(data)
    frame = None
    if isinstance(status_quo, Plan):
        frame = pd.DataFrame({"municipality_code": status_quo.assignment.index,
                              "plan_id": status_quo.assignment.values})
    elif status_quo is not None:
        expect_path(status_quo, "status_quo", "a plan CSV file", "give the path of the current plans' CSV, or a Plan")
        frame = read_assignment_csv(status_quo, istat=region.istat, names=region.municipalities["name"])
    try:
        return select_territory(region, selection, frame)
    except InputError as exc:  # load(province=...): said as the call wrote it, not as the command line
        raise InputError([in_option_words(p) for p in exc.problems]) from None


def data_and_selection(caller: str, data: DataOptions | Mapping | None, selection: Selection | Mapping | None,
                       options: Mapping) -> tuple[DataOptions, Selection]:
    """``data`` and ``selection`` with the fields given by name in ``options`` on top; unknown names refused."""
    data_names = {f.name for f in fields(DataOptions)}
    selection_names = {f.name for f in fields(Selection)}
    unknown = sorted(set(options) - data_names - selection_names)
    if unknown:
        allowed = ", ".join(sorted(data_names | selection_names))
        raise InputError([f"{caller}: unknown option {key!r}{did_you_mean(key, data_names | selection_names)}; "
                          f"allowed: {allowed}" for key in unknown])
    data = DataOptions.from_mapping({**_fields(DataOptions.from_mapping(data)),
                                     **{k: v for k, v in options.items() if k in data_names}})
    selection = Selection.from_mapping({**_fields(Selection.from_mapping(selection)),
                                        **{k: v for k, v in options.items() if k in selection_names}})
    return data, selection


def _fields(options) -> dict:
    return {f.name: getattr(options, f.name) for f in fields(options)}


def region_of(data: DataOptions) -> Territory:
    """The whole territory the data options load, before any selection."""
    if data.municipalities is not None:
        gdf = read_municipalities(data.municipalities, data.population, code_column=data.code_column,
                                  name_column=data.name_column, population_column=data.population_column)
        return Territory.from_geodataframe(gdf, kind=data.contiguity, cache=data.cache, snap=float(data.snap))
    return Territory.load(data.region, kind=data.contiguity, cache=data.cache, snap=float(data.snap))


def read_plan(path, territory: Territory, column: str = "plan_id") -> Plan:
    """Read a ``municipality_code,plan_id[,plan_name]`` CSV over ``territory``."""
    expect(territory, Territory, "territory")
    return Plan.from_csv(path, territory, column)


def rules_from(rules: str | Path | Mapping | Rules | None = None, floor: int | None = None) -> Rules:
    """The rules in force: a rules file, a table of overrides of the shipped rules, or the shipped ones.

    ``floor`` then replaces every class floor.
    """
    if isinstance(rules, Rules):
        found = rules
    elif rules is None:
        found = Rules.default()
    elif isinstance(rules, Mapping):
        found = Rules.from_dict(merge_tables(default_rules_table(), rules), source="rules table")
    else:
        found = Rules.from_toml(rules)
    return found if floor is None else found.with_floor(floor)


def default_rules_table() -> dict:
    """The shipped rules file as a TOML table."""
    return tomllib.loads(Path(data_file("rules.toml")).read_text(encoding="utf-8"))


def merge_tables(base: Mapping, changes: Mapping) -> dict:
    """``base`` with ``changes`` applied table by table (a scalar or list replaces, a table merges)."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and key != "municipalities":
            out[key] = merge_tables(out[key], value)
        else:
            out[key] = value
    return out


@dataclass(frozen=True, eq=False)
class Inputs:
    """What a command works on: territory, rules, plans by key, collaboration edges."""

    territory: Territory
    rules: Rules
    plans: dict[str, Plan]
    collaboration: Collaboration


def read_inputs(
    data: DataOptions,
    selection: Selection | None = None,
    plans: Mapping[str, str | Path | None] | None = None,
    *,
    rules: str | Path | Mapping | None = None,
    floor: int | None = None,
    collaboration: str | Path | None = None,
    collaboration_weights: Mapping[str, float] | None = None,
    plan_column: str = "plan_id",
    problems: list[str] | None = None,
) -> Inputs:
    """Territory, rules, plans (key -> Plan, for each file given) and collaboration edges.

    ``plans`` maps keys (``"plan"``, ``"status_quo"``, ...) to CSV files; the one keyed
    ``status_quo`` serves ``selection.within_status_quo`` and the same-current-plan ties. The
    territory is the selection's part of the region, or else the municipalities the first file
    lists (with a warning when that is part of the region). ``problems`` are the caller's own
    checks, raised with the rest.
    """
    problems = list(problems or [])
    selection = selection or Selection()
    region = region_of(data)
    frames = {}
    for key, path in (plans or {}).items():
        if path is None:
            continue
        expect_path(path, key, "a plan CSV file", "write it with to_csv(path) (a Plan's), then give that path")
        try:
            frame = read_assignment_csv(path, plan_column, istat=region.istat, names=region.municipalities["name"])
        except InputError as exc:
            problems += exc.problems
            continue
        unknown = sorted(set(frame["municipality_code"]) - set(region.codes))
        if unknown:
            more = f" and {len(unknown) - 10:,} more" if len(unknown) > 10 else ""
            fix = ("Fix: use 2023 ISTAT codes." if region.istat else
                   "Codes are compared as text, exactly as written: leading zeros count.")
            ours = set(region.municipalities["province_code"]) if "province_code" in region.municipalities else set()
            elsewhere = sorted({c[:3] for c in unknown} - ours) if region.istat else []
            if elsewhere and len(elsewhere) == len({c[:3] for c in unknown}):  # all in other provinces
                fix = (f"Their provinces ({', '.join(elsewhere[:5])}) are not in the region loaded: if they are "
                       "another region's municipalities, load it with --region NAME (Python: load(region=NAME)); "
                       "else use 2023 ISTAT codes.")
            problems.append(f"{path}: unknown municipality codes {', '.join(unknown[:10])}{more} "
                            f"(not among the {len(region.codes):,} municipalities loaded). {fix}")
        frames[key] = (path, frame)
    found_rules = None
    try:
        found_rules = rules_from(rules, floor)
    except InputError as exc:
        problems += exc.problems
    else:
        problems += locked_code_problems(found_rules, region)
        problems += boundary_column_problems(region.municipalities, found_rules.hard_boundaries)
    if problems:
        raise InputError(problems)

    territory = _territory(region, selection, frames)
    found = {}
    for key, (path, frame) in frames.items():
        try:
            found[key] = plan_for(territory, frame, region.codes, what=str(path))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    edges = collaboration_edges(territory, found.get("status_quo"), collaboration, collaboration_weights,
                                known_codes=region.codes)
    assert found_rules is not None
    return Inputs(territory, found_rules, found, edges)


def _territory(region: Territory, selection: Selection, frames: dict) -> Territory:
    """The municipalities a command works on.

    The selection's, when one is given; else the whole region when the status quo is the only
    plan file (``propose``, scenarios, ``frontier``): a status quo must then cover it, and a missing
    municipality is an error naming it, never a silent partial selection. Else (``evaluate``,
    ``map``, ``compare``) the municipalities the first plan file lists, with a warning naming
    the ones it leaves out when that is part of the region.
    """
    if selection.active or not frames:
        status_quo = frames.get("status_quo")
        return select_territory(region, selection, None if status_quo is None else status_quo[1])
    key, (path, frame) = next(iter(frames.items()))
    listed = set(frame["municipality_code"])
    missing = sorted(set(region.codes) - listed)
    if not missing:
        return region
    names = region.municipalities["name"]
    shown = ", ".join(f"{c} {names[c]}" for c in missing[:10]) + (
        f" and {len(missing) - 10:,} more" if len(missing) > 10 else "")
    if key == "status_quo":
        raise InputError(
            f"{path}: the status quo has no plan for {len(missing):,} of the {len(region.codes):,} "
            f"municipalities: {shown}. Fix: give every municipality its current plan, or say that you "
            f"mean part of the region: --within-status-quo (just the {len(listed):,} municipalities it "
            "lists), --province or --select")
    log.warning("%s lists %s of the %s municipalities: working on just these; not listed: %s (use --province, "
                "--select or --within-status-quo to choose another part)", path, f"{len(listed):,}",
                f"{len(region.codes):,}", shown)
    warn_enclosed(region, listed, str(path))
    return region.subset(sorted(listed))


def collaboration_edges(territory: Territory, status_quo: Plan | None = None, path=None,
                        kind_weights: Mapping[str, float] | None = None, known_codes=None) -> Collaboration:
    """Default edges, plus the edges of the file at ``path``, weighted per kind by ``kind_weights``.

    User edges may name any municipality of ``known_codes`` (default: the territory's); those
    with an end outside the territory are dropped, so one region-wide file serves every part.
    """
    edges = default_collaboration(territory, status_quo)
    if path:
        user = read_collaboration_csv(path, known_codes or territory.codes, istat=territory.istat)
        edges = Collaboration.combine(edges, user.restrict(territory.codes))
    if kind_weights:
        unknown = sorted(set(kind_weights) - set(edges.kinds))
        if unknown:
            raise InputError([_unknown_kind(k, edges.kinds) for k in unknown])
        edges = edges.with_kind_weights(dict(kind_weights))
    return edges


def _unknown_kind(kind: str, present: list[str]) -> str:
    if kind in RENAMED:
        return (f"collaboration weight for kind {kind!r}: that kind is now called {RENAMED[kind]!r}; "
                f"write {RENAMED[kind]}=W")
    hint = "; current_plan ties come from a status quo: add --status-quo SQ.csv" if kind == "current_plan" else ""
    return (f"collaboration weight for kind {kind!r}: there are no collaboration edges of that kind"
            f"{did_you_mean(kind, present)}; kinds present: {', '.join(present) or 'none'}{hint}")


def problem_from_options(data: DataOptions, selection: Selection, options: ProblemOptions,
                         problems: list[str] | None = None) -> Problem:
    """Load everything ``options`` names and build the problem (``propose``, scenarios, ``frontier``)."""
    inputs = read_inputs(data, selection, {"status_quo": options.status_quo}, rules=options.rules,
                         floor=options.floor, collaboration=options.collaboration,
                         collaboration_weights=options.collaboration_weights, problems=problems)
    return build_problem(inputs.territory, mode=options.mode, status_quo=inputs.plans.get("status_quo"),
                         objectives=options.objectives, weights=options.weights, rules=inputs.rules,
                         collaboration=inputs.collaboration, min_plans=options.min_plans,
                         max_plans=options.max_plans)
