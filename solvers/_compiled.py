"""``_local.regrow`` compiled with Numba, for pools of unlocked units (every rebuild and shake).

The local search spends most of its time growing small pools again (``_grow.grow``, then
``merge_fragments``, the checks and ``potential``). This module does the same steps on arrays,
in the same order and with the same draws from the same ``numpy`` generator, so it returns the
regions ``_local.regrow_python`` returns and leaves the generator in the same state
(``tests/test_compiled.py`` holds the two together). Numba caches the machine code beside this
file, so only the first search on a machine compiles it, with ``_compiled_shake`` and
``_compiled_gather`` (under a minute, left out of the run's time limit; see ``_local.compiled``).
Counters and ids start as ``np.int64(0)``, not ``0``: Numba types a constant argument as itself
and compiles the callee once more for it. Totals are int64, far from
overflow: a population times ``AREA_SCALE`` times a rule's denominator stays below 10^15.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._grow import CLASS_PULL, Region
from ._layout import Layout

CLASSES = ("mountain", "high_density", "low_density", "standard")
# positions in the ``rule`` array
(UNIFORM, LOWEST, HIGHEST, CEILING, SCALE, SHARE_NUM, SHARE_DEN, CAP_NUM, CAP_DEN, HIGH_NUM, HIGH_DEN,
 LOW_NUM, LOW_DEN, F_MOUNTAIN, F_HIGH, F_LOW, F_STANDARD) = range(17)


class Arrays:
    """A layout's units and rules as the arrays the compiled code reads."""

    def __init__(self, layout: Layout):
        from lombardy_districts.model.measures import AREA_SCALE

        nb = layout.neighbors
        self.layout = layout
        self.ptr = np.zeros(layout.n + 1, dtype=np.int64)
        self.ptr[1:] = np.cumsum([len(x) for x in nb])
        self.idx = np.array([v for x in nb for v in x], dtype=np.int64)
        self.pop = np.array(layout.pop, dtype=np.int64)
        self.area = np.array(layout.area, dtype=np.int64)
        self.mountain = np.array(layout.mountain, dtype=np.int64)
        self.alone = np.array(layout.alone, dtype=np.bool_)
        codes: dict = {}
        self.group = np.array([codes.setdefault(g, len(codes)) for g in layout.group], dtype=np.int64)
        for u in layout.locked:  # -(group + 1): the compiled rounds never move a region holding it
            self.group[u] = -self.group[u] - 1
        rule = layout.rule
        terms = [x for f in (rule.share, rule.cap, rule.high, rule.low) for x in (f.numerator, f.denominator)]
        self.rule = np.array([layout.uniform, layout.lowest, layout.highest,
                              -1 if layout.ceiling is None else layout.ceiling, AREA_SCALE, *terms,
                              *(layout.floors.get(c, layout.lowest) for c in CLASSES)], dtype=np.int64)
        self.graph = (self.ptr, self.idx, self.pop, self.area, self.mountain, self.alone, self.group, self.rule)
        self._call(np.zeros(1, dtype=np.int64), np.random.default_rng(0), 0, (1.0,), (1.0,), None)  # compile now

    def _call(self, units, rng, tries, periphery, noise, beat):
        count, value = (beat if beat is not None else (0, 0.0))
        return _regrow(units, self.ptr, self.idx, self.pop, self.area, self.mountain, self.alone, self.group,
                       self.rule, rng, tries, np.array(periphery, dtype=np.float64),
                       np.array(noise, dtype=np.float64), beat is not None, int(count), float(value))

    def regrow(self, pool: set[int], rng: np.random.Generator, tries: int, periphery: tuple, noise: tuple,
               beat=None):
        """``_local.regrow_python`` of a pool of unlocked units."""
        units = np.array(sorted(pool), dtype=np.int64)
        labels, key_count, key_value = self._call(units, rng, tries, periphery, noise, beat)
        if key_count < 0:
            return None, beat
        members: list[set[int]] = [set() for _ in range(key_count)]
        for u, k in zip(units.tolist(), labels.tolist()):
            members[k].add(u)
        return [Region(self.layout, m) for m in members], (int(key_count), float(key_value))


@njit(cache=True)
def _floor(pop, area, mountain, rule):
    """``Layout.floor_of``."""
    if rule[UNIFORM]:
        return rule[LOWEST]
    people = pop * rule[SCALE]
    if rule[SHARE_DEN] * mountain > rule[SHARE_NUM] * area and people * rule[CAP_DEN] < rule[CAP_NUM] * area:
        return rule[F_MOUNTAIN]
    if area <= 0:
        return rule[F_HIGH] if rule[HIGH_NUM] == 0 else rule[F_LOW]
    if people * rule[HIGH_DEN] >= rule[HIGH_NUM] * area:
        return rule[F_HIGH]
    if people * rule[LOW_DEN] <= rule[LOW_NUM] * area:
        return rule[F_LOW]
    return rule[F_STANDARD]


@njit(cache=True)
def _spare(pop, area, mountain, rule):
    """``_local.spare``: population above the floor, capped at the floor."""
    f = _floor(pop, area, mountain, rule)
    return min(pop - f, f)


@njit(cache=True)
def _meets(pop, area, mountain, rule):
    """``Layout.meets_floor``."""
    if pop < rule[LOWEST] or pop >= rule[HIGHEST]:
        return pop >= rule[LOWEST]
    return pop >= _floor(pop, area, mountain, rule)


@njit(cache=True)
def _complies(pop, area, mountain, rule):
    """``Layout.complies``."""
    if rule[CEILING] >= 0 and pop > rule[CEILING]:
        return False
    return _meets(pop, area, mountain, rule)


@njit(cache=True)
def _take(u, ptr, idx, free, degree):
    free[u] = False
    for e in range(ptr[u], ptr[u + 1]):
        if free[idx[e]]:
            degree[idx[e]] -= 1


@njit(cache=True)
def _extend(u, g, ptr, idx, free, group, at, units, links, size):
    """Add the free neighbours of ``u`` in group ``g`` to the frontier (in order of arrival); its new size."""
    for e in range(ptr[u], ptr[u + 1]):
        v = idx[e]
        if free[v] and group[v] == g:
            if at[v] < 0:
                at[v] = size
                units[size] = v
                links[size] = 1
                size += 1
            else:
                links[at[v]] += 1
    return size


@njit(cache=True)
def _pick(r, size, units, links, alive, free, pop, area, mountain, rule, rng, noise, tp, ta, tm):
    """The frontier unit ``_grow._grow_region`` adds next (-1: none fits), and whether it completes the floor."""
    for i in range(size):  # units taken since they joined the frontier leave it
        if alive[i] and not free[units[i]]:
            alive[i] = False
    best, best_cat, best_pop, best_links, best_score = -1, 2, 0, 0, 0.0
    for i in range(size):  # in order of arrival, as the Python dict: the draws must come in the same order
        if not alive[i]:
            continue
        v = units[i]
        p = tp[r] + pop[v]
        if rule[CEILING] >= 0 and p > rule[CEILING]:
            continue
        if rule[UNIFORM]:
            meets = p >= rule[LOWEST]
        else:
            meets = _meets(p, ta[r] + area[v], tm[r] + mountain[v], rule)
        if meets:  # key (0, pop, -links, v)
            if best_cat > 0 or p < best_pop or (p == best_pop and (links[i] > best_links
                                                                  or (links[i] == best_links and v < best))):
                best, best_cat, best_pop, best_links = v, 0, p, links[i]
        else:  # key (1, -(links + noise * draw) + CLASS_PULL * (floor - pop) / max(lowest, 1), 0, v)
            score = -(links[i] + noise * rng.random())
            if not rule[UNIFORM]:
                missing = _floor(p, ta[r] + area[v], tm[r] + mountain[v], rule) - p
                score += CLASS_PULL * missing / max(rule[LOWEST], 1)
            if best_cat > 1 or (best_cat == 1 and (score < best_score or (score == best_score and v < best))):
                best, best_cat, best_score = v, 1, score
    return best, best_cat == 0


@njit(cache=True)
def _grow_region(r, seed, ptr, idx, pop, area, mountain, group, rule, rng, noise, free, degree, label,
                 tp, ta, tm, at, units, links, alive):
    """``_grow._grow_region`` of region ``r`` started at ``seed``; the number of units it added."""
    g, added = group[seed], 0
    size = _extend(seed, g, ptr, idx, free, group, at, units, links, np.int64(0))
    alive[:size] = True
    if not _complies(tp[r], ta[r], tm[r], rule):
        while True:
            best, complete = _pick(r, size, units, links, alive, free, pop, area, mountain, rule, rng, noise,
                                   tp, ta, tm)
            if best < 0:
                break
            alive[at[best]] = False
            _take(best, ptr, idx, free, degree)
            label[best] = r
            added += 1
            tp[r] += pop[best]
            ta[r] += area[best]
            tm[r] += mountain[best]
            if complete:
                break
            old = size
            size = _extend(best, g, ptr, idx, free, group, at, units, links, size)
            alive[old:size] = True
    for i in range(size):
        at[units[i]] = -1
    return added


@njit(cache=True)
def _seed(pool, free, degree, rng, periphery, left):
    """The unit ``_grow.grow`` seeds its next region at: among those with fewest free neighbours, or any."""
    low = -1
    if rng.random() < periphery:
        for u in pool:
            if free[u] and (low < 0 or degree[u] < low):
                low = degree[u]
        left = 0
        for u in pool:
            if free[u] and degree[u] == low:
                left += 1
    k = rng.integers(0, left)
    for u in pool:
        if free[u] and (low < 0 or degree[u] == low):
            if k == 0:
                return u
            k -= 1
    return -1


@njit(cache=True)
def _grow(pool, ptr, idx, pop, area, mountain, alone, group, rule, rng, periphery, noise, label,
          tp, ta, tm, at, units, links, alive, free, degree):
    """``_grow.grow`` of ``pool`` (no start regions, singletons first); the number of regions before merging."""
    for u in pool:
        free[u] = True
    for u in pool:
        degree[u] = 0
        for e in range(ptr[u], ptr[u + 1]):
            degree[u] += free[idx[e]]
    left, r = len(pool), np.int64(0)
    for u in pool:
        if alone[u]:
            _take(u, ptr, idx, free, degree)
            left -= 1
            label[u] = r
            tp[r], ta[r], tm[r] = pop[u], area[u], mountain[u]
            r += 1
    while left > 0:
        seed = _seed(pool, free, degree, rng, periphery, left)
        _take(seed, ptr, idx, free, degree)
        label[seed] = r
        tp[r], ta[r], tm[r] = pop[seed], area[seed], mountain[seed]
        left -= 1 + _grow_region(r, seed, ptr, idx, pop, area, mountain, group, rule, rng, noise, free, degree,
                                 label, tp, ta, tm, at, units, links, alive)
        r += 1
    return r


@njit(cache=True)
def _group_of(r, pool, label, group):
    """The hard-boundary group of region ``r``."""
    for u in pool:
        if label[u] == r:
            return group[u]
    return -1


@njit(cache=True)
def _partner(k, step, count, pool, group, rule, label, tp, ta, tm, live, mark):
    """The neighbour (marked ``step``) that fragment ``k`` joins in ``_grow.merge_fragments``, or -1."""
    gk = _group_of(k, pool, label, group)
    best, best_cat, best_pop = -1, 3, 0
    for j in range(count):  # key (class of the merge, population, id)
        if mark[j] != step or not live[j]:
            continue
        p, a, m = tp[j] + tp[k], ta[j] + ta[k], tm[j] + tm[k]
        if _group_of(j, pool, label, group) != gk or (rule[CEILING] >= 0 and p > rule[CEILING]):
            continue
        ok = p >= _floor(p, a, m, rule)
        was_ok = _complies(tp[j], ta[j], tm[j], rule)
        cat = 0 if ok and not was_ok else (1 if ok else 2)
        if cat < best_cat or (cat == best_cat and p < best_pop):
            best, best_cat, best_pop = j, cat, p
    return best


@njit(cache=True)
def _merge(pool, ptr, idx, group, rule, label, count, tp, ta, tm, live, stuck, mark):
    """``_grow.merge_fragments`` on the labels and totals of ``count`` regions."""
    live[:count], stuck[:count], mark[:count] = True, False, -1
    step = 0
    while True:
        k = np.int64(-1)  # the smallest fragment not stuck, first made first
        for r in range(count):
            if live[r] and not stuck[r] and not _complies(tp[r], ta[r], tm[r], rule) and (k < 0 or tp[r] < tp[k]):
                k = r
        if k < 0:
            return
        step += 1
        for u in pool:
            if label[u] == k:
                for e in range(ptr[u], ptr[u + 1]):
                    if label[idx[e]] >= 0:
                        mark[label[idx[e]]] = step
        mark[k] = -1
        j = _partner(k, step, count, pool, group, rule, label, tp, ta, tm, live, mark)
        if j < 0:
            stuck[k] = True
            continue
        tp[j], ta[j], tm[j] = tp[j] + tp[k], ta[j] + ta[k], tm[j] + tm[k]
        for u in pool:
            if label[u] == k:
                label[u] = j
        live[k] = False
        stuck[:count] = False


@njit(cache=True)
def _connected(r, pool, ptr, idx, label, seen, todo):
    """Whether the units labelled ``r`` are connected."""
    size, start = 0, -1
    for u in pool:
        if label[u] == r:
            size += 1
            if start < 0:
                start = u
    seen[start] = True
    todo[0] = start
    top, reached = 1, 1
    while top > 0:
        top -= 1
        u = todo[top]
        for e in range(ptr[u], ptr[u + 1]):
            v = idx[e]
            if label[v] == r and not seen[v]:
                seen[v] = True
                todo[top] = v
                top += 1
                reached += 1
    for u in pool:
        seen[u] = False
    return reached == size


@njit(cache=True)
def _regrow(pool, ptr, idx, pop, area, mountain, alone, group, rule, rng, tries, periphery, noise, has_beat,
            beat_count, beat_value):
    """``_local.regrow_python``: labels of the best regrowth (0, 1, ... in region order) and its key (-1: none)."""
    n, m = len(pop), len(pool)
    label = np.full(n, -1, dtype=np.int64)
    free = np.zeros(n, dtype=np.bool_)
    seen = np.zeros(n, dtype=np.bool_)
    degree = np.zeros(n, dtype=np.int64)
    at = np.full(n, -1, dtype=np.int64)
    units, links, todo = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m, np.int64)
    alive, live, stuck = np.empty(m, np.bool_), np.empty(m, np.bool_), np.empty(m, np.bool_)
    mark = np.empty(m, np.int64)
    tp, ta, tm = np.zeros(m, np.int64), np.zeros(m, np.int64), np.zeros(m, np.int64)
    best = np.empty(m, np.int64)
    best_count, best_value = (beat_count, beat_value) if has_beat else (-1, 0.0)
    found = False
    for _ in range(tries):
        p = periphery[rng.integers(0, len(periphery))]
        q = noise[rng.integers(0, len(noise))]
        for u in pool:
            label[u] = -1
        count = _grow(pool, ptr, idx, pop, area, mountain, alone, group, rule, rng, p, q, label,
                      tp, ta, tm, at, units, links, alive, free, degree)
        _merge(pool, ptr, idx, group, rule, label, count, tp, ta, tm, live, stuck, mark)
        ok, regions, value = True, 0, 0.0
        for r in range(count):
            if not live[r]:
                continue
            if not _complies(tp[r], ta[r], tm[r], rule) or not _connected(r, pool, ptr, idx, label, seen, todo):
                ok = False
                break
            regions += 1
            s = _spare(tp[r], ta[r], tm[r], rule)
            value += float(s) * s
        if not ok:
            continue
        if (not has_beat and not found) or regions > best_count or (regions == best_count and value > best_value):
            found = True
            best_count, best_value = regions, value
            k = 0
            for r in range(count):  # region order: the order the regions were made in
                if live[r]:
                    mark[r] = k
                    k += 1
            for i in range(m):
                best[i] = mark[label[pool[i]]]
    if not found:
        return best, -1, 0.0
    return best, best_count, best_value


__all__ = ["Arrays"]
