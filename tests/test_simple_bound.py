"""The simple bound (big units, cut units and components) against the exact optimum found by enumeration."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lombardy_districts.solvers._bound import plan_bound
from lombardy_districts.solvers._layout import Layout
from lombardy_districts.solvers.units import Units
from lombardy_districts.workflows.propose import build_problem

from .exact_grids import grid, most_plans


def _case(rows: int, cols: int, population, floor: int) -> tuple[Layout, int]:
    problem = build_problem(grid(rows, cols, population), floor=floor)
    units = Units.from_problem(problem)
    return Layout(units, problem.rules), most_plans(units, problem.rules)


def test_a_big_unit_counts_one_plan_and_the_rest_its_population_over_the_floor():
    # 10,000 alone, then 4,000 in a line at a 2,000 floor: 1 + 2 (moved here from test_heuristic)
    layout, optimum = _case(1, 5, [10_000, 1000, 1000, 1000, 1000], 2000)
    assert optimum == 3 and plan_bound(layout) == 3


def test_a_unit_that_splits_its_component_into_wasteful_pieces_is_counted_apart():
    # 68,000 in one line counts two plans of 25,000; but the middle unit leaves two pieces of 24,000
    # on either side, and neither can be a plan without it: one plan at most
    layout, optimum = _case(1, 5, [12_000, 12_000, 20_000, 12_000, 12_000], 25_000)
    assert optimum == 1
    assert plan_bound(layout) == 1


@pytest.mark.parametrize("seed", range(40))
def test_the_simple_bound_is_never_below_the_exact_optimum(seed):
    rng = np.random.default_rng(seed)
    rows, cols = [(1, 8), (2, 4), (3, 3), (1, 7)][seed % 4]
    population = rng.integers(1, 30, rows * cols) * 1000
    floor = int(rng.choice([20_000, 25_000, 40_000]))
    layout, optimum = _case(rows, cols, population, floor)
    assert plan_bound(layout) >= optimum


def test_a_hard_boundary_splits_a_component():
    # a 2 x 2 ring (no cut unit) of 20,000 20,000 / 5,000 5,000 at 25,000 holds two plans; with the
    # top-left cell behind a hard boundary it holds one (the other three), and that cell none
    problem = build_problem(grid(2, 2, [20_000, 20_000, 5_000, 5_000]), floor=25_000)
    units = Units.from_problem(problem)
    assert plan_bound(Layout(units, problem.rules)) == 2
    assert plan_bound(Layout(replace(units, group=np.array([0, 1, 1, 1])), problem.rules)) == 1


@pytest.mark.parametrize("seed", range(20))
def test_with_hard_boundaries_the_simple_bound_is_never_below_the_exact_optimum(seed):
    # a hard boundary between the left and right columns cuts paths: pieces and cut units change
    rng = np.random.default_rng(100 + seed)
    rows, cols = [(2, 4), (1, 8)][seed % 2]
    problem = build_problem(grid(rows, cols, rng.integers(1, 30, rows * cols) * 1000), floor=25_000)
    units = Units.from_problem(problem)
    split = int(rng.integers(1, cols))
    units = replace(units, group=np.array([int(i % cols >= split) for i in range(len(units))]))
    assert plan_bound(Layout(units, problem.rules)) >= most_plans(units, problem.rules)


def test_at_25000_on_lombardy_two_cut_units_lower_the_bound_to_291(lombardy):
    problem = build_problem(lombardy, floor=25_000)
    assert plan_bound(Layout(Units.from_problem(problem), problem.rules)) == 291
