"""The compiled chain move (``solvers._compiled_gather``) against its definition, ``_gather.gather``.

Same partition, same generator, same work allowance: the same regions under the same ids, the
same work counted, and the generator left in the same state. The moves are chained: each starts
from the plan the last one left, so later moves start from gathered plans.
"""

import numpy as np
import pytest

from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers import _perturb
from lombardy_districts.solvers._gather import PASSES, SPLIT_TRIES, gather
from lombardy_districts.solvers._grow import grow, totals_ok
from lombardy_districts.solvers._layout import Layout
from lombardy_districts.solvers._local import Partition, compiled
from lombardy_districts.solvers._perturb import Labels, perturb
from lombardy_districts.solvers.units import Units
from lombardy_districts.workflows.propose import build_problem
from tests.exact_grids import random_class_problem
from tests.grids import grid_territory
from tests.test_compiled_shake import bordered_layout, budget, locked_layout, locked_start, regions
from tests.test_regroup import assert_valid, partition, setup


def gathered(layout, part, rng, allowance):
    from lombardy_districts.solvers._compiled_gather import gathered as compiled_move

    return compiled_move(compiled(layout), Labels.of(part).labels, rng, allowance, PASSES, SPLIT_TRIES)


def same_moves(layout, seed, count, start, allowance=10**9):
    """Chained chain moves both ways from ``start``: (moves that changed the plan, moves that split)."""
    part, changed, splits = start, 0, 0
    for r in range(count):
        rng_py, rng_jit = np.random.default_rng([seed, r]), np.random.default_rng([seed, r])
        b_py = budget(allowance)
        want = gather(layout, Labels.of(part).partition(layout), rng_py, b_py)  # as _perturb._chained had it
        labels, plans, spent = gathered(layout, part, rng_jit, allowance)
        assert spent == b_py.work
        assert rng_jit.random() == rng_py.random()
        if want is None:
            assert labels is None
            return changed, splits
        assert labels.tolist() == want.labels()  # the same ids, not only the same regions
        assert plans == len(want)
        assert_valid(layout, want, layout.n)
        changed += regions(want.labels()) != regions(part.labels())
        splits += len(want) > len(part)
        part = want
    return changed, splits


def grown(layout, seed):
    """A compliant construction, or None."""
    part = Partition(layout, grow(layout, set(range(layout.n)), np.random.default_rng(seed)))
    return part if totals_ok(layout, part.regions.values()) else None


def test_same_moves_as_python_under_random_class_floors():
    changed = splits = cases = 0
    for seed in range(12):
        problem = random_class_problem(np.random.default_rng(seed), 8, 9)
        layout = Layout(Units.from_problem(problem), problem.rules)
        part = grown(layout, seed)
        if part is None:
            continue
        cases += 1
        c, s = same_moves(layout, seed, 8, part)
        changed, splits = changed + c, splits + s
    assert cases >= 6 and changed >= 10 and splits >= 1


@pytest.mark.parametrize("ceiling", [None, 6000])
def test_same_moves_as_python_under_one_floor(ceiling):
    pop = np.random.default_rng(3).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules().with_floor(2500).with_changes(ceiling=ceiling))
    changed, _ = same_moves(layout, 1, 12, grown(layout, 1))
    assert changed >= 3


def test_same_move_along_a_strip_splits_the_target():
    # the strip of test_gather: three regions of 4,000 at a floor of 3,000 make four
    _, layout = setup(grid_territory(1, 12), Rules().with_floor(3000))
    part = partition(layout, [0] * 4 + [1] * 4 + [2] * 4)
    for seed in range(4):
        assert same_moves(layout, seed, 1, part) == (1, 1)


def test_same_moves_across_a_hard_boundary():
    layout = bordered_layout()
    changed, _ = same_moves(layout, 3, 12, grown(layout, 3))
    assert changed >= 3


def test_same_moves_with_locked_municipalities():
    # a region holding a locked unit neither gives nor takes, and is never the target
    changed = 0
    for seed in range(4):
        layout = locked_layout(seed)
        part = locked_start(layout, seed)
        locked = {k: set(r.members) for k, r in part.regions.items() if r.lock is not None}
        c, _ = same_moves(layout, seed, 8, part)
        changed += c
        labels, _, _ = gathered(layout, part, np.random.default_rng(seed), 10**9)
        after = regions(labels.tolist())
        assert all(sorted(members) in after for members in locked.values())
    assert changed >= 6


@pytest.mark.parametrize("allowance", [0, 400, 3000])
def test_same_moves_when_the_work_runs_out_inside_a_move(allowance):
    pop = np.random.default_rng(6).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules().with_floor(2500))
    same_moves(layout, 4, 6, grown(layout, 4), allowance=allowance)


def test_same_moves_on_lombardy(lombardy):
    # the real map under the shipped class rules, from a construction of the heuristic's
    problem = build_problem(lombardy)
    layout = Layout(Units.from_problem(problem), problem.rules)
    part = next(p for p in (grown(layout, s) for s in range(20)) if p is not None)
    changed, _ = same_moves(layout, 0, 12, part)
    assert changed >= 6


def test_shaking_with_compiled_chain_moves_gives_the_plan_of_python_ones(monkeypatch):
    # the whole shaking loop, a third of its work in chain moves: compiled, then the definition
    pop = np.random.default_rng(7).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules().with_floor(2500))
    part = grown(layout, 2)
    b_jit, b_py = budget(200_000), budget(200_000)
    got, rounds = perturb(layout, part, np.random.default_rng(3), b_jit, 100, 60, chain_share=0.3)

    def python_move(layout, labels, rng, budget):
        moved = gather(layout, labels.partition(layout), rng, budget)
        return None if moved is None else Labels.of(moved)

    monkeypatch.setattr(_perturb, "_chained", python_move)
    want, rounds_py = perturb(layout, part, np.random.default_rng(3), b_py, 100, 60, chain_share=0.3)
    assert (got.labels(), rounds, b_jit.work) == (want.labels(), rounds_py, b_py.work)
    assert rounds > 1
