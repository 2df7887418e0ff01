"""The solver in the loop: Complete, Repair and Merge run ``solve`` in a background process.

The current plan is the solver's status quo, and every lock of the session becomes a rule: a locked
plan is ``Rules.locked_plans`` (kept exactly), a locked municipality ``Rules.locked_municipalities``
(kept in its plan). The search runs in its own process (``spawn``), so the studio stays responsive and
*Cancel* ends it at once; progress comes back through a queue.

==========  =====================================================================================
Complete    keeps the locked plans and municipalities and plans the rest again from scratch
            (most plans that can comply, then most collaboration kept)
Repair      moves the fewest municipalities so that every plan complies
Merge       merges whole plans so that every plan complies (most plans, then most collaboration)
==========  =====================================================================================
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import time
from collections.abc import Mapping
from dataclasses import dataclass

from lombardy_districts.errors import InfeasibleError, InputError
from lombardy_districts.model.collaboration import Collaboration
from lombardy_districts.model.feasibility import check_feasible
from lombardy_districts.model.options import SolverOptions
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.problem import Problem
from lombardy_districts.model.rules import Rules
from lombardy_districts.workflows.propose import build_problem, solve

log = logging.getLogger(__name__)

ACTIONS = {
    "complete": ("scratch", ("max-plans", "collaboration")),
    "repair": ("repair", None),
    "merge": ("merge", None),
}
"""Button -> (mode, objectives; None for the mode's defaults)."""
PROGRESS_EVERY = 0.25
"""Seconds between progress reports from the worker."""


def solver_problem(action: str, current: Plan, rules: Rules, collaboration: Collaboration,
                   locked_plans, locked_municipalities: Mapping[str, str]) -> Problem:
    """The problem a button solves: the current plan as status quo, the session's locks as rules.

    Raises
    ------
    InputError
        For an unknown action.
    InfeasibleError
        When no plan can meet the rules with these locks (the command line's explanation).
    """
    if action not in ACTIONS:
        raise InputError(f"unknown solver action {action!r}; allowed: {', '.join(ACTIONS)}")
    mode, objectives = ACTIONS[action]
    rules = rules.with_changes(
        locked_municipalities={**rules.locked_municipalities, **locked_municipalities},
        locked_plans=tuple(dict.fromkeys([*rules.locked_plans, *sorted(locked_plans)])),
    )
    problem = build_problem(current.territory, mode=mode, status_quo=current, objectives=objectives, rules=rules,
                            collaboration=collaboration)
    check_feasible(problem)
    return problem


def _work(problem: Problem, options: SolverOptions, out) -> None:
    """Worker process: solve and put ``(kind, payload)`` messages on ``out``."""
    last = [0.0]

    def progress(info: dict) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            out.put(("progress", {k: v for k, v in info.items() if isinstance(v, int | float | str | type(None))}))

    try:
        proposal = solve(problem, options, progress=progress)
    except InfeasibleError as exc:
        out.put(("infeasible", str(exc).splitlines()))
        return
    except InputError as exc:
        out.put(("error", exc.problems))
        return
    except Exception as exc:  # noqa: BLE001 - any failure is reported to the page, never lost
        out.put(("error", [f"the solver failed: {type(exc).__name__}: {exc}"]))
        return
    plan = proposal.plan
    out.put(("done", {"result": proposal.result.to_dict(),
                      "assignment": None if plan is None else plan.assignment.to_dict()}))


@dataclass
class Outcome:
    """How a job ended: ``state`` done / infeasible / error / cancelled, the messages, the plan found."""

    state: str
    messages: list[str]
    result: dict | None = None
    assignment: dict | None = None


class Job:
    """One solver run in a background process.

    Parameters
    ----------
    action
        ``complete``, ``repair`` or ``merge``.
    problem
        From ``solver_problem``.
    options
        Solver, time limit, seed, workers.
    version
        The session version the job started from (its answer applies to that plan only).
    """

    def __init__(self, action: str, problem: Problem, options: SolverOptions, version: int):
        self.action, self.options, self.version = action, options, version
        context = multiprocessing.get_context("spawn")
        self._queue = context.Queue()
        self._process = context.Process(target=_work, args=(problem, options, self._queue), daemon=True,
                                        name=f"lombardy-districts studio {action}")
        self.started = time.monotonic()
        self.progress: dict = {}
        self.outcome: Outcome | None = None
        self._process.start()
        log.info("studio: %s started (solver %s, %s s)", action, options.solver, options.time_limit)

    @property
    def running(self) -> bool:
        """True until the job has an outcome."""
        self.poll()
        return self.outcome is None

    def poll(self) -> None:
        """Read what the worker reported so far."""
        while self.outcome is None:
            try:
                kind, payload = self._queue.get_nowait()
            except queue.Empty:
                break
            if kind == "progress":
                self.progress = payload
            elif kind == "done":
                status = payload["result"]["status"]
                if payload["assignment"] is None:
                    why = payload["result"].get("message") or status
                    self.outcome = Outcome("error", [f"no plan found: {why}"], payload["result"])
                else:
                    self.outcome = Outcome("done", [], payload["result"], payload["assignment"])
                log.info("studio: %s finished (%s)", self.action, status)
            else:
                self.outcome = Outcome(kind, list(payload))
        if self.outcome is None and not self._process.is_alive() and self._queue.empty():
            self.outcome = Outcome("error", [f"the solver process stopped unexpectedly (exit code "
                                             f"{self._process.exitcode})"])
        if self.outcome is not None:
            self._process.join(timeout=0.1)

    def cancel(self) -> None:
        """End the search now; the current plan stays as it is."""
        if self.outcome is None:
            self._stop()
            self.outcome = Outcome("cancelled", [f"{self.action} cancelled; the plan is unchanged"])

    def _stop(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=3)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout=3)

    def close(self) -> None:
        """Stop the process if it still runs (the studio is shutting down)."""
        self._stop()

    def to_json(self) -> dict:
        """What the page shows: state, seconds elapsed and allowed, the solver's last progress report."""
        self.poll()
        outcome = self.outcome
        return {"action": self.action, "state": "running" if outcome is None else outcome.state,
                "elapsed": round(time.monotonic() - self.started, 1), "time_limit": self.options.time_limit,
                "progress": self.progress, "messages": [] if outcome is None else outcome.messages,
                "result": None if outcome is None else outcome.result}
