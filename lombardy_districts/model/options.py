"""Typed options of the Python API; the command line and scenario files build the same objects.

=================  ==========================================================================
``DataOptions``    where the municipalities come from (embedded region or your own files)
``Selection``      which part of them to work on (provinces, column values, the status quo's)
``ProblemOptions`` what to solve, from files: mode, objectives, floors, status quo, collaboration
``SolverOptions``  how to search: solver, time limit, seed, threads, deterministic mode, tuning
=================  ==========================================================================

Each is a frozen dataclass that checks its values when built; ``from_mapping`` builds one from a
dict (a scenario table, say) and rejects unknown keys with a message naming the key and the allowed
ones. Every problem is reported at once as an ``InputError``.

Every number has an allowed range (the ``MAX_*`` limits below), checked by ``number_problem``
wherever a number enters: here, in rules files (``rules.Rules``), collaboration files, user
populations (``Territory``) and the command line. Within these limits the solvers' integer
arithmetic cannot overflow.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Self

from lombardy_districts.errors import InputError, did_you_mean
from lombardy_districts.io.graph import DEFAULT_SNAP_M

MODES = ("scratch", "merge", "repair")
OBJECTIVES = ("max-plans", "collaboration", "disruption", "compact")
CONTIGUITY = ("rook", "queen")
DEFAULT_SOLVER = "cpsat"
DEFAULT_TIME_LIMIT = 60.0

MAX_POPULATION = 10_000_000_000
"""Largest floor or ceiling, and largest population of a territory, in inhabitants."""
MAX_DENSITY = 100_000
"""Largest density cut-off of the class rule, in inhabitants per km2."""
MAX_WEIGHT = 1_000_000
"""Largest objective weight, collaboration weight or weight of a kind of collaboration tie."""
MAX_SECONDS = 1_000_000
"""Longest time limit or budget, in seconds (about 11.5 days)."""
MAX_SEED = 2**31 - 1
"""Largest seed (CP-SAT takes a 32-bit seed)."""
MAX_WORKERS = 128
"""Most solver threads."""
MAX_JOBS = 64
"""Most scenarios run at the same time."""
MAX_PLANS = 1_000_000
"""Largest bound on the number of area plans."""
MAX_SNAP_M = 10_000
"""Largest snapping tolerance of the contiguity graph, in metres."""


class _Options:
    """``from_mapping`` and the shared checks of the option classes."""

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | Self | None, where: str = "") -> Self:
        """Build from a mapping of field names; unknown keys are errors naming the allowed ones."""
        if raw is None:
            return cls()
        if isinstance(raw, cls):
            return raw
        if not isinstance(raw, Mapping):
            raise InputError(f"{where or cls.__name__}: expected a {cls.__name__} or a table of its options, "
                             f"got {raw!r}")
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        unknown = [key for key in raw if key not in names]
        if unknown:
            label = f"{where}: " if where else ""
            raise InputError([f"{label}unknown {cls._what} option {key!r}{did_you_mean(str(key), names)}; "
                              f"allowed: {', '.join(names)}" for key in unknown])
        return cls(**raw)

    _what = "an"


def _raise(problems: list[str], where: str) -> None:
    if problems:
        raise InputError(problems)


def number_problem(name: str, value, low: float, high: float, *, whole: bool, unit: str = "",
                   above: bool = False) -> str | None:
    """None when ``value`` is a finite number in range, else the message saying what is allowed.

    The range is ``low <= value <= high`` (``low < value`` when ``above``); ``whole`` asks for a
    whole number; ``unit`` names what is counted (" of inhabitants", " of seconds").
    """
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    ok = ok and (not whole or value == int(value)) and (value > low if above else value >= low) and value <= high
    if ok:
        return None
    kind = "a whole number" if whole else "a number"
    span = f"above {low:,} and at most {high:,}" if above else f"from {low:,} to {high:,}"
    return f"{name} = {value!r}: must be {kind}{unit} {span}"


def _strings(value) -> tuple[str, ...]:
    """One string, a comma-separated string or a list of strings, as a tuple."""
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str | int) and not isinstance(v, bool)
                                               for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise ValueError("must be a string or a list of strings")


@dataclass(frozen=True)
class DataOptions(_Options):
    """Where the municipalities come from.

    ``region`` names an Italian region of the embedded data (default Lombardy). With
    ``municipalities`` (a GeoPackage, GeoJSON or Shapefile) and ``population`` (a CSV), your own
    data is used instead, its columns named by ``code_column``, ``name_column`` and
    ``population_column``. ``contiguity`` is ``rook`` (a shared boundary line) or ``queen`` (a shared
    point is enough); ``snap`` is the snapping tolerance in metres (gaps and overlapping slivers
    narrower than this are closed; see ``io.graph.contiguity_graph``). ``cache``: True for the
    default graph cache folder, False for none, or a folder.
    """

    region: str = "lombardia"
    municipalities: str | Path | None = None
    population: str | Path | None = None
    code_column: str = "code"
    name_column: str = "name"
    population_column: str = "population"
    contiguity: str = "rook"
    snap: float = DEFAULT_SNAP_M
    cache: bool | str | Path = True
    _what = "data"

    def __post_init__(self):
        problems = []
        if self.contiguity not in CONTIGUITY:
            problems.append(f"contiguity = {self.contiguity!r}: allowed: {', '.join(CONTIGUITY)}")
        if self.population is not None and self.municipalities is None:
            problems.append("population (--population) needs municipalities (--municipalities): the embedded "
                            "data has its own population")
        for name in ("region", "code_column", "name_column", "population_column"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                problems.append(f"{name} = {value!r}: must be a non-empty string")
        if not isinstance(self.cache, bool | str | Path):
            problems.append(f"cache = {self.cache!r}: must be true, false or a folder")
        if bad := number_problem("snap", self.snap, 0, MAX_SNAP_M, whole=False, unit=" of metres"):
            problems.append(f"{bad} (default {DEFAULT_SNAP_M:g}; 0 for exact contiguity)")
        _raise(problems, "data")


@dataclass(frozen=True)
class Selection(_Options):
    """The part of the territory to work on; several criteria intersect.

    ``province``: names (case and accents ignored) or ISTAT codes; ``select``: column -> values;
    ``within_status_quo``: only the municipalities the status quo lists.
    """

    province: tuple[str, ...] = ()
    select: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    within_status_quo: bool = False
    _what = "selection"

    def __post_init__(self):
        problems = []
        try:
            object.__setattr__(self, "province", _strings(self.province))
        except ValueError as exc:
            problems.append(f"province = {self.province!r}: {exc}")
        if not isinstance(self.select, Mapping):
            problems.append(f"select = {self.select!r}: must be a table of column = value or list of values")
        else:
            select = {}
            for column, values in self.select.items():
                try:
                    select[str(column)] = _strings(values)
                except ValueError as exc:
                    problems.append(f"select.{column} = {values!r}: {exc}")
                    continue
                if not select[str(column)]:
                    problems.append(f"select.{column}: give at least one value")
            object.__setattr__(self, "select", select)
        if not isinstance(self.within_status_quo, bool):
            problems.append(f"within_status_quo = {self.within_status_quo!r}: must be true or false")
        _raise(problems, "selection")

    @property
    def active(self) -> bool:
        """Whether any criterion is set."""
        return bool(self.province or self.select or self.within_status_quo)


@dataclass(frozen=True)
class ProblemOptions(_Options):
    """What to solve, with its inputs as files (the options of ``propose`` and of a scenario).

    ``rules`` is a rules file or a table in the rules-file structure whose values override the
    shipped rules; ``floor`` then replaces every class floor. ``objectives`` default by mode (see
    ``problem.DEFAULT_OBJECTIVES``); ``weights`` turns them into a weighted sum. ``status_quo`` and
    ``collaboration`` are CSV files; ``collaboration_weights`` rescales kinds of collaboration tie.
    ``min_plans`` and ``max_plans`` bound the number of area plans.
    """

    mode: str = "scratch"
    objectives: tuple[str, ...] | None = None
    weights: Mapping[str, float] | None = None
    floor: int | None = None
    rules: str | Path | Mapping | None = None
    status_quo: str | Path | None = None
    collaboration: str | Path | None = None
    collaboration_weights: Mapping[str, float] = field(default_factory=dict)
    min_plans: int | None = None
    max_plans: int | None = None
    _what = "problem"

    def __post_init__(self):
        problems = []
        if self.mode not in MODES:
            problems.append(f"mode = {self.mode!r}: allowed: {', '.join(MODES)}")
        if self.objectives is not None:
            try:
                objectives = _strings(self.objectives)
            except ValueError as exc:
                problems.append(f"objectives = {self.objectives!r}: {exc}")
                objectives = ()
            bad = [o for o in objectives if o not in OBJECTIVES]
            if bad or not objectives:
                named = unknown_objectives(bad)
                problems.append(f"objectives = {self.objectives!r}: " + (f"{named}; " if named else "")
                                + f"allowed objectives: {', '.join(OBJECTIVES)} (a list or a comma-separated string)")
            object.__setattr__(self, "objectives", objectives)
        problems += weights_problems("weights", self.weights, OBJECTIVES)
        problems += weights_problems("collaboration_weights", self.collaboration_weights, None)
        if self.floor is not None:
            problems += _some(number_problem("floor", self.floor, 0, MAX_POPULATION, whole=True,
                                             unit=" of inhabitants"))
        for name in ("min_plans", "max_plans"):
            value = getattr(self, name)
            if value is not None:
                problems += _some(number_problem(name, value, 1, MAX_PLANS, whole=True, unit=" of area plans"))
        if not problems and self.weights:
            object.__setattr__(self, "weights", {str(k): float(v) for k, v in self.weights.items()})
        _raise(problems, "problem")


def weights_problems(name: str, value, allowed) -> list[str]:
    """Problems of a table of weights (``name.key = w``): each a finite number from 0 to ``MAX_WEIGHT``.

    ``allowed`` lists the keys allowed (None: any).
    """
    if value is None or (name == "collaboration_weights" and value == {}):
        return []
    if not isinstance(value, Mapping) or not value:
        return [f"{name} = {value!r}: must be a table of name = number, e.g. {{ collaboration = 2.0 }}"]
    out = [p for k, w in value.items() if (p := number_problem(f"{name}.{k}", w, 0, MAX_WEIGHT, whole=False))]
    if allowed is not None:
        out += [f"{name}: unknown objective {k!r}; allowed: {', '.join(allowed)}" for k in value if k not in allowed]
    return out


def _some(problem: str | None) -> list[str]:
    return [] if problem is None else [problem]


@dataclass(frozen=True)
class SolverOptions(_Options):
    """How to search.

    ``solver``: ``cpsat``, ``heuristic``, ``pulp`` or an installed third-party solver.
    ``time_limit``: seconds (None: no limit). ``seed``: a whole number >= 0; the same seed gives the
    same plan when the run is ``deterministic`` (work counted instead of time, so any machine
    gives the same answer; heuristic and cpsat, one thread). ``workers``: threads (and the
    heuristic's processes on large maps), None for each solver's default (its ``WORKERS``: 2 for
    cpsat, whose heuristic warm start gets as many, 1 for the others). ``tuning``: expert settings
    of the chosen solver (each solver lists its own in ``TUNING``; unknown ones are refused when the
    solver is built).
    """

    solver: str = DEFAULT_SOLVER
    time_limit: float | None = DEFAULT_TIME_LIMIT
    seed: int = 0
    workers: int | None = None
    deterministic: bool = False
    tuning: Mapping[str, Any] = field(default_factory=dict)
    _what = "solver"

    def __post_init__(self):
        problems = []
        if not isinstance(self.solver, str) or not self.solver:
            problems.append(f"solver = {self.solver!r}: must be a solver name such as cpsat, heuristic, pulp")
        if self.time_limit is not None:
            problem = number_problem("time_limit", self.time_limit, 0, MAX_SECONDS, whole=False, above=True,
                                     unit=" of seconds")
            if problem:
                problems.append(problem)
            else:
                object.__setattr__(self, "time_limit", float(self.time_limit))
        problems += _some(number_problem("seed", self.seed, 0, MAX_SEED, whole=True))
        if self.workers is not None:
            problems += _some(number_problem("workers", self.workers, 1, MAX_WORKERS, whole=True,
                                             unit=" of solver threads"))
        if not isinstance(self.deterministic, bool):
            problems.append(f"deterministic = {self.deterministic!r}: must be true or false (true: stop on "
                            "counted work, not on the clock, so a seed always gives the same plan)")
        if not isinstance(self.tuning, Mapping):
            problems.append(f"tuning = {self.tuning!r}: must be a table of solver settings")
        _raise(problems, "solver")


def unknown_objectives(bad) -> str:
    """``"unknown 'colaboration' (did you mean 'collaboration'?)"`` for each name of ``bad``."""
    return "; ".join(f"unknown {o!r}{did_you_mean(str(o), OBJECTIVES)}" for o in bad)
