"""The plan model: every municipality assigned to exactly one area plan.

A plan never changes in place: ``reassign`` returns a new plan that knows its parent.
Derived values (populations, areas, cut edges, contiguity) are computed once and cached.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from lombardy_districts.errors import InputError, expect, expect_path
from lombardy_districts.io.embedded import former_codes, former_codes_note, plain_name
from lombardy_districts.io.files import read_csv_text, write_atomic
from lombardy_districts.model.collaboration import Collaboration, default_collaboration
from lombardy_districts.model.measures import ClassRule, cut_edges, plan_count
from lombardy_districts.model.rules import Rules
from lombardy_districts.model.territory import Territory
from lombardy_districts.model.together import split_groups, together_groups

log = logging.getLogger(__name__)

PIECES_CROSSED = ("runs across pieces of the selection that do not touch (the selection's bridge between them is "
                  "no shared boundary); plan each piece apart")
"""How ``violations`` says a plan crosses ``Territory.pieces_apart``."""


WITHIN_HINT = "(--within-status-quo; Python: within_status_quo=True)"
"""How to keep to the municipalities a plan file lists (the front ends reword it where it does not apply)."""


class Plan:
    """Assignment of every municipality of a territory to one area plan.

    Parameters
    ----------
    territory
        The municipalities and their contiguity graph.
    assignment
        Municipality code -> plan id (strings). Every municipality must appear exactly once.
    names
        Optional plan id -> readable name.
    parent
        The plan this one was derived from, if any.
    """

    def __init__(
        self,
        territory: Territory,
        assignment: Mapping[str, str] | pd.Series,
        names: Mapping[str, str] | None = None,
        parent: Plan | None = None,
    ):
        expect(territory, Territory, "territory")
        series = pd.Series(assignment, dtype=object) if not isinstance(assignment, pd.Series) else assignment
        series = series.copy()
        series.index = codes_as_text(series.index, territory.istat)
        problems = []
        blank = series.index[series.isna().to_numpy() | (series.astype(object) == "").to_numpy()]
        if len(blank):
            known = territory if blank.isin(territory.municipalities.index).all() else None
            problems.append(f"municipalities with an empty plan id (None, NaN or \"\"): "
                            f"{_few(sorted(blank), known)}. Fix: give each a plan id")
        series = series.astype(str)
        codes = territory.municipalities.index
        doubled = sorted(series.index[series.index.duplicated()].unique())
        if doubled:
            where = [f"{c} (plans {', '.join(sorted(set(map(str, series[c]))))})" for c in doubled[:10]]
            problems.append(f"municipalities assigned more than once: {_few(where)}"
                            + (f" and {len(doubled) - 10:,} more" if len(doubled) > 10 else ""))
        # Index.difference, not Python sets: the studio builds a plan after every edit, and iterating text is slow
        unknown = sorted(series.index.difference(codes))
        if unknown:
            kind = "codes are 2023 ISTAT codes" if territory.istat else "codes are compared as text, exactly as written"
            gdf = territory.municipalities
            if territory.istat and "province_code" in gdf and not {c[:3] for c in unknown} & set(gdf["province_code"]):
                kind += ("; their provinces are not in it: for another province or region, load that part "
                         "(--province or --region; Python: load(province=...) or load(region=...))")
            former = former_codes_note(unknown) if territory.istat else ""
            problems.append(f"unknown municipality codes: {_few(unknown)} (not in this territory of "
                            f"{len(codes):,} municipalities; {kind})"
                            + (f"; {former}; fix: give each municipality its 2023 code" if former else ""))
        missing = sorted(codes.difference(series.index))
        if missing:
            problems.append(f"municipalities with no plan ({len(missing):,}): {_few(missing, territory)}. "
                            f"Fix: give every municipality a plan id, or keep to the municipalities the file lists "
                            f"{WITHIN_HINT}")
        if problems:
            raise InputError(problems)
        self.territory = territory
        self.assignment: pd.Series = series.reindex(codes)
        self.assignment.name = "plan_id"
        self.assignment.index.name = "code"
        self.names = {str(k): str(v) for k, v in (names or {}).items()}
        self.parent = parent

    def __repr__(self) -> str:
        return f"<Plan {len(self)} area plans over {len(self.assignment)} municipalities>"

    def over(self, territory: Territory, what: str = "the territory") -> Plan:
        """The plan read over ``territory``, which must hold the same municipalities (in any order).

        A status quo read on another ``Territory`` object than the plan or problem it goes with is
        re-read this way; ``what`` names that other side in the error.
        """
        if territory is self.territory:
            return self
        ours, theirs = set(territory.codes), set(self.assignment.index)
        if ours != theirs:
            extra, missing = sorted(theirs - ours), sorted(ours - theirs)
            problems = []
            if missing:
                problems.append(f"the status quo has no plan for {len(missing)} municipalities of {what}: "
                                f"{_few(missing)}")
            if extra:
                problems.append(f"the status quo lists {len(extra)} municipalities {what} does not cover: "
                                f"{_few(extra)}")
            problems.append("Fix: give a status quo over exactly the municipalities worked on "
                            "(or select them with --within-status-quo).")
            raise InputError(problems)
        return Plan(territory, self.assignment, self.names)

    def __len__(self) -> int:
        return plan_count(self.assignment)

    @classmethod
    def from_csv(cls, path, territory: Territory, column: str = "plan_id") -> Plan:
        """Read ``municipality_code,plan_id[,plan_name]`` (other code column names accepted: code)."""
        frame = read_assignment_csv(path, column, istat=territory.istat, names=territory.municipalities["name"])
        return cls(
            territory,
            pd.Series(frame["plan_id"].values, index=frame["municipality_code"].values),
            plan_names(frame, path),
        )

    def to_frame(self) -> pd.DataFrame:
        """``municipality_code, plan_id, plan_name`` sorted by code."""
        return pd.DataFrame({
            "municipality_code": self.assignment.index,
            "plan_id": self.assignment.values,
            "plan_name": [self.name(p) for p in self.assignment.values],
        })

    def to_csv(self, path) -> Path:
        """Write ``municipality_code,plan_id,plan_name``, atomically (``files.write_atomic``)."""
        frame = self.to_frame()
        return write_atomic(path, lambda p: frame.to_csv(p, index=False))

    def name(self, plan_id: str) -> str:
        """Readable name of a plan: the given one, else its most populous municipality's name."""
        if plan_id in self.names:
            return self.names[plan_id]
        if plan_id not in self._default_names:
            raise InputError(f"no plan {plan_id!r} in this plan; its {len(self.plan_ids):,} plan ids include "
                             f"{', '.join(map(repr, self.plan_ids[:5]))}")
        return self._default_names[plan_id]

    @cached_property
    def _default_names(self) -> dict[str, str]:
        gdf = self.territory.municipalities
        top = gdf["population"].groupby(self.assignment).idxmax()
        return {p: str(gdf.at[c, "name"]) for p, c in top.items()}

    def reassign(self, changes: Mapping[str, str]) -> Plan:
        """A new plan with some municipalities moved; this plan is its parent."""
        new = self.assignment.copy()
        changes = dict(zip(codes_as_text(changes.keys(), self.territory.istat), changes.values()))
        unknown = sorted(set(changes) - set(new.index))
        if unknown:
            raise InputError(f"unknown municipality codes: {_few(unknown)}")
        new.loc[list(changes)] = [str(v) for v in changes.values()]
        return Plan(self.territory, new, self.names, parent=self)

    @cached_property
    def plan_ids(self) -> list[str]:
        """Plan ids, sorted."""
        return sorted(self.assignment.unique())

    @cached_property
    def members(self) -> dict[str, list[str]]:
        """Plan id -> municipality codes."""
        return {p: list(c) for p, c in self.assignment.groupby(self.assignment).groups.items()}

    def _sum(self, values: pd.Series) -> pd.Series:
        return values.groupby(self.assignment).sum().reindex(self.plan_ids)

    @cached_property
    def populations(self) -> pd.Series:
        """Population per plan."""
        return self._sum(self.territory.municipalities["population"]).astype(int)

    @cached_property
    def areas(self) -> pd.Series:
        """Area (km2) per plan."""
        return self._sum(self.territory.municipalities["area_km2"])

    @cached_property
    def area_units(self) -> pd.Series:
        """Area per plan in units of 1/AREA_SCALE km2 (the class rule's exact arithmetic)."""
        return self._sum(self.territory.area_units)

    def mountain_units(self, rules: Rules) -> pd.Series:
        """Area per plan that counts as mountain under ``rules``, in units of 1/AREA_SCALE km2."""
        counts = rules.counts_as_mountain(self.territory.municipalities)
        return self._sum(self.territory.area_units.where(counts, 0))

    def classes(self, rules: Rules) -> pd.Series:
        """Threshold class of each plan under ``rules`` (``measures.ClassRule``)."""
        expect(rules, Rules, "rules")
        values = ClassRule.of(rules).classify_all(self.populations, self.area_units, self.mountain_units(rules))
        return pd.Series(values, index=self.plan_ids, name="class")

    def floors(self, rules: Rules) -> pd.Series:
        """Population floor of each plan under ``rules``."""
        classes = self.classes(rules)  # first: it checks rules, which rules.floor_of would look up before
        return pd.Series(rules.floor_of(classes), index=self.plan_ids, name="floor")

    @cached_property
    def cut_edges(self) -> list[tuple[str, str]]:
        """Contiguity edges whose ends lie in different plans (``measures.cut_edges``)."""
        return cut_edges(self.assignment, self.territory.graph.edges)

    @cached_property
    def contiguous(self) -> pd.Series:
        """Whether each plan is connected in the contiguity graph (bridges count)."""
        graph = self.territory.graph
        return pd.Series(
            {p: nx.is_connected(graph.subgraph(m)) for p, m in self.members.items()}, dtype=bool
        ).reindex(self.plan_ids)

    def violations(self, rules: Rules, status_quo: Plan | None = None,
                   collaboration: Collaboration | None = None) -> list[str]:
        """Every rule a plan breaks, one readable line each; empty when the plan complies.

        Checks contiguity, floors, the ceiling, hard boundaries, locked municipalities and, when
        ``rules.keep_together`` names kinds of tie, that no group those ties join is split
        (``collaboration``: the ties; when None, ``default_collaboration(territory, status_quo)``);
        with a ``status_quo``, also that each locked plan of ``rules.locked_plans`` is kept
        exactly (its municipalities together and alone).
        """
        out = []
        pops, floors, classes = self.populations, self.floors(rules), self.classes(rules)
        for p in self.plan_ids:
            label = f"plan {p} ({self.name(p)})"
            if not self.contiguous[p]:
                out.append(f"{label} is not contiguous")
            if pops[p] < floors[p]:
                klass = classes[p].replace("_", " ")
                out.append(f"{label} has {pops[p]:,} inhabitants, below the {klass} floor of {floors[p]:,}")
            if rules.ceiling is not None and pops[p] > rules.ceiling:
                out.append(f"{label} has {pops[p]:,} inhabitants, above the ceiling of {rules.ceiling:,}")
        gdf = self.territory.municipalities
        out += missing_boundaries(rules, gdf.columns)
        labels = self.assignment.reindex(gdf.index).to_numpy()
        for side, values in hard_sides(self.territory, rules).items():
            crossed = boundaries_crossed({side: values}, labels)
            out += [f"plan {p} ({self.name(p)}) {crossing(side)}" for p in crossed.index]
        for code, plan_id in rules.locked_municipalities.items():
            if code in self.assignment.index and self.assignment[code] != plan_id:
                out.append(f"municipality {code} is locked to plan {plan_id} but is in {self.assignment[code]}")
        if rules.keep_together:
            if collaboration is None:
                collaboration = default_collaboration(self.territory, status_quo)
            out += self.split_violations(rules, collaboration)
        if status_quo is not None:
            out += self._locked_plan_violations(rules, status_quo)
        return out

    def split_violations(self, rules: Rules, collaboration: Collaboration) -> list[str]:
        """One line per group of ``rules.keep_together`` ties that this plan splits, naming it and its plans."""
        groups = together_groups(collaboration, rules.keep_together, self.assignment.index)
        names = self.territory.municipalities["name"]
        kinds = ", ".join(f'"{k}"' for k in rules.keep_together)
        return [f"{group.describe(names)} is split between plans "
                + ", ".join(f"{p} ({self.name(p)})" for p in plans)
                + f"; keep_together = [{kinds}] keeps it in one plan"
                for group, plans in split_groups(self.assignment, groups)]

    def _locked_plan_violations(self, rules: Rules, status_quo: Plan) -> list[str]:
        out = []
        members = status_quo.members
        for plan_id in rules.locked_plans:
            if plan_id not in members:
                out.append(f"locked plan {plan_id} is not a plan of the status quo; "
                           f"status quo plans: {_few(status_quo.plan_ids)}")
                continue
            codes = [c for c in members[plan_id] if c in self.assignment.index]
            now = set(self.assignment.reindex(codes))
            if len(now) != 1 or set(self.members[next(iter(now))]) != set(codes):
                out.append(f"locked plan {plan_id} ({status_quo.name(plan_id)}) is not kept as it is: "
                           f"its municipalities are now in {_few(sorted(now))}")
        return out

    def is_compliant(self, rules: Rules, collaboration: Collaboration | None = None) -> bool:
        """True when ``violations`` is empty."""
        return not self.violations(rules, collaboration=collaboration)


def hard_sides(territory: Territory, rules: Rules) -> dict[str, np.ndarray]:
    """Each municipality's side of every hard boundary a plan may not cross, in the territory's order.

    The columns of ``rules.hard_boundaries`` the table has, and ``"selection pieces"`` when the
    territory is in pieces kept apart (``Territory.pieces_apart``).
    """
    gdf = territory.municipalities
    sides = {c: gdf[c].to_numpy(dtype=object) for c in rules.hard_boundaries if c in gdf.columns}
    pieces = territory.pieces_apart(rules.lowest_floor)
    if pieces is not None:
        sides["selection pieces"] = pieces.to_numpy(dtype=object)
    return sides


def missing_boundaries(rules: Rules, columns) -> list[str]:
    """A line for each hard boundary column the municipality table lacks (``violations``)."""
    return [f"hard boundary column {c!r} is not in the municipality table" for c in rules.hard_boundaries
            if c not in columns]


def crossing(side: str) -> str:
    """How ``violations`` says a plan runs across the hard boundary ``side`` (a ``hard_sides`` name)."""
    return PIECES_CROSSED if side == "selection pieces" else f"crosses the {side} boundary"


def across(crosses: str) -> str:
    """A plans table's ``crosses`` in words: ``across the province boundary``, ``across pieces of the selection``."""
    named = [c.strip() for c in crosses.split(",") if c.strip()]
    said = [f"the {c} boundary" for c in named if c != "selection pieces"]
    if "selection pieces" in named:
        said.append("pieces of the selection that do not touch")
    return "across " + " and ".join(said)


def boundaries_crossed(sides: Mapping[str, np.ndarray], labels) -> pd.Series:
    """Plan label -> the names of ``sides`` (``hard_sides``) it spans, joined by ", "; plans crossing none left out.

    ``labels`` gives each municipality's plan, in the order of the arrays of ``sides``.
    """
    labels = np.asarray(labels)
    crossed: dict = {}
    for name, side in sides.items():
        spans = pd.Series(side).groupby(labels).nunique()
        for label in spans.index[spans > 1]:
            crossed.setdefault(label, []).append(name)
    return pd.Series({label: ", ".join(names) for label, names in crossed.items()}, dtype=object)


def codes_as_text(codes, istat: bool) -> pd.Index:
    """Municipality codes as plans keep them: text, and with ``istat`` numbers zero-padded to 6 digits.

    ISTAT codes read as numbers (98001, as pandas reads a column of codes) get their zeros back.
    """
    text = pd.Index(list(codes)).astype(str)
    return text.where(~text.str.isdigit(), text.str.zfill(6)) if istat else text


def plan_names(frame: pd.DataFrame, path) -> dict[str, str]:
    """Plan id -> the plan_name of its first row, with a warning when one plan has several or two share one.

    ``frame``: ``read_assignment_csv``'s; ``path`` names it in the warnings.
    """
    named = frame.dropna(subset=["plan_name"])
    differ = named.groupby("plan_id")["plan_name"].nunique()
    if (differ > 1).any():
        first = differ.index[differ > 1][0]
        shown = ", ".join(sorted(set(named["plan_name"][named["plan_id"] == first])))
        log.warning("%s: %d plan(s) have more than one plan_name (%s: %s); the first row's is used", path,
                    int((differ > 1).sum()), first, shown)
    names = named.drop_duplicates("plan_id")
    shared = names["plan_name"][names["plan_name"].duplicated(keep=False)]
    if len(shared):
        same = names["plan_id"][names["plan_name"] == shared.iloc[0]]
        log.warning("%s: plan_name %r names %d plans (%s): the results will not tell them apart by name", path,
                    shared.iloc[0], len(same), ", ".join(same))
    return dict(zip(names["plan_id"], names["plan_name"]))


def read_assignment_csv(path, column: str = "plan_id", istat: bool = False,
                        names: pd.Series | None = None) -> pd.DataFrame:
    """Read and check a ``municipality_code,plan_id[,plan_name]`` CSV.

    Codes are text exactly as written (surrounding spaces dropped). With ``istat`` (the embedded
    Italian data) they must be ISTAT numbers of up to 6 digits and are zero-padded to 6, as
    spreadsheets drop leading zeros; ``names`` (code -> name of the municipalities loaded) then
    answer a name written where a code belongs with its code.
    """
    expect_path(path, "path", "a plan CSV file", "for a table already in memory, use Plan(territory, "
                "frame.set_index('municipality_code')['plan_id'])")
    path = Path(path)
    frame = read_csv_text(path, "plan file")
    known = {"municipality_code", "code", column, "plan_name"}  # column names in any case: Plan_ID is plan_id
    frame = frame.rename(columns={c: c.lower() for c in frame.columns if c.lower() in known and c not in known})
    code_col = next((c for c in ("municipality_code", "code") if c in frame.columns), None)
    problems = []
    if code_col is None or column not in frame.columns:
        problems.append(_header_problem(path, list(frame.columns), code_col, column))
        raise InputError(problems)
    codes = frame[code_col].fillna("").str.strip()
    if istat:  # a code a spreadsheet or pandas saved as a decimal number: 98001.0
        codes = codes.str.replace(r"^(\d{1,6})\.0*$", r"\1", regex=True)
        bad = codes[~codes.str.fullmatch(r"\d{1,6}")]
        if len(bad):
            rows = ", ".join(f"row {i + 2}: {v!r}" for i, v in bad.head(5).items())
            named = _codes_by_name(bad.head(5), names)
            fix = ("; fix: write codes, not names: " + ", ".join(f"{k} is {v}" for k, v in named.items())
                   if named else "")
            problems.append(f"{path}: municipality codes must be ISTAT numbers of up to 6 digits ({rows}){fix}")
        codes = codes.str.zfill(6)
    else:
        empty = frame.index[codes == ""]
        if len(empty):
            problems.append(f"{path}: empty {code_col} on rows {', '.join(str(i + 2) for i in empty[:5])}")
    empty = frame[column].isna()
    if empty.any():
        rows = ", ".join(str(i + 2) for i in frame.index[empty][:5])
        more = f" and {int(empty.sum()) - 5:,} more" if empty.sum() > 5 else ""
        problems.append(f"{path}: empty {column} on {int(empty.sum()):,} of its {len(frame):,} rows ({rows}{more}). "
                        f"Fix: give each municipality a plan id, or delete its row to work on the others")
    if len(frame) == 0 and not problems:
        problems.append(f"{path}: no rows below its header; write one row per municipality "
                        f"(municipality_code,{column})")
    if problems:
        raise InputError(problems)
    out = pd.DataFrame({"municipality_code": codes, "plan_id": frame[column].str.strip()})
    out["plan_name"] = frame["plan_name"].str.strip() if "plan_name" in frame.columns else np.nan
    out = _repeated_rows(out, path, names)
    return _renew_former_codes(out, path) if istat else out


def _header_problem(path: Path, columns: list[str], code_col: str | None, column: str) -> str:
    """What is wrong with a plan file's header, in one line: a separator not read, no header, names."""
    found = ", ".join(columns)
    if len(columns) == 1 and re.search(r"[|:,;\t ]", columns[0]):
        return (f"{path}: one column only ({found}): its separator is not a comma, semicolon or tab. "
                f"Fix: save it with commas (municipality_code,{column})")
    if any(re.fullmatch(r"\d{1,6}(\.0*)?", c) for c in columns):
        return (f"{path}: its first row ({found}) holds data, not column names. "
                f"Fix: add the header line municipality_code,{column}")
    missing = [name for name, there in (("municipality_code", code_col), (column, column in columns)) if not there]
    return (f"{path}: no {' and no '.join(missing)} column; columns found: {found}. "
            f"Fix: name the columns municipality_code (the codes) and {column} (the plans)")


def _repeated_rows(frame: pd.DataFrame, path: Path, names: pd.Series | None) -> pd.DataFrame:
    """A row repeating another (same code, same plan) is kept once; a code given two plans is refused, with rows."""
    repeated = frame.duplicated(["municipality_code", "plan_id"])
    if repeated.any():
        rows = ", ".join(str(i + 2) for i in frame.index[repeated][:5])
        count = int(repeated.sum())
        log.warning("%s: %s an earlier row, same municipality and plan (%s %s): kept once", path,
                    "1 row repeats" if count == 1 else f"{count:,} rows repeat", "row" if count == 1 else "rows", rows)
        frame = frame[~repeated]
    doubled = frame["municipality_code"][frame["municipality_code"].duplicated(keep=False)]
    if len(doubled):
        problems = []
        for code, group in list(doubled.groupby(doubled, sort=True))[:5]:
            name = f" {names[code]}" if names is not None and code in names.index else ""
            plans = ", ".join(f"{frame.at[i, 'plan_id']} (row {i + 2})" for i in group.index)
            problems.append(f"{path}: municipality {code}{name} is in more than one plan: {plans}")
        more = doubled.nunique() - 5
        if more > 0:
            problems.append(f"... and {more:,} more municipalities listed twice")
        problems[-1] += ". Fix: keep one row per municipality"
        raise InputError(problems)
    return frame


def _renew_former_codes(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Codes of before 2023 (an old list of plans) read as their 2023 municipality, said in a warning.

    Refused when that would put one municipality in two plans: the parts of a merged municipality
    in different plans, or a former code in another plan than the 2023 code beside it.
    """
    old = former_codes(frame["municipality_code"])
    if old.empty:
        return frame
    renewed = frame["municipality_code"].map(old["code_2023"]).fillna(frame["municipality_code"])
    frame = frame.assign(municipality_code=renewed)
    touched = frame[frame["municipality_code"].isin(old["code_2023"])]
    plans = touched.groupby("municipality_code")["plan_id"].unique().map(sorted)
    split = plans[plans.map(len) > 1]
    if len(split):
        raise InputError([
            f"{path}: {code} would be in plans {', '.join(ids)} "
            f"({former_codes_note(old.index[old['code_2023'] == code])}). Fix: give its parts one plan: "
            "they have been one municipality since 2023"
            for code, ids in split.items()])
    log.warning("%s: %s; read as the 2023 municipalities", path, former_codes_note(old.index))
    first = ~frame["municipality_code"].duplicated() | ~frame["municipality_code"].isin(old["code_2023"])
    return frame[first].reset_index(drop=True)


def _codes_by_name(values, names: pd.Series | None) -> dict[str, str]:
    """``value -> "016024 (Bergamo)"`` for the ``values`` that name one of ``names`` (``plain_name`` equal), once."""
    if names is None:
        return {}
    keys = names.map(plain_name)
    once = keys[~keys.duplicated(keep=False)]
    found = pd.Series(once.index, index=once.values)
    return {v: f"{found[plain_name(v)]} ({names[found[plain_name(v)]]})" for v in values if plain_name(v) in found}


def _few(codes: list[str], territory: Territory | None = None) -> str:
    if territory is not None:
        names = territory.municipalities["name"]
        codes = [f"{c} {names[c]}" for c in codes]
    return ", ".join(codes[:10]) + (f" and {len(codes) - 10:,} more" if len(codes) > 10 else "")
