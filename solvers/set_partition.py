"""A partition of the units into listed groups with at least ``target`` groups (merge mode's large case).

Two steps, both exact:

1. **Reduced-cost fixing.** The LP ``max sum x_G`` subject to ``sum_{G ni i} x_G = 1`` for every
   unit, ``x >= 0``, has duals ``y`` with ``d_G = sum_{i in G} y_i - 1 >= 0`` for every group, and
   every partition ``x`` has ``sum x = LP - sum_G d_G x_G``. A partition with at least ``target``
   groups therefore uses no group with ``d_G > LP - target``: those are left out (in the 274-plan
   merge, 31,084 of 49,636 groups stay), and ``LP < target`` proves that there is none.
2. **HiGHS** (``highspy``) looks for a partition into the groups kept, with ``sum x >= target``.
   Its search time varies a lot with its random seed (24 to over 120 s on that merge), so
   ``racers`` copies run at once, one seed each, and the first answer stops the others.
   Partitions meeting the target use groups of low reduced cost (their ``d_G`` add up to at most
   ``LP - target``), so the race first runs over the groups with ``d_G`` at most a share
   (``LADDER``) of ``LP - target``, each for a short part of the time: on that merge, the 1,738
   groups under an eighth hold a partition of 130, found in half a second (seeds 0-3), where the
   31,084 took 24-120 s. A partition found among fewer groups proves just as much; when there is
   none, or none is found in time, the race goes on with more groups, and finally all that are kept.

The answer is checked (every unit in exactly one chosen group) before it is returned.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from contextlib import contextmanager
from multiprocessing.connection import wait
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from lombardy_districts.model.stop import Stop

SLACK = 1e-6
"""Groups whose reduced cost passes ``LP - target`` by less than this are kept (rounding errors)."""
LADDER = (0.125, 0.25, 0.5)
"""Shares of ``LP - target``: the race runs first over the groups whose reduced cost is at most each."""
LADDER_SECONDS = 0.125
"""Share of the time each step of ``LADDER`` may take at most; the last step, over every group kept, has the rest."""


def partition_meeting(columns: list[tuple[int, ...]], n: int, target: int, seconds: float, seed: int,
                      racers: int = 1, stop: Stop | None = None) -> list[int] | None:
    """Indices of ``columns`` that partition ``range(n)`` into at least ``target`` groups, or None.

    None when there is none (proved by the LP), or none was found in ``seconds``.
    """
    costs = _reduced_costs(columns, n, target)
    if costs is None:
        return None
    reduced, slack = costs
    steps = [_within(reduced, share * slack) for share in (*LADDER, 1.0)]
    steps = [keep for k, keep in enumerate(steps) if k == len(steps) - 1 or 0 < len(keep) < len(steps[k + 1])]
    stop = stop or Stop()
    deadline = time.monotonic() + seconds
    for k, keep in enumerate(steps):
        left = deadline - time.monotonic()
        if left <= 0 or stop.is_set():
            return None
        limit = left if k == len(steps) - 1 else min(left, LADDER_SECONDS * seconds)
        found = _race([columns[c] for c in keep], n, target, limit, seed, max(1, racers), stop)
        if found is not None:
            chosen = [keep[j] for j in found]
            covered = sorted(i for c in chosen for i in columns[c])
            return chosen if len(chosen) >= target and covered == list(range(n)) else None
    return None


def useful_columns(columns: list[tuple[int, ...]], n: int, target: int) -> list[int]:
    """The columns a partition into at least ``target`` of them may use (reduced-cost fixing, above).

    ``partition_meeting``'s last step runs over them; the earlier steps over fewer.
    """
    costs = _reduced_costs(columns, n, target)
    if costs is None:
        return []
    reduced, slack = costs
    return _within(reduced, slack)


def _within(reduced: np.ndarray, limit: float) -> list[int]:
    """Indices of the columns whose reduced cost is at most ``limit`` (``SLACK`` allowed for rounding)."""
    return np.flatnonzero(reduced <= limit + SLACK).tolist()


def _reduced_costs(columns: list[tuple[int, ...]], n: int, target: int) -> tuple[np.ndarray, float] | None:
    """``(d_G per column, LP - target)`` from the LP above; None when the LP proves no partition meets ``target``."""
    cover = cover_matrix(columns, n)
    res = linprog(-np.ones(len(columns)), A_eq=cover, b_eq=np.ones(n), bounds=(0, None), method="highs")
    if res.status != 0:  # infeasible: the units cannot be partitioned into listed groups at all
        return None
    value = -res.fun
    if value < target - SLACK:
        return None
    return cover.T @ (-res.eqlin.marginals) - 1.0, value - target  # d_G = sum of the duals y over G, minus 1


def cover_matrix(columns, n) -> csr_matrix:
    """The ``n`` x ``len(columns)`` 0/1 matrix: entry ``(i, c)`` is 1 when column ``c`` holds unit ``i``."""
    rows = [i for col in columns for i in col]
    cols = [c for c, col in enumerate(columns) for _ in col]
    return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(columns)))


def _race(columns, n, target, seconds, seed, racers, stop: Stop) -> list[int] | None:
    """Run ``racers`` HiGHS searches (one seed each) in child processes; the first partition found.

    Processes, not threads: HiGHS can only be stopped from a Python callback, which makes two
    searches in threads fight over the interpreter lock (each ran about half as fast).
    """
    _highspy()  # imported here, before the children fork, so that they do not import it
    ctx: Any = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    procs: list[Any] = []
    pending: list[Any] = []
    for k in range(racers):
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_search, args=(columns, n, target, seconds, seed + k, send), daemon=True)
        proc.start()
        send.close()
        procs.append(proc)
        pending.append(receive)

    def end():
        for proc in procs:
            if proc.is_alive():
                proc.kill()

    answer: list[int] | None = None
    deadline = time.monotonic() + seconds + 10  # a child past its own time limit is killed
    try:
        with stop.hook(end):
            while pending and answer is None and not stop.is_set():
                ready = wait(pending, timeout=max(0.0, deadline - time.monotonic()))
                if not ready:
                    break
                for conn in ready:
                    conn = pending.pop(pending.index(conn))
                    try:
                        answer = answer or conn.recv()
                    except EOFError:  # the child ended without an answer (killed, or out of memory)
                        pass
    finally:
        end()
        for proc in procs:
            proc.join()
    return answer


def _search(columns, n, target, seconds, seed, send) -> None:
    """A child's work: one HiGHS search; sends the chosen column indices, or None.

    Ctrl-C reaches the whole process group: the child leaves it to the parent, which stops it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with _no_stdout():
        h = _model(columns, n, target, seconds, seed)
    h.run()
    found = None
    if h.getModelStatus() == _highspy().HighsModelStatus.kOptimal:
        x = h.getSolution().col_value
        found = [k for k in range(len(columns)) if x[k] > 0.5]
    send.send(found)
    send.close()


def _model(columns, n, target, seconds, seed):
    """HiGHS's model: a 0-1 variable per column, each unit covered once, at least ``target`` columns."""
    highspy = _highspy()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(0.1, seconds)))
    h.setOptionValue("random_seed", int(seed) % (2**31 - 1))
    h.setOptionValue("threads", 1)
    m = len(columns)
    every = np.arange(m, dtype=np.int32)
    h.addVars(m, np.zeros(m), np.ones(m))
    h.changeColsCost(m, every, -np.ones(m))
    h.changeColsIntegrality(m, every, np.full(m, highspy.HighsVarType.kInteger))
    cover = cover_matrix(columns, n)
    h.addRows(n, np.ones(n), np.ones(n), cover.nnz, cover.indptr[:-1].astype(np.int32), cover.indices.astype(np.int32),
              cover.data)
    h.addRow(float(target), highspy.kHighsInf, m, every, np.ones(m))
    return h


def _highspy():
    import highspy  # imported on use: only large merges need it, and it is slow to import

    return highspy


@contextmanager
def _no_stdout():
    """Standard output closed at the file descriptor, for a child process's C libraries.

    HiGHS prints its banner from C on the first model a process builds, before any option can turn
    its output off; the command line's output (a table, JSON) must not carry it.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
