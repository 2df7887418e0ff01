"""Build ``data/unions.csv``: memberships of Lombard unions of municipalities, from two sources.

Reads, from the shared sources folder (both already keyed by 2023 ISTAT codes):

- ``unioni_comuni_2020.csv``: the Ministry of the Interior's registry (Anagrafe delle Unioni di
  Comuni), 2020 snapshot: 77 unions, 252 rows. Bardello con Malgesso e Bregano (012144) appears
  three times, once for each of the three municipalities that merged into it in 2023; it is
  written once, with a note;
- ``unioni_comuni_recent_partial.csv``: a newer, partial list (about 2025, transcribed by hand):
  47 unions, 131 rows, none in Bergamo or Monza e Brianza.

Writes one row per (municipality, union, list): the same membership seen in both lists gives two
rows, one per source, so each row keeps its source and date. The package turns the rows into
collaboration ties (two municipalities in the same union, in either list, share one tie however
many rows say so) and into the groups that ``keep_together = ["union"]`` keeps in one plan.

Every code must be a 2023 municipality of ``data/lombardy_2023.csv`` with the same name; the
script stops on any that is not, and on any union whose member count changes on the way.

Run from the repository root::

    python data/scripts/build_unions.py [--sources ../shared/data/sources]
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parents[1]  # data/, where the outputs go
COLUMNS = ["municipality_code", "name", "union_id", "union_name", "list", "list_date", "established",
           "source", "note"]
LISTS = {
    "unioni_comuni_2020.csv": ("registry_2020", "2020"),
    "unioni_comuni_recent_partial.csv": ("recent_partial", "about 2025"),
}
MONTHS = {"Gen": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Mag": 5, "Giu": 6, "Lug": 7, "Ago": 8, "Set": 9,
          "Ott": 10, "Nov": 11, "Dic": 12}
MERGED_2023 = {"012144": "Bardello, Bregano and Malgesso, which merged into it on 2023-01-01, were each members"}


def _plain(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _iso_date(value) -> str:
    """``1-Gen-2002`` (the registry's Italian month abbreviations) -> ``2002-01-01``; '' when empty."""
    if not isinstance(value, str) or not value.strip():
        return ""
    day, month, year = value.strip().split("-")
    return f"{int(year):04d}-{MONTHS[month]:02d}-{int(day):02d}"


def read_list(path: Path, list_name: str, list_date: str) -> pd.DataFrame:
    """One source list as ``COLUMNS``; rows repeated for a 2023 merger are written once with a note."""
    raw = pd.read_csv(path, dtype=str)
    out = pd.DataFrame({
        "municipality_code": raw["municipality_code"].str.zfill(6),
        "name": raw["name"],
        "union_id": raw["group_id"],
        "union_name": raw["group_name"],
        "list": list_name,
        "list_date": list_date,
        "established": raw["established"].map(_iso_date),
        "source": raw["source"],
        "note": raw["note"].fillna(""),
    })
    doubled = out.duplicated(["municipality_code", "union_id"], keep="first")
    for code in sorted(set(out.loc[doubled, "municipality_code"])):
        if code not in MERGED_2023:
            raise SystemExit(f"{path.name}: {code} is listed twice in one union and is not a known 2023 merger")
        first = out.index[(out["municipality_code"] == code) & ~doubled]
        out.loc[first, "note"] = MERGED_2023[code]
    return out[~doubled]


def check(frame: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """Every problem with the codes and names of ``frame`` against the municipality table."""
    problems = []
    unknown = frame[~frame["municipality_code"].isin(table.index)]
    for row in unknown.itertuples():
        problems.append(f"{row.list}: {row.municipality_code} {row.name} is not a 2023 Lombard municipality")
    known = frame[frame["municipality_code"].isin(table.index)]
    names = known["municipality_code"].map(table["name"])
    for row, official in zip(known.itertuples(), names):
        if _plain(row.name) != _plain(official):
            problems.append(f"{row.list}: {row.municipality_code} is {official!r} in 2023, "
                            f"the source says {row.name!r}")
    return problems


def build(sources: Path, out: Path = HERE) -> pd.DataFrame:
    """Write ``out/unions.csv`` and return it."""
    table = pd.read_csv(out / "lombardy_2023.csv", dtype={"code": str}).set_index("code")
    parts, problems, counts = [], [], {}
    for file, (list_name, list_date) in LISTS.items():
        raw = pd.read_csv(sources / file, dtype=str)
        part = read_list(sources / file, list_name, list_date)
        merged = raw.groupby("group_id")["municipality_code"].nunique()
        written = part.groupby("union_id")["municipality_code"].nunique()
        if not merged.sort_index().equals(written.sort_index()):
            problems.append(f"{file}: member counts per union changed while reading")
        counts[list_name] = (part["union_id"].nunique(), len(raw), len(part))
        problems += check(part, table)
        parts.append(part)
    if problems:
        raise SystemExit("cannot build unions.csv:\n  " + "\n  ".join(problems))
    frame = pd.concat(parts, ignore_index=True).sort_values(["municipality_code", "list", "union_id"])
    frame[COLUMNS].to_csv(out / "unions.csv", index=False)
    for list_name, (unions, rows, kept) in counts.items():
        print(f"unions.csv, {list_name}: {unions} unions, {rows} source rows, {kept} memberships")
    both = frame.groupby("municipality_code")["union_id"].nunique()
    print(f"unions.csv: {frame['municipality_code'].nunique()} municipalities in a union in either list, "
          f"{int((both > 1).sum())} of them listed in two unions (the same union in both lists, or a change)")
    return frame


def main(argv: list[str] | None = None) -> int:
    """Read the shared sources and write ``data/unions.csv``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=HERE.parent.parent / "shared" / "data" / "sources")
    build(parser.parse_args(argv).sources)
    return 0


if __name__ == "__main__":
    sys.exit(main())
