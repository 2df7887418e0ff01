"""The chain move (``_gather.gather``) compiled with Numba, on a label array.

``_gather.gather`` is the definition; ``gathered`` does the same steps in the same order, with
the same draws from the same ``numpy`` generator and the same work counted, so it returns the
regions ``gather`` returns, under the same ids (``tests/test_compiled_gather.py`` holds the two
together). It reuses the shaking's arrays (``_compiled_shake._state``) and its split
(``_compiled_shake._split``). A region's units are found by scanning the labels, as the
compiled split does: a few thousand steps, far below the Python move's cost.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._compiled import Arrays, _complies, _floor
from ._compiled_shake import ROOM, _replace, _split, _state


def gathered(arrays: Arrays, labels: np.ndarray, rng: np.random.Generator, left: int, passes: int,
             split_tries: int, room: int = ROOM) -> tuple[np.ndarray | None, int, int]:
    """``_gather.gather`` of ``labels``: the new labels (None: no region has spare), their regions, the work."""
    out, ok, spent, count = _chain(labels, arrays.graph, rng, left, passes, split_tries, room)
    return (out if ok else None), int(count), int(spent)


def compile_now(arrays: Arrays) -> None:
    """Compile (or load from Numba's cache) ``gathered``: a call with no passes, which moves nothing."""
    gathered(arrays, np.zeros(len(arrays.pop), dtype=np.int64), np.random.default_rng(0), 0, 0, 1)


@njit(cache=True)
def _target(label, tp, ta, tm, grp, count, pop, rule, rng):
    """``_gather._target``: a movable region drawn with weight its capped spare; -1 when none has any."""
    floor = np.empty(count, np.int64)
    capped = np.zeros(count, np.int64)
    for k in range(count):
        floor[k] = _floor(tp[k], ta[k], tm[k], rule)
    for u in range(len(label)):
        k = label[u]
        capped[k] += min(pop[u], floor[k])
    ids = np.empty(count, np.int64)
    cum = np.empty(count, np.float64)
    m, total = 0, 0
    for k in range(count):
        if grp[k] >= 0:  # movable
            total += max(0, capped[k] - floor[k])
            ids[m], cum[m] = k, total
            m += 1
    if total <= 0:
        return -1
    x = rng.random() * cum[m - 1]
    return ids[min(np.searchsorted(cum[:m], x, side="right"), m - 1)]


@njit(cache=True)
def _distances(target, label, sz, grp, count, ptr, idx, dist):
    """``_gather._distances`` into ``dist`` (-1: not reached); the work (sizes of the regions reached)."""
    for k in range(count):
        dist[k] = -1
    dist[target] = 0
    home = grp[target]
    spent, level, reached = sz[target], 0, 1
    while reached:
        reached = 0
        for u in range(len(label)):
            if dist[label[u]] != level:
                continue
            for e in range(ptr[u], ptr[u + 1]):
                r = label[idx[e]]
                if dist[r] < 0 and grp[r] == home:
                    dist[r] = level + 1
                    spent += sz[r]
                    reached += 1
        level += 1
    return spent


@njit(cache=True)
def _connected_without(q, u, label, sz, ptr, idx, seen, todo):
    """Whether region ``q`` without unit ``u`` is connected (it keeps at least one unit)."""
    start = -1
    for v in range(len(label)):
        seen[v] = False
        if start < 0 and label[v] == q and v != u:
            start = v
    seen[start], seen[u] = True, True
    todo[0], top, got = start, 1, 1
    while top:
        top -= 1
        v = todo[top]
        for e in range(ptr[v], ptr[v + 1]):
            x = idx[e]
            if not seen[x] and label[x] == q:
                seen[x] = True
                todo[top] = x
                top += 1
                got += 1
    return got == sz[q] - 1


@njit(cache=True)
def _after(pa, na, ua, pb, nb, ub):
    """Whether (population, noise, unit) ``a`` sorts after ``b``."""
    if pa != pb:
        return pa > pb
    if na != nb:
        return na > nb
    return ua > ub


@njit(cache=True)
def _border(q, step, label, ptr, idx, dist, pop, rng, border, noise, order):
    """Region ``q``'s units beside regions ``step`` from the target, into ``border``; how many.

    ``order`` sorts them by (population, a random draw, unit), as ``_gather._hand_on`` does.
    """
    nb = 0
    for u in range(len(label)):  # ascending, as sorted() of the Python set
        if label[u] != q:
            continue
        for e in range(ptr[u], ptr[u + 1]):
            if dist[label[idx[e]]] == step:
                border[nb] = u
                nb += 1
                break
    for i in range(nb):
        noise[i] = rng.random()
        order[i] = i
    for i in range(1, nb):  # insertion sort
        j, x = i, order[i]
        while j > 0 and _after(pop[border[order[j - 1]]], noise[order[j - 1]], border[order[j - 1]],
                               pop[border[x]], noise[x], border[x]):
            order[j] = order[j - 1]
            j -= 1
        order[j] = x
    return nb


@njit(cache=True)
def _nearer(u, step, label, ptr, idx, dist, near):
    """The distinct regions ``step`` from the target beside unit ``u``, ascending, into ``near``; how many."""
    nn = 0
    for e in range(ptr[u], ptr[u + 1]):
        r = label[idx[e]]
        if dist[r] != step:
            continue
        j = nn
        while j > 0 and near[j - 1] > r:
            j -= 1
        if j > 0 and near[j - 1] == r:
            continue
        near[j + 1:nn + 1] = near[j:nn].copy()
        near[j] = r
        nn += 1
    return nn


@njit(cache=True)
def _hand_on(q, dist, label, tp, ta, tm, sz, ptr, idx, pop, area, mountain, rule, rng, border, noise, near, order,
             seen, todo):
    """``_gather._hand_on``: region ``q``'s border units to regions one step nearer; (units moved, work)."""
    step = dist[q] - 1
    nb = _border(q, step, label, ptr, idx, dist, pop, rng, border, noise, order)
    spent = sz[q]
    moved = 0
    for i in range(nb):
        u = border[order[i]]
        if not _complies(tp[q] - pop[u], ta[q] - area[u], tm[q] - mountain[u], rule):
            continue
        nn = _nearer(u, step, label, ptr, idx, dist, near)
        picks = np.arange(nn)  # ``_local.shuffled``: Fisher-Yates drawn with ``integers``
        for a in range(nn - 1):
            b = rng.integers(a, nn)
            picks[a], picks[b] = picks[b], picks[a]
        for a in range(nn):
            p = near[picks[a]]
            if not _complies(tp[p] + pop[u], ta[p] + area[u], tm[p] + mountain[u], rule):
                continue
            spent += sz[q]
            if _connected_without(q, u, label, sz, ptr, idx, seen, todo):
                label[u] = p
                tp[q], ta[q], tm[q], sz[q] = tp[q] - pop[u], ta[q] - area[u], tm[q] - mountain[u], sz[q] - 1
                tp[p], ta[p], tm[p], sz[p] = tp[p] + pop[u], ta[p] + area[u], tm[p] + mountain[u], sz[p] + 1
                moved += 1
            break
    return moved, spent


@njit(cache=True)
def _chain(labels, g, rng, left, passes, split_tries, room):
    """``_gather.gather`` on a copy of ``labels`` (renumbered in order, as ``Partition.copy``)."""
    ptr, idx, pop, area, mountain, alone, group, rule = g
    n = len(labels)
    s, w, ws = _state(labels, idx, pop, area, mountain, group, room)
    label, tp, ta, tm, sz, grp, live, stamp, meta, where = s
    count = meta[0]
    target = _target(label, tp, ta, tm, grp, count, pop, rule, rng)
    if target < 0:
        return label, False, 0, count
    cap = len(tp)
    dist, queue = np.empty(cap, np.int64), np.empty(cap, np.int64)
    border, noise, order = np.empty(n, np.int64), np.empty(n, np.float64), np.empty(n, np.int64)
    near, seen, todo = np.empty(n, np.int64), np.empty(n, np.bool_), np.empty(n, np.int64)
    units, lab = w[3], w[5]
    spent = 0
    for _ in range(passes):
        spent += _distances(target, label, sz, grp, count, ptr, idx, dist)
        # farthest first, then by id
        m = 0
        for k in range(count):
            if dist[k] > 0:
                queue[m] = k
                m += 1
        keys = np.empty(m, np.int64)
        for i in range(m):
            keys[i] = -dist[queue[i]] * cap + queue[i]
        moved = 0
        for i in np.argsort(keys):
            got, work = _hand_on(queue[i], dist, label, tp, ta, tm, sz, ptr, idx, pop, area, mountain, rule, rng,
                                 border, noise, near, order, seen, todo)
            moved += got
            spent += work
        size = sz[target]
        split = _split(target, split_tries, label, tp, ta, tm, sz, ptr, idx, pop, area, mountain, rule, rng, ws)
        spent += size * split_tries
        if split:
            part = ws[14]
            k = 0
            for u in range(n):
                if label[u] == target:
                    units[k] = u
                    lab[k] = 0 if part[u] else 1
                    k += 1
            chosen = w[2]
            chosen[0] = target
            _replace(chosen, np.int64(1), units, k, lab, np.int64(2), label, tp, ta, tm, sz, grp, live, meta, pop,
                     area, mountain, group)
            return label, True, spent, meta[1]
        if moved == 0 or spent >= left:
            break
    return label, True, spent, meta[1]


__all__ = ["compile_now", "gathered"]
