"""The one definition of each measure of a plan.

The scorecard computes every figure through these functions; the solvers keep fast incremental
copies for their searches, and the tests require those copies to agree with the definitions here.

- **Number of plans**: distinct plan ids.
- **Cut edges**: contiguity edges (bridges included) whose two municipalities are in different plans.
- **Collaboration kept**: the weight of collaboration ties whose two municipalities share a plan;
  by kind of tie (union, current plan, labour market, ...), the same sum over that kind's ties.
- **Class of a plan**: *mountain* when more than ``mountain_area_share`` of its area lies in
  municipalities of a counted mountain status and its density is below ``mountain_density_below``
  inhabitants per km2; otherwise *high density* at or above ``high_density_min``; otherwise
  *low density* at or below ``low_density_max``; otherwise *standard*. The comparison is exact:
  areas are whole numbers of ``AREA_SCALE``-ths of a km2 (100 m2) per municipality, and the
  cut-offs fractions with denominators up to 1,000. A plan with no area has density 0.
- **Moved from the status quo**: each status quo plan's *successor* is the new plan holding most of
  its municipalities (ties: most of its inhabitants, then the lowest plan id); a municipality has
  moved when its new plan is not its old plan's successor. So merging whole plans moves nobody, and
  the smaller parts of a split plan have moved. ``population_moved`` counts their inhabitants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

AREA_SCALE = 10_000
"""Areas enter the class rule in whole units of 1/AREA_SCALE km2 (100 m2) per municipality."""
CUTOFF_DENOMINATOR = 1000
"""The class rule's cut-offs are read as fractions with denominators up to this."""


def plan_count(assignment: pd.Series) -> int:
    """Number of plans of an assignment (municipality -> plan id)."""
    return int(assignment.nunique())


def cut_edges(assignment: pd.Series, edges: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges (pairs of municipality codes) whose ends are in different plans."""
    plan = assignment.to_dict()
    return [(u, v) for u, v in edges if plan[u] != plan[v]]


def ties_kept(assignment: pd.Series, edges: pd.DataFrame) -> np.ndarray:
    """For each collaboration edge (``code_a``, ``code_b``), whether both ends share a plan."""
    a = edges["code_a"].map(assignment)
    b = edges["code_b"].map(assignment)
    return (a.notna() & (a == b)).to_numpy(dtype=bool)


def collaboration_kept(assignment: pd.Series, edges: pd.DataFrame) -> float:
    """Weight of the collaboration edges (``code_a, code_b, weight``) kept inside plans."""
    return float(edges["weight"].astype(float)[ties_kept(assignment, edges)].sum())


def collaboration_by_kind(assignment: pd.Series, edges: pd.DataFrame) -> pd.DataFrame:
    """Per kind of tie (index ``kind``, sorted): ``total`` weight and the weight ``kept`` inside plans.

    ``edges`` has columns ``code_a, code_b, weight, kind``; kept means ``ties_kept``.
    """
    weight = edges["weight"].astype(float)
    frame = pd.DataFrame({"kind": edges["kind"].astype(str), "total": weight,
                          "kept": weight.where(ties_kept(assignment, edges), 0.0)})
    return frame.groupby("kind")[["total", "kept"]].sum()


def area_units(area_km2) -> np.ndarray:
    """Areas in km2 as whole units of 1/AREA_SCALE km2, the class rule's exact arithmetic."""
    return np.rint(np.asarray(area_km2, dtype=float) * AREA_SCALE).astype(np.int64)


@dataclass(frozen=True)
class ClassRule:
    """The class rule of some ``Rules`` as exact fractions (see the module docstring).

    ``classify`` takes a plan's population and its area and mountain area in area units
    (``area_units``); every other copy of the rule (the solvers' integer terms, the heuristic's
    floors) is built from these four fractions: ``share`` of mountain area, and the densities
    ``cap`` (a mountain plan is below it), ``high`` and ``low``.
    """

    share: Fraction
    high: Fraction
    low: Fraction
    cap: Fraction
    _terms: tuple[int, ...] = field(init=False, repr=False, compare=False)

    @classmethod
    def of(cls, rules) -> ClassRule:
        """The class rule of ``rules`` (a ``Rules``)."""
        def fraction(value: float) -> Fraction:
            return Fraction(value).limit_denominator(CUTOFF_DENOMINATOR)

        return cls(fraction(rules.mountain_area_share), fraction(rules.high_density_min),
                   fraction(rules.low_density_max), fraction(rules.mountain_density_below))

    def __post_init__(self):
        # the fractions' parts as plain ints: classify runs millions of times in the heuristic
        object.__setattr__(self, "_terms", tuple(int(x) for f in (self.share, self.cap, self.high, self.low)
                                                 for x in (f.numerator, f.denominator)))

    def mostly_mountain(self, area: int, mountain: int) -> bool:
        """Whether more than ``share`` of the area is mountain area."""
        share_num, share_den = self._terms[:2]
        return share_den * int(mountain) > share_num * int(area)

    def classify(self, population: int, area: int, mountain: int) -> str:
        """Class of a plan with this population, area and mountain area (area units)."""
        _, _, cap_num, cap_den, high_num, high_den, low_num, low_den = self._terms
        people, area, mountain = int(population) * AREA_SCALE, int(area), int(mountain)
        # a plan with area holds mountain area only if area > 0, so the density below is defined
        if self.mostly_mountain(area, mountain) and people * cap_den < cap_num * area:
            return "mountain"
        if area <= 0:  # no area: the density counts as 0
            return "high_density" if high_num == 0 else "low_density"
        if people * high_den >= high_num * area:
            return "high_density"
        if people * low_den <= low_num * area:
            return "low_density"
        return "standard"

    def classify_all(self, population, area, mountain) -> np.ndarray:
        """``classify`` for arrays of plans."""
        return np.array([self.classify(p, a, m) for p, a, m in zip(population, area, mountain)], dtype=object)


def successors(old: pd.Series, new: pd.Series, population: pd.Series) -> pd.Series:
    """Each status quo plan's successor: the new plan holding most of its municipalities.

    Ties go to the new plan holding most of its inhabitants, then to the lowest plan id.
    ``old`` and ``new`` map municipality codes to plan ids; ``population`` is per municipality.
    """
    table = pd.DataFrame({"old": old, "new": new.reindex(old.index),
                          "population": population.reindex(old.index), "count": 1})
    sums = table.groupby(["old", "new"], as_index=False)[["count", "population"]].sum()
    sums = sums.sort_values(["old", "count", "population", "new"], ascending=[True, False, False, True])
    return sums.drop_duplicates("old").set_index("old")["new"]


def moved(old: pd.Series, new: pd.Series, population: pd.Series) -> pd.Series:
    """Per municipality of ``old``: whether it is not in its status quo plan's successor."""
    heir = successors(old, new, population)
    return new.reindex(old.index) != old.map(heir)
