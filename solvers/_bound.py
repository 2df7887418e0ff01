"""A simple upper bound on the number of compliant plans.

Every plan needs at least the lowest floor ``L``. A unit with population ``>= L`` (a *big* unit)
can be at most one plan by itself, and its spare population is of no use to anyone else, so
count each big unit as one plan. Every other plan is made of small units only, lies inside one
connected component of the graph of small units (edges across hard boundaries removed), and
needs ``L`` of that component's population: a component with population ``P`` holds at most
``P // L`` such plans. Units of exclusive locked plans form exactly one plan per label.
"""

from __future__ import annotations

from ._layout import Layout


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
    seen: set[int] = set()
    for start in sorted(small):
        if start in seen:
            continue
        seen.add(start)
        todo, total = [start], 0
        while todo:
            u = todo.pop()
            total += layout.pop[u]
            for v in layout.neighbors[u]:
                if v in small and v not in seen and layout.group[v] == layout.group[u]:
                    seen.add(v)
                    todo.append(v)
        out += total // low
    return out
