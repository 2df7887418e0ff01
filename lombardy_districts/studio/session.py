"""An editing session: the current plan, its locks, the whole history of edits and the named versions.

Every edit is a ``Change`` holding the before and after of what it touched (plan of each municipality,
plan names, locks), so undo and redo walk the history both ways; a new edit after an undo drops the
steps that were undone, as in any editor. Each state has a ``version`` number; an edit made against an
older version (a second browser tab) is refused with ``StaleEdit``.

Edits check what they may do (``EditRefused`` says why not): locked plans and locked municipalities
do not move, a plan id must exist. An edit may break contiguity or a floor: the live scorecard flags it.

The session writes a journal (one JSON line per step) in the workspace, so it reopens as it was left.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lombardy_districts.errors import InputError
from lombardy_districts.model.measures import moved
from lombardy_districts.model.plan import Plan
from lombardy_districts.model.territory import Territory

log = logging.getLogger(__name__)

NAME_LENGTH = 80
"""Longest plan or version name accepted."""


class EditRefused(InputError):
    """An edit the session does not make; the message says why and what to do instead."""


class StaleEdit(EditRefused):
    """An edit made on an older version of the session (another tab changed it since)."""


@dataclass
class Change:
    """One step of the history: the before and after of everything it touched."""

    label: str
    moves: dict[str, tuple[str, str]] = field(default_factory=dict)
    names: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    locked_plans: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    locked_municipalities: dict[str, tuple[bool, bool]] = field(default_factory=dict)

    def to_json(self) -> dict:
        """Plain JSON (tuples as lists)."""
        return {"label": self.label, "moves": self.moves, "names": self.names, "locked_plans": self.locked_plans,
                "locked_municipalities": self.locked_municipalities}

    @classmethod
    def from_json(cls, raw: Mapping) -> Change:
        """The change written by ``to_json``."""
        return cls(raw["label"], *({k: tuple(v) for k, v in raw[key].items()}
                                   for key in ("moves", "names", "locked_plans", "locked_municipalities")))


def clean_name(text, what: str = "name") -> str:
    """A plan or version name as typed: control characters dropped, spaces collapsed, at most 80 characters."""
    if not isinstance(text, str):
        raise EditRefused(f"{what} must be text, got {text!r}")
    text = re.sub(r"\s+", " ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    if not text:
        raise EditRefused(f"{what} is empty; type a few words, e.g. \"Bergamo Est\"")
    if len(text) > NAME_LENGTH:
        raise EditRefused(f"{what} has {len(text)} characters; at most {NAME_LENGTH} are allowed")
    return text


def name_key(text: str) -> str:
    """How plan names are compared: case and spaces around or between the words do not count."""
    return " ".join(str(text).split()).casefold()


def numbered(base: str, taken: Iterable[str]) -> str:
    """``base`` when no name in ``taken`` is the same (``name_key``); else "base (2)", "base (3)"..."""
    keys = {name_key(t) for t in taken}
    if name_key(base) not in keys:
        return base
    k = 2
    while name_key(f"{base} ({k})") in keys:
        k += 1
    return f"{base} ({k})"


def unique_names(names: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Plan names with each repeated one numbered ("Dalmine", "Dalmine (2)"), and a sentence per renaming.

    The plans keep their order (a file's order: its first "Dalmine" keeps the name).
    """
    out: dict[str, str] = {}
    said = []
    written = [" ".join(str(name).split()) for name in names.values()]
    seen: set[str] = set()
    for plan_id, name in zip(names, written):
        if name_key(name) not in seen:  # the first of its name keeps it
            given = name
        else:  # a number no plan of the file has either: its own "Dalmine (2)" keeps its name
            given = numbered(name, [*written, *out.values()])
            said.append(f"plan {plan_id} is called {given!r}, as {name!r} is another plan's name")
        seen.add(name_key(name))
        out[plan_id] = given
    return out, said


class Session:
    """The state the studio edits (see the module docstring).

    Parameters
    ----------
    territory
        The municipalities being planned.
    assignment, names
        The plan to start from: municipality code -> plan id, and plan id -> name.
    journal
        File to append every step to (None: nothing is written).
    """

    def __init__(self, territory: Territory, assignment: Mapping[str, str], names: Mapping[str, str] | None = None,
                 journal: Path | None = None, source: str = ""):
        self.territory = territory
        self.codes = territory.codes
        self.base = ({c: str(assignment[c]) for c in self.codes}, dict(names or {}))
        self.assignment = dict(self.base[0])
        self.names = dict(self.base[1])
        self.locked_plans: set[str] = set()
        self.locked_municipalities: set[str] = set()
        self.history: list[Change] = []
        self.cursor = 0
        self.version = 0
        self.versions: dict[str, dict] = {}
        self.source = source
        self.journal: Path | None = None
        if journal is not None:
            self._start_journal(Path(journal))

    # ----- reading -------------------------------------------------------------------------------------
    def plan(self) -> Plan:
        """The current plan."""
        ids = set(self.assignment.values())
        return Plan(self.territory, self.assignment, {p: n for p, n in self.names.items() if p in ids})

    def plan_name(self, plan_id: str) -> str:
        """A plan's name: the given one, else its most populous municipality's (as the scorecard names it)."""
        if plan_id in self.names:
            return self.names[plan_id]
        members = self.members(plan_id)
        return self._largest(members) if members else plan_id

    def plan_ids(self) -> list[str]:
        """Current plan ids, sorted."""
        return sorted(set(self.assignment.values()))

    def members(self, plan_id: str) -> list[str]:
        """Municipality codes of one plan."""
        return [c for c, p in self.assignment.items() if p == plan_id]

    def locked(self, code: str) -> bool:
        """Whether a municipality may not move (locked itself, or in a locked plan)."""
        return code in self.locked_municipalities or self.assignment[code] in self.locked_plans

    def earlier(self) -> Iterator[dict[str, str]]:
        """The plan (municipality code -> plan id) before each step of the history that undo reaches, latest first."""
        assignment = dict(self.assignment)
        for change in reversed(self.history[:self.cursor]):
            for code, move in change.moves.items():
                assignment[code] = move[0]
            yield dict(assignment)

    def steps(self) -> dict:
        """What undo and redo would do, and the labels of the history."""
        return {"undo": self.history[self.cursor - 1].label if self.cursor else None,
                "redo": self.history[self.cursor].label if self.cursor < len(self.history) else None,
                "labels": [c.label for c in self.history], "cursor": self.cursor}

    # ----- edits ----------------------------------------------------------------------------------------
    def check_version(self, version: object) -> None:
        """Refuse an edit made on another version than the current one."""
        if version != self.version:
            raise StaleEdit(f"this session changed elsewhere (another tab or window): it is at version "
                            f"{self.version}, your page showed version {version}. The page now shows the "
                            "latest state; make the edit again if you still want it.")

    def move(self, codes: Iterable[str], to_plan: str, version: int) -> Change:
        """Move municipalities into the existing plan ``to_plan``."""
        self.check_version(version)
        codes = self._movable(codes)
        self._existing(to_plan)
        self._unlocked_plan(to_plan)
        moves = {c: (self.assignment[c], to_plan) for c in codes if self.assignment[c] != to_plan}
        if not moves:
            raise EditRefused(f"{self._are(codes)} already in {self._label(to_plan)}")
        return self._do(Change(f"move {self._few(moves)} to {self.plan_name(to_plan)}", moves))

    def new_plan(self, codes: Iterable[str], version: int, name: str | None = None) -> Change:
        """Start a new plan with ``codes``; its id is ``new-1``, ``new-2``... (the first one free)."""
        self.check_version(version)
        codes = self._movable(codes)
        taken = set(self.assignment.values()) | set(self.names)
        k = 1
        while f"new-{k}" in taken:
            k += 1
        plan_id = f"new-{k}"
        name = clean_name(name, "plan name") if name else self._unused_name(codes)
        names: dict[str, tuple[str | None, str | None]] = {plan_id: (None, name)} if name else {}
        moves = {c: (self.assignment[c], plan_id) for c in codes}
        shown = name or self._largest(codes)  # the name the scorecard gives it
        few = self._few(codes)
        label = f"new plan {shown} of {few} alone" if few == shown else f"new plan {shown} with {few}"
        return self._do(Change(label, moves, names))

    def merge(self, keep: str, other: str, version: int) -> Change:
        """Merge two plans; the larger keeps its id and name (more municipalities, then more people).

        As the scorecard reads a merger: the plan holding most of the two continues, so merging a
        small new plan with Lodi from the small plan's card still gives Lodi, not a renamed new plan.
        """
        self.check_version(version)
        for plan_id in (keep, other):
            self._existing(plan_id)
            self._unlocked_plan(plan_id)
        if keep == other:
            raise EditRefused(f"cannot merge {self._label(keep)} with itself; pick another plan")
        population = self.territory.municipalities["population"]

        def size(plan_id: str) -> tuple[int, int]:
            members = self.members(plan_id)
            return len(members), int(population[members].sum())

        if size(other) > size(keep):
            keep, other = other, keep
        codes = self.members(other)
        locked = [c for c in codes if c in self.locked_municipalities]
        if locked:
            raise EditRefused(f"{self._are(locked)} locked in {self._label(other)}; unlock first")
        moves = {c: (other, keep) for c in codes}
        names: dict[str, tuple[str | None, str | None]] = {other: (self.names[other], None)} if other in self.names \
            else {}
        return self._do(Change(f"merge {self.plan_name(other)} into {self.plan_name(keep)}", moves, names))

    def rename(self, plan_id: str, name: str, version: int) -> Change:
        """Give a plan a name."""
        self.check_version(version)
        self._existing(plan_id)
        self._unlocked_plan(plan_id)
        name = clean_name(name, "plan name")
        if name == self.plan_name(plan_id):
            raise EditRefused(f"{self._label(plan_id)} is already called {name!r}")
        key = name_key(name)
        if twin := next((p for p in self.plan_ids() if p != plan_id and name_key(self.plan_name(p)) == key), None):
            same = "" if self.plan_name(twin) == name else " (the same name but for case or spaces)"
            raise EditRefused(f"{self._label(twin)} is already called {self.plan_name(twin)!r}{same}; give each plan "
                              f"its own name, e.g. {numbered(name, map(self.plan_name, self.plan_ids()))!r}")
        return self._do(Change(f"rename {self.plan_name(plan_id)} to {name}", names={plan_id: (self.names.get(plan_id),
                                                                                       name)}))

    def lock_plan(self, plan_id: str, locked: bool, version: int) -> Change:
        """Lock (or unlock) a plan: its municipalities stay together and alone, for edits and solvers."""
        self.check_version(version)
        self._existing(plan_id)
        if (plan_id in self.locked_plans) == locked:
            raise EditRefused(f"{self._label(plan_id)} is already {'locked' if locked else 'unlocked'}")
        verb = "lock" if locked else "unlock"
        return self._do(Change(f"{verb} {self.plan_name(plan_id)}", locked_plans={plan_id: (not locked, locked)}))

    def lock_municipalities(self, codes: Iterable[str], locked: bool, version: int) -> Change:
        """Lock (or unlock) municipalities in their current plans."""
        self.check_version(version)
        codes = self._known(codes)
        changes = {c: (not locked, locked) for c in codes if (c in self.locked_municipalities) != locked}
        if not changes:
            raise EditRefused(f"{self._are(codes)} already {'locked' if locked else 'unlocked'}")
        verb = "lock" if locked else "unlock"
        return self._do(Change(f"{verb} {self._few(changes)}", locked_municipalities=changes))

    def replace(self, assignment: Mapping[str, str], names: Mapping[str, str], label: str, version: int,
                solved: bool = False) -> Change:
        """Make ``assignment`` the current plan (open a file, accept a candidate, restore a version).

        Locks that the new plan breaks (a locked plan changed, a locked municipality moved) are lifted
        in the same step, and the label says so. A ``solved`` plan (a solver's answer, found with every
        lock as a rule) keeps the municipality locks, whatever ids its plans have.
        """
        self.check_version(version)
        assignment = {str(k): str(v) for k, v in dict(assignment).items()}
        missing = [c for c in self.codes if c not in assignment]
        if missing:
            raise EditRefused(f"the new plan leaves out {self._few(missing)}")
        moves = {c: (self.assignment[c], str(assignment[c])) for c in self.codes if self.assignment[c] != assignment[c]}
        ids = set(map(str, assignment.values()))
        wanted = {p: str(n) for p, n in names.items() if p in ids}
        name_changes = {p: (self.names.get(p), wanted.get(p)) for p in set(self.names) | set(wanted)
                        if self.names.get(p) != wanted.get(p)}
        lifted_plans = {p: (True, False) for p in self.locked_plans
                        if p not in ids or {c for c, q in assignment.items() if q == p} != set(self.members(p))}
        lifted = {} if solved else {c: (True, False) for c in self._broken_municipality_locks(assignment)}
        if lifted_plans or lifted:
            label += f" (unlocked {len(lifted_plans) + len(lifted)} lock(s) it breaks)"
        if not (moves or name_changes or lifted_plans or lifted):
            raise EditRefused("nothing to change: that plan is the current plan")
        return self._do(Change(label, moves, name_changes, lifted_plans, lifted))

    def _broken_municipality_locks(self, assignment: Mapping[str, str]) -> set[str]:
        """Locked municipalities that move (``measures.moved``) or whose locked companions change.

        Plan ids may change (a solver's answer is renumbered): a lock keeps a municipality in the plan
        that continues its own, and together with the municipalities locked with it.
        """
        if not self.locked_municipalities:
            return set()
        population = self.territory.municipalities["population"]
        gone = moved(pd.Series(self.assignment), pd.Series(dict(assignment)), population)
        def groups(plan_of: Mapping[str, str]) -> dict[str, frozenset[str]]:
            by_plan: dict[str, set[str]] = {}
            for code in self.locked_municipalities:
                by_plan.setdefault(plan_of[code], set()).add(code)
            return {code: frozenset(members) for members in by_plan.values() for code in members}

        before, after = groups(self.assignment), groups(assignment)
        return {c for c in self.locked_municipalities if before[c] != after[c] or gone[c]}

    def undo(self, version: int) -> Change:
        """Undo the last step."""
        self.check_version(version)
        if not self.cursor:
            raise EditRefused("nothing to undo")
        self.cursor -= 1
        change = self.history[self.cursor]
        self._apply(change, forward=False)
        self._write({"kind": "undo", "version": self.version})
        return change

    def redo(self, version: int) -> Change:
        """Redo the step undone last."""
        self.check_version(version)
        if self.cursor >= len(self.history):
            raise EditRefused("nothing to redo")
        change = self.history[self.cursor]
        self.cursor += 1
        self._apply(change, forward=True)
        self._write({"kind": "redo", "version": self.version})
        return change

    def save_version(self, name: str) -> str:
        """Keep the current plan under ``name`` (a named version; the same name is replaced)."""
        name = clean_name(name, "version name")
        self.versions[name] = {"version": self.version, "assignment": dict(self.assignment),
                               "names": dict(self.names), "saved": time.strftime("%Y-%m-%d %H:%M")}
        self._write({"kind": "save_version", "name": name, **self.versions[name]})
        return name

    def delete_version(self, name: str) -> None:
        """Forget a named version (the edits' history is untouched)."""
        if name not in self.versions:
            known = ", ".join(sorted(self.versions)) or "none yet"
            raise EditRefused(f"no version named {name!r}; versions: {known}")
        del self.versions[name]
        self._write({"kind": "delete_version", "name": name})

    def restore_version(self, name: str, version: int) -> Change:
        """Make a named version the current plan again (one step of the history, so it can be undone)."""
        if name not in self.versions:
            known = ", ".join(sorted(self.versions)) or "none yet"
            raise EditRefused(f"no version named {name!r}; versions: {known}")
        saved = self.versions[name]
        return self.replace(saved["assignment"], saved["names"], f"restore version {name}", version)

    # ----- internals ------------------------------------------------------------------------------------
    def _do(self, change: Change) -> Change:
        del self.history[self.cursor:]
        self.history.append(change)
        self.cursor += 1
        self._apply(change, forward=True)
        self._write({"kind": "do", "change": change.to_json(), "version": self.version})
        return change

    def _apply(self, change: Change, forward: bool) -> None:
        pick = 1 if forward else 0
        for code, move in change.moves.items():
            self.assignment[code] = move[pick]
        for plan_id, name in change.names.items():
            if name[pick] is None:
                self.names.pop(plan_id, None)
            else:
                self.names[plan_id] = str(name[pick])
        for plan_id, lock in change.locked_plans.items():
            (self.locked_plans.add if lock[pick] else self.locked_plans.discard)(plan_id)
        for code, lock in change.locked_municipalities.items():
            (self.locked_municipalities.add if lock[pick] else self.locked_municipalities.discard)(code)
        self.version += 1

    def _known(self, codes: Iterable[str]) -> list[str]:
        codes = list(dict.fromkeys(str(c) for c in codes))
        if not codes:
            raise EditRefused("no municipality selected; click one, or drag with the brush or the lasso")
        unknown = [c for c in codes if c not in self.assignment]
        if unknown:
            raise EditRefused(f"unknown municipality codes: {', '.join(unknown[:10])}")
        return codes

    def _movable(self, codes: Iterable[str]) -> list[str]:
        codes = self._known(codes)
        locked = [c for c in codes if self.locked(c)]
        if locked:
            raise EditRefused(f"{self._are(locked)} locked (itself or its plan); unlock it first")
        return codes

    def _existing(self, plan_id: str) -> None:
        if plan_id not in set(self.assignment.values()):
            raise EditRefused(f"there is no plan {plan_id!r}; pick one of the current plans")

    def _unlocked_plan(self, plan_id: str) -> None:
        if plan_id in self.locked_plans:
            raise EditRefused(f"{self._label(plan_id)} is locked; unlock it first")

    def _largest(self, codes) -> str:
        """The name of the most populous of ``codes``: a plan's name when none is given."""
        gdf = self.territory.municipalities
        return str(gdf.at[gdf.loc[codes, "population"].idxmax(), "name"])

    def _unused_name(self, codes: list[str]) -> str | None:
        """None when a new plan of ``codes`` can take its largest municipality's name; else that name numbered.

        A plan called after the same town as another ("Seriate" beside the current Seriate plan) would make
        the scorecard's sentences ambiguous, so the new one is "Seriate (2)".
        """
        base = self._largest(codes)
        others = [self.plan_name(p) for p in set(self.assignment.values()) if not set(self.members(p)) <= set(codes)]
        name = numbered(base, others)
        return None if name == base else name

    def _label(self, plan_id: str) -> str:
        return f"plan {plan_id} ({self.plan_name(plan_id)})"

    def _few(self, codes) -> str:
        names = self.territory.municipalities["name"]
        codes = list(codes)
        shown = ", ".join(str(names[c]) for c in codes[:3])
        return shown + (f" and {len(codes) - 3:,} more" if len(codes) > 3 else "")

    def _are(self, codes) -> str:
        codes = list(codes)
        return f"{self._few(codes)} {'is' if len(codes) == 1 else 'are'}"

    # ----- journal --------------------------------------------------------------------------------------
    def _start_journal(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            self._replay(path)
        else:
            start = {"kind": "start", "codes": self.codes, "assignment": [self.base[0][c] for c in self.codes],
                     "names": self.base[1], "source": self.source}
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(start, ensure_ascii=False) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        self.journal = path

    def _write(self, entry: dict) -> None:
        if self.journal is None:
            return
        with self.journal.open("a", encoding="utf-8") as out:  # closed, so written, before the page hears back
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def _replay(self, path: Path) -> None:
        """Rebuild the state from the journal; a last line cut short by a crash is ignored."""
        lines = path.read_text(encoding="utf-8").splitlines()
        start = json.loads(lines[0])
        if start.get("codes") != self.codes:
            raise InputError(f"the session in {path} covers other municipalities than this territory; start the "
                             "studio with the same data and selection options, or use another --workspace")
        self.base = (dict(zip(self.codes, start["assignment"])), dict(start["names"]))
        self.assignment, self.names = dict(self.base[0]), dict(self.base[1])
        self.source = start.get("source", "")
        for number, line in enumerate(lines[1:], start=2):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s line %d is incomplete (the studio stopped while writing it); ignored", path, number)
                break
            self._replay_entry(entry)
        log.info("reopened the session in %s: %d steps, version %d", path, len(self.history), self.version)

    def _replay_entry(self, entry: dict) -> None:
        kind = entry["kind"]
        if kind == "do":
            change = Change.from_json(entry["change"])
            del self.history[self.cursor:]
            self.history.append(change)
            self.cursor += 1
            self._apply(change, forward=True)
        elif kind == "undo":
            self.cursor -= 1
            self._apply(self.history[self.cursor], forward=False)
        elif kind == "redo":
            self.cursor += 1
            self._apply(self.history[self.cursor - 1], forward=True)
        elif kind == "save_version":  # journals of before 4 December have no "saved"
            self.versions[entry["name"]] = {k: entry.get(k) for k in ("version", "assignment", "names", "saved")}
        elif kind == "delete_version":
            self.versions.pop(entry["name"], None)
