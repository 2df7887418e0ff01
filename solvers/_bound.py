"""A simple upper bound on the number of compliant plans.

Every plan needs at least the lowest floor ``L``. A unit with population ``>= L`` (a *big* unit)
can be at most one plan by itself, and its spare population is of no use to anyone else, so
count each big unit as one plan. Every other plan is made of small units only, lies inside one
connected component of the graph of small units (edges across hard boundaries removed), and
needs ``L`` of that component's population: a component with population ``P`` holds at most
``P // L`` such plans. Units of exclusive locked plans form exactly one plan per label.

**Cut units.** The same holds with some small units set apart as well: every plan holds a big
unit, or a unit set apart, or lies inside one component of what is left, so the count is at most
the big units, plus the units set apart, plus ``P // L`` of each component left. Setting apart a
unit whose removal splits its component (an articulation point) pays when the pieces waste more
than the unit costs: at ``L = 25,000`` a component of 70,000 counts 2, but if a unit of 20,000
splits it into pieces of 24,000, 24,000 and 2,000, it counts ``1 + 0 + 0 + 0 = 1``. ``plan_bound``
sets apart, one at a time, the unit whose removal lowers the count most, while one does (at a
uniform 25,000 floor on Lombardy: two units, 293 to 291).
"""

from __future__ import annotations

from ._layout import Layout
from .units import reach


def plan_bound(layout: Layout) -> int:
    """Upper bound on the number of compliant plans (see the module docstring)."""
    low = layout.lowest
    exclusive = {layout.lock[u] for u in range(layout.n) if layout.lock[u] in layout.exclusive}
    out = len(exclusive)
    small = set()
    for u in range(layout.n):
        if layout.lock[u] in layout.exclusive:
            continue
        if low > 0 and layout.pop[u] >= low:
            out += 1
        else:
            small.add(u)
    if low == 0:
        return out + len(small)
    while True:
        gain, cut = _best_cut(layout, small)
        if gain <= 0:
            break
        small.discard(cut)
        out += 1
    return out + sum(_population(layout, c) // low for c in _components(layout, small))


def _linked(layout: Layout, u: int, v: int) -> bool:
    return layout.group[v] == layout.group[u]


def _components(layout: Layout, units: set[int]) -> list[list[int]]:
    """Connected components of ``units`` (edges across hard boundaries removed), each sorted."""
    left: dict = {}
    for u in units:
        left.setdefault(layout.group[u], set()).add(u)
    out = []
    for start in sorted(units):
        same = left[layout.group[start]]
        if start in same:
            comp = reach(layout.neighbors, start, same)
            same -= comp
            out.append(sorted(comp))
    return out


def _population(layout: Layout, units) -> int:
    return sum(layout.pop[u] for u in units)


def _best_cut(layout: Layout, small: set[int]) -> tuple[int, int]:
    """``(gain, unit)``: the unit of ``small`` whose removal lowers the count most, and by how much.

    Articulation points and the populations of the pieces they leave come from one depth-first
    search per component (Hopcroft and Tarjan's low points, with subtree populations).
    """
    low_floor = layout.lowest
    best = (0, -1)
    for comp in _components(layout, small):
        total = _population(layout, comp)
        before = total // low_floor
        if before < 2:  # removing a unit costs one plan: it must save at least two
            continue
        for u, pieces in _pieces(layout, small, comp[0]):
            rest = total - layout.pop[u] - sum(pieces)
            gain = before - 1 - sum(p // low_floor for p in pieces) - rest // low_floor
            if gain > best[0] or (gain == best[0] and gain > 0 and u < best[1]):
                best = (gain, u)
    return best


def _pieces(layout: Layout, small: set[int], root: int):
    """For each unit of ``root``'s component: the populations of the pieces cut off below it in a DFS tree.

    Yields ``(unit, [populations])`` for the units with at least one such piece (for the root, every
    child's subtree but the last, whose population the caller gets as the rest of the component).
    """
    order = {root: 0}
    low = {root: 0}
    weight = {root: layout.pop[root]}
    cut_off: dict[int, list[int]] = {root: []}
    stack = [(root, -1, iter(layout.neighbors[root]))]
    while stack:
        u, parent, it = stack[-1]
        advanced = False
        for v in it:
            if v not in small or not _linked(layout, u, v) or v == parent:
                continue
            if v in order:
                low[u] = min(low[u], order[v])
                continue
            order[v] = low[v] = len(order)
            weight[v] = layout.pop[v]
            cut_off[v] = []
            stack.append((v, u, iter(layout.neighbors[v])))
            advanced = True
            break
        if advanced:
            continue
        stack.pop()
        if parent >= 0:
            low[parent] = min(low[parent], low[u])
            weight[parent] += weight[u]
            if low[u] >= order[parent]:
                cut_off[parent].append(weight[u])
    for u, pieces in cut_off.items():
        if u == root:
            pieces = pieces[:-1]  # the root's last subtree is "the rest"
        if pieces:
            yield u, pieces
