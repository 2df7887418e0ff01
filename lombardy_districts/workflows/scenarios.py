"""Scenario files: several ``propose`` runs described in one TOML file.

A scenario file holds ``[[scenario]]`` tables, each with a ``name`` and any option of the
``propose`` command, and an optional ``[defaults]`` table whose options every scenario starts from::

    [defaults]
    province = "Sondrio"
    solver = "heuristic"
    time_limit = 5

    [[scenario]]
    name = "floor-25k"
    floor = 25000

    [[scenario]]
    name = "mountain-30k"
    objectives = ["max-plans", "collaboration"]
    [scenario.rules.floors]
    mountain = 30000

Options (``KEYS``): ``rules`` (a rules file, or an inline table in the rules-file structure whose
values override the shipped rules), ``floor``, ``mode``, ``objectives`` (list or comma string),
``weights`` (table objective = weight), ``status_quo``, ``within_status_quo``, ``province``
(name or list), ``select`` (table column = value or list), ``collaboration`` (edges file),
``collaboration_weights`` (table kind = weight), ``min_plans``, ``max_plans``, ``region``,
``municipalities``, ``population``, ``code_column``, ``name_column``, ``population_column``,
``contiguity``, ``solver``, ``time_limit``, ``seed``, ``workers``, ``deterministic`` (true: the same
seed gives the same plan on any machine, see ``propose --deterministic``). Paths are relative to the
scenario file. They fill the typed option objects (``DataOptions``, ``Selection``,
``ProblemOptions``, ``SolverOptions``) that the command line builds too.

Precedence: a scenario's own value of an option replaces the ``[defaults]`` value; tables are not
merged (a scenario's ``rules`` table replaces the defaults' one). ``unset = ["floor", ...]`` in a
scenario drops options it would inherit from ``[defaults]``. ``floor`` replaces every class floor,
so giving it together with ``rules.floors`` is an error naming both and where each came from.
Unknown keys and bad values are errors naming the scenario and the key; every problem is reported
at once.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from lombardy_districts.errors import InputError, did_you_mean, expect_path
from lombardy_districts.model.options import DataOptions, ProblemOptions, Selection, SolverOptions
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.selection import in_option_words, select_territory
from lombardy_districts.workflows.inputs import (
    default_rules_table,
    merge_tables,
    problem_from_options,
    region_of,
    rules_from,
)
from lombardy_districts.workflows.registry import solver_names

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
PATH_KEYS = ("status_quo", "collaboration", "municipalities", "population")
KEYS = (
    "rules", "floor", "mode", "objectives", "weights", "status_quo", "within_status_quo", "province", "select",
    "collaboration", "collaboration_weights", "min_plans", "max_plans", "region", "municipalities", "population",
    "code_column", "name_column", "population_column", "contiguity", "solver", "time_limit", "seed", "workers",
    "deterministic",
)
"""Options a scenario may set (besides ``name`` and ``unset``), in the order of the results table."""
_GROUPS = (DataOptions, Selection, ProblemOptions, SolverOptions)


@dataclass(frozen=True)
class Scenario:
    """One named set of ``propose`` options, validated; paths are absolute.

    ``options`` holds the options the scenario sets (``KEYS``), as given; ``data``, ``selection``,
    ``problem_options`` and ``solver_options`` are the typed objects they fill. Build with
    ``Scenario.from_dict`` (or ``read_scenarios``) so the options are checked.
    """

    name: str
    options: Mapping
    data: DataOptions
    selection: Selection
    problem_options: ProblemOptions
    solver_options: SolverOptions

    @classmethod
    def from_dict(cls, raw: Mapping, base_dir=".", where: str = "scenario",
                  defaults: Mapping | None = None, defaults_where: str = "[defaults]") -> Scenario:
        """Check a table of options (``name`` plus ``KEYS``); paths are taken relative to ``base_dir``.

        ``defaults`` are options the scenario starts from (a scenario file's ``[defaults]``); the
        scenario's own values replace them, and its ``unset`` list drops some of them. A problem
        with an inherited value names ``defaults_where``, not the scenario.

        Raises
        ------
        InputError
            Listing every unknown key and bad value, each naming the scenario and the key.
        """
        raw, defaults = dict(raw), dict(defaults or {})
        name = raw.pop("name", None)
        label = f"{where} {name!r}" if isinstance(name, str) else where
        problems = []
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            given = "no name" if name is None else f"name = {name!r}"
            problems.append(f"{label}: {given}: give each scenario a name of letters, digits, '_', '-' "
                            "or '.' (it becomes a folder name), e.g. name = \"floor-25k\"")
        for key in _unset(raw.pop("unset", []), label, problems):
            if key not in defaults:
                problems.append(f"{label}: unset = [{key!r}]: no default sets {key!r} (defaults set: "
                                f"{', '.join(defaults) or 'nothing'})")
            defaults.pop(key, None)
        merged = {**defaults, **raw}
        source = {key: "the scenario" if key in raw else "[defaults]" for key in merged}
        options = {}
        for key, value in merged.items():
            at = label if source[key] == "the scenario" else defaults_where
            if key not in KEYS:
                problems.append(f"{at}: unknown key {key!r}{did_you_mean(key, KEYS)}; allowed: name, unset, "
                                f"{', '.join(KEYS)}")
                continue
            try:
                options[key] = _check(key, value, Path(base_dir))
            except ValueError as exc:
                problems.append(f"{at}: {key} = {value!r}: {exc}")
        if "floor" in options and isinstance(options.get("rules"), Mapping) and "floors" in options["rules"]:
            problems.append(f"{label}: floor = {options['floor']} (from {source['floor']}) and rules.floors (from "
                            f"{source['rules']}) conflict: floor replaces every class floor. Fix: keep one of them, "
                            "or drop an inherited one with unset = [\"floor\"] or unset = [\"rules\"]")
        typed = []
        for group in _GROUPS:
            try:
                typed.append(group.from_mapping({k: v for k, v in options.items() if k in _names(group)}))
            except InputError as exc:
                problems += [f"{label}: {p}" for p in exc.problems]
        if problems:
            raise InputError(problems)
        return cls(name, options, *typed)  # type: ignore[arg-type]

    def get(self, key: str, default=None):
        """An option's value, or ``default`` when the scenario does not set it."""
        return self.options.get(key, default)

    def row(self) -> dict:
        """``name`` and every option in ``KEYS`` as a flat, CSV-ready dict (unset options empty)."""
        return {"name": self.name, **{key: _flat(self.options.get(key)) for key in KEYS}}

    def rules_in_force(self) -> Rules:
        """The rules ``problem()`` uses (with ``floor`` applied), without loading any data."""
        return rules_from(self.problem_options.rules, self.problem_options.floor)

    def problem(self, cache=None) -> Problem:
        """Load the data and build the problem, exactly as ``propose`` does with the same options.

        ``cache`` (True, False or a folder) overrides the graph cache setting of the data options.
        """
        data = self.data if cache is None else DataOptions.from_mapping(
            {**{f.name: getattr(self.data, f.name) for f in fields(DataOptions)}, "cache": cache})
        return problem_from_options(data, self.selection, self.problem_options)


def _names(group) -> set[str]:
    return {f.name for f in fields(group)}


def _unset(value, label: str, problems: list[str]) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{label}: unset = {value!r}: must be a list of option names, e.g. unset = [\"floor\"]")
        return []
    return value


def read_scenarios(path) -> list[Scenario]:
    """Read and check a scenario file (see the module docstring for its structure).

    Raises
    ------
    InputError
        When the file is missing or not TOML, has unknown top-level keys, no scenarios, scenarios
        with the same name, or any unknown key or bad value (all reported together).
    """
    expect_path(path, "path", "a scenario file (TOML)")
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"scenario file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read scenario file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"scenario file {path} is not valid TOML: {exc}") from None
    problems = [f"{path}: unknown top-level key {k!r}; allowed: [defaults] and [[scenario]] tables"
                for k in raw if k not in ("scenario", "defaults")]
    defaults = raw.get("defaults", {})
    tables = raw.get("scenario", [])
    if not isinstance(defaults, dict):
        problems.append(f"{path}: defaults must be a table: [defaults]")
        defaults = {}
    for key in ("name", "unset"):
        if key in defaults:
            problems.append(f"{path}: [defaults] cannot set {key}; set it in each [[scenario]]")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        problems.append(f"{path}: no scenarios; add [[scenario]] tables, each with a name and propose options")
        tables = []
    if problems:
        raise InputError(problems)
    return scenarios_from_dicts(tables, base_dir=path.parent, source=str(path), defaults=defaults)


def scenarios_from_dicts(tables: Iterable[Mapping | Scenario], base_dir=".", source: str = "scenarios",
                         defaults: Mapping | None = None) -> list[Scenario]:
    """Check several option tables at once (the Python form of a scenario file)."""
    out, problems, names = [], [], []
    for i, table in enumerate(tables, 1):
        if isinstance(table, Scenario):
            table = {"name": table.name, **table.options}
        if not isinstance(table, Mapping):
            problems.append(f"{source}: scenario {i} is a {type(table).__name__}: expected a table of options or a "
                            "Scenario; fix: read_scenarios(path) reads a scenario file")
            continue
        names.append(table.get("name"))
        try:
            out.append(Scenario.from_dict(table, base_dir, where=f"{source}: scenario {i}", defaults=defaults,
                                          defaults_where=f"{source}: [defaults]"))
        except InputError as exc:
            problems += [p for p in exc.problems if p not in problems]  # a bad default is said once
    seen: dict[str, int] = {}
    for name in names:
        if isinstance(name, str):
            seen[name] = seen.get(name, 0) + 1
    problems += [f"{source}: {n} scenarios are named {name!r}; names must be unique (they are folder names)"
                 for name, n in seen.items() if n > 1]
    if problems:
        raise InputError(problems)
    return out


def selection_problems(scenarios: Iterable[Scenario]) -> list[str]:
    """Unknown provinces and column values of the scenarios' selections, before any scenario runs.

    Each scenario's data is loaded once per set of data options; data that fails to load is left
    for the scenario's own run to report.
    """
    regions: dict = {}
    problems = []
    for scenario in scenarios:
        chosen = scenario.selection
        if not chosen.province and not chosen.select:
            continue
        if scenario.data not in regions:
            try:
                regions[scenario.data] = region_of(scenario.data)
            except InputError:
                regions[scenario.data] = None
        if regions[scenario.data] is None:
            continue
        try:
            select_territory(regions[scenario.data], Selection(province=chosen.province, select=chosen.select))
        except InputError as exc:
            problems += [f"scenario {scenario.name!r}: " + in_option_words(p) for p in exc.problems]
    return problems


def _check(key: str, value, base: Path):
    """The value of one option, with paths made absolute; ValueError says what is allowed.

    Values are checked in full by the option objects; this resolves paths and checks the
    inline rules table and the solver name, which those objects cannot.
    """
    if key in PATH_KEYS or (key == "rules" and isinstance(value, str)):
        if not isinstance(value, str) or not value:
            raise ValueError("must be a file path (relative to the scenario file)")
        path = (base / value).resolve()
        if not path.is_file():
            raise ValueError(f"file {path} does not exist")
        return str(path)
    if key == "rules":
        if not isinstance(value, dict):
            raise ValueError("must be a rules file path or a [scenario.rules] table like the rules file")
        try:
            Rules.from_dict(merge_tables(default_rules_table(), value))
        except InputError as exc:
            raise ValueError("; ".join(exc.problems)) from None
        return value
    if key in ("objectives", "province") and isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if key == "select" and isinstance(value, dict):
        return {c: [v.strip() for v in vs.split(",") if v.strip()] if isinstance(vs, str) else vs
                for c, vs in value.items()}
    if key == "solver" and value not in solver_names():
        hint = did_you_mean(value, solver_names()) if isinstance(value, str) else ""
        raise ValueError(f"allowed: {', '.join(solver_names())}{hint}")
    if key in ("weights", "collaboration_weights") and isinstance(value, dict):
        return {k: float(w) if isinstance(w, int) and not isinstance(w, bool) else w for k, w in value.items()}
    return value


def _flat(value):
    """An option as one CSV cell."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value
