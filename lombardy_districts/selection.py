"""Work on part of the region: command-line selection options and plans restricted to the selection.

Commands that take municipalities (``evaluate``, ``propose``) share these options:

- ``--province NAME[,NAME..]``: provinces by name (case and accents ignored) or ISTAT code (``016``);
- ``--select COLUMN=V1[,V2..]`` (repeatable): municipalities whose column holds one of the values;
- ``--within-status-quo``: only the municipalities the status quo file lists.

Several options intersect. A plan or status quo read for a selection must cover every selected
municipality; its rows for municipalities of the region outside the selection are dropped.
"""

from __future__ import annotations

import argparse
import logging
import unicodedata

import pandas as pd

from .errors import InputError
from .plan import Plan
from .territory import Territory

log = logging.getLogger(__name__)


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--province``, ``--select`` and ``--within-status-quo`` to ``parser``."""
    group = parser.add_argument_group("part of the region")
    group.add_argument("--province", metavar="NAME[,NAME..]",
                       help="only these provinces (names or ISTAT codes, comma-separated)")
    group.add_argument("--select", metavar="COLUMN=V1[,V2..]", action="append", default=[],
                       help="only municipalities whose COLUMN is one of the values (repeatable; "
                            "e.g. labour_market_area=Bergamo)")
    group.add_argument("--within-status-quo", action="store_true",
                       help="only the municipalities listed in the --status-quo file")


def has_selection(args: argparse.Namespace) -> bool:
    """True when any selection option was given."""
    return bool(getattr(args, "province", None) or getattr(args, "select", None)
                or getattr(args, "within_status_quo", False))


def select_territory(
    territory: Territory, args: argparse.Namespace, status_quo_frame: pd.DataFrame | None = None
) -> Territory:
    """The part of ``territory`` the selection options describe (all of it when none is given).

    Parameters
    ----------
    territory
        The whole territory loaded by the data options.
    args
        Parsed options from ``add_selection_options``.
    status_quo_frame
        The status quo as read by ``read_assignment_csv`` (needed by ``--within-status-quo``).

    Raises
    ------
    InputError
        Naming every unknown province, column or value, and a ``--within-status-quo`` without
        a status quo; or when the selection is empty.
    """
    if not has_selection(args):
        return territory
    gdf = territory.municipalities
    keep = pd.Series(True, index=gdf.index)
    problems: list[str] = []
    if args.province:
        keep &= _province_mask(gdf, args.province, problems)
    for item in args.select:
        keep &= _column_mask(gdf, item, problems)
    if args.within_status_quo:
        if status_quo_frame is None:
            problems.append("--within-status-quo needs a status quo. Fix: add --status-quo SQ.csv.")
        else:
            keep &= gdf.index.isin(status_quo_frame["municipality_code"])
    if problems:
        raise InputError(problems)
    if not keep.any():
        raise InputError("the selection is empty: no municipality matches every selection option together")
    part = territory.subset(gdf.index[keep])
    log.info("selected %d of %d municipalities (%d inhabitants)", len(part.codes), len(gdf), part.population)
    return part


def _plain(text) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _province_mask(gdf, spec: str, problems: list[str]) -> pd.Series:
    names = gdf["province"].astype(str)
    codes = gdf["province_code"].astype(str)
    lookup = {_plain(n): n for n in names.unique()}
    lookup.update({c.lstrip("0"): n for c, n in zip(codes, names)})
    wanted = []
    for raw in (v.strip() for v in spec.split(",")):
        key = raw.lstrip("0") if raw.isdigit() else _plain(raw)
        if key in lookup:
            wanted.append(lookup[key])
        else:
            allowed = ", ".join(sorted(names.unique()))
            problems.append(f"--province {raw!r} is not a province of this territory; allowed: {allowed} "
                            "(or their ISTAT codes)")
    return names.isin(wanted)


def _column_mask(gdf, item: str, problems: list[str]) -> pd.Series:
    column, sep, values = item.partition("=")
    column = column.strip()
    allowed_columns = [c for c in gdf.columns if c != "geometry"]
    if not sep or not column or not values.strip():
        problems.append(f"--select {item!r} must look like COLUMN=V1[,V2..], e.g. province=Bergamo,Brescia")
        return pd.Series(True, index=gdf.index)
    if column not in allowed_columns:
        problems.append(f"--select: unknown column {column!r}; allowed: {', '.join(allowed_columns)}")
        return pd.Series(True, index=gdf.index)
    present = gdf[column].astype(str)
    by_key = {_plain(v): v for v in present.unique()}
    wanted = []
    for raw in (v.strip() for v in values.split(",")):
        if raw in set(present):
            wanted.append(raw)
        elif _plain(raw) in by_key:
            wanted.append(by_key[_plain(raw)])
        else:
            shown = sorted(present.unique())
            more = f" and {len(shown) - 20} more" if len(shown) > 20 else ""
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
    frame = frame.drop(index=outside.index)
    names = frame.dropna(subset=["plan_name"]).drop_duplicates("plan_id")
    try:
        return Plan(territory, pd.Series(frame["plan_id"].values, index=frame["municipality_code"].values),
                    dict(zip(names["plan_id"], names["plan_name"])))
    except InputError as exc:
        raise InputError([f"{what}: {p}" for p in exc.problems]) from None
