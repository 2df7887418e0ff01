"""Groups of municipalities that a plan must keep inside one area plan (rule ``keep_together``).

``keep_together = ["union"]`` in the rules' ``[boundaries]`` asks that no plan border cut a
collaboration tie of kind ``union``. The municipalities joined by such ties, directly or through
others, form one *group* (``together_groups``): a union of municipalities, or several unions that
share a member (a municipality listed in one union in 2020 and in another in the newer list links
them). Union ties join every pair of members, so a union whose members do not touch is one group
too, and the plan that keeps it also holds municipalities between its parts. Any kind of tie works
the same way (``current_plan`` keeps each current plan, a user kind its own groups).

``split_groups`` finds the groups a plan splits; ``Plan.violations``, the scorecard, the
feasibility check and the solvers all use these two functions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
import pandas as pd

from lombardy_districts.errors import InputError
from lombardy_districts.model.collaboration import KINDS, RENAMED, Collaboration

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TogetherGroup:
    """Municipalities that must share one area plan.

    Attributes
    ----------
    members
        Municipality codes, sorted.
    kinds
        Kinds of tie that join them.
    names
        Names of the named groups it is made of (unions, current plans), newest source first;
        empty for kinds without names. A named group whose members another one already holds
        is left out.
    """

    members: tuple[str, ...]
    kinds: tuple[str, ...]
    names: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``union "Unione ..."``, ``union "A" + "B"``, or ``the group joined by ties of kind consortium``."""
        kind = "/".join(self.kinds)
        if not self.names:
            return f"the group joined by ties of kind {kind}"
        return f"{kind} " + " + ".join(f'"{n}"' for n in self.names)

    def describe(self, names: pd.Series, limit: int = 6) -> str:
        """``label`` with its municipalities by name (``names``: code -> name)."""
        shown = [f"{names.get(c, c)}" for c in self.members[:limit]]
        more = f" and {len(self.members) - limit:,} more" if len(self.members) > limit else ""
        return f"{self.label} ({', '.join(shown)}{more})"


def check_kinds(kinds: Iterable[str], collaboration: Collaboration) -> None:
    """Raise ``InputError`` for a kind that is neither built in nor among ``collaboration``'s kinds."""
    known = sorted(set(KINDS) | set(collaboration.kinds))
    problems = []
    for kind in kinds:
        if kind in RENAMED:
            problems.append(f"keep_together names kind {kind!r}, now called {RENAMED[kind]!r}; "
                            f"write keep_together = [\"{RENAMED[kind]}\"]")
        elif kind not in known:
            problems.append(f"keep_together names kind {kind!r}, which no collaboration tie has; "
                            f"kinds: {', '.join(known)} (your own with --collaboration FILE)")
    if problems:
        raise InputError(problems)


def together_groups(collaboration: Collaboration, kinds: Sequence[str], codes: Iterable[str]) -> list[TogetherGroup]:
    """The groups that ties of ``kinds`` join among ``codes`` (each of two or more municipalities).

    Ties with an end outside ``codes`` are ignored, so a union cut by the selection keeps only the
    members inside it. Groups are sorted by their first member.
    """
    kinds = tuple(kinds)
    if not kinds:
        return []
    check_kinds(kinds, collaboration)
    keep = set(codes)
    edges = collaboration.of_kinds(kinds)
    edges = edges[edges["code_a"].isin(keep) & edges["code_b"].isin(keep)]
    graph = nx.Graph()
    graph.add_edges_from(zip(edges["code_a"], edges["code_b"]))
    named = collaboration.groups
    named = named[named["kind"].isin(kinds) & named["code"].isin(keep)]
    members_of = {g: frozenset(c) for g, c in named.groupby("group_id", sort=False)["code"]}
    name_of = dict(zip(named["group_id"], named["group_name"]))
    out = []
    for part in nx.connected_components(graph):
        inside = [g for g, m in members_of.items() if m <= part and len(m) > 1]
        shown = [g for k, g in enumerate(inside)
                 if not any(members_of[g] < members_of[h] or (members_of[g] == members_of[h] and j < k)
                            for j, h in enumerate(inside) if h != g)]
        plain: dict[str, str] = {}  # one name per union: the lists write some with a trailing "*" (a footnote mark)
        for g in shown:
            name = str(name_of[g]).rstrip("* ")
            plain.setdefault(name.casefold(), name)
        names = tuple(plain.values())
        present = sorted(set(edges.loc[edges["code_a"].isin(part), "kind"]))
        out.append(TogetherGroup(tuple(sorted(part)), tuple(present), names))
    if not out:
        log.info("keep_together %s: no ties of these kinds among these municipalities", list(kinds))
    return sorted(out, key=lambda g: g.members)


def split_groups(assignment: pd.Series, groups: Sequence[TogetherGroup]) -> list[tuple[TogetherGroup, list[str]]]:
    """The groups whose municipalities ``assignment`` (code -> plan id) puts in more than one plan, with the plans."""
    out = []
    for group in groups:
        plans = sorted(set(assignment.reindex(list(group.members)).dropna()))
        if len(plans) > 1:
            out.append((group, plans))
    return out
