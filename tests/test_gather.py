"""The heuristic's chain move (``solvers._gather``) on small grids built here."""

import numpy as np
import pytest

from lombardy_districts.model.rules import Rules
from lombardy_districts.solvers import _perturb
from lombardy_districts.solvers._budget import Budget
from lombardy_districts.solvers._gather import capped_spare, gather
from lombardy_districts.solvers._local import split
from lombardy_districts.solvers._perturb import perturb
from tests.exact_grids import most_plans
from tests.grids import grid_territory
from tests.test_perturb import class_case, start
from tests.test_regroup import assert_valid, partition, setup


def budget() -> Budget:
    return Budget(5.0, deterministic=True)


def test_spare_handed_along_a_chain_makes_one_region_more():
    # a strip of twelve cells of 1,000 in three regions of 4,000 under a floor of 3,000: 1,000 of
    # spare in each. No region splits; the target (drawn among the three) splits once it holds
    # 6,000, all the spare there is (for an end region, the far end's spare passes through the middle).
    _, layout = setup(grid_territory(1, 12), Rules().with_floor(3000))
    part = partition(layout, [0] * 4 + [1] * 4 + [2] * 4)
    rng = np.random.default_rng(0)
    assert all(split(layout, r, rng) is None for r in part.regions.values())
    out = gather(layout, part, rng, budget())
    assert out is not None and len(out) == 4
    assert_valid(layout, out, 12)
    assert sorted(r.totals.pop for r in out.regions.values()) == [3000, 3000, 3000, 3000]
    assert len(part) == 3  # the input is left as it was


def test_nothing_is_lost_when_the_population_is_not_there():
    # six cells of 1,000, floor 2,500: two regions of 3,000, never three
    _, layout = setup(grid_territory(1, 6), Rules().with_floor(2500))
    part = partition(layout, [0, 0, 0, 1, 1, 1])
    out = gather(layout, part, np.random.default_rng(0), budget())
    assert out is not None and len(out) == 2
    assert_valid(layout, out, 6)


def test_locked_regions_neither_give_nor_take():
    # the strip of the first test with its middle region locked: the spare of the far end cannot pass
    rules = Rules(locked_municipalities={"000005": "M"}).with_floor(3000)
    _, layout = setup(grid_territory(1, 12), rules)
    part = partition(layout, [0] * 4 + [1] * 4 + [2] * 4)
    for seed in range(5):
        out = gather(layout, part, np.random.default_rng(seed), budget())
        assert out is not None and len(out) == 3
        assert out.regions[out.label[4]].members == {4, 5, 6, 7}


@pytest.mark.parametrize("seed", range(12))
def test_every_unit_stays_in_one_compliant_region_and_no_more_than_the_optimum(seed):
    units, layout, part = class_case(seed)
    for k in range(5):
        out = gather(layout, part, np.random.default_rng([seed, k]), budget())
        if out is None:
            assert all(capped_spare(layout, r.members, layout.floor(r.totals)) <= 0 for r in part.regions.values())
            continue
        assert_valid(layout, out, layout.n)
        assert len(part) <= len(out) <= min(len(part) + 1, most_plans(units, layout.rules))


@pytest.mark.parametrize("seed", range(6))
def test_every_region_stays_connected_and_compliant_on_larger_grids(seed):
    _, layout, part = class_case(seed, 8, 9)
    for k in range(10):
        out = gather(layout, part, np.random.default_rng([seed, k]), budget())
        assert out is not None
        assert_valid(layout, out, layout.n)
        assert len(part) <= len(out) <= len(part) + 1


def test_same_seed_same_regions():
    pop = np.random.default_rng(3).choice([300, 700, 1500], size=48).tolist()
    _, layout = setup(grid_territory(6, 8, population=pop), Rules().with_floor(2500))
    part = start(layout, 0)
    runs = [gather(layout, part, np.random.default_rng(7), budget()) for _ in range(2)]
    assert sorted(sorted(r.members) for r in runs[0].regions.values()) == \
        sorted(sorted(r.members) for r in runs[1].regions.values())


def test_shaking_makes_chain_moves_only_when_asked_and_keeps_their_share(monkeypatch):
    pop = np.random.default_rng(7).choice([300, 700, 1500, 2600], size=100).tolist()
    _, layout = setup(grid_territory(10, 10, population=pop), Rules().with_floor(2500))
    part = start(layout, 2)
    work = {"chain": 0}
    real = _perturb._chained

    def counted(layout, labels, rng, budget):
        before = budget.work
        out = real(layout, labels, rng, budget)
        work["chain"] += budget.work - before
        return out

    monkeypatch.setattr(_perturb, "_chained", counted)
    perturb(layout, part, np.random.default_rng(3), budget(), 100, 60)
    assert work["chain"] == 0
    b = budget()
    best, _ = perturb(layout, part, np.random.default_rng(3), b, 100, 60, chain_share=0.3)
    assert 0 < work["chain"] < 0.5 * b.work  # a share of 0.3, give or take the last move
    assert_valid(layout, best, 100)
