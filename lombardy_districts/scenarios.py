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
``collaboration_weights`` (table kind = weight), ``region``, ``municipalities``, ``population``,
``code_column``, ``name_column``, ``population_column``, ``contiguity``, ``solver``,
``time_limit``, ``seed``, ``workers``, ``deterministic`` (true: the same seed gives the same plan on
any machine, see ``propose --deterministic``). Paths are relative to the scenario file. Unknown keys and
bad values are errors naming the scenario and the key; every problem is reported at once.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .api import DEFAULT_SOLVER, DEFAULT_TIME_LIMIT
from .errors import InputError
from .problem import MODES, OBJECTIVES, Problem
from .rules import Rules

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
PATH_KEYS = ("status_quo", "collaboration", "municipalities", "population")
KEYS = (
    "rules", "floor", "mode", "objectives", "weights", "status_quo", "within_status_quo", "province", "select",
    "collaboration", "collaboration_weights", "region", "municipalities", "population", "code_column",
    "name_column", "population_column", "contiguity", "solver", "time_limit", "seed", "workers",
    "deterministic",
)
"""Options a scenario may set (besides ``name``), in the order of the results table."""


@dataclass(frozen=True)
class Scenario:
    """One named set of ``propose`` options, validated; paths are absolute.

    Build with ``Scenario.from_dict`` (or ``read_scenarios``) so the options are checked.
    """

    name: str
    options: Mapping

    @classmethod
    def from_dict(cls, raw: Mapping, base_dir=".", where: str = "scenario") -> Scenario:
        """Check a table of options (``name`` plus ``KEYS``); paths are taken relative to ``base_dir``.

        Raises
        ------
        InputError
            Listing every unknown key and bad value, each naming the scenario and the key.
        """
        raw = dict(raw)
        name = raw.pop("name", None)
        label = f"{where} {name!r}" if isinstance(name, str) else where
        problems = []
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            problems.append(f"{label}: name = {name!r}: give each scenario a name of letters, digits, '_', '-' "
                            "or '.' (it becomes a folder name), e.g. name = \"floor-25k\"")
        options = {}
        for key, value in raw.items():
            if key not in KEYS:
                problems.append(f"{label}: unknown key {key!r}; allowed: name, {', '.join(KEYS)}")
                continue
            try:
                options[key] = _check(key, value, Path(base_dir))
            except ValueError as exc:
                problems.append(f"{label}: {key} = {value!r}: {exc}")
        if problems:
            raise InputError(problems)
        return cls(name, options)

    def get(self, key: str, default=None):
        """An option's value, or ``default`` when the scenario does not set it."""
        return self.options.get(key, default)

    def row(self) -> dict:
        """``name`` and every option in ``KEYS`` as a flat, CSV-ready dict (unset options empty)."""
        return {"name": self.name, **{key: _flat(self.options.get(key)) for key in KEYS}}

    def rules(self) -> Rules | None:
        """The scenario's rules (a file, or inline overrides of the shipped rules), else None."""
        value = self.options.get("rules")
        if value is None:
            return None
        if isinstance(value, str):
            return Rules.from_toml(value)
        return Rules.from_dict(_merge(_default_rules_table(), value), source=f"scenario {self.name!r} rules")

    def rules_in_force(self) -> Rules:
        """The rules ``problem()`` uses (with ``floor`` applied), without loading any data."""
        rules = self.rules() or Rules.default()
        floor = self.options.get("floor")
        return rules if floor is None else rules.with_floor(floor)

    def problem(self, cache=True) -> Problem:
        """Load the data and build the problem, exactly as ``propose`` does with the same options."""
        from .propose_cli import problem_from_args

        args = self.namespace(cache)
        problem = problem_from_args(args)
        rules = self.rules()
        if rules is not None and not isinstance(self.options["rules"], str):
            if args.floor is not None:
                rules = rules.with_floor(args.floor)
            problem = replace(problem, rules=rules)
        return problem

    def namespace(self, cache=True) -> argparse.Namespace:
        """The ``propose`` command-line options this scenario stands for."""
        o = self.options
        province = o.get("province")
        rules = o.get("rules")
        return argparse.Namespace(
            mode=o.get("mode", "scratch"), status_quo=o.get("status_quo"),
            objective=",".join(o["objectives"]) if o.get("objectives") else None,
            weight=[f"{k}={v}" for k, v in (o.get("weights") or {}).items()],
            rules=rules if isinstance(rules, str) else None, floor=o.get("floor"),
            collaboration=o.get("collaboration"),
            collaboration_weight=[f"{k}={v}" for k, v in (o.get("collaboration_weights") or {}).items()],
            region=o.get("region", "lombardia"), municipalities=o.get("municipalities"),
            population=o.get("population"), code_column=o.get("code_column", "code"),
            name_column=o.get("name_column", "name"), population_column=o.get("population_column", "population"),
            contiguity=o.get("contiguity", "rook"),
            cache_dir=None if isinstance(cache, bool) else str(cache), no_cache=cache is False,
            province=",".join(province) if isinstance(province, list) else province,
            select=[f"{c}={','.join(v)}" for c, v in (o.get("select") or {}).items()],
            within_status_quo=o.get("within_status_quo", False),
            solver=o.get("solver", DEFAULT_SOLVER), time_limit=o.get("time_limit", DEFAULT_TIME_LIMIT),
            seed=o.get("seed", 0), workers=o.get("workers"), deterministic=o.get("deterministic", False),
        )


def read_scenarios(path) -> list[Scenario]:
    """Read and check a scenario file (see the module docstring for its structure).

    Raises
    ------
    InputError
        When the file is missing or not TOML, has unknown top-level keys, no scenarios, scenarios
        with the same name, or any unknown key or bad value (all reported together).
    """
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
    if "name" in defaults:
        problems.append(f"{path}: [defaults] cannot set name; name each [[scenario]]")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        problems.append(f"{path}: no scenarios; add [[scenario]] tables, each with a name and propose options")
        tables = []
    if problems:
        raise InputError(problems)
    return scenarios_from_dicts([{**defaults, **t} for t in tables], base_dir=path.parent, source=str(path))


def scenarios_from_dicts(tables: Iterable[Mapping], base_dir=".", source: str = "scenarios") -> list[Scenario]:
    """Check several option tables at once (the Python form of a scenario file)."""
    out, problems, names = [], [], []
    for i, table in enumerate(tables, 1):
        names.append(table.name if isinstance(table, Scenario) else table.get("name"))
        if isinstance(table, Scenario):
            out.append(table)
            continue
        try:
            out.append(Scenario.from_dict(table, base_dir, where=f"{source}: scenario {i}"))
        except InputError as exc:
            problems += exc.problems
    seen: dict[str, int] = {}
    for name in names:
        if isinstance(name, str):
            seen[name] = seen.get(name, 0) + 1
    problems += [f"{source}: {n} scenarios are named {name!r}; names must be unique (they are folder names)"
                 for name, n in seen.items() if n > 1]
    if problems:
        raise InputError(problems)
    return out


def _check(key: str, value, base: Path):
    """The normalised value of one option; ValueError says what is allowed."""
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
            Rules.from_dict(_merge(_default_rules_table(), value))
        except InputError as exc:
            raise ValueError("; ".join(exc.problems)) from None
        return value
    if key in ("floor", "seed", "workers"):
        low = {"floor": 0, "seed": 0, "workers": 1}[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"must be a whole number >= {low}")
        return value
    if key == "time_limit":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise ValueError("must be a number of seconds > 0, e.g. time_limit = 30")
        return float(value)
    if key == "mode":
        return _choice(value, MODES)
    if key == "contiguity":
        return _choice(value, ("rook", "queen"))
    if key == "objectives":
        items = _strings(value)
        bad = [o for o in items if o not in OBJECTIVES]
        if bad or not items:
            raise ValueError(f"allowed objectives: {', '.join(OBJECTIVES)} (a list or a comma-separated string)")
        return items
    if key in ("weights", "collaboration_weights"):
        if not isinstance(value, dict) or not value:
            raise ValueError("must be a table of name = number, e.g. { collaboration = 2.0 }")
        bad = [k for k, w in value.items()
               if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0]
        if bad:
            raise ValueError(f"weights of {bad} must be finite numbers >= 0")
        if key == "weights" and set(value) - set(OBJECTIVES):
            raise ValueError(f"unknown objectives {sorted(set(value) - set(OBJECTIVES))}; "
                             f"allowed: {', '.join(OBJECTIVES)}")
        return {str(k): float(w) for k, w in value.items()}
    if key == "province":
        items = _strings(value)
        if not items:
            raise ValueError("must be a province name or a list of names, e.g. province = \"Sondrio\"")
        return items[0] if len(items) == 1 else items
    if key == "select":
        if not isinstance(value, dict) or not value:
            raise ValueError("must be a table of column = value or list, e.g. { labour_market_area = \"Sondrio\" }")
        return {str(c): _strings(v) for c, v in value.items()}
    if key in ("within_status_quo", "deterministic"):
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, e.g. {key} = true")
        return value
    if key == "solver":
        from .registry import solver_names

        return _choice(value, tuple(solver_names()) or (value,))
    if not isinstance(value, str) or not value:  # region, *_column
        raise ValueError("must be a non-empty string")
    return value


def _choice(value, allowed):
    if value not in allowed:
        raise ValueError(f"allowed: {', '.join(allowed)}")
    return value


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    raise ValueError("must be a string or a list of strings")


def _default_rules_table() -> dict:
    from .load import data_file

    return tomllib.loads(Path(data_file("rules.toml")).read_text(encoding="utf-8"))


def _merge(base: dict, changes: Mapping) -> dict:
    """``base`` with ``changes`` applied table by table (a scalar or list replaces, a table merges)."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and key != "municipalities":
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _flat(value):
    """An option as one CSV cell."""
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value
