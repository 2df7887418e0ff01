"""CBC through PuLP, held to a wall-clock limit.

CBC checks its ``-sec`` limit only once its search has begun: on a province of 113 municipalities its
preprocessing and first relaxation took 30 s of a 1.1 s stage. ``timed_cbc`` runs CBC as PuLP's
``PULP_CBC_CMD`` does (MPS file, ``-sec``, the options), but waits at most the stage's seconds plus
``GRACE``, or until ``stop`` is set; then it interrupts CBC (SIGINT: CBC stops and writes the best
solution it has), and kills it if it has not stopped ``GRACE`` seconds later (the stage then has no
solution). CBC never outlives the call, and its temporary files are always removed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

GRACE = 1.0
"""Seconds CBC is given past its limit before it is interrupted, and again before it is killed."""

POLL = 0.2
"""Seconds between looks at ``stop``."""

TICK = 1.0
"""Seconds between calls of ``tick`` while CBC runs."""


def timed_cbc(pulp, time_limit: float | None, stop, tick=None, **options):
    """A ``pulp.PULP_CBC_CMD(timeLimit=time_limit, **options)`` that never runs much past ``time_limit``.

    ``stop`` (``model.stop.Stop``) interrupts it too; ``tick()``, if given, is called about once a
    second while CBC runs (CBC reports nothing until it ends: the caller's clock keeps moving).
    """

    class TimedCbc(pulp.PULP_CBC_CMD):
        def solve_CBC(self, lp, use_mps=True):
            mps, sol = self.create_tmp_files(lp.name, "mps", "sol")
            try:
                names = lp.writeMPS(mps, rename=1)
                args = [self.path, mps] + (["-max"] if lp.sense == pulp.LpMaximize else [])
                if self.timeLimit is not None:
                    args += ["-sec", str(self.timeLimit)]
                for option in self.options + self.getOptions():
                    args += f"-{option}".split()
                args += ["-solve", "-printingOptions", "all", "-solution", sol]
                cut = _run(args, None if self.timeLimit is None else float(self.timeLimit) + GRACE, stop, tick)
                if not os.path.exists(sol):
                    if not cut:
                        raise pulp.PulpSolverError(f"CBC wrote no solution ({self.path})")
                    lp.assignStatus(pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound)
                    return pulp.LpStatusNotSolved
                status, values, costs, prices, slacks, sol_status = self.readsol_MPS(sol, lp, *names[:3])
                lp.assignVarsVals(values)
                lp.assignVarsDj(costs)
                lp.assignConsPi(prices)
                lp.assignConsSlack(slacks, activity=True)
                lp.assignStatus(status, sol_status)
                return status
            finally:
                self.delete_tmp_files(mps, sol)

    return TimedCbc(msg=False, timeLimit=time_limit, **options)


def _run(args: list[str], seconds: float | None, stop, tick=None) -> bool:
    """Run CBC; interrupt it after ``seconds`` or once ``stop`` is set, kill it ``GRACE`` s later. True if cut."""
    cbc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = None if seconds is None else time.monotonic() + seconds
    ticked = time.monotonic()
    try:
        while cbc.poll() is None:
            if stop.is_set() or (deadline is not None and time.monotonic() > deadline):
                break
            if tick is not None and time.monotonic() - ticked >= TICK:
                ticked = time.monotonic()
                tick()
            try:
                cbc.wait(timeout=POLL)
            except subprocess.TimeoutExpired:
                pass
        if cbc.poll() is not None:
            return False
        cbc.send_signal(signal.SIGINT)
        try:
            cbc.wait(timeout=GRACE)
        except subprocess.TimeoutExpired:
            cbc.kill()
            cbc.wait()
        return True
    except BaseException:  # Ctrl-C or an error here: CBC must not outlive the call
        cbc.kill()
        cbc.wait()
        raise
