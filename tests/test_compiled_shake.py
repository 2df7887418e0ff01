"""The compiled shaking round (``solvers._compiled_shake``) against its definition, ``_perturb._shaken``,
and the compiled ``_local.improve_count`` against ``improve_count_python``.

Same partition, same generator, same work allowance: the same partition after the round, the same
work counted, and the generator left in the same state (so a whole search shakes the same way
either way). The rounds are chained: each starts from the plan the last one left.
"""

from dataclasses import replace

import numpy as np
import pytest

from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers import _local, _perturb
from lombardy_districts.solvers._budget import Budget
from lombardy_districts.solvers._grow import grow, lock_regions, totals_ok
from lombardy_districts.solvers._layout import Layout
from lombardy_districts.solvers._local import Partition, improve_count, improve_count_python
from lombardy_districts.solvers._perturb import Labels, _shaken, _shaken_compiled, perturb
from lombardy_districts.solvers.units import Units
from lombardy_districts.workflows.propose import build_problem
from tests.exact_grids import grid, random_class_problem
from tests.grids import grid_territory
from tests.test_regroup import assert_valid, setup


def regions(labels):
    out: dict = {}
    for u, k in enumerate(labels):
        out.setdefault(k, []).append(u)
    return sorted(out.values())


def budget(allowance):
    b = Budget(3600.0, deterministic=True)  # a wall-clock net far away: the first round may wait for Numba's compile
    b.allowance = allowance
    return b


IDS = {"most": 0}
"""The most region ids a Python round used (``Partition.next_id`` after it), over the last ``same_rounds``."""


def same_rounds(layout, seed, count, allowance=10**9, room=None, start=None):
    """Chained rounds both ways from ``start`` (or a fresh construction); how many changed the plan (None: no start)."""
    part = start or Partition(layout, grow(layout, set(range(layout.n)), np.random.default_rng(seed)))
    if not totals_ok(layout, part.regions.values()):
        return None
    changed = 0
    IDS["most"] = 0
    for r in range(count):
        rng_py, rng_jit = np.random.default_rng([seed, r]), np.random.default_rng([seed, r])
        b_py, b_jit = budget(allowance), budget(allowance)
        want = _shaken(layout, part.copy(), rng_py, b_py)
        got = _shaken_compiled(layout, Labels.of(part), rng_jit, b_jit, **({} if room is None else {"room": room}))
        assert b_jit.work == b_py.work
        assert rng_jit.random() == rng_py.random()
        if want is None:
            assert got is None
            continue
        assert len(got) == len(want)
        assert regions(got.labels.tolist()) == regions(want.labels())
        assert_valid(layout, want, layout.n)
        changed += regions(want.labels()) != regions(part.labels())
        IDS["most"] = max(IDS["most"], want.next_id)
        part = want
    return changed


def test_same_rounds_as_python_under_random_class_floors():
    # some random cases have no compliant construction to start from; enough of them must have one
    changed = []
    for seed in range(12):
        problem = random_class_problem(np.random.default_rng(seed), 8, 9)
        changed.append(same_rounds(Layout(Units.from_problem(problem), problem.rules), seed, 6))
    assert sum(c is not None for c in changed) >= 6
    assert sum(c for c in changed if c) >= 6


@pytest.mark.parametrize("ceiling", [None, 6000])
def test_same_rounds_as_python_under_one_floor(ceiling):
    pop = np.random.default_rng(3).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules().with_floor(2500).with_changes(ceiling=ceiling))
    assert same_rounds(layout, 1, 12) >= 3


def test_same_rounds_when_the_ids_are_renumbered(monkeypatch):
    # room for 2 ids per unit: past n + 8 ids a round renumbers its regions, keeping their order
    monkeypatch.setattr(_perturb, "PATIENCE_PER_REGION", 40)
    pop = np.random.default_rng(4).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules().with_floor(2500))
    assert same_rounds(layout, 2, 12, room=2) >= 3
    assert IDS["most"] > 100 + 8  # so the compiled rounds did renumber


def test_same_rounds_with_splits_between_equal_cuts():
    # a 4 x 30 strip of 1,000 in ten regions of three columns (12,000 each) at a floor of 2,500: the
    # search splits the big regions beside each shaken ball, and many cuts of a tree leave the same
    # spare population (ties)
    _, layout = setup(grid_territory(4, 30, population=[1000] * 120), Rules().with_floor(2500))
    start = Partition.from_labels(layout, [(u % 30) // 3 for u in range(120)])
    assert same_rounds(layout, 3, 6, start=start) >= 3


def bordered_layout():
    """An 8 x 8 grid of random populations at a 25,000 floor, cut by a hard boundary after its third column."""
    rng = np.random.default_rng(5)
    problem = build_problem(grid(8, 8, (rng.integers(1, 30, 64) * 1000).tolist()), floor=25_000)
    units = Units.from_problem(problem)
    units = replace(units, group=np.array([int(i % 8 >= 3) for i in range(len(units))]))
    return Layout(units, problem.rules)


def test_same_rounds_across_a_hard_boundary():
    assert same_rounds(bordered_layout(), 3, 12) >= 3


LOCKS = {"000012": "A", "000013": "A", "000045": "B", "000077": "C", "000078": "C", "000088": "D"}
"""Locked municipalities on a 10 x 10 grid: two pairs that share a plan, two alone (codes are row-major)."""


def locked_layout(seed, locks=LOCKS):
    pop = np.random.default_rng(seed).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules(locked_municipalities=locks).with_floor(2500))
    assert layout.locked
    return layout


def locked_start(layout, seed):
    """A construction as the heuristic's: each lock label's units seeded in one region first."""
    locked = lock_regions(layout)
    assert locked is not None
    return Partition(layout, grow(layout, set(range(layout.n)), np.random.default_rng(seed), start=locked))


def test_same_rounds_with_locked_municipalities():
    # a region holding a locked unit stays as built: never in a shaken ball, split or rebuilt, and
    # never a ball's centre by its spare population (it may be the centre by the base weight)
    changed = 0
    for seed in range(4):
        layout = locked_layout(seed)
        part = locked_start(layout, seed)
        assert sum(r.lock is not None for r in part.regions.values()) == 4
        changed += same_rounds(layout, seed, 8, start=part) or 0
    assert changed >= 6


@pytest.mark.parametrize("allowance", [0, 400, 3000])
def test_same_rounds_when_the_work_runs_out_inside_a_round(allowance):
    pop = np.random.default_rng(6).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules().with_floor(2500))
    assert same_rounds(layout, 4, 6, allowance=allowance) is not None


def test_perturb_runs_compiled_rounds_with_and_without_locked_units(monkeypatch):
    # every round is compiled, and a locked unit's plan keeps its label (the choice agreed with a mayor)
    pop = [1000] * 36
    calls = []
    real = _perturb._shaken_compiled
    monkeypatch.setattr(_perturb, "_shaken_compiled", lambda *a, **k: calls.append(1) or real(*a, **k))
    for locked in ({}, {"000001": "A"}):
        _, layout = setup(grid_territory(6, 6, population=pop), Rules(locked_municipalities=locked).with_floor(2500))
        part = locked_start(layout, 0)
        calls.clear()
        best, rounds = perturb(layout, part, np.random.default_rng(1), budget(50_000), 14, 30)  # 12 at most
        assert isinstance(best, Partition) and rounds > 0
        assert len(calls) == rounds
        assert_valid(layout, best, 36)
        assert len(best) >= len(part)
        if locked:
            assert next(r.lock for r in best.regions.values() if 0 in r.members) == "A"


def test_perturb_with_compiled_rounds_gives_the_plan_of_python_rounds(monkeypatch):
    # the whole loop (accepting, going back to the best) over compiled rounds, then over Python's
    pop = np.random.default_rng(7).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules().with_floor(2500))
    part = Partition(layout, grow(layout, set(range(100)), np.random.default_rng(2)))
    b_jit, b_py = budget(200_000), budget(200_000)
    got, rounds = perturb(layout, part, np.random.default_rng(3), b_jit, 100, 60)

    def python_round(layout, labels, rng, budget):
        trial = _shaken(layout, Partition.from_labels(layout, labels.labels.tolist()), rng, budget)
        return None if trial is None else Labels.of(trial)

    monkeypatch.setattr(_perturb, "_shaken_compiled", python_round)
    want, rounds_py = perturb(layout, part, np.random.default_rng(3), b_py, 100, 60)
    assert (regions(got.labels()), rounds, b_jit.work) == (regions(want.labels()), rounds_py, b_py.work)
    assert rounds > 1 and len(got) > len(part)


def improve_cases():
    """(layout, start partition, bound) for the compiled ``improve_count``."""
    for seed in range(6):
        problem = random_class_problem(np.random.default_rng(seed), 8, 9)
        layout = Layout(Units.from_problem(problem), problem.rules)
        yield layout, Partition(layout, grow(layout, set(range(layout.n)), np.random.default_rng(seed))), None
    pop = np.random.default_rng(3).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules().with_floor(2500).with_changes(ceiling=6000))
    start = Partition(layout, grow(layout, set(range(100)), np.random.default_rng(1)))
    yield layout, start, None
    _, layout = setup(grid_territory(4, 30, population=[1000] * 120), Rules().with_floor(2500))
    start = Partition.from_labels(layout, [(u % 30) // 3 for u in range(120)])
    yield layout, start, None
    yield layout, start, len(start) + 1  # stops at the bound
    for seed in range(2):
        layout = locked_layout(seed)
        yield layout, locked_start(layout, seed), None


@pytest.mark.parametrize("chunk", [7, 500])
@pytest.mark.parametrize("allowance", [2000, 10**9])
def test_improve_count_compiled_as_python(monkeypatch, chunk, allowance):
    # chunks of 7 moves: the compiled search stops and resumes often, as it does between looks at the clock
    monkeypatch.setattr(_local, "CHUNK", chunk)
    gained = 0
    for layout, start, bound in improve_cases():
        if not totals_ok(layout, start.regions.values()):
            continue
        heard_py: list[int] = []
        heard_jit: list[int] = []
        rng_py, rng_jit = np.random.default_rng(9), np.random.default_rng(9)
        b_py, b_jit = budget(allowance), budget(allowance)
        want = improve_count_python(layout, start.copy(), rng_py, b_py, bound=bound, patience=60,
                                    on_better=lambda p, heard=heard_py: heard.append(len(p)))
        got = improve_count(layout, start.copy(), rng_jit, b_jit, bound=bound, patience=60,
                            on_better=lambda p, heard=heard_jit: heard.append(len(p)))
        assert regions(got.labels()) == regions(want.labels())
        assert b_jit.work == b_py.work
        assert rng_jit.random() == rng_py.random()
        assert heard_jit[-1:] == heard_py[-1:]  # the compiled one hears of gains after each chunk
        if bound is not None:
            assert len(got) == bound  # reached, and not passed
        assert_valid(layout, got, layout.n)
        gained += len(got) > len(start)
    assert gained >= 3
