"""Rules as data: population floors per threshold class and how a plan's class is decided."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lombardy_districts.errors import InputError, did_you_mean
from lombardy_districts.io.embedded import MOUNTAIN_STATUSES, data_file
from lombardy_districts.model.options import MAX_DENSITY, MAX_POPULATION, number_problem

CLASSES = ("standard", "high_density", "mountain", "low_density")
_SECTIONS = {
    "floors": set(CLASSES),
    "classes": {"mountain_area_share", "mountain_statuses", "mountain_density_below", "high_density_min",
                "low_density_max"},
    "limits": {"ceiling"},
    "boundaries": {"hard", "keep_together"},
    "locked": {"municipalities", "plans"},
}


@dataclass(frozen=True)
class Rules:
    """Floors per class, the class rule, and optional ceiling, hard boundaries, ties kept whole and locks.

    A plan's class is *mountain* when more than ``mountain_area_share`` of its area lies in
    municipalities whose ``mountain_status`` is in ``mountain_statuses`` and its density is below
    ``mountain_density_below`` inhabitants per km2 (a dense town is never a mountain plan);
    otherwise *high_density* when its density is at least ``high_density_min``,
    *low_density* when at most ``low_density_max``, else *standard* (computed exactly by
    ``measures.ClassRule``). A plan complies when its population is at least the floor of its
    class (and at most ``ceiling``, if set). No area plan may hold municipalities with different
    values of a ``hard_boundaries`` column (e.g. ``ats``), and the municipalities joined by
    collaboration ties of a ``keep_together`` kind (e.g. ``union``: each union of municipalities)
    share one area plan.
    """

    floors: dict[str, int] = field(
        default_factory=lambda: {"standard": 80_000, "high_density": 120_000, "mountain": 25_000,
                                 "low_density": 25_000}
    )
    mountain_area_share: float = 0.5
    mountain_statuses: tuple[str, ...] = ("totally",)
    mountain_density_below: float = 1000.0
    high_density_min: float = 1000.0
    low_density_max: float = 150.0
    ceiling: int | None = None
    hard_boundaries: tuple[str, ...] = ()
    keep_together: tuple[str, ...] = ()
    locked_municipalities: dict[str, str] = field(default_factory=dict)
    locked_plans: tuple[str, ...] = ()

    def __post_init__(self):
        for name in ("mountain_statuses", "hard_boundaries", "keep_together", "locked_plans"):
            value = getattr(self, name)  # one name where a list belongs means a list of one, as in rules files
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(_as_list(value)))
        problems = self._number_problems()
        bad = [s for s in self.mountain_statuses if s not in MOUNTAIN_STATUSES]
        if bad:
            problems.append(f"classes.mountain_statuses has {bad}; allowed: {', '.join(MOUNTAIN_STATUSES)}")
        if not problems and self.low_density_max >= self.high_density_min:
            problems.append(
                f"classes.low_density_max ({self.low_density_max}) must be below "
                f"classes.high_density_min ({self.high_density_min})"
            )
        if self.ceiling is not None and not problems and self.ceiling < min(self.floors.values()):
            problems.append(f"limits.ceiling = {self.ceiling:,} is below every floor (lowest "
                            f"{min(self.floors.values()):,}): no plan could comply. Fix: raise the ceiling.")
        bad = [c for c in self.hard_boundaries if not isinstance(c, str) or not c]
        if bad:
            problems.append(f"boundaries.hard has {bad!r}; must be column names such as \"province\" or \"ats\"")
        bad = [c for c in self.keep_together if not isinstance(c, str) or not c]
        if bad:
            problems.append(f"boundaries.keep_together has {bad!r}; must be kinds of collaboration tie such as "
                            "\"union\"")
        bad = [c for c in self.locked_municipalities if not (isinstance(c, str) and c.strip())]
        if bad:
            problems.append(f"locked.municipalities has keys {bad!r}; must be municipality codes written as "
                            "strings, e.g. \"015146\" = \"milano\" (ISTAT codes of 6 digits for the embedded "
                            "Italian data)")
        if problems:
            raise InputError(problems)

    def _number_problems(self) -> list[str]:
        """Every number in its allowed range (``options.MAX_POPULATION``, ``MAX_DENSITY``)."""
        problems = []
        if not isinstance(self.floors, dict):
            raise InputError(f"floors = {self.floors!r}: expected a table of floors by class, e.g. "
                             f"{Rules().floors}; fix: give one floor per class, or use with_floor(floor)")
        if set(self.floors) != set(CLASSES):
            problems.append(f"floors must give exactly {', '.join(CLASSES)}; got {', '.join(self.floors)}")
        checks = [(f"floors.{name}", value, 0, MAX_POPULATION, True, " of inhabitants")
                  for name, value in self.floors.items()]
        checks += [(f"classes.{key}", getattr(self, key), 0, MAX_DENSITY, False, " of inhabitants per km2")
                   for key in ("mountain_density_below", "high_density_min", "low_density_max")]
        if self.ceiling is not None:
            checks.append(("limits.ceiling", self.ceiling, 1, MAX_POPULATION, True, " of inhabitants"))
        problems += [p for name, value, low, high, whole, unit in checks
                     if (p := number_problem(name, value, low, high, whole=whole, unit=unit))]
        share = self.mountain_area_share
        if number_problem("share", share, 0, 1, whole=False) or share == 1:
            problems.append(f"classes.mountain_area_share = {share!r}: must be a number from 0 up to, "
                            "not including, 1 (the share of a plan's area that makes it mountain)")
        return problems

    @classmethod
    def default(cls) -> Rules:
        """The shipped default rules, ``data/rules.toml``."""
        return cls.from_toml(data_file("rules.toml"))

    @classmethod
    def from_toml(cls, path) -> Rules:
        """Read rules from a TOML file; unknown keys and bad values are errors naming the key."""
        try:
            text = Path(path).read_text() if not hasattr(path, "read_text") else path.read_text()
        except OSError as exc:
            raise InputError(f"cannot read rules file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise InputError(f"rules file {path} is not UTF-8 text; save it as a UTF-8 TOML file") from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"rules file {path} is not valid TOML: {exc}") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict, source: str = "rules") -> Rules:
        """Build rules from the TOML structure (sections floors, classes, limits, boundaries, locked)."""
        if not isinstance(raw, dict):
            raise InputError(f"{source} = {raw!r}: expected a table of sections ({', '.join(_SECTIONS)}); "
                             "fix: Rules.from_toml(path) reads a rules file")
        problems = []
        for section, value in raw.items():
            if section not in _SECTIONS:
                problems.append(f"{source}: unknown section [{section}]; allowed: {', '.join(_SECTIONS)}")
            elif not isinstance(value, dict):
                problems.append(f"{source}: [{section}] must be a table")
            else:
                for key in set(value) - _SECTIONS[section]:
                    allowed = ", ".join(sorted(_SECTIONS[section]))
                    problems.append(f"{source}: unknown key {section}.{key}; allowed: {allowed}")
        if problems:
            raise InputError(problems)
        base = cls()
        floors = {**base.floors, **raw.get("floors", {})}
        classes = raw.get("classes", {})
        locked = raw.get("locked", {})
        municipalities = locked.get("municipalities", {})
        plans = _as_list(locked.get("plans", []))
        problems = []
        if not isinstance(municipalities, dict):
            problems.append(f"{source}: locked.municipalities must be a table of code = plan id, "
                            f"got {municipalities!r}")
            municipalities = {}
        if problems:
            raise InputError(problems)
        try:
            return cls(
                floors=floors,
                mountain_area_share=classes.get("mountain_area_share", base.mountain_area_share),
                mountain_statuses=classes.get("mountain_statuses", base.mountain_statuses),
                mountain_density_below=classes.get("mountain_density_below", base.mountain_density_below),
                high_density_min=classes.get("high_density_min", base.high_density_min),
                low_density_max=classes.get("low_density_max", base.low_density_max),
                ceiling=raw.get("limits", {}).get("ceiling"),
                hard_boundaries=raw.get("boundaries", {}).get("hard", ()),
                keep_together=raw.get("boundaries", {}).get("keep_together", ()),
                locked_municipalities={str(k): str(v) for k, v in municipalities.items()},
                locked_plans=tuple(str(p) for p in plans),
            )
        except InputError as exc:  # values __post_init__ checks: say which file they came from
            raise InputError([f"{source}: {p}" for p in exc.problems]) from None

    def with_floor(self, floor: int) -> Rules:
        """The same rules with every class floor replaced by ``floor`` (``--floor N``)."""
        problem = number_problem("floor", floor, 0, MAX_POPULATION, whole=True, unit=" of inhabitants")
        if problem:
            raise InputError(problem)
        return replace(self, floors=dict.fromkeys(CLASSES, int(floor)))

    def with_changes(self, **changes) -> Rules:
        """A copy with some fields replaced (validated again); ``floors`` may give only the classes that change."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise InputError([f"unknown rule option {u!r}{did_you_mean(u, sorted(names))}; allowed: "
                              f"{', '.join(sorted(names))}" for u in unknown])
        if isinstance(changes.get("floors"), dict):
            changes["floors"] = {**self.floors, **changes["floors"]}
        return replace(self, **changes)

    @property
    def lowest_floor(self) -> int:
        """The smallest floor of any class."""
        return min(self.floors.values())

    def counts_as_mountain(self, municipalities: pd.DataFrame) -> pd.Series:
        """Whether each municipality's area counts as mountain area for the class rule."""
        return municipalities["mountain_status"].isin(self.mountain_statuses)

    def floor_of(self, classes) -> np.ndarray:
        """Population floor for each class label."""
        return np.vectorize(self.floors.__getitem__, otypes=[int])(np.asarray(classes))


def _as_list(value) -> list:
    """A value that may be one string (or other single value) or a list, as a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    return [value]
