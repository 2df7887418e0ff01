r"""An upper bound on the number of plans from the class rule summed over the plans of each class.

Within one part of the map (plans never span two parts), let ``z_ic`` say that unit ``i`` lies in
a plan of class ``c`` and ``n_c`` count the plans of class ``c``. Every partition into compliant
plans gives a solution of

.. math::

    \max \sum_c n_c \quad\text{s.t.}\quad
    \sum_c z_{ic} = 1,\; 0 \le z_{ic} \le [n_c \ge 1],\;
    \sum_i \min(p_i, f_c)\, z_{ic} \ge f_c\, n_c,\;
    \sum_i s_{ic}\, z_{ic} \ge n_c,\;
    \sum_i p_i z_{ic} \le \text{ceiling}\cdot n_c,\; n_c \in \mathbb{Z}_{\ge 0}

plus the class rule summed over the plans of each class c (valid because it is linear in a
plan's totals): mountain ``sum (m_i - s a_i) z_im >= 0`` and ``sum (p_i - b a_i) z_im <= 0``
(``b`` the mountain density cut-off); a class whose densities all lie below ``b`` (low density,
and standard when ``b >= h``) is not mostly mountain, ``<= 0``; high density
``sum (p_i - h a_i) z_ih >= 0``; low density ``sum (p_i - l a_i) z_il <= 0``; standard between.
Capping a unit's population at the floor is valid: a plan reaches ``f`` exactly when the
sum of its members' capped populations does.

The share rows ``sum_i s_ic z_ic >= n_c`` bring in contiguity: ``s_ic = min(1, p_i / L_i^c)``
with ``L_i^c`` a lower bound on the population of any compliant connected plan of class ``c``
holding unit ``i`` (``share_bound.least_class_populations``), so the plans of class ``c`` number
``sum over their units of p_i / P(plan) <= sum_i s_ic z_ic``. Each unit counts its share in the
class it is given, while the class rule summed per class makes the units of that class bring
the area, mountain area and density the class needs: a unit can no longer count a 25,000 share
of a mountain plan unless the plans of that class, together, are mostly mountain and sparse.
The sums alone let a town use mountain area anywhere in the part and the shares alone let every
town count the same mountain area; together they are never looser than either (``bounds`` takes
the least anyway), and on about one small grid in eight of the tests they are tighter than both.
The MIP is solved by HiGHS (``scipy.optimize.milp``, at most ``TIME_LIMIT`` s per part); its
dual bound is used, rounded down, so a time limit only loosens it.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize as so
import scipy.sparse as sp

from lombardy_districts.model.measures import AREA_SCALE
from lombardy_districts.model.rules import CLASSES, Rules

from .units import Units

TIME_LIMIT = 20.0
"""Seconds HiGHS may spend on one part; its dual bound at that point is still a proof."""


def class_rule_bound(units: Units, rules: Rules, part: np.ndarray, shares: np.ndarray | None = None) -> int:
    """Upper bound on the number of compliant plans within ``part`` (see the module docstring).

    ``shares``: ``share_bound.class_shares`` of the whole map (rows are units, columns classes in
    ``CLASSES`` order), or None to leave the share rows out. 0 when the relaxation is infeasible,
    which proves the part cannot be divided into compliant plans.
    """
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
        if shares is not None:  # n_c <= sum_i s_ic z_ic: each unit holds at most its share of its plan
            # shares rounded up (only loosens) and the row scaled like the floor's: tiny or unscaled
            # coefficients made HiGHS repair its solutions and print a stray line
            add(list(zip(zc, f * np.ceil(shares[part, c] * 1e6) / 1e6)) + [(nz + c, -f)], 0.0, np.inf)
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
                  bounds=so.Bounds(np.zeros(nvar), upper), options={"time_limit": TIME_LIMIT})
    if res.status == 2:  # infeasible
        return 0
    dual = getattr(res, "mip_dual_bound", None)
    best = -dual if dual is not None and np.isfinite(dual) else (k if res.fun is None else -res.fun)
    return int(math.floor(best + 1e-6))
