"""A round of ``_perturb``, and ``_local.improve_count``, compiled with Numba.

``_perturb._shaken`` (shake a ball of regions, then ``_local.improve_count`` around it with its
split and rebuild moves) is where a long search spends its time, most of it in Python around the
compiled regrowth (``_compiled``). ``shaken`` does the same round on a label array: the same steps
in the same order, the same draws from the same ``numpy`` generator and the same work counted, so
it returns the partition ``_shaken`` returns (``tests/test_compiled_shake.py`` holds the two
together). Regions are ids in ``label``; ids only grow within a round, as in ``_local.Partition``,
and are renumbered in order (``_compact``) when the arrays fill up, which keeps their order.
A region holding a locked unit stays as built (``_local.movable``): ``Arrays`` stores such a unit's
hard-boundary group ``g`` as ``-(g + 1)``, and a region's group is its members' least, so below 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._compiled import LOWEST, Arrays, _complies, _regrow, _spare

ENOUGH = 2**62
"""Work left for a round when the budget counts time, not work."""
ROOM = 4
"""Region ids a round has room for, per unit, before it renumbers them (at least 2)."""


def shaken(arrays: Arrays, labels: np.ndarray, rng: np.random.Generator, left: int, hops: int, tries: int,
           patience_per_region: int, base_weight: float, split_tries: int, rebuild_tries: int,
           periphery: tuple, noise: tuple, room: int = ROOM) -> tuple[np.ndarray | None, int, int]:
    """``_perturb._shaken`` of ``labels``: the new labels (None: no regrowth fits), their regions, the work."""
    out, ok, spent, count = _round(labels, arrays.graph, rng, left, hops, tries, patience_per_region, base_weight,
                            split_tries, rebuild_tries, np.array(periphery, dtype=np.float64),
                            np.array(noise, dtype=np.float64), room)
    return (out if ok else None), int(count), int(spent)


def improved(arrays: Arrays, labels: np.ndarray, rng: np.random.Generator, left: int, bound: int, patience: int,
             idle: int, moves: int, split_tries: int, rebuild_tries: int, periphery: tuple, noise: tuple,
             room: int = ROOM) -> tuple[np.ndarray, int, int, int, bool]:
    """``_local.improve_count_python`` of ``labels`` for ``moves`` moves at most, after ``idle`` idle ones.

    The new labels, their regions, the work spent, the idle moves, and whether the search ended
    (at ``left`` work, ``bound`` regions, ``patience`` idle moves), else its moves ran out.
    """
    out, count, spent, idle, ended = _improve_all(labels, arrays.graph, rng, left, bound, patience, idle, moves,
                                                  split_tries, rebuild_tries, np.array(periphery, dtype=np.float64),
                                                  np.array(noise, dtype=np.float64), room)
    return out, int(count), int(spent), int(idle), bool(ended)


def compile_now(arrays: Arrays) -> None:
    """Compile (or load from Numba's cache) ``shaken`` and ``improved``: calls that stop at once."""
    zeros = np.zeros(len(arrays.pop), dtype=np.int64)
    shaken(arrays, zeros, np.random.default_rng(0), 0, 1, 0, 1, 0.0, 1, 1, (1.0,), (1.0,))
    improved(arrays, zeros, np.random.default_rng(0), 0, 1, 1, 0, 0, 1, 1, (1.0,), (1.0,))


@njit(cache=True)
def _near(since, label, ptr, idx, stamp, meta, out):
    """``_local.near_regions``: ids from ``since`` on and their neighbours, sorted, into ``out``; how many."""
    meta[2] += 1
    tick, c = meta[2], 0
    for u in range(len(label)):
        if label[u] >= since:
            if stamp[label[u]] != tick:
                stamp[label[u]] = tick
                out[c] = label[u]
                c += 1
            for e in range(ptr[u], ptr[u + 1]):
                j = label[idx[e]]
                if stamp[j] != tick:
                    stamp[j] = tick
                    out[c] = j
                    c += 1
    out[:c].sort()
    return c


@njit(cache=True)
def _neighbours(inside, label, ptr, idx, stamp, meta, out):
    """Ids next to the regions stamped ``inside`` (not among them), into ``out``; how many."""
    meta[2] += 1
    tick, c = meta[2], 0
    for u in range(len(label)):
        if stamp[label[u]] == inside:
            for e in range(ptr[u], ptr[u + 1]):
                j = label[idx[e]]
                if stamp[j] != inside and stamp[j] != tick:
                    stamp[j] = tick
                    out[c] = j
                    c += 1
    return c


@njit(cache=True)
def _replace(chosen, c, units, m, lab, count, label, tp, ta, tm, sz, grp, live, meta, pop, area, mountain, group):
    """``Partition.replace``: regions ``chosen[:c]`` give way to ``count`` new ones (``lab`` of ``units[:m]``)."""
    for i in range(c):
        live[chosen[i]] = False
    base = meta[0]
    for r in range(base, base + count):
        tp[r], ta[r], tm[r], sz[r], live[r] = 0, 0, 0, 0, True
    for i in range(m):
        u, r = units[i], base + lab[i]
        label[u] = r
        tp[r] += pop[u]
        ta[r] += area[u]
        tm[r] += mountain[u]
        sz[r] += 1
        grp[r] = group[u]
    meta[0] += count
    meta[1] += count - c


@njit(cache=True)
def _gather(inside, label, stamp, units):
    """Units of the regions stamped ``inside``, in order, into ``units``; how many."""
    m = np.int64(0)
    for u in range(len(label)):
        if stamp[label[u]] == inside:
            units[m] = u
            m += 1
    return m


@njit(cache=True)
def _compact(since, label, tp, ta, tm, sz, grp, live, stamp, meta, where):
    """Renumber the live ids 0, 1, ... in order; the number of live ids below ``since``."""
    new, before = 0, 0
    for j in range(meta[0]):
        if live[j]:
            where[j] = new
            tp[new], ta[new], tm[new], sz[new], grp[new] = tp[j], ta[j], tm[j], sz[j], grp[j]
            live[new], stamp[new] = True, -1
            before += j < since
            new += 1
    for j in range(new, meta[0]):
        live[j], stamp[j] = False, -1
    for u in range(len(label)):
        label[u] = where[label[u]]
    meta[0] = new
    return before


@njit(cache=True)
def _shuffle(rng, n, take, out):
    """``_local.shuffled``: its first ``take`` numbers into ``out``."""
    for i in range(n):
        out[i] = i
    for i in range(min(n - 1, take)):
        j = rng.integers(i, n)
        out[i], out[j] = out[j], out[i]


@njit(cache=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True)
def _tree(m, ne, rng, ea, eb, par, deg, start, adj, fill):
    """``_local._random_tree`` of ``m`` units, edges ``ea[:ne]``-``eb[:ne]``: lists ``adj[start[i]:start[i+1]]``."""
    perm = ea[ne + m:]  # after the tree's edges
    _shuffle(rng, ne, ne, perm)
    for i in range(m):
        par[i], deg[i] = i, 0
    nt = 0
    for t in range(ne):  # Kruskal: the tree edges, in the order they are taken
        a, b = ea[perm[t]], eb[perm[t]]
        ra, rb = _find(par, a), _find(par, b)
        if ra != rb:
            par[ra] = rb
            ea[ne + nt], eb[ne + nt] = a, b  # kept after the region's own edges
            deg[a] += 1
            deg[b] += 1
            nt += 1
    start[0] = 0
    for i in range(m):
        start[i + 1] = start[i] + deg[i]
        fill[i] = start[i]
    for t in range(ne, ne + nt):  # each unit's tree neighbours in the order they were added
        a, b = ea[t], eb[t]
        adj[fill[a]] = b
        fill[a] += 1
        adj[fill[b]] = a
        fill[b] += 1


@njit(cache=True)
def _rooted(m, root, start, adj, parent, order):
    """``_local._rooted``: parents (root: -1) and the breadth-first order; how many units it reached."""
    for i in range(m):
        parent[i] = -2
    parent[root], order[0], size = -1, root, 1
    h = 0
    while h < size:
        x = order[h]
        h += 1
        for q in range(start[x], start[x + 1]):
            y = adj[q]
            if parent[y] == -2:
                parent[y] = x
                order[size] = y
                size += 1
    return size


@njit(cache=True)
def _best_cut(k, m, size, mem, parent, order, tp, ta, tm, pop, area, mountain, rule, sp, sa, sm):
    """``_local._best_cut``: the unit (a local index) below the best tree edge, or -1."""
    for i in range(m):
        u = mem[i]
        sp[i], sa[i], sm[i] = pop[u], area[u], mountain[u]
    for h in range(size - 1, 0, -1):
        x = order[h]
        sp[parent[x]] += sp[x]
        sa[parent[x]] += sa[x]
        sm[parent[x]] += sm[x]
    best, best_key = -1, 0.0
    for h in range(1, size):
        x = order[h]
        bp, ba, bm = sp[x], sa[x], sm[x]
        cp, ca, cm = tp[k] - bp, ta[k] - ba, tm[k] - bm
        if _complies(bp, ba, bm, rule) and _complies(cp, ca, cm, rule):
            s1, s2 = _spare(bp, ba, bm, rule), _spare(cp, ca, cm, rule)
            key = -(0.0 + float(s1) * s1 + float(s2) * s2)
            if best < 0 or key < best_key:
                best, best_key = x, key
    return best


@njit(cache=True)
def _subtree(cut, m, mem, start, adj, parent, todo, part):
    """``_local._subtree``: mark in ``part`` the units of ``cut`` and below (and unmark the region's others)."""
    for i in range(m):
        part[mem[i]] = False
    part[mem[cut]] = True
    todo[0], top = cut, 1
    while top > 0:
        top -= 1
        x = todo[top]
        for q in range(start[x], start[x + 1]):
            y = adj[q]
            if y != parent[x] and not part[mem[y]]:
                part[mem[y]] = True
                todo[top] = y
                top += 1


@njit(cache=True)
def _split(k, tries, label, tp, ta, tm, sz, ptr, idx, pop, area, mountain, rule, rng, w):
    """``_local.split`` of region ``k``: True with the units of its first part marked in ``w``'s last array."""
    if tp[k] < 2 * rule[LOWEST] or sz[k] < 2:
        return False
    mem, at, ea, eb, par, deg, start, adj, fill, parent, order, sp, sa, sm, part = w
    m = np.int64(0)
    for u in range(len(label)):
        if label[u] == k:
            at[u] = m
            mem[m] = u
            m += 1
    ne = np.int64(0)
    for i in range(m):
        u = mem[i]
        for e in range(ptr[u], ptr[u + 1]):
            v = idx[e]
            if v > u and label[v] == k:
                ea[ne], eb[ne] = i, at[v]
                ne += 1
    for _ in range(tries):
        _tree(m, ne, rng, ea, eb, par, deg, start, adj, fill)
        size = _rooted(m, rng.integers(0, m), start, adj, parent, order)
        cut = _best_cut(k, m, size, mem, parent, order, tp, ta, tm, pop, area, mountain, rule, sp, sa, sm)
        if cut >= 0:
            _subtree(cut, m, mem, start, adj, parent, order, part)
            return True
    return False


@njit(cache=True)
def _rebuild(k, tries, s, g, rng, w):
    """``_local._rebuild`` of region ``k``: whether the count went up, and the work spent."""
    label, tp, ta, tm, sz, grp, live, stamp, meta, where = s
    ptr, idx, pop, area, mountain, alone, group, rule, periphery, noise = g
    ids, near, chosen, units = w[0], w[1], w[2], w[3]
    meta[2] += 1
    inside = meta[2]
    stamp[k] = inside
    c = _neighbours(inside, label, ptr, idx, stamp, meta, ids)
    stamp[k] = -1
    ids[:c].sort()
    nn = np.int64(0)
    for i in range(c):
        if grp[ids[i]] == grp[k]:
            near[nn] = ids[i]
            nn += 1
    if nn == 0:
        return False, 0
    take = rng.integers(1, min(nn, 4) + 1)
    _shuffle(rng, nn, take, where)
    where[:take].sort()
    chosen[0] = k
    for i in range(take):
        chosen[i + 1] = near[where[i]]
    c = take + 1
    meta[2] += 1
    inside = meta[2]
    value = 0.0
    for i in range(c):
        stamp[chosen[i]] = inside
        s_ = _spare(tp[chosen[i]], ta[chosen[i]], tm[chosen[i]], rule)
        value += float(s_) * s_
    m = _gather(inside, label, stamp, units)
    lab, count, _ = _regrow(units[:m], ptr, idx, pop, area, mountain, alone, group, rule, rng, tries, periphery,
                            noise, c > 0, c, value)  # c > 0: True, typed as a value (see ``_round``)
    if count < 0:
        return False, m * tries
    _replace(chosen, c, units, m, lab, count, label, tp, ta, tm, sz, grp, live, meta, pop, area, mountain, group)
    return count > c, m * tries


@njit(cache=True)
def _improve(since, patience, idle, moves, bound, split_tries, rebuild_tries, left, spent, s, g, rng, w, ws):
    """``_local.improve_count_python`` from the regions built since ``since`` (0: all), ``moves`` moves at most.

    The work spent in all, the idle moves, and whether the search ended (else its moves ran out).
    """
    label, tp, ta, tm, sz, grp, live, stamp, meta, where = s
    ptr, idx, pop, area, mountain, alone, group, rule, periphery, noise = g
    ids, units, lab2, chosen = w[4], w[3], w[5], w[2]
    part = ws[14]
    n = len(label)
    seen, nids, made = -1, 0, 0
    while spent < left and idle < patience:
        if meta[1] >= bound:
            break
        if made == moves:
            return spent, idle, False
        made += 1
        if meta[0] + n > len(tp):
            since = _compact(since, label, tp, ta, tm, sz, grp, live, stamp, meta, where)
            seen = -1
        if meta[0] != seen:
            nids = _near(since, label, ptr, idx, stamp, meta, ids)
            seen = meta[0]
            kept = np.int64(0)
            for i in range(nids):  # movable only
                if grp[ids[i]] >= 0:
                    ids[kept] = ids[i]
                    kept += 1
            nids = kept
        if nids == 0:
            break
        k = ids[rng.integers(0, nids)]
        big = tp[k] >= 2 * rule[LOWEST]
        split = _split(k, split_tries, label, tp, ta, tm, sz, ptr, idx, pop, area, mountain, rule, rng, ws)
        if big:
            spent += sz[k] * (1 if split else split_tries)
        if split:
            m = np.int64(0)
            for u in range(n):
                if label[u] == k:
                    units[m] = u
                    lab2[m] = 0 if part[u] else 1
                    m += 1
            chosen[0] = k
            _replace(chosen, np.int64(1), units, m, lab2, np.int64(2), label, tp, ta, tm, sz, grp, live, meta, pop,
                     area, mountain, group)
            idle = 0
            continue
        gain, work = _rebuild(k, rebuild_tries, s, g, rng, w)
        spent += work
        if gain:
            idle = 0
        else:
            idle += 1
    return spent, idle, True


@njit(cache=True)
def _state(labels, idx, pop, area, mountain, group, room):
    """A round's arrays: ``labels`` renumbered in order (as ``Partition.copy``), region totals, scratch space."""
    n = len(labels)
    cap = room * n + 8
    label = np.empty(n, np.int64)
    tp, ta, tm = np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap, np.int64)
    sz, grp, where = np.zeros(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap, np.int64)
    live, stamp = np.zeros(cap, np.bool_), np.full(cap, -1, np.int64)
    meta = np.zeros(3, np.int64)  # next id, live regions, last stamp
    seen = np.zeros(labels.max() + 1, np.int64)  # labels renumbered 0, 1, ... in order
    for u in range(n):
        seen[labels[u]] = 1
    count = np.int64(0)
    for k in range(len(seen)):
        count, seen[k] = count + seen[k], count
    for u in range(n):
        label[u] = seen[labels[u]]
    for u in range(n):
        r = label[u]
        tp[r] += pop[u]
        ta[r] += area[u]
        tm[r] += mountain[u]
        sz[r] += 1
        grp[r] = group[u] if sz[r] == 1 else min(grp[r], group[u])  # below 0: it holds a locked unit
        live[r] = True
    meta[0] = meta[1] = count
    s = (label, tp, ta, tm, sz, grp, live, stamp, meta, where)
    # scratch: w = (ids / ball front, near / next hop, chosen ids, pool units, near(since) ids, split labels);
    # ws = ``_split``'s (members, local index, edge ends a and b, union-find, degrees, tree lists' starts,
    # tree lists, fill, parents, breadth-first order, subtree totals pop / area / mountain, first part)
    w = (np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(n + 1, np.int64), np.empty(n, np.int64),
         np.empty(cap, np.int64), np.empty(n, np.int64))
    ws = (np.empty(n, np.int64), np.empty(n, np.int64), np.empty(len(idx) + n, np.int64),
          np.empty(len(idx) + n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n + 1, np.int64),
          np.empty(2 * n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64),
          np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.zeros(n, np.bool_))
    return s, w, ws


@njit(cache=True)
def _improve_all(labels, g, rng, left, bound, patience, idle, moves, split_tries, rebuild_tries, periphery, noise,
                 room):
    """``_improve`` over every region of ``labels``: labels, regions, work, idle moves, whether it ended."""
    ptr, idx, pop, area, mountain, alone, group, rule = g
    s, w, ws = _state(labels, idx, pop, area, mountain, group, room)
    spent, idle, ended = _improve(np.int64(0), patience, idle, moves, bound, split_tries, rebuild_tries, left,
                                  np.int64(0), s,
                                  (ptr, idx, pop, area, mountain, alone, group, rule, periphery, noise), rng, w, ws)
    return s[0], s[8][1], spent, idle, ended


@njit(cache=True)
def _round(labels, g, rng, left, hops, tries, patience_per_region, base_weight, split_tries, rebuild_tries,
           periphery, noise, room):
    """``_perturb._shaken`` on a copy of ``labels`` (renumbered in order, as ``Partition.copy``)."""
    ptr, idx, pop, area, mountain, alone, group, rule = g
    gg = (ptr, idx, pop, area, mountain, alone, group, rule, periphery, noise)
    n = len(labels)
    s, w, ws = _state(labels, idx, pop, area, mountain, group, room)
    label, tp, ta, tm, sz, grp, live, stamp, meta, where = s
    cap = len(tp)
    spent = 0
    # the centre: drawn with weight spare (none for a region holding a unit that meets its floor alone) + base
    held = np.zeros(cap, np.bool_)
    for u in range(n):
        if alone[u]:
            held[label[u]] = True
    count = meta[0]
    cum = np.empty(count, np.float64)
    acc = 0.0
    for k in range(count):
        weight = (0 if held[k] or grp[k] < 0 else _spare(tp[k], ta[k], tm[k], rule)) + base_weight * rule[LOWEST]
        acc = weight if k == 0 else acc + weight
        cum[k] = acc
    x = rng.random() * cum[count - 1]
    centre = min(np.searchsorted(cum, x, side="right"), count - 1)
    # the ball: regions within 1..hops steps of the centre
    inball = np.zeros(cap, np.bool_)
    inball[centre] = True
    front, nxt = w[0], w[1]
    front[0], nf = centre, 1
    for _ in range(rng.integers(1, hops + 1)):
        meta[2] += 1
        edge = meta[2]
        for i in range(nf):
            stamp[front[i]] = edge
        c = _neighbours(edge, label, ptr, idx, stamp, meta, nxt)
        nf = 0
        for i in range(c):
            if not inball[nxt[i]]:
                front[nf] = nxt[i]
                nf += 1
        for i in range(nf):
            inball[front[i]] = True
    chosen = w[2]
    nc = np.int64(0)
    home = grp[centre] if grp[centre] >= 0 else -grp[centre] - 1
    for k in range(count):
        if inball[k] and grp[k] == home:  # movable (a region holding a locked unit has grp < 0), same group
            chosen[nc] = k
            nc += 1
    meta[2] += 1
    inside = meta[2]
    for i in range(nc):
        stamp[chosen[i]] = inside
    units = w[3]
    m = _gather(inside, label, stamp, units)
    spent += m * tries
    # values, not constants, as arguments: a constant is typed as itself, and each typing compiles anew
    lab, got, _ = _regrow(units[:m], ptr, idx, pop, area, mountain, alone, group, rule, rng, tries, periphery, noise,
                          m < 0, np.int64(0), 0.0)
    if got < 0:
        return label, False, spent, 0
    since = meta[0]
    _replace(chosen, nc, units, m, lab, got, label, tp, ta, tm, sz, grp, live, meta, pop, area, mountain, group)
    patience = patience_per_region * _near(since, label, ptr, idx, stamp, meta, w[4])
    spent, _, _ = _improve(since, patience, np.int64(0), np.int64(ENOUGH), np.int64(ENOUGH), split_tries,
                           rebuild_tries, left, spent, s, gg, rng, w, ws)
    return label, True, spent, meta[1]


__all__ = ["ENOUGH", "compile_now", "improved", "shaken"]
