"""Searches run side by side, one forked process each, so that every core searches.

The heuristic is pure Python: one process uses one core. ``side_by_side`` runs several tasks at
once in child processes started by ``fork`` (they share the parent's data, nothing is copied up
front) and collects what each one answers. Where ``fork`` is not available (Windows, macOS's
default), or in a daemon process (which may not have children), ``can_fork`` says so and the
caller searches in one process.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import Any

from lombardy_districts.model.stop import Stop

GRACE = 10.0
"""Seconds a child may run past its time before it is killed (its answer is then lost)."""


def can_fork() -> bool:
    """Whether child processes can be forked here (not in a daemon process, such as a Dask worker's)."""
    return "fork" in mp.get_all_start_methods() and not mp.current_process().daemon


def aside(task: Callable[..., Any], *args: Any) -> Any:
    """``task(*args)`` started in a forked child, for what it leaves on disk (a cache); the process, or None.

    None where ``can_fork`` says no: the caller then does without. Join the process before relying on it.
    """
    if not can_fork():
        return None
    proc = mp.get_context("fork").Process(target=task, args=args, daemon=True)
    proc.start()
    return proc


def side_by_side(tasks: Sequence[Callable[[Any, Callable[[Any], None]], Any]], seconds: float,
                 stop: Stop | None = None, heard: Callable[[int, Any], None] | None = None) -> list[Any]:
    """Run every task in a forked child, at once; their answers, None for a child that gave none.

    Each task is called with an event and a function ``say``. The event is set when ``stop`` is:
    the task ends its search on it (give it to its ``Budget``) and answers with what it has.
    ``say(news)`` sends news on the way (progress): the parent calls ``heard(k, news)`` for task
    ``k``. A child still running ``GRACE`` seconds after ``seconds`` is killed. Ctrl-C reaches
    the whole process group: the children leave it to the parent, whose ``stop`` tells them.
    """
    ctx: Any = mp.get_context("fork")
    event = ctx.Event()
    procs: list[Any] = []
    pending: dict[Any, int] = {}
    answers: list[Any] = [None] * len(tasks)
    for k, task in enumerate(tasks):
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(task, event, send), daemon=True)
        proc.start()
        send.close()
        procs.append(proc)
        pending[receive] = k
    deadline = time.monotonic() + seconds + GRACE
    try:
        with (stop or Stop()).hook(event.set):
            while pending:
                ready: list[Any] = wait(list(pending), timeout=max(0.0, deadline - time.monotonic()))
                if not ready:
                    break
                for conn in ready:
                    k = pending[conn]
                    try:
                        kind, message = conn.recv()
                    except EOFError:  # the child ended without an answer (killed, or out of memory)
                        del pending[conn]
                        continue
                    if kind == "answer":
                        answers[k] = message
                        del pending[conn]
                    elif heard is not None:
                        heard(k, message)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            proc.join()
    return answers


def _child(task, event, send) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answer = task(event, lambda news: send.send(("news", news)))
    send.send(("answer", answer))
    send.close()
