"""The solver in the loop: Complete, Repair and Merge run ``solve`` in a background process.

The current plan is the solver's status quo, and every lock of the session becomes a rule: a locked
plan is ``Rules.locked_plans`` (kept exactly), a locked municipality ``Rules.locked_municipalities``
(kept in its plan). The search runs in its own Python process (``python -m
lombardy_districts.studio.jobs``, the problem sent pickled on its standard input), so the studio stays
responsive, *Cancel* ends it at once, and it works the same from a script, a notebook or the command;
progress and the answer come back as JSON lines on its standard output. *Stop* (``Job.finish``) writes
``stop`` on that input instead: the search ends as Ctrl-C ends it on the command line, and its best
plan so far comes back as the answer (status ``interrupted``). The answer has the current
plan's ids and names, as ``solve`` gives them with a status quo (``model.changes.identify``: an
unchanged or repaired plan keeps its id, a merger is ``a+b`` / "A + B", a plan continuing none ``new_N``).

==========  =====================================================================================
Complete    keeps the locked plans and municipalities and plans the rest again from scratch
            (most plans that can comply, then most collaboration kept)
Repair      moves the fewest municipalities so that every plan complies
Merge       merges whole plans so that every plan complies (most plans, then most collaboration)
==========  =====================================================================================
"""

from __future__ import annotations

import json
import logging
import pickle
import queue
import subprocess
import sys
import threading
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
from lombardy_districts.model.stop import Stop
from lombardy_districts.workflows.propose import build_problem, search_words, solve
from lombardy_districts.workflows.registry import BUILT_IN, solver_class
from lombardy_districts.workflows.throttle import Throttle

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


def work(problem: Problem, options: SolverOptions, put, stop: Stop | None = None,
         warm_start: Plan | None = None) -> None:
    """Solve and report every step as ``put(kind, payload)``: progress, then done, infeasible or error.

    ``stop``, when set, ends the search early with its best plan so far (``solve``); ``warm_start``
    is ``solve``'s (a repair's plan to fall back on).
    """
    progress = Throttle(lambda info: put("progress", {k: v for k, v in info.items()
                                                      if isinstance(v, int | float | str | type(None))}),
                        PROGRESS_EVERY)
    try:
        try:
            proposal = solve(problem, options, progress=progress, stop=stop, warm_start=warm_start, score=False)
        finally:
            progress.close()  # no progress line after the answer
    except InfeasibleError as exc:
        put("infeasible", str(exc).splitlines())
        return
    except InputError as exc:
        put("error", exc.problems)
        return
    except Exception as exc:  # noqa: BLE001 - any failure is reported to the page, never lost
        put("error", [f"the solver failed: {type(exc).__name__}: {exc}"])
        return
    plan = proposal.plan  # with the current plan's ids and names (``changes.identify``, as ``propose`` gives them)
    put("done", {"result": proposal.result.to_dict(), "words": search_words(problem, proposal.result),
                 "assignment": None if plan is None else plan.assignment.to_dict(),
                 "names": None if plan is None else plan.names})


def main() -> None:
    """The worker process: a pickled ``(problem, options, warm_start)`` on standard input, JSON lines out.

    The solvers are imported first, before the problem comes (``Spare`` starts a worker ahead).
    """
    for name in BUILT_IN:
        solver_class(name)
    problem, options, warm_start = pickle.load(sys.stdin.buffer)
    out, stop = sys.stdout, Stop()

    def listen() -> None:  # a line "stop" after the problem: end the search, keep its best plan
        for line in sys.stdin.buffer:
            if line.strip() == b"stop":
                stop.set()

    threading.Thread(target=listen, daemon=True).start()

    def put(kind: str, payload) -> None:
        out.write(json.dumps([kind, payload], default=str) + "\n")
        out.flush()

    work(problem, options, put, stop, warm_start)


def worker() -> subprocess.Popen:
    """A new worker process (``main``), waiting for its problem."""
    return subprocess.Popen([sys.executable, "-m", "lombardy_districts.studio.jobs"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class Spare:
    """One worker started ahead of the next job, so that its imports (about 1.7 s) are done before it is asked.

    ``ready`` starts it when none waits (the studio calls it when it is idle: before the first page
    and after each job); ``take`` hands it to a job, or a new worker when none waits.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None

    def ready(self) -> None:
        """Start a worker unless one already waits."""
        if self._process is None or self._process.poll() is not None:
            self._process = worker()

    def take(self) -> subprocess.Popen:
        """The waiting worker, or a new one."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return worker()
        return process

    def close(self) -> None:
        """Stop the waiting worker (the studio is shutting down)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        if process is not None:
            for pipe in (process.stdin, process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()


@dataclass
class Outcome:
    """How a job ended: ``state`` done / infeasible / error / cancelled, the messages, the plan found and its names.

    ``words``: how good the plan is, as ``propose`` says it (``search_words``: "Proved best: ...").
    """

    state: str
    messages: list[str]
    result: dict | None = None
    assignment: dict | None = None
    names: dict | None = None
    words: list[str] | None = None


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
    warm_start
        ``solve``'s (a repair's plan to fall back on).
    process
        A waiting worker (``Spare.take``); a new one when None.
    """

    def __init__(self, action: str, problem: Problem, options: SolverOptions, version: int,
                 warm_start: Plan | None = None, process: subprocess.Popen | None = None):
        self.action, self.options, self.version = action, options, version
        self._queue: queue.Queue = queue.Queue()
        self._process = process if process is not None else worker()
        self.started = time.monotonic()
        self.progress: dict = {}
        self.outcome: Outcome | None = None
        self._errors: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()
        self._sent = threading.Event()
        threading.Thread(target=self._send, args=(pickle.dumps((problem, options, warm_start)),), daemon=True).start()
        log.info("studio: %s started (solver %s, %s s)", action, options.solver, options.time_limit)

    def _send(self, data: bytes) -> None:
        try:
            assert self._process.stdin is not None
            self._process.stdin.write(data)
            self._process.stdin.flush()  # left open: *Stop* writes on it (``finish``)
        except OSError:
            pass  # the process ended first (cancelled); poll says so
        finally:
            self._sent.set()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            try:
                self._queue.put(tuple(json.loads(line)))
            except ValueError:
                log.warning("studio: the solver process wrote %r", line[:200])
        self._queue.put(("exit", None))

    def _read_errors(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._errors.append(line.decode(errors="replace").rstrip())
            del self._errors[:-20]

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
            if kind == "exit":
                self._process.wait(timeout=5)
                last = f": {self._errors[-1]}" if self._errors else ""
                self.outcome = Outcome("error", [f"the solver process stopped unexpectedly (exit code "
                                                 f"{self._process.returncode}){last}"])
            elif kind == "progress":
                self.progress = payload
            elif kind == "done":
                status = payload["result"]["status"]
                if payload["assignment"] is None:
                    why = payload["result"].get("message") or status
                    self.outcome = Outcome("error", [f"no plan found: {why}"], payload["result"])
                else:
                    self.outcome = Outcome("done", [], payload["result"], payload["assignment"], payload["names"],
                                           payload["words"])
                log.info("studio: %s finished (%s)", self.action, status)
            else:
                self.outcome = Outcome(kind, list(payload))
        if self.outcome is not None:
            self._process.poll()  # reap the finished process

    def finish(self) -> None:
        """End the search now and take its best plan so far as the answer (it comes back as ``done``)."""
        if self.outcome is None and self._sent.wait(timeout=10):
            try:
                assert self._process.stdin is not None
                self._process.stdin.write(b"stop\n")
                self._process.stdin.flush()
            except OSError:
                pass  # the process has ended: poll says how

    def cancel(self) -> None:
        """End the search now; the current plan stays as it is."""
        if self.outcome is None:
            self._stop()
            self.outcome = Outcome("cancelled", [f"{self.action} cancelled; the plan is unchanged"])

    def _stop(self) -> None:
        if self._process.stdin is not None and self._sent.is_set():
            try:
                self._process.stdin.close()
            except OSError:
                pass
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=3)

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


if __name__ == "__main__":
    main()
