"""CBC held to its wall-clock limit (``solvers._cbc``): it checks ``-sec`` only once its search has begun."""

import sys
import threading
import time

from lombardy_districts.model.stop import Stop
from lombardy_districts.solvers import _cbc

# a stand-in for CBC stuck before its search: it ignores SIGINT, as CBC does while it preprocesses
STUCK = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"]


def test_a_process_past_its_limit_is_interrupted_then_killed():
    start = time.monotonic()
    assert _cbc._run(STUCK, 0.5, Stop()) is True
    assert time.monotonic() - start < 0.5 + _cbc.GRACE + 2


def test_a_stop_interrupts_it_before_its_limit():
    stop = Stop()
    threading.Timer(0.3, stop.set).start()
    start = time.monotonic()
    assert _cbc._run(STUCK, 60, stop) is True
    assert time.monotonic() - start < 0.3 + _cbc.GRACE + 2


def test_a_process_that_ends_in_time_is_left_alone():
    assert _cbc._run([sys.executable, "-c", "pass"], 30, Stop()) is False


def test_the_clock_ticks_while_it_runs(monkeypatch):
    # CBC says nothing until it ends: the caller is told about once a TICK, so its progress line moves
    monkeypatch.setattr(_cbc, "TICK", 0.2)
    ticks = []
    sleeper = [sys.executable, "-c", "import time; time.sleep(1.2)"]
    assert _cbc._run(sleeper, 30, Stop(), tick=lambda: ticks.append(1)) is False
    assert 3 <= len(ticks) <= 7
