"""The compiled regrowth (``solvers._compiled``) against its definition, ``_local.regrow_python``.

Same pool, same tries, same generator state: the same regions in the same order, the same key,
and the generator left in the same state (so a whole search gives the same plans either way).
"""

import numpy as np
import pytest

from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers._layout import Layout
from lombardy_districts.solvers._local import NOISE, PERIPHERY, compiled, regrow, regrow_python
from lombardy_districts.solvers.units import Units
from tests.exact_grids import random_class_problem
from tests.grids import grid_territory
from tests.test_regroup import setup


def pools(layout, rng, count):
    """The whole map, then balls of random size around random units."""
    yield set(range(layout.n))
    for _ in range(count):
        pool = {int(rng.integers(layout.n))}
        size = int(rng.integers(2, layout.n))
        while len(pool) < size:
            pool |= {v for u in pool for v in layout.neighbors[u]}
        yield pool


def assert_same(layout, pool, seed, tries, beat):
    rng_py, rng_jit = np.random.default_rng(seed), np.random.default_rng(seed)
    want, want_key = regrow_python(layout, pool, rng_py, tries, beat)
    got, got_key = compiled(layout).regrow(pool, rng_jit, tries, PERIPHERY, NOISE, beat)
    assert got_key == want_key
    if want is None:
        assert got is None
    else:
        assert [(sorted(r.members), r.totals, r.group, r.lock) for r in got] == \
               [(sorted(r.members), r.totals, r.group, r.lock) for r in want]
    assert rng_jit.random() == rng_py.random()
    return want


@pytest.mark.parametrize("seed", range(10))
def test_same_regions_as_python_under_class_floors(seed):
    problem = random_class_problem(np.random.default_rng(seed), 6, 7)
    layout = Layout(Units.from_problem(problem), problem.rules)
    rng = np.random.default_rng(100 + seed)
    found = 0
    for k, pool in enumerate(pools(layout, rng, 12)):
        beat = None if k % 2 else (len(pool) // 6, 1e6)
        found += assert_same(layout, pool, [seed, k], 1 + k % 4, beat) is not None
    assert found  # the check compared regions, not only two Nones


def test_same_regions_as_python_with_a_class_floor_of_zero():
    """Where the lowest floor is 0 (every mountain plan complies), the pull towards low floors divides by 1."""
    problem = random_class_problem(np.random.default_rng(3), 6, 7)
    rules = problem.rules.with_changes(floors={**problem.rules.floors, "mountain": 0})
    layout = Layout(Units.from_problem(problem), rules)
    rng = np.random.default_rng(7)
    for k, pool in enumerate(pools(layout, rng, 6)):
        assert_same(layout, pool, [3, k], 2, None)


@pytest.mark.parametrize("ceiling", [None, 5000])
def test_same_regions_as_python_under_one_floor_and_a_ceiling(ceiling):
    pop = np.random.default_rng(3).choice([300, 700, 1500, 2600], size=64).tolist()
    _, layout = setup(grid_territory(8, 8, population=pop), Rules().with_floor(2500).with_changes(ceiling=ceiling))
    rng = np.random.default_rng(1)
    found = sum(assert_same(layout, pool, [7, k], 3, None) is not None for k, pool in enumerate(pools(layout, rng, 15)))
    assert found


def test_a_pool_with_a_locked_unit_is_grown_by_python():
    pop = [1000] * 16
    rules = Rules(locked_municipalities={"000001": "A"}).with_floor(2500)
    _, layout = setup(grid_territory(4, 4, population=pop), rules)
    assert layout.lock[0] == "A"
    pool = set(range(16))
    got, key = regrow(layout, pool, np.random.default_rng(0), 3)
    want, want_key = regrow_python(layout, pool, np.random.default_rng(0), 3)
    assert key == want_key
    assert [r.lock for r in got] == [r.lock for r in want]
    assert any(r.lock == "A" for r in got)  # the compiled copy leaves locks out: only Python keeps this
