"""Work on part of the region: the ``Selection`` applied to a territory, and plans restricted to it.

- ``province``: provinces by name (case, accents and connecting words ignored, so "Monza e Brianza"
  works; English names such as Mantua too), ISTAT code (``016``) or official abbreviation (``BG``);
  a misspelled one gets the closest match as a suggestion;
- ``select``: municipalities whose column holds one of the values;
- ``within_status_quo``: only the municipalities the status quo file lists.

Several criteria intersect. A plan or status quo read for a selection must cover every selected
municipality; its rows for municipalities of the region outside the selection are dropped.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from lombardy_districts.errors import InputError, did_you_mean
from lombardy_districts.io.embedded import plain_name, province_abbreviations
from lombardy_districts.model.options import Selection
from lombardy_districts.model.plan import Plan, plan_names
from lombardy_districts.model.territory import Territory

log = logging.getLogger(__name__)


def select_territory(
    territory: Territory, selection: Selection, status_quo_frame: pd.DataFrame | None = None
) -> Territory:
    """The part of ``territory`` that ``selection`` describes (all of it when nothing is selected).

    Parameters
    ----------
    territory
        The whole territory loaded by the data options.
    selection
        Provinces, column values, and whether to keep only the status quo's municipalities.
    status_quo_frame
        The status quo as read by ``read_assignment_csv`` (needed by ``within_status_quo``).

    Raises
    ------
    InputError
        Naming every unknown province, column or value, and a ``within_status_quo`` without
        a status quo; or when the selection is empty.
    """
    if not selection.active:
        return territory
    gdf = territory.municipalities
    keep = pd.Series(True, index=gdf.index)
    problems: list[str] = []
    if selection.province:
        keep &= _province_mask(gdf, selection.province, problems)
    for column, values in selection.select.items():
        keep &= _column_mask(gdf, column, values, problems)
    if selection.within_status_quo:
        if status_quo_frame is None:
            problems.append("--within-status-quo needs a status quo. Fix: add --status-quo SQ.csv (Python: "
                            "load(status_quo=PATH, within_status_quo=True)).")
        else:
            keep &= gdf.index.isin(status_quo_frame["municipality_code"])
            warn_enclosed(territory, status_quo_frame["municipality_code"], "the status quo")
    if problems:
        raise InputError(problems)
    if not keep.any():
        raise InputError("the selection is empty: no municipality matches every selection option together")
    part = territory.subset(gdf.index[keep])
    log.info("selected %d of %d municipalities (%d inhabitants)", len(part.codes), len(gdf), part.population)
    return part


def in_option_words(problem: str) -> str:
    """A problem of ``select_territory`` in an option's words, for the Python API and scenario files.

    ``--province X ...`` (the command line's words) becomes ``province = X ...``.
    """
    return problem.replace("--province ", "province = ", 1).replace("--select: ", "select: ", 1)


def warn_enclosed(territory: Territory, listed, what: str) -> list[str]:
    """Warn of municipalities a file leaves out although it lists every neighbour: likely a row forgotten.

    Returns their codes. A part of the region chosen on purpose has edges; a hole inside it is what
    a missing row looks like, and it would silently be in no plan.
    """
    listed = set(listed)
    graph = territory.graph
    holes = sorted(c for c in territory.codes if c not in listed and graph.degree(c) > 0
                   and all(n in listed for n in graph.neighbors(c)))
    if holes:
        gdf = territory.municipalities
        shown = ", ".join(f"{gdf.at[c, 'name']} ({c}, {int(gdf.at[c, 'population']):,} inhabitants)"
                          for c in holes[:5]) + (f" and {len(holes) - 5:,} more" if len(holes) > 5 else "")
        log.warning("%s leaves out %s, though it lists every neighbour: a row forgotten? Left out, %s in no plan; "
                    "add %s to the file to include %s", what, shown, "it is" if len(holes) == 1 else "they are",
                    "it" if len(holes) == 1 else "them", "it" if len(holes) == 1 else "them")
    return holes


CONNECTING_WORDS = ("e", "ed", "di", "del", "della", "dell", "and", "of")
"""Words left out when names are compared, so "Monza e Brianza" finds "Monza e della Brianza"."""
PROVINCE_VARIANTS = {"mantua": "Mantova", "milan": "Milano", "monza": "Monza e della Brianza",
                     "brianza": "Monza e della Brianza", "turin": "Torino", "genoa": "Genova", "venice": "Venezia",
                     "padua": "Padova", "florence": "Firenze", "rome": "Roma", "naples": "Napoli",
                     "syracuse": "Siracusa", "leghorn": "Livorno", "bozen": "Bolzano/Bozen", "bolzano": "Bolzano/Bozen"}
"""Common names of provinces that their Italian names do not give (English names, short forms)."""


def _loose(text) -> str:
    """``plain_name`` without connecting words: "Monza e Brianza" and "Monza e della Brianza" agree."""
    words = (plain_name(w) for w in re.split(r"[\W_]+", str(text)))
    return "".join(w for w in words if w not in CONNECTING_WORDS)


def _province_lookup(names: pd.Series, codes: pd.Series | None) -> dict[str, str]:
    """Every accepted spelling of the territory's provinces -> its name.

    Names, ISTAT codes, official abbreviations (BG, MB, ...), names without connecting words,
    and common variants.
    """
    present = set(names.unique())
    lookup = {_loose(v): n for v, n in PROVINCE_VARIANTS.items() if n in present}
    lookup.update({_loose(n): n for n in present})
    lookup.update({_loose(n.split("/")[0]): n for n in present})
    if codes is not None:
        lookup.update({c.lstrip("0"): n for c, n in zip(codes, names)})
    try:
        abbreviations = province_abbreviations()
    except Exception:  # abbreviations are a convenience: names and codes still work without them
        abbreviations = {}
    lookup.update({_loose(short): n for short, n in abbreviations.items() if n in present})
    return lookup


def _province_mask(gdf, wanted_names, problems: list[str]) -> pd.Series:
    if "province" not in gdf.columns:
        columns = ", ".join(c for c in gdf.columns if c != "geometry")
        problems.append(f"--province {','.join(wanted_names)}: this data has no province column (Italian "
                        f"provinces come with the embedded data); columns present: {columns}. Fix: select by a "
                        "column of your file with --select COLUMN=VALUE")
        return pd.Series(True, index=gdf.index)
    names = gdf["province"].astype(str)
    codes = gdf["province_code"].astype(str) if "province_code" in gdf.columns else None
    lookup = _province_lookup(names, codes)
    wanted = []
    for raw in wanted_names:
        key = raw.lstrip("0") if raw.isdigit() else _loose(raw)
        if key in lookup:
            wanted.append(lookup[key])
            continue
        allowed = ", ".join(sorted(names.unique()))
        # cutoff 0.7: not Torino -> Sondrio (0.62)
        hint = did_you_mean(key, lookup, cutoff=0.7)
        problems.append(f"--province {raw!r} is not a province of this territory{hint}; allowed: {allowed} "
                        "(or their ISTAT codes or official abbreviations, e.g. BG, MB)")
    return names.isin(wanted)


def _column_mask(gdf, column: str, values, problems: list[str]) -> pd.Series:
    allowed_columns = [c for c in gdf.columns if c != "geometry"]
    if column not in allowed_columns:
        problems.append(f"--select: unknown column {column!r}; allowed: {', '.join(allowed_columns)}")
        return pd.Series(True, index=gdf.index)
    present = gdf[column].astype(str)
    by_key = {plain_name(v): v for v in present.unique()}
    wanted = []
    for raw in values:
        if raw in set(present):
            wanted.append(raw)
        elif plain_name(raw) in by_key:
            wanted.append(by_key[plain_name(raw)])
        else:
            shown = sorted(present.unique())
            more = f" and {len(shown) - 20:,} more" if len(shown) > 20 else ""
            problems.append(f"--select: no municipality has {column} = {raw!r}; values present: "
                            f"{', '.join(shown[:20])}{more}")
    return present.isin(wanted)


def plan_for(territory: Territory, frame: pd.DataFrame, known_codes, what: str = "plan") -> Plan:
    """A plan over ``territory`` from an assignment frame (``read_assignment_csv``).

    Rows for municipalities in ``known_codes`` (the whole region) but outside ``territory`` are
    dropped, with a log line; codes unknown to the region, duplicates and municipalities of
    ``territory`` with no row are errors (raised by ``Plan``).
    """
    inside = frame["municipality_code"].isin(territory.codes)
    outside = frame[~inside & frame["municipality_code"].isin(set(known_codes))]
    if len(outside):
        log.info("%s: %d rows outside the selected municipalities ignored", what, len(outside))
        _warn_cut_plans(frame[inside], outside, what)
    frame = frame.drop(index=outside.index)
    try:
        return Plan(territory, pd.Series(frame["plan_id"].values, index=frame["municipality_code"].values),
                    plan_names(frame, what))
    except InputError as exc:
        raise InputError([f"{what}: {p}" for p in exc.problems]) from None


def _warn_cut_plans(inside: pd.DataFrame, outside: pd.DataFrame, what: str) -> None:
    """Warn of plans with municipalities on both sides of the selection: they are scored on their part inside."""
    cut = sorted(set(inside["plan_id"]) & set(outside["plan_id"]))
    if not cut:
        return
    held = inside["plan_id"].value_counts()
    total = held.add(outside["plan_id"].value_counts(), fill_value=0)
    shown = ", ".join(f"{p} ({held[p]} of {int(total[p])} municipalities inside)" for p in cut[:5])
    more = f" and {len(cut) - 5:,} more" if len(cut) > 5 else ""
    log.warning("%s: %d plan(s) reach outside the selected municipalities and count only their part inside, "
                "so their population and floor are not the whole plan's: %s%s. Leave out the selection to "
                "score whole plans", what, len(cut), shown, more)
