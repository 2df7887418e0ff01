"""A proved upper bound on the number of plans: the least of three relaxations.

- a relaxation without contiguity (capped population over the floor, or with class floors an
  aggregate class-rule MIP), summed over the parts of the map;
- big units plus small components (``_bound.plan_bound``);
- each unit's largest share of a compliant connected plan (``share_bound``), which accounts for
  contiguity and the class rule.

The bound holds for the full problem, whatever candidate restriction a solver uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.optimize as so
import scipy.sparse as sp

from lombardy_districts.model.measures import AREA_SCALE
from lombardy_districts.model.rules import CLASSES, Rules

from ._bound import plan_bound
from ._layout import Layout
from .share_bound import share_bound
from .units import Units

SHARE_METHOD = "each unit's largest share of a compliant connected plan (contiguity and class rule)"
SIMPLE_METHOD = "big units plus small components"


@dataclass(frozen=True)
class PlanBound:
    """Upper bound on the number of plans, and how it was obtained."""

    value: int
    method: str
    infeasible_parts: list[str]


def plan_count_bound(units: Units, rules: Rules) -> PlanBound:
    r"""Upper bound on the number of compliant plans.

    Plans never span two parts (connected components of the unit graph after removing edges
    between hard-boundary groups), so the bound is the sum over parts of this relaxation,
    which drops contiguity and lets units split between classes:

    .. math::

        \max \sum_c n_c \quad\text{s.t.}\quad
        \sum_c z_{ic} = 1,\; 0 \le z_{ic} \le [n_c \ge 1],\;
        \sum_i \min(p_i, f_c)\, z_{ic} \ge f_c\, n_c,\;
        \sum_i p_i z_{ic} \le \text{ceiling}\cdot n_c,\; n_c \in \mathbb{Z}_{\ge 0}

    plus the class rule summed over the plans of each class c (valid because it is linear in a
    plan's totals): mountain ``sum (m_i - s a_i) z_im >= 0`` and ``sum (p_i - b a_i) z_im <= 0``
    (``b`` the mountain density cut-off); a class whose densities all lie below ``b`` (low density,
    and standard when ``b >= h``) is not mostly mountain, ``<= 0``; high density
    ``sum (p_i - h a_i) z_ih >= 0``; low density ``sum (p_i - l a_i) z_il <= 0``; standard between.
    Capping a unit's population at the floor is valid: a plan reaches ``f`` exactly when the
    sum of its members' capped populations does. With one floor for every class, the bound is
    ``floor(sum_i min(p_i, f) / f)`` per part. A part with no feasible solution proves the
    whole problem infeasible. The result is the least of this, ``_bound.plan_bound`` (big
    units plus small components, the heuristic's bound) and ``share_count`` (contiguity and the
    class rule), so no solver reports a looser bound; ``method`` names the one used.
    """
    parts = _parts(units)
    total, bad = 0, []
    uniform = len(set(rules.floors.values())) == 1
    for part in parts:
        pop = units.population[part].astype(float)
        if uniform:
            f = rules.lowest_floor
            value = int(np.minimum(pop, f).sum() // f) if f > 0 else len(part)
            if rules.ceiling is not None and math.ceil(pop.sum() / rules.ceiling) > value:
                value = 0
        else:
            value = _class_bound(units, rules, part)
        if value < 1:
            bad.append(_describe(units, part, rules))
        total += value
    method = (
        "relaxation without contiguity, "
        + ("capped population / floor" if uniform else "aggregate class rule MIP (HiGHS dual bound)")
        + f", summed over {len(parts)} part(s)"
    )
    if not bad:  # the other two bounds are sometimes tighter
        simple = plan_bound(Layout(units, rules))
        if simple < total:
            total, method = simple, f"{SIMPLE_METHOD} (tighter than the {method})"
        shares = share_count(units, rules)
        if shares < total:
            total, method = shares, f"{SHARE_METHOD} (tighter than the {method})"
    return PlanBound(total, method, bad)


def share_count(units: Units, rules: Rules) -> int:
    """``share_bound`` rounded down: at most this many plans can comply."""
    return int(math.floor(share_bound(units, rules) + 1e-9))


def _parts(units: Units) -> list[np.ndarray]:
    n = len(units)
    group = units.group
    rows, cols = [], []
    for i, j in units.edges:
        if group is None or group[i] == group[j]:
            rows.append(i)
            cols.append(j)
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    count, labels = sp.csgraph.connected_components(graph, directed=False)
    return [np.flatnonzero(labels == k) for k in range(count)]


def _describe(units: Units, part: np.ndarray, rules: Rules) -> str:
    shown = ", ".join(units.ids[i] for i in part[:5]) + (" ..." if len(part) > 5 else "")
    return (f"part of {len(part)} units ({shown}) with {int(units.population[part].sum()):,} inhabitants "
            f"cannot form compliant plans (lowest floor {rules.lowest_floor:,})")


def _class_bound(units: Units, rules: Rules, part: np.ndarray) -> int:
    p = units.population[part].astype(float)
    a = units.area[part] / AREA_SCALE  # km2
    m = units.mountain_area[part] / AREA_SCALE
    k, nc = len(part), len(CLASSES)
    nz = k * nc  # z[i, c] at i * nc + c; then n_c at nz + c
    nvar = nz + nc
    rows, cols, vals, lo, hi = [], [], [], [], []
    row = 0

    def add(entries, lower, upper):
        nonlocal row
        for col, val in entries:
            rows.append(row)
            cols.append(col)
            vals.append(val)
        lo.append(lower)
        hi.append(upper)
        row += 1

    for i in range(k):
        add([(i * nc + c, 1.0) for c in range(nc)], 1.0, 1.0)
    s, hd, ld = rules.mountain_area_share, rules.high_density_min, rules.low_density_max
    cap = rules.mountain_density_below
    below_cap = {"low_density": ld < cap, "standard": hd <= cap, "high_density": False}
    total = float(p.sum())
    for c, name in enumerate(CLASSES):
        f = min(float(rules.floors[name]), total + 1)  # the same bound, without coefficients HiGHS cannot trust
        zc = [i * nc + c for i in range(k)]
        add(list(zip(zc, np.minimum(p, f))) + [(nz + c, -f)], 0.0, np.inf)
        if rules.ceiling is not None and rules.ceiling < total:
            add(list(zip(zc, p)) + [(nz + c, -float(rules.ceiling))], -np.inf, 0.0)
        for i in range(k):  # z_ic <= n_c
            add([(zc[i], 1.0), (nz + c, -1.0)], -np.inf, 0.0)
        mt = m - s * a
        if name == "mountain":
            add(list(zip(zc, mt)), 0.0, np.inf)
            add(list(zip(zc, p - cap * a)), -np.inf, 0.0)
            continue
        if below_cap[name]:  # a plan of this class is below the cut-off, so not mostly mountain
            add(list(zip(zc, mt)), -np.inf, 0.0)
        if name == "high_density":
            add(list(zip(zc, p - hd * a)), 0.0, np.inf)
        elif name == "low_density":
            add(list(zip(zc, p - ld * a)), -np.inf, 0.0)
        else:
            add(list(zip(zc, p - hd * a)), -np.inf, 0.0)
            add(list(zip(zc, p - ld * a)), 0.0, np.inf)
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(row, nvar))
    cost = np.zeros(nvar)
    cost[nz:] = -1.0
    integrality = np.zeros(nvar)
    integrality[nz:] = 1
    upper = np.ones(nvar)
    upper[nz:] = k
    res = so.milp(cost, constraints=so.LinearConstraint(matrix, lo, hi), integrality=integrality,
                  bounds=so.Bounds(np.zeros(nvar), upper), options={"time_limit": 20.0})
    if res.status == 2:  # infeasible
        return 0
    dual = getattr(res, "mip_dual_bound", None)
    best = -dual if dual is not None and np.isfinite(dual) else (k if res.fun is None else -res.fun)
    return int(math.floor(best + 1e-6))
