"""How long a search may run: wall-clock time, or counted work in deterministic mode.

By default a solve stops at its time limit, so how far the search gets depends on the machine
and on what else it is running. With the solver option ``deterministic = True`` every search
stops after a fixed amount of *work* derived from the time limit by the rates below, so the
same seed gives the same plan on any machine, busy or idle:

- the heuristic counts work units (about one unit of work per municipality-level unit touched:
  a construction over ``n`` units spends ``n``, a failed split of a region spends its size
  times the trees tried, a rebuild spends its pool times the regrowths tried, a boundary move
  spends the unit's neighbours, a chain move the units it looks at in each pass) and stops after
  ``time_limit * HEURISTIC_WORK_PER_SECOND``;
- CP-SAT runs one worker with ``max_deterministic_time = time_limit * CPSAT_DETERMINISTIC_PER_SECOND``
  (CP-SAT's own deterministic clock; ``num_workers > 1`` is not deterministic, and the
  ``interleave_search`` mode that would be is marked experimental by OR-Tools);
- the large-neighbourhood search re-solves ``time_limit * LNS_ITERATIONS_PER_SECOND`` groups.
The time the heuristic warm start of ``cpsat`` counts (work / rate) is taken off the rest.

The rates were measured on the 2-core development machine: the heuristic, one worker on the
wall clock for 60 s on Lombardy (2 December 2026, compiled rounds and chain moves, seed 0), did
1.41 million units a second at an 80,000 floor, 1.53 million at 25,000 and 2.20 million under the
shipped class rules (``benchmarks/bench_rate.py``; 31,900 before its rounds were compiled); CP-SAT
with one worker used 6.0 deterministic seconds in 23 to 26 s on Sondrio at 10,000; the search
re-solved 72 groups in 56 s on Lombardy at 80,000 (14 in 6.9 s on Bergamo at 25,000). So
``--time-limit 60 --deterministic`` does about the work a 60 s run does there; a faster machine
finishes sooner, a slower or busier one later. The wall-clock limit stays as a safety net at
``SAFETY_FACTOR`` times the time limit plus ``SAFETY_MARGIN`` seconds (``safety_seconds``): a run
stopped by it is *not* reproducible, and the result's details say so (``budget.wall_limit_hit``,
``budget.reproducible``).
"""

from __future__ import annotations

import time

HEURISTIC_WORK_PER_SECOND = 1_500_000
"""Heuristic work units per second of time limit (measured; see the module docstring)."""

CPSAT_DETERMINISTIC_PER_SECOND = 0.25
"""CP-SAT deterministic time per second of time limit, with one worker (measured once)."""

LNS_ITERATIONS_PER_SECOND = 1.3
"""Neighbourhoods the large-neighbourhood search re-solves per second of time limit (measured once)."""

SAFETY_FACTOR = 5.0
"""In deterministic mode the wall clock stops a run only at this many times its time limit ..."""

SAFETY_MARGIN = 10.0
"""... plus these seconds (set-up work is not counted, and it weighs on short limits)."""

NO_LIMIT = 3600.0
"""Seconds assumed when the time limit is None."""


def safety_seconds(seconds: float) -> float:
    """The wall-clock safety net of a deterministic run with a time limit of ``seconds``."""
    return SAFETY_FACTOR * seconds + SAFETY_MARGIN


class Budget:
    """The allowance of one search: ``spend`` work as it goes, stop when ``expired``.

    Parameters
    ----------
    seconds
        The time limit (None: ``NO_LIMIT``).
    deterministic
        Count work (``seconds * rate`` units) instead of wall-clock time.
    rate
        Work units per second of time limit.

    In deterministic mode the wall clock still stops the search at ``safety_seconds(seconds)``.
    A set ``stop`` (``model.stop.Stop``) ends the allowance at once.
    """

    def __init__(self, seconds: float | None, deterministic: bool = False,
                 rate: float = HEURISTIC_WORK_PER_SECOND, stop=None):
        self.seconds = float(NO_LIMIT if seconds is None else seconds)
        self.deterministic = deterministic
        self.rate = float(rate)
        self.allowance = int(round(self.seconds * self.rate))  # counted only in deterministic mode
        self.start = time.perf_counter()
        self.wall_limit = safety_seconds(self.seconds) if deterministic else self.seconds
        self.deadline = self.start + self.wall_limit
        self.work = 0
        self.wall_limit_hit = False
        self.stop = stop

    def exclude(self, seconds: float) -> None:
        """Leave ``seconds`` of set-up (the first compile after installing) out of the wall-clock allowance."""
        self.start += seconds
        self.deadline += seconds

    def extend(self, seconds: float) -> None:
        """Add ``seconds`` to the time limit: the share a later step was kept (``heuristic.POLISH_SHARE``)."""
        before = self.wall_limit
        self.seconds += seconds
        self.allowance = int(round(self.seconds * self.rate))
        self.wall_limit = safety_seconds(self.seconds) if self.deterministic else self.seconds
        self.deadline += self.wall_limit - before

    def spend(self, units: int) -> None:
        """Count ``units`` of work done."""
        self.work += units

    def expired(self) -> bool:
        """True when the allowance is used up (or, in deterministic mode, the safety net was hit), or stopped."""
        if self.stop is not None and self.stop.is_set():
            return True
        if not self.deterministic:
            return time.perf_counter() > self.deadline
        if self.work >= self.allowance:
            return True
        if time.perf_counter() > self.deadline:
            self.wall_limit_hit = True
            return True
        return False

    def wall_left(self) -> float:
        """Seconds left before the wall-clock deadline (negative once past it)."""
        return self.deadline - time.perf_counter()

    @property
    def used_seconds(self) -> float:
        """Seconds of the time limit used: work over rate in deterministic mode, else wall time."""
        if self.deterministic:
            return self.work / self.rate
        return time.perf_counter() - self.start

    def record(self) -> dict:
        """JSON-ready account of the budget, for a result's details."""
        out: dict[str, object] = {"deterministic": self.deterministic, "work_units": self.work}
        if self.deterministic:
            out.update(work_allowance=self.allowance, work_per_second=self.rate,
                       wall_safety_limit_s=round(self.wall_limit, 3), wall_limit_hit=self.wall_limit_hit,
                       reproducible=not self.wall_limit_hit)
        return out


class CpsatClock:
    """CP-SAT stages in deterministic mode: the time limit less the warm start's work, in deterministic time.

    ``warm_start`` is ``Setup.warm_start`` (the heuristic's ``budget`` record and the ``seconds`` it used).
    """

    def __init__(self, warm_start: dict, time_limit: float | None):
        seconds = (NO_LIMIT if time_limit is None else time_limit) - warm_start.get("seconds", 0.0)
        self.allowance = max(0.5, seconds) * CPSAT_DETERMINISTIC_PER_SECOND
        self.used = 0.0
        self.wall_limit_hit = False
        self.warm_start = warm_start.get("budget")

    def left(self) -> float:
        """Deterministic time left for the remaining stages (at least 0.5)."""
        return max(0.5, self.allowance - self.used)

    def spent(self, solver, code, wall_limit: float) -> None:
        """Count a stage's deterministic time; note when the wall-clock safety net stopped it."""
        self.used += solver.deterministic_time
        unfinished = solver.status_name(code) not in ("OPTIMAL", "INFEASIBLE")
        if unfinished and solver.wall_time >= 0.95 * wall_limit:
            self.wall_limit_hit = True

    def record(self) -> dict:
        """JSON-ready account for ``details["budget"]``."""
        return {"deterministic": True, "workers": 1,
                "cpsat_deterministic_time_allowance": round(self.allowance, 3),
                "cpsat_deterministic_time_used": round(self.used, 3),
                "cpsat_deterministic_per_second": CPSAT_DETERMINISTIC_PER_SECOND,
                "warm_start": self.warm_start, "wall_limit_hit": self._hit(),
                "reproducible": not self._hit()}

    def _hit(self) -> bool:
        return self.wall_limit_hit or bool(self.warm_start and self.warm_start["wall_limit_hit"])


def refuse_invalid(solver, code, model) -> None:
    """Raise when CP-SAT refused ``model`` as invalid: a refused model is an error, never "infeasible"."""
    if solver.status_name(code) == "MODEL_INVALID":
        raise RuntimeError(f"CP-SAT refused the model as invalid ({model.validate() or 'no reason given'}); "
                           "this is a bug: please report it with the command that led to it")
