"""The groups of plans an optimal merge may use (``Groups``), and the proof that no larger one is needed.

Used by ``merge_sets``, whose docstring gives the method.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix, hstack, identity

from .model_setup import Setup
from .set_partition import cover_matrix


class Groups:
    """Candidate plans that an optimum may use (see the module docstring), listed level by level.

    ``columns`` (tuples of unit indices) holds every such group of up to ``size`` units and every
    unit that complies alone. ``grow`` lists the next size; it refuses once ``max_sets``
    connected sets would be passed (``note`` then says so).

    With ``keep_together`` sets (``Units.together``) a plan must hold each set whole: only such
    *closed* groups are listed, a unit of a set is never a plan alone (it joins ``bad``, the
    units every merged plan must hold one of), and a group is splittable only into closed parts.
    The optimality argument is unchanged: an optimal plan with no bad unit would split into
    single units, and one that splits into two closed compliant parts would give one plan more.
    """

    def __init__(self, setup: Setup, max_sets: int):
        self.units, self.terms, self.rules = setup.model, setup.terms, setup.problem.rules
        n = len(self.units)
        self.max_sets = max_sets
        self.failing = [i for i in range(n) if not self.complies([i])]
        self.set_of = {u: frozenset(t) for t in self.units.together for u in t}
        # units that cannot be a plan alone: below their floor, or part of a group kept together
        self.bad = set(self.failing) | set(self.set_of)
        self.compliant = {frozenset([i]) for i in range(n) if i not in self.bad}
        self.columns: list[tuple[int, ...]] = [(i,) for i in range(n) if i not in self.bad]
        self.level = {frozenset([i]) for i in range(n)}
        self.size, self.enumerated, self.note = 1, n, ""

    def complies(self, members) -> bool:
        """Whether a plan of these units meets its class floor and the ceiling."""
        members = list(members)
        total = int(self.units.population[members].sum())
        ceiling = self.rules.ceiling
        return total >= self.terms.floors[self.terms.classify(members)] and (ceiling is None or total <= ceiling)

    def closed(self, members) -> bool:
        """Whether ``members`` holds each ``together`` set it touches whole (``keep_together``)."""
        return all(self.set_of[u] <= members for u in members if u in self.set_of)

    def keep(self, count: int, size: int) -> None:
        """Forget the groups listed after the first ``count`` (those of more than ``size`` units)."""
        del self.columns[count:]
        self.size = size

    def grow(self) -> bool:
        """List the groups of ``size + 1`` units; False when that would pass ``max_sets``."""
        units, ceiling, labels = self.units, self.rules.ceiling, self.units.group
        if self.note or not self.level:
            return False
        nxt = set()
        for group in self.level:
            for i in group:
                for j in units.neighbors[i]:
                    if j in group or (labels is not None and labels[j] != labels[i]):
                        continue
                    new = group | {j}
                    if ceiling is None or int(units.population[list(new)].sum()) <= ceiling:
                        nxt.add(new)
            if self.enumerated + len(nxt) > self.max_sets:
                self.note = f"connected sets of {self.size + 1} units not listed (more than {self.max_sets:,} sets)"
                return False
        self.size += 1
        self.enumerated += len(nxt)
        for group in sorted(nxt, key=sorted):
            if not self.complies(group) or not self.closed(group):
                continue
            if self.bad & group and not _splittable(group, self.compliant):
                self.columns.append(tuple(sorted(group)))
            self.compliant.add(group)
        self.level = nxt
        return True


def _splittable(group: frozenset, compliant: set) -> bool:
    """Whether ``group`` splits into two listed compliant (hence connected) parts."""
    first, *rest = sorted(group)
    for mask in range((1 << len(rest)) - 1):
        part = frozenset([first, *(rest[k] for k in range(len(rest)) if mask >> k & 1)])
        if part in compliant and group - part in compliant:
            return True
    return False


def plan_bound(groups: Groups) -> int:
    """An upper bound on the number of plans: the LP relaxation of step 1's model (``merge_sets``).

    ``z_G`` per listed group, ``mu_i`` per unit in a plan of more than ``K = groups.size`` units;
    each unit covered once, ``mu_i`` at most the sum of its neighbours' (a larger plan is
    connected); maximise ``(K+1) sum z + sum mu``. An optimal partition is a solution worth at
    least ``K+1`` per plan, so ``floor(LP / (K+1))`` bounds its plans. In the 274-plan merge, over
    the 49,636 groups of up to 5 plans: 130, in under a second (the same as step 1 solved by CP-SAT
    over the groups of up to 4 plans, which takes 11 s).
    """
    units, k = groups.units, groups.size
    n, m = len(units), len(groups.columns)
    cover = hstack([cover_matrix(groups.columns, n), identity(n)]).tocsr()
    rows = [i for i in range(n) for _ in range(1 + len(units.neighbors[i]))]
    cols = [m + j for i in range(n) for j in (i, *units.neighbors[i])]
    vals = [v for i in range(n) for v in (1.0, *[-1.0] * len(units.neighbors[i]))]
    connected = csr_matrix((vals, (rows, cols)), shape=(n, m + n))
    cost = -np.concatenate([np.full(m, k + 1.0), np.ones(n)])
    res = linprog(cost, A_ub=connected, b_ub=np.zeros(n), A_eq=cover, b_eq=np.ones(n), bounds=(0, None),
                  method="highs")
    if res.status != 0:
        return n
    return int(np.floor(-res.fun / (k + 1) + 1e-6))  # rounding errors may only raise the bound


def larger_groups_excluded(groups: Groups, n: int, best: int) -> bool:
    """Whether no partition into ``best`` plans can hold a plan of more than ``groups.size`` units.

    Dual prices ``pi`` with ``sum_{i in G} pi_i <= |G| - 1`` for every listed group and
    ``pi_i <= t <= K/(K+1)`` bound the merges ``n - plans`` of any optimal partition from below
    by ``sum pi``; one with a plan ``B`` of ``|B| > K`` units needs at least
    ``sum pi + (K+1)(1 - t) - 1`` merges. When the best such bound passes ``n - best``, every
    partition with ``best`` plans uses listed groups only.
    """
    k = groups.size
    if n <= k:
        return True  # no plan can have more than k units
    rows, cols, vals, rhs = [], [], [], []
    for r, col in enumerate(groups.columns):
        rows += [r] * len(col)
        cols += list(col)
        vals += [1.0] * len(col)
        rhs.append(len(col) - 1.0)
    base = len(groups.columns)
    for i in range(n):  # pi_i - t <= 0
        rows += [base + i, base + i]
        cols += [i, n]
        vals += [1.0, -1.0]
        rhs.append(0.0)
    matrix = coo_matrix((vals, (rows, cols)), shape=(base + n, n + 1)).tocsr()
    cost = np.zeros(n + 1)
    cost[:n] = -1.0
    cost[n] = k + 1.0  # minimise -(sum pi - (K+1) t)
    bounds = [(None, None)] * n + [(None, k / (k + 1.0))]
    res = linprog(cost, A_ub=matrix, b_ub=rhs, bounds=bounds, method="highs")
    if res.status != 0:
        return False
    merges = -res.fun + (k + 1) - 1
    return merges > (n - best) + 1e-6
